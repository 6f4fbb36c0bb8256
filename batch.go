package trueup

import (
	"time"

	"github.com/shopspring/decimal"
)

// BatchState is where a statement batch stands.
type BatchState string

// The states of a batch: queued when the file is stored and its header
// checked, processing while a worker reads and matches it, then succeeded
// (discrepancies recorded) or failed (row errors or an unreadable file; no
// discrepancies recorded).
const (
	BatchQueued     BatchState = "queued"
	BatchProcessing BatchState = "processing"
	BatchSucceeded  BatchState = "succeeded"
	BatchFailed     BatchState = "failed"
)

// DiffType is the kind of a discrepancy, as seed 004 numbers them.
type DiffType int

// The four kinds of discrepancy.
const (
	DiffMissingOnCarrier  DiffType = 1 // in the ledger, not in the statement
	DiffMissingOnPlatform DiffType = 2 // in the statement, not in the ledger
	DiffRights            DiffType = 3 // package, SKU, active or end time differ
	DiffAmount            DiffType = 4 // carrierSaleToKd differs from kdSaleTotal beyond the tolerance
)

// Batch is one uploaded statement and the state of its check.
type Batch struct {
	No         BatchNo    `json:"batchNo"`
	CarrierID  CarrierID  `json:"carrierId"`
	Cycle      string     `json:"billingCycle"`
	FileName   string     `json:"fileName"`
	Format     string     `json:"format"` // csv, xlsx or xls
	FileSize   int64      `json:"fileSize"`
	State      BatchState `json:"state"`
	RowsRead   int64      `json:"rowsRead"`
	Percent    int        `json:"percent"`
	Counts     DiffCounts `json:"counts"`
	RowErrors  int64      `json:"rowErrorCount"`
	Failure    string     `json:"failure,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// DiffCounts counts a batch's discrepancies per kind.
type DiffCounts struct {
	MissingOnCarrier  int64 `json:"1"`
	MissingOnPlatform int64 `json:"2"`
	Rights            int64 `json:"3"`
	Amount            int64 `json:"4"`
}

// Total returns the number of discrepancies of all kinds.
func (c DiffCounts) Total() int64 {
	return c.MissingOnCarrier + c.MissingOnPlatform + c.Rights + c.Amount
}

// Add counts one discrepancy of kind t.
func (c *DiffCounts) Add(t DiffType) {
	switch t {
	case DiffMissingOnCarrier:
		c.MissingOnCarrier++
	case DiffMissingOnPlatform:
		c.MissingOnPlatform++
	case DiffRights:
		c.Rights++
	case DiffAmount:
		c.Amount++
	}
}

// RowError is a statement row that could not be read: where it is, what it
// holds and why it was refused.
type RowError struct {
	Row    int64  `json:"row"` // 1-based, the header being row 1
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
}

// Discrepancy is one difference between a statement row and the ledger, with
// every field of seed 004's DiffBill. Carrier-side fields come from the row
// as the carrier wrote them (times normalised to TimeLayout), platform-side
// fields from the ledger; the side that has no record is left empty.
type Discrepancy struct {
	Seq               int64           `json:"-"` // order within the batch, the keyset of the list
	CarrierOrderID    string          `json:"carrierOrderId"`
	KdOrderID         string          `json:"kdOrderId"`
	CarrierUserID     string          `json:"carrierUserId"`
	CarrierOrderTime  string          `json:"carrierOrderTime"`
	KdUserID          string          `json:"kdUserId"`
	UserStatus        string          `json:"userStatus"`
	DiffType          DiffType        `json:"diffType"`
	DiffReason        string          `json:"diffReason"`
	SkuCode           string          `json:"skuCode"`
	SkuPrice          decimal.Decimal `json:"skuPrice"`
	BillingCycle      string          `json:"billingCycle"`
	CarrierSale       string          `json:"carrierSale"`
	CarrierSaleToKd   string          `json:"carrierSaleToKd"`
	ThisMonthBilling  string          `json:"thisMouthBilling"`
	NextMonthBilling  string          `json:"nextMouthBilling"`
	Channel           string          `json:"channel"`
	CarrierActiveTime string          `json:"carrierActiveTime"`
	CarrierEndTime    string          `json:"carrierEndTime"`
	CarrierPackageID  string          `json:"carrierPackageId"`
	KdActiveTime      string          `json:"kdActiveTime"`
	KdEndTime         string          `json:"kdEndTime"`
	KdOrderTime       string          `json:"kdOrderTime"`
	KdPackageID       string          `json:"kdPackageId"`
	KdSaleTotal       decimal.Decimal `json:"kdSaleTotal"`
}
