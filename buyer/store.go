package buyer

import (
	"context"
	"time"

	"github.com/trueup/trueup"
)

// Reader reads the transactions a process depends on. Both the Store (for
// a launch's preview) and an ApplyTx (inside the apply's transaction)
// implement it.
type Reader interface {
	// TransactionsByID returns the buyer's transactions among ids, in any
	// order; ids that name none are left out. ids may be many (a process's
	// whole list).
	TransactionsByID(ctx context.Context, buyer BuyerID, ids []string) ([]Transaction, error)
	// SurveyCounts returns the status and the non-test completes (21) and
	// reconciliation rejects (33) of each survey.
	SurveyCounts(ctx context.Context, surveys []SurveyID) (map[SurveyID]SurveyCounts, error)
	// SurveyCompletes returns the survey's non-test transactions at 21.
	SurveyCompletes(ctx context.Context, survey SurveyID) ([]Transaction, error)
}

// Store is the storage the buyer service needs. Implementations are safe
// for concurrent use; package sqlstore implements it over SQLite and
// PostgreSQL. Not-found answers are ENOTFOUND *trueup.Errors.
type Store interface {
	Reader
	// CreateBuyer stores a new buyer; a name already taken is an
	// ECONFLICT *trueup.Error.
	CreateBuyer(ctx context.Context, b Buyer) error
	// Buyer returns the buyer with the given id.
	Buyer(ctx context.Context, id BuyerID) (Buyer, error)
	// BuyerByTokenHash returns the buyer whose access token hashes to hash.
	BuyerByTokenHash(ctx context.Context, hash string) (Buyer, error)
	// Buyers returns every buyer, oldest first.
	Buyers(ctx context.Context) ([]Buyer, error)
	// SetBuyerToken replaces a buyer's token hash.
	SetBuyerToken(ctx context.Context, id BuyerID, hash string) error
	// SetBuyerRejectCap sets a buyer's reject cap (nil: none).
	SetBuyerRejectCap(ctx context.Context, id BuyerID, cap *Percent) error
	// Survey returns the survey with the given id.
	Survey(ctx context.Context, id SurveyID) (Survey, error)
	// Surveys returns the buyer's surveys, by id.
	Surveys(ctx context.Context, buyer BuyerID) ([]Survey, error)
	// BeginTransactionImport starts an all-or-nothing import of a buyer's
	// transactions. The caller must Commit or Rollback it.
	BeginTransactionImport(ctx context.Context, buyer BuyerID) (TransactionImport, error)

	// CreateAdjustment stores a Pending process with its list, and, in
	// the same transaction, a job of kind p.ExpireKind due at its creation
	// time plus p.ExpireAfter. It returns the process as stored (with its
	// creation time, from the store's clock).
	CreateAdjustment(ctx context.Context, p CreateAdjustmentParams) (Adjustment, error)
	// DispatchAdjustment moves a Pending process to Message In Flight and
	// enqueues its job, in one transaction. A process that is not Pending
	// is an ECONFLICT *trueup.Error.
	DispatchAdjustment(ctx context.Context, p DispatchParams) error
	// CancelAdjustment moves a Pending process to Declined; one that is
	// not Pending is an ECONFLICT *trueup.Error.
	CancelAdjustment(ctx context.Context, id AdjustmentID) error
	// StartAdjustment moves a process in Message In Flight to Processing
	// and returns it; a process in any other status is returned as it is.
	StartAdjustment(ctx context.Context, id AdjustmentID) (Adjustment, error)
	// BeginAdjustmentApply starts the transaction that applies a process
	// in Processing: it serialises with every other apply and import of
	// the buyer and loads the process and its list. A process in another
	// status is an ECONFLICT *trueup.Error.
	BeginAdjustmentApply(ctx context.Context, id AdjustmentID) (ApplyTx, error)
	// FailAdjustment moves a process in Message In Flight or Processing to
	// Error In Processing with the cause (shown to operators only); a
	// process in another status is left as it is.
	FailAdjustment(ctx context.Context, id AdjustmentID, cause string) error
	// ExpireAdjustments moves every process Pending since before now−age
	// (by the store's clock) to Upload Interrupted and returns how many.
	ExpireAdjustments(ctx context.Context, age time.Duration) (int64, error)
	// Adjustment returns the process with the given id.
	Adjustment(ctx context.Context, id AdjustmentID) (Adjustment, error)
	// AdjustmentItems returns a process's list, in order.
	AdjustmentItems(ctx context.Context, id AdjustmentID) ([]Item, error)
	// SurveyAdjustments returns the processes touching a survey, newest
	// first.
	SurveyAdjustments(ctx context.Context, survey SurveyID) ([]AdjustmentRef, error)
	// SurveyAdjustmentsSince returns the entries of a survey's list added
	// or changed since its list version was version, newest first.
	SurveyAdjustmentsSince(ctx context.Context, survey SurveyID, version int64) ([]AdjustmentRef, error)
	// BuyerAdjustments returns a buyer's processes, newest first.
	BuyerAdjustments(ctx context.Context, buyer BuyerID) ([]Adjustment, error)
}

// TransactionImport writes a buyer's transactions in one transaction. It
// may write rows in batches: a row's conflict with stored data is returned
// by Add when it concerns the survey, by Conflicts when it concerns the
// transaction.
type TransactionImport interface {
	// Add upserts a transaction by its id, creating its survey, owned by
	// the import's buyer, when new; surveyStatus, when valid, sets the
	// survey's status. It returns an *ImportConflict when the survey
	// belongs to another buyer; the import may go on (to find every bad
	// row) but must not be committed.
	Add(ctx context.Context, t Transaction, surveyStatus SurveyStatus) error
	// Conflicts writes what Add queued and returns every added
	// transaction found to belong already to another survey.
	Conflicts(ctx context.Context) ([]ImportConflict, error)
	// Commit stores the import and returns how many rows it wrote; it
	// refuses, with an *ImportConflict, when a row conflicts.
	Commit() (int64, error)
	// Rollback discards the import; it is safe after Commit.
	Rollback()
}

// ApplyTx is the transaction in which a process is applied: it reads
// through the Reader methods, changes statuses, and finishes the process
// and its job together, or rolls back leaving nothing changed.
type ApplyTx interface {
	Reader
	// Adjustment returns the process being applied.
	Adjustment() Adjustment
	// Items returns its list.
	Items() []Item
	// RejectCap returns the buyer's reject cap (nil: none).
	RejectCap() *Percent
	// SetStatuses applies changes, recording the process and reason on
	// each transaction.
	SetStatuses(ctx context.Context, changes []Change) error
	// Finish records the outcome and completes job (when its ID is not 0)
	// in the transaction, then commits. It returns an error wrapping
	// ErrJobLost when the worker no longer holds job.
	Finish(ctx context.Context, p FinishParams) error
	// Rollback discards everything; it is safe after Finish.
	Rollback()
}

// CreateAdjustmentParams are the inputs of Store.CreateAdjustment.
type CreateAdjustmentParams struct {
	// Adjustment is the process; its Status is stored as Pending and its
	// times are the store's.
	Adjustment  Adjustment
	Items       []Item
	ExpireKind  string
	ExpireArgs  string
	ExpireAfter time.Duration
}

// DispatchParams are the inputs of Store.DispatchAdjustment.
type DispatchParams struct {
	ID          AdjustmentID
	JobKind     string
	JobArgs     string
	MaxAttempts int
}

// FinishParams are the inputs of ApplyTx.Finish.
type FinishParams struct {
	// Status is Success or Recon Cap Reached.
	Status  Status
	Summary Summary
	// Surveys are the surveys the process touches, as found at apply
	// time; surveys not yet recorded are added to the process.
	Surveys []SurveyID
	Job     trueup.Job
}
