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
	// and removes what its attempts wrote; a final batch is left as it is.
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
