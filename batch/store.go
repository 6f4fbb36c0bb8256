package batch

import (
	"context"
	"io"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// Store is what the batch service needs from storage; sqlstore implements
// it.
type Store interface {
	// Carrier returns a carrier, or an ENOTFOUND error.
	Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error)
	// CreateBatch stores a queued batch, its upload and the job that will
	// check it, in one transaction.
	CreateBatch(ctx context.Context, p CreateBatchParams) error
	// Batch returns a batch and its current attempt, or an ENOTFOUND error.
	Batch(ctx context.Context, no trueup.BatchNo) (trueup.Batch, int, error)
	// StartBatch marks a batch running under attempt, dropping what an
	// earlier attempt wrote; an ECONFLICT error when it is already final.
	StartBatch(ctx context.Context, no trueup.BatchNo, attempt int) error
	// OpenBatchFile opens a batch's stored upload and returns it with its
	// size; a copy is made in tmpDir when the upload is not a file already.
	OpenBatchFile(ctx context.Context, no trueup.BatchNo, tmpDir string) (File, int64, error)
	// NewDiscrepancyWriter returns a writer of the attempt's discrepancies.
	NewDiscrepancyWriter(no trueup.BatchNo, attempt int) DiscrepancyWriter
	// SetBatchProgress records how far a running attempt has got.
	SetBatchProgress(ctx context.Context, no trueup.BatchNo, attempt int, rows int64, percent int) error
	// FinishBatch records a batch's outcome and completes its job in one
	// transaction; trueup.ErrLeaseLost when attempt is no longer current.
	// A succeeded batch becomes, in the same transaction, the truth of its
	// cycle's discrepancy cases (package cases).
	FinishBatch(ctx context.Context, p FinishBatchParams) error
	// AbandonBatch fails a batch still queued or processing with failure
	// and removes what its attempts wrote, and queues in the same
	// transaction the job recording its batch.failed event (as
	// FinishBatch does); a final batch is left as it is.
	AbandonBatch(ctx context.Context, no trueup.BatchNo, failure string) error
	// EachOrderKey calls fn for every ledger order of a carrier and cycle
	// in carrier order id order (bytewise), with only the fields a
	// comparison needs.
	EachOrderKey(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(trueup.Order) error) error
	// OrdersByID calls fn for the full ledger orders with the given ids.
	OrdersByID(ctx context.Context, carrier trueup.CarrierID, cycle string, ids []string, fn func(trueup.Order) error) error
	// CycleClosed reports whether a carrier's billing cycle is closed to
	// uploads (package cases closes and reopens cycles).
	CycleClosed(ctx context.Context, carrier trueup.CarrierID, cycle string) (bool, error)
	// Batches returns a carrier's latest batches, newest first.
	Batches(ctx context.Context, carrier trueup.CarrierID, limit int) ([]trueup.Batch, error)
	// BatchRowErrors returns the first row errors of a batch's attempt.
	BatchRowErrors(ctx context.Context, no trueup.BatchNo, attempt int, limit int) ([]trueup.RowError, error)
	// DiscrepancyPage returns the discrepancies of a batch's attempt after
	// the one numbered after, in order, at most limit.
	DiscrepancyPage(ctx context.Context, no trueup.BatchNo, attempt int, after int64, limit int) ([]trueup.Discrepancy, error)
	// EachDiscrepancy calls fn for every discrepancy of a batch's attempt,
	// in order.
	EachDiscrepancy(ctx context.Context, no trueup.BatchNo, attempt int, fn func(trueup.Discrepancy) error) error
	// FindDiscrepancies calls fn for the discrepancies q selects, in q's
	// order, after q.After, at most q.Limit (all when 0), stopping at fn's
	// first error. It reads as it goes: an export's memory is bounded.
	FindDiscrepancies(ctx context.Context, q Query, fn func(trueup.Discrepancy) error) error
	// BatchAtStake returns the money at stake recorded when a batch
	// succeeded (zero for any other batch), or an ENOTFOUND error.
	BatchAtStake(ctx context.Context, no trueup.BatchNo) (decimal.Decimal, error)

	// The partitioned check (partition.go).

	// PutBatchPartRows stores one chunk of a part's statement rows.
	PutBatchPartRows(ctx context.Context, p PartRowsParams) error
	// SplitBatch records the parts of a batch's attempt and queues a job
	// for each, and completes the splitting job, in one transaction;
	// trueup.ErrLeaseLost when the attempt or its job is no longer
	// current.
	SplitBatch(ctx context.Context, p SplitBatchParams) error
	// BatchSplit returns the split of a batch's attempt, or an ENOTFOUND
	// error.
	BatchSplit(ctx context.Context, no trueup.BatchNo, attempt int) (Split, error)
	// CopyBatchPartRows writes the chunks of a part's rows to w, in order.
	CopyBatchPartRows(ctx context.Context, no trueup.BatchNo, attempt, part int, w io.Writer) error
	// EachOrderKeyRange is EachOrderKey for the orders whose carrier order
	// id lies in the range.
	EachOrderKeyRange(ctx context.Context, r OrderRange, fn func(trueup.Order) error) error
	// FinishPart stores a part's discrepancies, marks it done and
	// completes its job in one transaction, and, when it is the last part
	// of the split, queues the job that assembles the batch (assembled
	// true); trueup.ErrLeaseLost, storing nothing, when the part's job or
	// the batch's attempt is no longer current.
	FinishPart(ctx context.Context, p FinishPartParams) (assembled bool, err error)
	// DropBatchSplit removes the split of a batch, its parts and their
	// rows, of every attempt.
	DropBatchSplit(ctx context.Context, no trueup.BatchNo) error
}

// CreateBatchParams are the inputs of Store.CreateBatch.
type CreateBatchParams struct {
	Batch trueup.Batch
	// File is the upload, stored for audit and for the worker. When the
	// store keeps uploads in a directory and File is an *os.File in the
	// same file system, the file is moved there rather than copied.
	File    io.Reader
	TraceID string
	JobKind string
	JobArgs string
}

// FinishBatchParams are the inputs of Store.FinishBatch.
type FinishBatchParams struct {
	No        trueup.BatchNo
	Attempt   int
	State     trueup.BatchState // succeeded or failed
	Counts    trueup.DiffCounts
	RowsRead  int64
	RowErrors []trueup.RowError // the first ones, stored
	ErrTotal  int64             // all row errors
	Failure   string
	// SkippedSheets names the workbook's sheets the check skipped
	// (CheckResult); stored with the batch.
	SkippedSheets []string
	Job           trueup.Job // completed in the same transaction
	// AtStake is the money at stake of a succeeded batch (CheckResult).
	AtStake decimal.Decimal
}

// File is a stored upload opened for reading.
type File interface {
	io.ReaderAt
	io.Closer
}

// DiscrepancyWriter stores a batch attempt's discrepancies as they come.
type DiscrepancyWriter interface {
	// Write numbers d and stores it, perhaps later; it returns an earlier
	// write's error once there is one.
	Write(ctx context.Context, d trueup.Discrepancy) error
	// Flush stores everything written and waits until it is stored.
	Flush(ctx context.Context) error
	// Close abandons what is not flushed; it is safe after Flush.
	Close()
}

// PartRowsParams are the inputs of Store.PutBatchPartRows.
type PartRowsParams struct {
	No      trueup.BatchNo
	Attempt int
	Part    int
	Chunk   int
	// Data are length-prefixed records (see partition.go).
	Data []byte
}

// SplitBatchParams are the inputs of Store.SplitBatch.
type SplitBatchParams struct {
	No      trueup.BatchNo
	Attempt int
	// From holds the first carrierOrderId of each part, in order; part k
	// covers the ids from From[k] up to From[k+1] (the last has no upper
	// bound), and From[0] is "".
	From          []string
	RowsRead      int64
	SkippedSheets []string
	// Job is the splitting job, completed in the transaction.
	Job trueup.Job
	// PartJobKind and PartJobArgs are the kind and the arguments of each
	// part's job (PartJobArgs[k] for part k).
	PartJobKind string
	PartJobArgs []string
}

// Split is a batch attempt's split into parts.
type Split struct {
	Attempt       int
	Parts         []Part
	PartsDone     int
	RowsRead      int64
	SkippedSheets []string
}

// Part is one part of a split.
type Part struct {
	// From and To bound the carrierOrderIds of the part: From inclusive,
	// To exclusive ("" for no upper bound).
	From, To string
	Done     bool
	Counts   trueup.DiffCounts
	AtStake  decimal.Decimal
}

// OrderRange selects a carrier's ledger orders of a cycle whose carrier
// order id is at least From and, unless To is "", below To (bytewise).
type OrderRange struct {
	Carrier  trueup.CarrierID
	Cycle    string
	From, To string
}

// FinishPartParams are the inputs of Store.FinishPart.
type FinishPartParams struct {
	No      trueup.BatchNo
	Attempt int
	Part    int
	Counts  trueup.DiffCounts
	AtStake decimal.Decimal
	// Discrepancies calls fn for each discrepancy of the part, numbered.
	Discrepancies func(fn func(trueup.Discrepancy) error) error
	// Job is the part's job, completed in the transaction.
	Job trueup.Job
	// AssembleJobKind and AssembleJobArgs are the job queued when the
	// part is the last one done.
	AssembleJobKind string
	AssembleJobArgs string
}
