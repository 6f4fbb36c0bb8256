// Package cases keeps the discrepancies of a carrier's billing cycle as
// cases that live across the cycle's batches: the latest succeeded batch
// opens, updates, resolves ("fixed") and reopens them, operators decide
// them with actions, and the cycle closes with a settlement figure. See
// docs/cases.md.
package cases

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// ID identifies a case: its number, written in decimal.
type ID string

// State is where a case stands: open or resolved.
type State string

// The states of a case.
const (
	StateOpen     State = "open"
	StateResolved State = "resolved"
)

// Action is what an operator does to a case. The first four resolve it.
type Action string

// The actions.
const (
	AcceptCarrier  Action = "accept-carrier"  // the carrier's value is right
	AcceptPlatform Action = "accept-platform" // the platform's value is right
	WriteOff       Action = "write-off"       // the difference is given up
	Void           Action = "void"            // not a real order
	Assign         Action = "assign"          // give the case to someone
	Comment        Action = "comment"         // a note, nothing else
)

// Fixed is the resolution of a case that a later batch no longer shows.
const Fixed = "fixed"

// Resolves reports whether a resolves the case it is taken on.
func (a Action) Resolves() bool {
	switch a {
	case AcceptCarrier, AcceptPlatform, WriteOff, Void:
		return true
	}
	return false
}

// Actions lists every action, the resolving ones first.
var Actions = []Action{AcceptCarrier, AcceptPlatform, WriteOff, Void, Assign, Comment}

// Flags of kind-1 cases (the platform has the order, the statement does
// not): expected while the SLA runs, missing after it.
const (
	FlagExpected = "expected"
	FlagMissing  = "missing"
)

// DefaultSLADays is a carrier's SLA, in days, until one is set.
const DefaultSLADays = 5

// MaxSLADays bounds the SLA an operator may set.
const MaxSLADays = 365

// DefaultMaxNote bounds the note of an action, in bytes, unless
// Service.MaxNote says otherwise (serve --case-note-max-bytes).
const DefaultMaxNote = 2000

// Case is one discrepancy of a carrier's cycle, kept across its batches.
// The values are those of the latest batch that showed it.
type Case struct {
	ID             ID               `json:"caseId"`
	CarrierID      trueup.CarrierID `json:"carrierId"`
	Cycle          string           `json:"billingCycle"`
	CarrierOrderID string           `json:"carrierOrderId"`
	KdOrderID      string           `json:"kdOrderId"`
	DiffType       trueup.DiffType  `json:"diffType"`
	DiffReason     string           `json:"diffReason"`
	State          State            `json:"state"`
	// Resolution is nil while open, else "fixed" or the resolving action.
	Resolution *string `json:"resolution"`
	// Note is the note of the latest action ("" when none).
	Note     string `json:"note"`
	Assignee string `json:"assignee"`
	// The amounts and times of both sides, as the batch showed them.
	KdSaleTotal       string `json:"kdSaleTotal"`
	CarrierSaleToKd   string `json:"carrierSaleToKd"`
	ThisMonthBilling  string `json:"thisMouthBilling"`
	NextMonthBilling  string `json:"nextMouthBilling"`
	CarrierActiveTime string `json:"carrierActiveTime"`
	CarrierEndTime    string `json:"carrierEndTime"`
	// Amount is the money the case involves: the platform's amount for
	// kinds 1 and 3, the carrier's for kind 2, the difference for kind 4.
	Amount      decimal.Decimal `json:"amount"`
	OpenedBatch trueup.BatchNo  `json:"openedBatch"`
	SeenBatch   trueup.BatchNo  `json:"seenBatch"` // the batch whose values it shows
	FixedBy     trueup.BatchNo  `json:"fixedBy,omitempty"`
	ResolvedBy  trueup.Actor    `json:"resolvedBy,omitempty"`
	OpenedAt    time.Time       `json:"openedAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	ResolvedAt  *time.Time      `json:"resolvedAt,omitempty"`
	// Aging, as of the service's clock: whole days open (until resolved),
	// overdue once past the carrier's SLA while open, and for kind-1
	// cases "expected" within the SLA and "missing" after.
	AgeDays int    `json:"ageDays"`
	Overdue bool   `json:"overdue"`
	Flag    string `json:"flag,omitempty"`
}

// Entry is one line of a case's history.
type Entry struct {
	At      time.Time      `json:"at"`
	Actor   trueup.Actor   `json:"actor"`
	Action  string         `json:"action"` // opened, fixed, reopened, or an Action
	Note    string         `json:"note,omitempty"`
	BatchNo trueup.BatchNo `json:"batchNo,omitempty"`
	Detail  string         `json:"detail,omitempty"` // the assignee of an assign
}

// Detail is a case with its history, oldest first.
type Detail struct {
	Case    Case    `json:"case"`
	History []Entry `json:"history"`
}

// Change is what applying a batch did to a case: opened, resolved or
// reopened.
type Change struct {
	ID             ID
	CarrierOrderID string
	DiffType       trueup.DiffType
	Change         string
}

// The changes a batch makes.
const (
	ChangeOpened   = "opened"
	ChangeReopened = "reopened"
	ChangeResolved = "resolved"
)

// CycleState is what the store keeps of a carrier's cycle.
type CycleState struct {
	AppliedBatch trueup.BatchNo
	AppliedCount int64
	// AppliedMissing is the applied batch's count of kind-1
	// discrepancies: ledger orders its statement lacks.
	AppliedMissing int64
	ClosedAt       *time.Time
	ClosedBy       trueup.Actor
	// ClosedSummary is the JSON of the Cycle at close.
	ClosedSummary string
}

// Store is what the cases service needs from storage; sqlstore
// implements it. Applying a batch to the cases happens inside the store's
// FinishBatch, in the same transaction.
type Store interface {
	// Carrier returns a carrier, or an ENOTFOUND error.
	Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error)
	// Cases returns the cases p selects, by id, after p.After, at most
	// p.Limit.
	Cases(ctx context.Context, p ListParams) ([]Case, error)
	// Case returns a case, or an ENOTFOUND error.
	Case(ctx context.Context, id ID) (Case, error)
	// CaseHistory returns a case's history after it opened, oldest first.
	CaseHistory(ctx context.Context, id ID) ([]Entry, error)
	// ActOnCase applies an action and records it in the history in one
	// transaction, and returns the case after it. A resolving action on
	// a case that is not open is an ECONFLICT error, and so is an action
	// other than a comment on a case of a closed cycle (ClosedCycleError,
	// checked under the cycle's lock).
	ActOnCase(ctx context.Context, p ActParams) (Case, error)
	// CaseChanges calls fn for each case the batch no changed when it was
	// applied (nothing when it was not applied).
	CaseChanges(ctx context.Context, no trueup.BatchNo, fn func(trueup.CarrierID, Change) error) error
	// BatchCaseEvents calls fn, by case id, for each case the batch no
	// opened, resolved (fixed) or reopened, as it stays once later batches
	// are applied: the cases it opened and its lines in their history.
	BatchCaseEvents(ctx context.Context, no trueup.BatchNo, fn func(trueup.CarrierID, Change) error) error
	// Batch returns a batch and its attempt, or an ENOTFOUND error.
	Batch(ctx context.Context, no trueup.BatchNo) (trueup.Batch, int, error)
	// EachCycleCase calls fn for every case of a carrier's cycle, by id.
	EachCycleCase(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(Case) error) error
	// EachOrderKey calls fn for every ledger order of a carrier and cycle
	// (carrierOrderId, sku, package, active and end time, kdSaleTotal).
	EachOrderKey(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(trueup.Order) error) error
	// CycleState returns what is kept of a cycle (the zero value for a
	// cycle nothing was applied to).
	CycleState(ctx context.Context, carrier trueup.CarrierID, cycle string) (CycleState, error)
	// CloseCycle closes a cycle in one transaction that locks the cycle
	// (as applying a batch does), calls p.Summarize, and sets it closed
	// with the summary; ECONFLICT when it is closed already.
	CloseCycle(ctx context.Context, p CloseParams) error
	// ReopenCycle reopens a closed cycle; ECONFLICT when it is open.
	ReopenCycle(ctx context.Context, carrier trueup.CarrierID, cycle string) error
	// CaseSLA returns a carrier's SLA in days, DefaultSLADays when none
	// is set.
	CaseSLA(ctx context.Context, carrier trueup.CarrierID) (int, error)
	// SetCaseSLA sets a carrier's SLA in days.
	SetCaseSLA(ctx context.Context, carrier trueup.CarrierID, days int) error
}

// ListParams select cases. CarrierID is required; the others are
// optional filters.
type ListParams struct {
	CarrierID trueup.CarrierID
	Cycle     string
	State     State
	DiffType  trueup.DiffType
	// Assignee keeps the cases assigned to this name.
	Assignee string
	// Overdue keeps the open cases past the carrier's SLA; the service
	// turns it into State open and OpenedBefore.
	Overdue bool
	// OpenedBefore, when set, keeps the cases opened before it.
	OpenedBefore time.Time
	After        int64 // the id of the last case of the previous page
	Limit        int
}

// ActParams are the inputs of Store.ActOnCase.
type ActParams struct {
	ID       ID
	Action   Action
	Actor    trueup.Actor
	Note     string
	Assignee string // for Assign
	Now      time.Time
}

// CloseParams are the inputs of Store.CloseCycle.
type CloseParams struct {
	CarrierID trueup.CarrierID
	Cycle     string
	Actor     trueup.Actor
	Now       time.Time
	Summary   string // the JSON of the Cycle at close
	// Summarize, when set, computes Summary while the store holds the
	// cycle locked against batches being applied to it, so that the
	// figure kept is the one the cycle closes at.
	Summarize func(ctx context.Context) (string, error)
}
