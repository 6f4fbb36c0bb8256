// Package ledger loads the platform's ledger of carrier orders from files
// (CSV, xlsx, JSON Lines) into storage, all or nothing.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/reconcile"
	"github.com/trueup/trueup/tabular"
)

// Columns are the order file's columns: the ledger-side fields of seed
// 004's DiffBill plus carrierOrderId, carrierUserId and billingCycle.
var Columns = []sheet.Column{
	{Name: "carrierOrderId", Required: true, Type: "text", Meaning: "The carrier's order ID; with billingCycle, the key of the order."},
	{Name: "billingCycle", Required: true, Type: "yyyy-mm", Meaning: "The settlement cycle the order belongs to."},
	{Name: "kdOrderId", Required: true, Type: "text", Meaning: "The platform's order ID."},
	{Name: "carrierUserId", Required: true, Type: "text", Meaning: "The carrier's user ID."},
	{Name: "kdUserId", Required: true, Type: "text", Meaning: "The platform's user ID."},
	{Name: "userStatus", Type: "text", Meaning: "The platform's user status (1 active when absent)."},
	{Name: "skuCode", Required: true, Type: "text", Meaning: "The SKU code."},
	{Name: "skuPrice", Type: "decimal", Meaning: "The SKU unit price (0 when absent)."},
	{Name: "kdPackageId", Required: true, Type: "text", Meaning: "The package ID on the platform."},
	{Name: "kdActiveTime", Required: true, Type: "date-time", Meaning: "When the package became effective."},
	{Name: "kdEndTime", Required: true, Type: "date-time", Meaning: "When the package ends."},
	{Name: "kdOrderTime", Required: true, Type: "date-time", Meaning: "When the user subscribed."},
	{Name: "kdSaleTotal", Required: true, Type: "decimal", Meaning: "The order's revenue to be shared."},
	{Name: "channel", Type: "text", Meaning: "The channel value."},
}

// MaxReportedErrors is how many row errors an import reports at most.
const MaxReportedErrors = tabular.MaxReportedErrors

// ImportError is a refused import: every row error found (up to
// MaxReportedErrors) and how many there were in all. Nothing was stored.
type ImportError = tabular.RowErrors

// Source is a stream of records: column name → text, with a row number.
type Source = tabular.Source

// spec is the order file's columns as tabular reads them.
var spec = tabular.Spec{Columns: Columns, What: "an order field"}

// NewSheetSource reads the header of a CSV or spreadsheet reader and returns
// a Source over its rows. An empty file or a wrong header is an EINVALID
// *trueup.Error.
func NewSheetSource(r sheet.Reader) (Source, error) {
	return tabular.NewSheetSource(r, spec)
}

// OpenFile opens an order file as tabular.Open does: JSON Lines by its
// name (.jsonl, .ndjson), else CSV, xlsx or xls by its content, read
// within lim (zero fields take the defaults of sheet.DefaultLimits).
func OpenFile(path string, lim sheet.Limits) (Source, error) {
	sp := spec
	sp.Limits = lim
	src, _, err := tabular.Open(path, sp)
	return src, err
}

// ImportParams are the inputs of Import.
type ImportParams struct {
	Carrier trueup.CarrierID
	Source  Source
	// Location reads zone-less times; UTC when nil.
	Location *time.Location
	// Progress, when set, is called now and then with the fraction read.
	Progress func(fraction float64, rows int64)
}

// Store is where the ledger is kept; sqlstore implements it.
type Store interface {
	// BeginOrderImport starts an import of ledger orders for a carrier
	// (an ENOTFOUND error for an unknown one). The caller must Commit or
	// Rollback it.
	BeginOrderImport(ctx context.Context, carrier trueup.CarrierID) (OrderImport, error)
}

// OrderImport writes ledger orders in one transaction: either every order
// of an import is stored or none is.
type OrderImport interface {
	// Add upserts one order (by carrierOrderId and billingCycle) and its
	// user, numbering it as the next row (1 for the first order added).
	Add(ctx context.Context, o trueup.Order) error
	// AddRow upserts the order read from row n of a file and its user.
	// Rows must be added in increasing order.
	AddRow(ctx context.Context, n int64, o trueup.Order) error
	// Duplicates returns the rows whose order (carrierOrderId and
	// billingCycle) an earlier row added already, ordered by row, at most
	// limit of them, and how many there are in all. The store finds them
	// itself, in bounded memory; it may write the orders added so far
	// into the import's transaction while doing so.
	Duplicates(ctx context.Context, limit int) ([]Duplicate, int, error)
	// Commit stores the orders added and returns how many there were.
	Commit() (int64, error)
	// Rollback discards the import; it is safe after Commit.
	Rollback()
}

// Duplicate is a row of an import that repeats the order of an earlier
// row.
type Duplicate struct {
	Row            int64
	FirstRow       int64
	CarrierOrderID string
	BillingCycle   string
}

// RowError returns the row error that reports d.
func (d Duplicate) RowError() trueup.RowError {
	return trueup.RowError{Row: d.Row, Column: "carrierOrderId", Value: d.CarrierOrderID,
		Reason: fmt.Sprintf("order %s of cycle %s already appears in row %d; each order must appear once per file", d.CarrierOrderID, d.BillingCycle, d.FirstRow)}
}

// Service loads ledger orders into its Store.
type Service struct {
	Store Store
}

// New returns a Service over store.
func New(store Store) *Service { return &Service{Store: store} }

// Import reads every record of the source and upserts the orders by
// carrierOrderId and billingCycle in one transaction. When any row is bad it
// stores nothing and returns an *ImportError listing the rows.
//
// Every good row goes to the store as it is read, even after a bad one:
// the store finds the orders a file repeats (in SQL, not in memory here),
// and their rows are reported beside the others, in row order.
func (s *Service) Import(ctx context.Context, p ImportParams) (int64, error) {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	imp, err := s.Store.BeginOrderImport(ctx, p.Carrier)
	if err != nil {
		return 0, err
	}
	defer imp.Rollback()
	bad := &ImportError{}
	var rows int64
	for {
		n, get, err := p.Source.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read orders: %w", err)
		}
		rows++
		if p.Progress != nil && rows%10000 == 0 {
			p.Progress(p.Source.Progress(), rows)
		}
		o, errs := parseOrder(n, get, loc)
		if len(errs) > 0 {
			bad.Add(errs...)
			continue
		}
		o.CarrierID = p.Carrier
		if err := imp.AddRow(ctx, n, o); err != nil {
			return 0, err
		}
	}
	if p.Progress != nil {
		p.Progress(1, rows)
	}
	dups, total, err := imp.Duplicates(ctx, MaxReportedErrors)
	if err != nil {
		return 0, err
	}
	if bad.Total > 0 || total > 0 {
		return 0, withDuplicates(bad, dups, total)
	}
	if rows == 0 {
		return 0, trueup.Errorf(trueup.EINVALID, "the file has no order rows; add one row per order below the header")
	}
	return imp.Commit()
}

// withDuplicates returns the row errors of bad and of the duplicate rows
// (total in all, the first of them in dups) in row order, the first
// MaxReportedErrors kept. No row has both: a row with an error is not
// added, so it is neither a duplicate nor the first of one.
func withDuplicates(bad *ImportError, dups []Duplicate, total int) *ImportError {
	if total == 0 {
		return bad
	}
	out := &ImportError{Total: bad.Total + total}
	rows := bad.Rows
	for len(out.Rows) < MaxReportedErrors && (len(rows) > 0 || len(dups) > 0) {
		if len(dups) == 0 || (len(rows) > 0 && rows[0].Row < dups[0].Row) {
			out.Rows = append(out.Rows, rows[0])
			rows = rows[1:]
			continue
		}
		out.Rows = append(out.Rows, dups[0].RowError())
		dups = dups[1:]
	}
	return out
}

func parseOrder(n int64, get func(string) string, loc *time.Location) (trueup.Order, []trueup.RowError) {
	var errs []trueup.RowError
	text := func(col string, required bool) string {
		v := strings.TrimSpace(get(col))
		if v == "" && required {
			errs = append(errs, trueup.RowError{Row: n, Column: col, Reason: "required value is empty; fill it in"})
		} else if len(v) > 128 {
			errs = append(errs, trueup.RowError{Row: n, Column: col, Value: v[:32] + "...", Reason: "value is longer than 128 characters"})
		}
		return v
	}
	when := func(col string) time.Time {
		v := strings.TrimSpace(get(col))
		if v == "" {
			errs = append(errs, trueup.RowError{Row: n, Column: col, Reason: "required date-time is empty; use ISO 8601 such as 2025-10-27T11:47:46Z"})
			return time.Time{}
		}
		t, err := reconcile.ParseTime(v, loc)
		if err != nil {
			errs = append(errs, trueup.RowError{Row: n, Column: col, Value: v, Reason: err.Error()})
		}
		return t
	}
	amount := func(col string, required bool) decimal.Decimal {
		v := strings.TrimSpace(get(col))
		if v == "" {
			if required {
				errs = append(errs, trueup.RowError{Row: n, Column: col, Reason: "required amount is empty; write a decimal such as 0.5"})
			}
			return decimal.Zero
		}
		d, err := reconcile.ParseAmount(v)
		if err != nil {
			errs = append(errs, trueup.RowError{Row: n, Column: col, Value: v, Reason: err.Error()})
		}
		return d
	}
	o := trueup.Order{
		CarrierOrderID: text("carrierOrderId", true),
		BillingCycle:   text("billingCycle", true),
		KdOrderID:      text("kdOrderId", true),
		CarrierUserID:  text("carrierUserId", true),
		KdUserID:       text("kdUserId", true),
		UserStatus:     text("userStatus", false),
		SkuCode:        text("skuCode", true),
		SkuPrice:       amount("skuPrice", false),
		KdPackageID:    text("kdPackageId", true),
		KdActiveTime:   when("kdActiveTime"),
		KdEndTime:      when("kdEndTime"),
		KdOrderTime:    when("kdOrderTime"),
		KdSaleTotal:    amount("kdSaleTotal", true),
		Channel:        text("channel", false),
	}
	if o.BillingCycle != "" {
		if _, err := trueup.ParseCycle(o.BillingCycle); err != nil {
			errs = append(errs, trueup.RowError{Row: n, Column: "billingCycle", Value: o.BillingCycle, Reason: "not a billing cycle; use yyyy-mm, for example 2025-09"})
		}
	}
	if !o.KdActiveTime.IsZero() && !o.KdEndTime.IsZero() && o.KdEndTime.Before(o.KdActiveTime) {
		errs = append(errs, trueup.RowError{Row: n, Column: "kdEndTime", Value: trueup.FormatTime(o.KdEndTime),
			Reason: fmt.Sprintf("ends before kdActiveTime %s; check both times", trueup.FormatTime(o.KdActiveTime))})
	}
	return o, errs
}
