package batch

import (
	"context"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/statement"
)

// Order is the order of a discrepancy query.
type Order string

// The orders of a discrepancy query: the file's (the default), the
// largest amount gap first, the smallest first. Ties of the gap fall back
// to the file's order, so that every order is total and keyset pages
// neither skip nor repeat.
const (
	ByFile    Order = ""
	ByGapDesc Order = "gap-desc"
	ByGapAsc  Order = "gap-asc"
)

// ParseOrder checks an order given by a client.
func ParseOrder(s string) (Order, error) {
	switch o := Order(s); o {
	case ByFile, ByGapDesc, ByGapAsc:
		return o, nil
	case "file":
		return ByFile, nil
	}
	return "", trueup.Errorf(trueup.EINVALID, "sort %q is not an order; use file, gap-desc (largest amount difference first) or gap-asc", s)
}

// MaxSearchLength bounds the order or user id a discrepancy query looks
// for.
const MaxSearchLength = 128

// Cursor is where a keyset page of a discrepancy query starts: after the
// discrepancy with this gap and sequence number. The zero Cursor starts at
// the beginning.
type Cursor struct {
	Gap int64
	Seq int64
}

// IsZero reports whether c is the beginning.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String writes c as the "after" parameter of a page link: "seq" or
// "gap.seq".
func (c Cursor) String() string {
	if c.Gap == 0 {
		return strconv.FormatInt(c.Seq, 10)
	}
	return strconv.FormatInt(c.Gap, 10) + "." + strconv.FormatInt(c.Seq, 10)
}

// ParseCursor reads a Cursor written by String; "" is the beginning.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := trueup.Errorf(trueup.EINVALID, "page position %q is not one this console wrote; start again from the first page", s)
	gap, seq, found := strings.Cut(s, ".")
	if !found {
		gap, seq = "0", s
	}
	var c Cursor
	var err1, err2 error
	c.Gap, err1 = strconv.ParseInt(gap, 10, 64)
	c.Seq, err2 = strconv.ParseInt(seq, 10, 64)
	if err1 != nil || err2 != nil || c.Gap < 0 || c.Seq < 0 {
		return Cursor{}, bad
	}
	return c, nil
}

// Query selects and orders the discrepancies of a batch's attempt.
type Query struct {
	No      trueup.BatchNo
	Attempt int
	// Kind keeps one kind only; 0 keeps every kind.
	Kind trueup.DiffType
	// Search keeps the discrepancies whose carrier or platform order id,
	// or carrier or platform user id, is exactly Search; "" keeps all.
	Search string
	Order  Order
	// After starts the page after this discrepancy (keyset paging).
	After Cursor
	// Limit is the most returned; 0 means no limit (an export).
	Limit int
}

// Check validates a query's client-given parts.
func (q Query) Check() error {
	if q.Kind != 0 {
		if _, ok := trueup.KindOf(q.Kind); !ok {
			return trueup.Errorf(trueup.EINVALID, "kind %d is not a discrepancy kind; choose one of 1 to %d or all kinds", q.Kind, len(trueup.Kinds))
		}
	}
	if len(q.Search) > MaxSearchLength {
		return trueup.Errorf(trueup.EINVALID, "the search is %d characters long, over the limit of %d; search for one order id or user id", len(q.Search), MaxSearchLength)
	}
	if _, err := ParseOrder(string(q.Order)); err != nil {
		return err
	}
	if q.Limit < 0 {
		return trueup.Errorf(trueup.EINVALID, "page size %d is negative; ask for a positive page size", q.Limit)
	}
	return nil
}

// CursorOf returns the cursor that starts a page after d.
func CursorOf(d trueup.Discrepancy, o Order) Cursor {
	if o == ByFile {
		return Cursor{Seq: d.Seq}
	}
	return Cursor{Gap: AmountGap(d), Seq: d.Seq}
}

// GapScale is the number of decimal places AmountGap keeps: gaps are
// ordered in millionths of the currency unit.
const GapScale = 6

// AmountDiff returns the carrier's amount less the platform's,
// carrierSaleToKd - kdSaleTotal; a side without a record counts zero.
func AmountDiff(d trueup.Discrepancy) decimal.Decimal {
	carrier, err := decimal.NewFromString(strings.TrimSpace(d.CarrierSaleToKd))
	if err != nil {
		carrier = decimal.Zero
	}
	return carrier.Sub(d.KdSaleTotal)
}

// AmountGap returns the absolute amount difference of d in millionths,
// rounded half up, at most math.MaxInt64: the stored key the discrepancy
// browser sorts by.
func AmountGap(d trueup.Discrepancy) int64 {
	g := AmountDiff(d).Abs().Shift(GapScale).Round(0).BigInt()
	if !g.IsInt64() || g.Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return math.MaxInt64
	}
	return g.Int64()
}

// AtStake returns the money at stake of a batch: the sum of the absolute
// amount differences of its discrepancies, recorded when it succeeded;
// zero for a batch that has not.
func (s *Service) AtStake(ctx context.Context, no trueup.BatchNo) (decimal.Decimal, error) {
	return s.Store.BatchAtStake(ctx, no)
}

// QueryDiscrepancies returns a page of the discrepancies q selects, in
// q's order.
func (s *Service) QueryDiscrepancies(ctx context.Context, q Query) ([]trueup.Discrepancy, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	out := make([]trueup.Discrepancy, 0, q.Limit)
	err := s.Store.FindDiscrepancies(ctx, q, func(d trueup.Discrepancy) error { out = append(out, d); return nil })
	return out, err
}

// ExportQuery writes every discrepancy q selects (its Limit and After
// ignored) to w as an export of format, in q's order, streaming: memory
// does not grow with the batch.
func (s *Service) ExportQuery(ctx context.Context, w io.Writer, q Query, format statement.Format) error {
	q.Limit, q.After = 0, Cursor{}
	if err := q.Check(); err != nil {
		return err
	}
	ew, err := statement.NewExportWriter(w, format)
	if err != nil {
		return err
	}
	if err := s.Store.FindDiscrepancies(ctx, q, ew.Write); err != nil {
		return err
	}
	return ew.Close()
}
