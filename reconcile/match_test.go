package reconcile_test

import (
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// seq returns the items as a sequence without errors.
func seq[T any](items ...T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

// failing returns a sequence of items followed by err.
func failing[T any](err error, items ...T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
		var zero T
		yield(zero, err)
	}
}

// pair returns an agreeing row and order with the given carrierOrderId and
// row number.
func pair(tb testing.TB, id string, number int64) (reconcile.Row, trueup.Order) {
	tb.Helper()
	row, order := agreeing(tb)
	row.CarrierOrderID, row.Number = id, number
	order.CarrierOrderID, order.KdOrderID = id, "K"+id
	return row, order
}

// summary writes discrepancies as "ID:kind" items, for comparison.
func summary(ds []trueup.Discrepancy) string {
	var b []string
	for _, d := range ds {
		b = append(b, fmt.Sprintf("%s:%d", d.CarrierOrderID, d.DiffType))
	}
	return strings.Join(b, " ")
}

// collect runs Match to the end.
func collect(rows iter.Seq2[reconcile.Row, error], orders iter.Seq2[trueup.Order, error], opt reconcile.Options) ([]trueup.Discrepancy, error) {
	var out []trueup.Discrepancy
	for d, err := range reconcile.Match(rows, orders, opt) {
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

func TestMatch(t *testing.T) {
	opt := reconcile.Options{Cycle: sep2025}
	rA, _ := pair(t, "A", 2)
	rB, oB := pair(t, "B", 3)
	_, oC := pair(t, "C", 0)
	rD, oD := pair(t, "D", 4)
	oD.KdSaleTotal = dec(t, "0.70")
	rE, oE := pair(t, "E", 5)
	rE.SkuCode = "1p1t"
	rE.CarrierSaleToKd = dec(t, "1")
	_, oF := pair(t, "F", 0)
	oF.BillingCycle = "" // an order that does not say its cycle is taken as the cycle's
	rG, _ := pair(t, "G", 6)

	tests := []struct {
		name   string
		rows   []reconcile.Row
		orders []trueup.Order
		want   string
	}{
		{"nothing", nil, nil, ""},
		{"agree", []reconcile.Row{rB}, []trueup.Order{oB}, ""},
		{"rows only", []reconcile.Row{rA, rB}, nil, "A:2 B:2"},
		{"orders only", nil, []trueup.Order{oB, oC}, "B:1 C:1"},
		{"every kind, by ID", []reconcile.Row{rA, rB, rD, rE, rG}, []trueup.Order{oB, oC, oD, oE, oF},
			"A:2 C:1 D:4 E:3 E:4 F:1 G:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(seq(tt.rows...), seq(tt.orders...), opt)
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if s := summary(got); s != tt.want {
				t.Errorf("Match = %q, want %q", s, tt.want)
			}
		})
	}

	// The discrepancies are those of the per-record functions.
	got, _ := collect(seq(rA, rD), seq(oC, oD), opt)
	want := []trueup.Discrepancy{reconcile.MissingOnPlatform(rA, opt), reconcile.MissingOnCarrier(oC, opt)}
	want = append(want, reconcile.Compare(rD, oD, opt)...)
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("Match =\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
	}
}

func TestMatchErrors(t *testing.T) {
	opt := reconcile.Options{Cycle: sep2025}
	rA, oA := pair(t, "A", 2)
	rB, oB := pair(t, "B", 3)
	rB2, oB2 := pair(t, "B", 9)
	oB2.KdOrderID = "KB2"
	oOld := oB
	oOld.BillingCycle = "2025-08"
	boom := errors.New("disk on fire")
	tests := []struct {
		name     string
		rows     iter.Seq2[reconcile.Row, error]
		orders   iter.Seq2[trueup.Order, error]
		opt      reconcile.Options
		sentinel error
		message  string
		before   string // discrepancies yielded before the error
	}{
		{"invalid cycle", seq(rA), seq(oA), reconcile.Options{}, nil,
			"reconcile: billing cycle 0000-00 is not a month from 1970-01 to 9999-12", ""},
		{"unsorted rows", seq(rB, rA), seq[trueup.Order](), opt, reconcile.ErrUnsorted,
			`reconcile: statement row 2: not sorted by carrierOrderId: "A" comes after "B"`, "B:2"},
		{"unsorted orders", seq[reconcile.Row](), seq(oB, oA), opt, reconcile.ErrUnsorted,
			`reconcile: ledger order "KA": not sorted by carrierOrderId: "A" comes after "B"`, "B:1"},
		{"repeated row", seq(rB, rB2), seq(oA), opt, reconcile.ErrDuplicate,
			`reconcile: statement rows 3 and 9: carrierOrderId repeated: "B"`, "A:1 B:2"},
		{"repeated order", seq(rB), seq(oB, oB2), opt, reconcile.ErrDuplicate,
			`reconcile: ledger orders "KB" and "KB2": carrierOrderId repeated: "B"`, ""},
		{"order of another cycle", seq(rA), seq(oOld), opt, reconcile.ErrOtherCycle,
			`reconcile: ledger order "KB": order of another billing cycle: 2025-08, not 2025-09`, ""},
		{"rows fail", failing(boom, rA), seq(oB), opt, boom,
			"reconcile: read statement rows: disk on fire", "A:2"},
		{"orders fail at once", seq(rA), failing[trueup.Order](boom), opt, boom,
			"reconcile: read ledger orders: disk on fire", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(tt.rows, tt.orders, tt.opt)
			if err == nil {
				t.Fatalf("Match = %q, want error %q", summary(got), tt.message)
			}
			if err.Error() != tt.message {
				t.Errorf("error = %q, want %q", err, tt.message)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %q", err, tt.sentinel)
			}
			if s := summary(got); s != tt.before {
				t.Errorf("before the error: %q, want %q", s, tt.before)
			}
		})
	}
}

func TestMatchNothingAfterError(t *testing.T) {
	rA, _ := pair(t, "A", 2)
	n := 0
	for _, err := range reconcile.Match(failing(errors.New("x"), rA), seq[trueup.Order](), reconcile.Options{Cycle: sep2025}) {
		n++
		if err != nil {
			continue // keep ranging: Match must stop by itself
		}
	}
	if n != 2 {
		t.Errorf("Match yielded %d values, want 2 (a discrepancy, then the error)", n)
	}
}

func TestMatchStopsEarly(t *testing.T) {
	var rows []reconcile.Row
	for i := range 10 {
		r, _ := pair(t, fmt.Sprintf("R%02d", i), int64(i+2))
		rows = append(rows, r)
	}
	n := 0
	for range reconcile.Match(seq(rows...), seq[trueup.Order](), reconcile.Options{Cycle: sep2025}) {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("got %d discrepancies before the break, want 3", n)
	}
}

// TestMatchAgainstReference matches random statements and ledgers and
// compares the result with a join done with maps.
func TestMatchAgainstReference(t *testing.T) {
	opt := reconcile.Options{Cycle: sep2025}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		var rows []reconcile.Row
		var orders []trueup.Order
		byID := map[string]trueup.Order{}
		inRows := map[string]bool{}
		for i := range 300 {
			id := fmt.Sprintf("%x", rng.Uint64()%5000) // hex: byte order differs from number order
			if inRows[id] || byID[id].CarrierOrderID != "" {
				continue
			}
			r, o := pair(t, id, int64(i+2))
			switch rng.IntN(6) {
			case 0:
				rows = append(rows, r)
				inRows[id] = true
				continue
			case 1:
				orders = append(orders, o)
				byID[id] = o
				continue
			case 2:
				r.CarrierPackageID = "other"
			case 3:
				r.CarrierSaleToKd = dec(t, "0.52")
			case 4:
				r.EndTime = r.EndTime.Add(1e6)
				r.CarrierSaleToKd = dec(t, "0.4")
			}
			rows = append(rows, r)
			inRows[id] = true
			orders = append(orders, o)
			byID[id] = o
		}
		slices.SortFunc(rows, func(a, b reconcile.Row) int { return strings.Compare(a.CarrierOrderID, b.CarrierOrderID) })
		slices.SortFunc(orders, func(a, b trueup.Order) int { return strings.Compare(a.CarrierOrderID, b.CarrierOrderID) })

		var want []trueup.Discrepancy
		for _, r := range rows {
			if o, ok := byID[r.CarrierOrderID]; ok {
				want = append(want, reconcile.Compare(r, o, opt)...)
			} else {
				want = append(want, reconcile.MissingOnPlatform(r, opt))
			}
		}
		for _, o := range orders {
			if !inRows[o.CarrierOrderID] {
				want = append(want, reconcile.MissingOnCarrier(o, opt))
			}
		}
		slices.SortStableFunc(want, func(a, b trueup.Discrepancy) int { return strings.Compare(a.CarrierOrderID, b.CarrierOrderID) })

		got, err := collect(seq(rows...), seq(orders...), opt)
		if err != nil {
			t.Fatalf("round %d: Match: %v", round, err)
		}
		if summary(got) != summary(want) {
			t.Fatalf("round %d: Match =\n%s\nwant\n%s", round, summary(got), summary(want))
		}
	}
}
