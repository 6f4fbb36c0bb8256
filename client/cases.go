package client

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// Case is a discrepancy case as the admin API shows it.
type Case struct {
	CaseID            string          `json:"caseId"`
	CarrierID         string          `json:"carrierId"`
	BillingCycle      string          `json:"billingCycle"`
	CarrierOrderID    string          `json:"carrierOrderId"`
	KdOrderID         string          `json:"kdOrderId"`
	DiffType          trueup.DiffType `json:"diffType"`
	DiffReason        string          `json:"diffReason"`
	State             string          `json:"state"`      // open or resolved
	Resolution        *string         `json:"resolution"` // nil, "fixed" or the resolving action
	Note              string          `json:"note"`
	Assignee          string          `json:"assignee"`
	KdSaleTotal       string          `json:"kdSaleTotal"`
	CarrierSaleToKd   string          `json:"carrierSaleToKd"`
	ThisMonthBilling  string          `json:"thisMouthBilling"`
	NextMonthBilling  string          `json:"nextMouthBilling"`
	CarrierActiveTime string          `json:"carrierActiveTime"`
	CarrierEndTime    string          `json:"carrierEndTime"`
	Amount            decimal.Decimal `json:"amount"`
	OpenedBatch       string          `json:"openedBatch"`
	SeenBatch         string          `json:"seenBatch"`
	FixedBy           string          `json:"fixedBy,omitempty"`
	ResolvedBy        string          `json:"resolvedBy,omitempty"`
	OpenedAt          time.Time       `json:"openedAt"`
	UpdatedAt         time.Time       `json:"updatedAt"`
	ResolvedAt        *time.Time      `json:"resolvedAt,omitempty"`
	AgeDays           int             `json:"ageDays"`
	Overdue           bool            `json:"overdue"`
	Flag              string          `json:"flag,omitempty"` // expected or missing, for kind 1
}

// CaseEntry is a line of a case's history.
type CaseEntry struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Note    string    `json:"note,omitempty"`
	BatchNo string    `json:"batchNo,omitempty"`
	Detail  string    `json:"detail,omitempty"`
}

// CaseDetail is a case with its history, oldest first.
type CaseDetail struct {
	Case    Case        `json:"case"`
	History []CaseEntry `json:"history"`
}

// CasePage is a page of cases; NextPageCursor is empty on the last page.
type CasePage struct {
	Cases          []Case `json:"cases"`
	NextPageCursor string `json:"nextPageCursor,omitempty"`
}

// CaseFilter selects cases: CarrierID is required, the rest optional.
type CaseFilter struct {
	CarrierID string
	Cycle     string // yyyy-mm
	State     string // open or resolved
	DiffType  int
	// Overdue keeps the open cases past the carrier's SLA.
	Overdue bool
	// Assignee keeps the cases assigned to this name.
	Assignee string
	PageSize int    // 1-1000, 0 for the default 100
	Cursor   string // the previous page's NextPageCursor
}

// CaseAction is an action on a case: accept-carrier, accept-platform,
// write-off, void, assign (with Assignee) or comment, with a note.
type CaseAction struct {
	Action   string `json:"action"`
	Note     string `json:"note,omitempty"`
	Assignee string `json:"assignee,omitempty"`
}

// KindSummary counts a cycle's cases of one kind and their money.
type KindSummary struct {
	DiffType       trueup.DiffType `json:"diffType"`
	Open           int64           `json:"open"`
	OpenAmount     decimal.Decimal `json:"openAmount"`
	Resolved       int64           `json:"resolved"`
	ResolvedAmount decimal.Decimal `json:"resolvedAmount"`
}

// Settlement is the figure the platform and the carrier agree a cycle is
// worth, split this month / next month, and what open cases hold out.
type Settlement struct {
	Total          decimal.Decimal `json:"total"`
	ThisMonth      decimal.Decimal `json:"thisMonth"`
	NextMonth      decimal.Decimal `json:"nextMonth"`
	Orders         int64           `json:"orders"`
	Disputed       decimal.Decimal `json:"disputed"`
	DisputedOrders int64           `json:"disputedOrders"`
}

// Cycle is a carrier's billing cycle as its cases stand.
type Cycle struct {
	CarrierID      string        `json:"carrierId"`
	BillingCycle   string        `json:"billingCycle"`
	AppliedBatch   string        `json:"appliedBatch,omitempty"`
	BatchesApplied int64         `json:"batchesApplied"`
	LedgerOrders   int64         `json:"ledgerOrders"`
	OrdersMatched  int64         `json:"ordersMatched"`
	Kinds          []KindSummary `json:"kinds"`
	Open           int64         `json:"open"`
	Resolved       int64         `json:"resolved"`
	Overdue        int64         `json:"overdue"`
	Settlement     Settlement    `json:"settlement"`
	Closed         bool          `json:"closed"`
	ClosedAt       *time.Time    `json:"closedAt,omitempty"`
	ClosedBy       string        `json:"closedBy,omitempty"`
	AtClose        *Cycle        `json:"atClose,omitempty"`
}

// Cases returns a page of the cases f selects, by case id.
func (c *AdminClient) Cases(ctx context.Context, f CaseFilter) (CasePage, error) {
	q := url.Values{"carrierId": {f.CarrierID}}
	if f.Cycle != "" {
		q.Set("billingCycle", f.Cycle)
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.DiffType != 0 {
		q.Set("diffType", strconv.Itoa(f.DiffType))
	}
	if f.Overdue {
		q.Set("overdue", "true")
	}
	if f.Assignee != "" {
		q.Set("assignee", f.Assignee)
	}
	if f.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(f.PageSize))
	}
	if f.Cursor != "" {
		q.Set("pageCursor", f.Cursor)
	}
	var out CasePage
	return out, c.do(ctx, http.MethodGet, PathAdmin+"cases", q, "", nil, &out)
}

// Case returns a case with its history.
func (c *AdminClient) Case(ctx context.Context, caseID string) (CaseDetail, error) {
	var out CaseDetail
	return out, c.do(ctx, http.MethodGet, PathAdmin+"cases/"+url.PathEscape(caseID), nil, "", nil, &out)
}

// ActOnCase takes an action on a case and returns the case after it.
func (c *AdminClient) ActOnCase(ctx context.Context, caseID string, a CaseAction) (Case, error) {
	var out Case
	return out, c.send(ctx, http.MethodPost, PathAdmin+"cases/"+url.PathEscape(caseID)+"/actions", a, &out)
}

// CaseSLA returns a carrier's case SLA in days.
func (c *AdminClient) CaseSLA(ctx context.Context, carrierID string) (int, error) {
	var out struct {
		Days int `json:"days"`
	}
	return out.Days, c.do(ctx, http.MethodGet, PathAdmin+"carriers/"+url.PathEscape(carrierID)+"/case-sla", nil, "", nil, &out)
}

// SetCaseSLA sets a carrier's case SLA in days.
func (c *AdminClient) SetCaseSLA(ctx context.Context, carrierID string, days int) error {
	body := struct {
		Days int `json:"days"`
	}{days}
	return c.send(ctx, http.MethodPatch, PathAdmin+"carriers/"+url.PathEscape(carrierID)+"/case-sla", body, nil)
}

func cyclePath(carrierID, cycle string) string {
	return PathAdmin + "carriers/" + url.PathEscape(carrierID) + "/cycles/" + url.PathEscape(cycle)
}

// Cycle returns a carrier's cycle with its settlement figure.
func (c *AdminClient) Cycle(ctx context.Context, carrierID, cycle string) (Cycle, error) {
	var out Cycle
	return out, c.do(ctx, http.MethodGet, cyclePath(carrierID, cycle), nil, "", nil, &out)
}

// CloseCycle closes a cycle: later uploads for it are refused.
func (c *AdminClient) CloseCycle(ctx context.Context, carrierID, cycle string) (Cycle, error) {
	var out Cycle
	return out, c.send(ctx, http.MethodPost, cyclePath(carrierID, cycle)+"/close", nil, &out)
}

// ReopenCycle reopens a closed cycle.
func (c *AdminClient) ReopenCycle(ctx context.Context, carrierID, cycle string) (Cycle, error) {
	var out Cycle
	return out, c.send(ctx, http.MethodPost, cyclePath(carrierID, cycle)+"/reopen", nil, &out)
}

// ExportCycle returns a cycle's settlement and cases as an xlsx or csv
// file.
func (c *AdminClient) ExportCycle(ctx context.Context, carrierID, cycle string, format ExportFormat) ([]byte, error) {
	var buf bytes.Buffer
	q := url.Values{"format": {string(format)}}
	err := c.do(ctx, http.MethodGet, cyclePath(carrierID, cycle)+"/export", q, "", nil, &buf)
	return buf.Bytes(), err
}
