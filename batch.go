package trueup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// The kinds of discrepancy. Each has its row in Kinds.
const (
	DiffMissingOnCarrier  DiffType = 1 // in the ledger, not in the statement
	DiffMissingOnPlatform DiffType = 2 // in the statement, not in the ledger
	DiffRights            DiffType = 3 // package, SKU, active or end time differ
	DiffAmount            DiffType = 4 // carrierSaleToKd differs from kdSaleTotal beyond the tolerance
)

// Kind describes one kind of discrepancy: its number, a name for logs and
// documents, and the words operators read.
type Kind struct {
	Type   DiffType // the seed's number, written as "1", "2", ... on the wire
	Name   string   // lower_snake_case, stable
	Label  string   // short phrase, lower case: "no record on the carrier side"
	Detail string   // when a discrepancy of the kind is recorded
}

// Kinds is the table of discrepancy kinds, in the order of their numbers:
// Kinds[i].Type is i+1. It is the one place a kind is declared: counts,
// their storage and JSON, the CLI's output and the OpenAPI document are
// all derived from it. Adding a kind is a row here (and a matcher in
// reconcile that produces it); see docs/kinds.md.
var Kinds = [...]Kind{
	{Type: DiffMissingOnCarrier, Name: "missing_on_carrier", Label: "no record on the carrier side",
		Detail: "the ledger has the order, the statement has no row for it"},
	{Type: DiffMissingOnPlatform, Name: "missing_on_platform", Label: "no record on the platform side",
		Detail: "the statement has the row, the ledger has no order for it"},
	{Type: DiffRights, Name: "rights", Label: "rights inconsistent",
		Detail: "package, SKU, active or end time differ"},
	{Type: DiffAmount, Name: "amount", Label: "split amount inconsistent",
		Detail: "carrierSaleToKd differs from kdSaleTotal by more than the tolerance, in decimal arithmetic"},
}

// KindOf returns the row of Kinds for t, and false when t is not a kind.
func KindOf(t DiffType) (Kind, bool) {
	if t < 1 || int(t) > len(Kinds) {
		return Kind{}, false
	}
	return Kinds[t-1], true
}

// Key returns t as it is written on the wire and in storage: its number in
// decimal ("1", "2", ...).
func (t DiffType) Key() string { return strconv.Itoa(int(t)) }

// DiffCounts counts a batch's discrepancies per kind, indexed by DiffType
// (index 0 is unused): c[DiffRights] is the number of kind-3
// discrepancies. Its length follows Kinds, so a counts literal such as
// DiffCounts{DiffRights: 1} compares with ==. It is written in JSON as an
// object with every kind's number as a key, {"1":n,"2":n,...}, zero counts
// included.
type DiffCounts [len(Kinds) + 1]int64

// Total returns the number of discrepancies of all kinds.
func (c DiffCounts) Total() int64 {
	var n int64
	for _, k := range Kinds {
		n += c[k.Type]
	}
	return n
}

// Add counts one discrepancy of kind t; a t that is not a kind is ignored.
func (c *DiffCounts) Add(t DiffType) {
	if _, ok := KindOf(t); ok {
		c[t]++
	}
}

// String lists the counts by kind number: "1: 20, 2: 8, 3: 10, 4: 28".
func (c DiffCounts) String() string {
	var b strings.Builder
	for i, k := range Kinds {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d: %d", k.Type, c[k.Type])
	}
	return b.String()
}

// MarshalJSON writes c as {"1":n,"2":n,...}, with a key for every kind.
func (c DiffCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range Kinds {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k.Type.Key())
		b = append(b, ':')
		b = strconv.AppendInt(b, c[k.Type], 10)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads the object MarshalJSON writes. A missing kind counts
// zero; a key that is not a kind's number (one written by a later trueup
// with more kinds) is ignored.
func (c *DiffCounts) UnmarshalJSON(b []byte) error {
	var m map[string]int64
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("discrepancy counts: %w", err)
	}
	var out DiffCounts
	for _, k := range Kinds {
		out[k.Type] = m[k.Type.Key()]
	}
	*c = out
	return nil
}

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

	// SkippedSheets names, in workbook order, the sheets a check did not
	// read because their first row is not the template header (notes).
	SkippedSheets []string `json:"skippedSheets,omitempty"`
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
