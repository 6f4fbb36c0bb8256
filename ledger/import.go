// Package ledger loads the platform's ledger of carrier orders from files
// (CSV, xlsx, JSON Lines) into storage, all or nothing.
package ledger

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
)

// Columns are the order file's columns: the ledger-side fields of seed
// 004's DiffBill plus carrierOrderId, carrierUserId and billingCycle.
var Columns = []statement.Column{
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
const MaxReportedErrors = 1000

// ImportError is a refused import: every row error found (up to
// MaxReportedErrors) and how many there were in all. Nothing was stored.
type ImportError struct {
	Rows  []trueup.RowError
	Total int
}

// Error summarises the first row errors.
func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d row error(s); nothing was imported", e.Total)
	for i, r := range e.Rows {
		if i == 5 {
			fmt.Fprintf(&b, "; ...")
			break
		}
		fmt.Fprintf(&b, "; row %d", r.Row)
		if r.Column != "" {
			fmt.Fprintf(&b, " column %s", r.Column)
		}
		if r.Value != "" {
			fmt.Fprintf(&b, " value %q", r.Value)
		}
		fmt.Fprintf(&b, ": %s", r.Reason)
	}
	return b.String()
}

// Source is a stream of records: column name → text, with a row number.
type Source interface {
	// Next returns the next record, or io.EOF.
	Next() (row int64, get func(string) string, err error)
	Progress() float64
	Close() error
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

// Import reads every record of the source and upserts the orders by
// carrierOrderId and billingCycle in one transaction. When any row is bad it
// stores nothing and returns an *ImportError listing the rows.
func Import(ctx context.Context, db *sqlstore.DB, p ImportParams) (int64, error) {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	imp, err := db.BeginOrderImport(ctx, p.Carrier)
	if err != nil {
		return 0, err
	}
	defer imp.Rollback()
	bad := &ImportError{}
	seen := map[string]int64{}
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
		key := o.BillingCycle + "\x00" + o.CarrierOrderID
		if first, dup := seen[key]; dup && len(errs) == 0 {
			errs = append(errs, trueup.RowError{Row: n, Column: "carrierOrderId", Value: o.CarrierOrderID,
				Reason: fmt.Sprintf("order %s of cycle %s already appears in row %d; each order must appear once per file", o.CarrierOrderID, o.BillingCycle, first)})
		} else if len(errs) == 0 {
			seen[key] = n
		}
		if len(errs) > 0 {
			bad.Total += len(errs)
			for _, e := range errs {
				if len(bad.Rows) < MaxReportedErrors {
					bad.Rows = append(bad.Rows, e)
				}
			}
			continue
		}
		if bad.Total > 0 {
			continue // keep validating, store nothing
		}
		o.CarrierID = p.Carrier
		if err := imp.Add(ctx, o); err != nil {
			return 0, err
		}
	}
	if p.Progress != nil {
		p.Progress(1, rows)
	}
	if bad.Total > 0 {
		return 0, bad
	}
	if rows == 0 {
		return 0, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "the file has no order rows; add one row per order below the header")
	}
	return imp.Commit()
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

// headerIndex maps a header row to column indexes, matching names case- and
// space-insensitively. Unknown and duplicate columns and missing required
// ones are errors.
func headerIndex(cells []string, cols []statement.Column) (map[string]int, error) {
	canon := map[string]string{}
	for _, c := range cols {
		canon[fold(c.Name)] = c.Name
	}
	idx := map[string]int{}
	for i, h := range cells {
		f := fold(h)
		if f == "" {
			continue
		}
		name, ok := canon[f]
		if !ok {
			return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "header column %d %q is not an order field; the accepted columns are %s", i+1, h, names(cols))
		}
		if _, dup := idx[name]; dup {
			return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "header column %q appears twice; keep one", name)
		}
		idx[name] = i
	}
	var missing []string
	for _, c := range cols {
		if _, ok := idx[c.Name]; c.Required && !ok {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "header lacks required column(s) %s; add them to the first row", strings.Join(missing, ", "))
	}
	return idx, nil
}

func fold(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

func names(cols []statement.Column) string {
	n := make([]string, len(cols))
	for i, c := range cols {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// sheetSource adapts a statement.Reader whose first row is the header.
type sheetSource struct {
	r     statement.Reader
	index map[string]int
	cells []string
}

// NewSheetSource reads the header of a CSV or spreadsheet reader and returns
// a Source over its rows.
func NewSheetSource(r statement.Reader) (Source, error) {
	head, err := r.Next()
	if errors.Is(err, io.EOF) {
		return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "the file is empty; the first row must name the columns: %s", names(Columns))
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	idx, err := headerIndex(head.Cells, Columns)
	if err != nil {
		return nil, err
	}
	return &sheetSource{r: r, index: idx}, nil
}

func (s *sheetSource) Next() (int64, func(string) string, error) {
	row, err := s.r.Next()
	if err != nil {
		return 0, nil, err
	}
	s.cells = row.Cells
	return row.Number, s.get, nil
}

func (s *sheetSource) get(col string) string {
	i, ok := s.index[col]
	if !ok || i >= len(s.cells) {
		return ""
	}
	return s.cells[i]
}

func (s *sheetSource) Progress() float64 { return s.r.Progress() }
func (s *sheetSource) Close() error      { return s.r.Close() }

// jsonlSource reads JSON Lines: one object per line whose keys are the
// column names; numbers are kept as written.
type jsonlSource struct {
	sc    *bufio.Scanner
	size  int64
	read  int64
	line  int64
	rec   map[string]any
	close func() error
}

// NewJSONLSource returns a Source over JSON Lines read from r (size bytes).
func NewJSONLSource(r io.Reader, size int64, closer func() error) Source {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	return &jsonlSource{sc: sc, size: size, close: closer}
}

func (s *jsonlSource) Next() (int64, func(string) string, error) {
	for s.sc.Scan() {
		s.line++
		b := s.sc.Bytes()
		s.read += int64(len(b)) + 1
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		rec := map[string]any{}
		if err := dec.Decode(&rec); err != nil {
			return 0, nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "line %d is not a JSON object (%v); write one object per line", s.line, err)
		}
		s.rec = map[string]any{}
		for k, v := range rec {
			name := k
			for _, c := range Columns {
				if fold(c.Name) == fold(k) {
					name = c.Name
				}
			}
			if _, known := columnSet[name]; !known {
				return 0, nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "line %d: key %q is not an order field; the accepted keys are %s", s.line, k, names(Columns))
			}
			s.rec[name] = v
		}
		return s.line, s.get, nil
	}
	if err := s.sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("read line %d: %w", s.line+1, err)
	}
	return 0, nil, io.EOF
}

var columnSet = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range Columns {
		m[c.Name] = true
	}
	return m
}()

func (s *jsonlSource) get(col string) string {
	switch v := s.rec[col].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func (s *jsonlSource) Progress() float64 {
	if s.size <= 0 {
		return 0
	}
	return min(1, float64(s.read)/float64(s.size))
}

func (s *jsonlSource) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}
