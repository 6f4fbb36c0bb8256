package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/sqlstore"
)

// ledgerLines returns the header and the order lines of spec's order file.
func ledgerLines(tb testing.TB, spec gen.Spec) (string, []string) {
	tb.Helper()
	var b strings.Builder
	if err := spec.WriteLedgerCSV(&b); err != nil {
		tb.Fatalf("write ledger: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	return lines[0], lines[1:]
}

// writeLines writes an order file of header and lines and returns its
// path.
func writeLines(tb testing.TB, header string, lines []string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "orders.csv")
	if err := os.WriteFile(path, []byte(header+"\n"+strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// badAmount returns line with its kdSaleTotal (the twelfth field of the
// generated file) replaced by text that is no amount.
func badAmount(tb testing.TB, line string) string {
	tb.Helper()
	f := strings.Split(line, ",")
	if len(f) != 13 {
		tb.Fatalf("generated line has %d fields, want 13: %s", len(f), line)
	}
	f[11] = "lots"
	return strings.Join(f, ",")
}

// testLedgerRepeatedRows checks the row errors of repeated orders, found
// by the store across its pieces, reported in row order among the other
// row errors: the first good row of a key is the one named, a bad row is
// neither a repeat nor the first, and past ledger.MaxReportedErrors the
// total still counts them all.
func testLedgerRepeatedRows(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	spec := gen.Spec{Orders: 2500, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 3}
	head, lines := ledgerLines(t, spec)
	type want struct {
		row    int64
		column string
		first  int64 // the row a repeat names; 0 for another error
	}
	tests := []struct {
		name    string
		preload bool // the carrier holds the file's orders before
		lines   []string
		total   int
		rows    []want // the first reported rows
	}{
		{
			// Rows 2-1201 are lines 0-1199, 1202 a bad copy of line
			// 1200, 1203-2502 lines 1200-2499, then repeats and a bad
			// row.
			name: "across pieces",
			lines: append(append(append([]string{}, lines[:1200]...), badAmount(t, lines[1200]), lines[1200]), append(lines[1201:],
				lines[0], lines[1500], badAmount(t, lines[3]), lines[0])...),
			total: 5,
			rows: []want{{1202, "kdSaleTotal", 0}, {2503, "carrierOrderId", 2}, {2504, "carrierOrderId", 1503},
				{2505, "kdSaleTotal", 0}, {2506, "carrierOrderId", 2}},
		},
		{
			// A re-import finds repeats as a first load does.
			name: "into stored orders", preload: true,
			lines: append(append([]string{}, lines...), lines[10], lines[20]),
			total: 2,
			rows:  []want{{2502, "carrierOrderId", 12}, {2503, "carrierOrderId", 22}},
		},
		{
			// Rows 2502-2901 repeat 2-401, 2902 is bad, 2903-5002
			// repeat 402-2501 and 5003-5402 repeat 402-801 again.
			name: "more than reported",
			lines: append(append(append([]string{}, lines...), lines[:400]...), append([]string{badAmount(t, lines[5])},
				append(lines[400:], lines[400:800]...)...)...),
			total: 400 + 1 + 2100 + 400,
			rows:  []want{{2502, "carrierOrderId", 2}, {2901, "carrierOrderId", 401}, {2902, "kdSaleTotal", 0}, {2903, "carrierOrderId", 402}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustCarrier(t, db, "Repeats "+tt.name)
			stored := int64(0)
			if tt.preload {
				if n, err := importFile(t, db, c.ID, writeLines(t, head, lines)); err != nil || n != int64(len(lines)) {
					t.Fatalf("first import = %d, %v", n, err)
				}
				stored = int64(len(lines))
			}
			_, err := importFile(t, db, c.ID, writeLines(t, head, tt.lines))
			var bad *ledger.ImportError
			if !errors.As(err, &bad) {
				t.Fatalf("import = %v, want row errors", err)
			}
			if bad.Total != tt.total || len(bad.Rows) != min(tt.total, ledger.MaxReportedErrors) {
				t.Fatalf("row errors: total %d, %d listed; want %d, %d listed", bad.Total, len(bad.Rows), tt.total, min(tt.total, ledger.MaxReportedErrors))
			}
			for i := 1; i < len(bad.Rows); i++ {
				if bad.Rows[i].Row < bad.Rows[i-1].Row {
					t.Fatalf("row errors out of order: row %d after row %d", bad.Rows[i].Row, bad.Rows[i-1].Row)
				}
			}
			if tt.name == "more than reported" {
				// rows 2502..2901 repeat rows 2..401, then row 2902 is bad.
				if r := bad.Rows[400]; r.Row != 2902 || r.Column != "kdSaleTotal" {
					t.Errorf("row error 400 = %+v, want the bad amount of row 2902", r)
				}
			}
			for i, w := range tt.rows {
				var got trueup.RowError
				for _, r := range bad.Rows {
					if r.Row == w.row {
						got = r
						break
					}
				}
				if got.Row == 0 || got.Column != w.column {
					t.Errorf("row %d: got %+v, want an error in column %s", w.row, got, w.column)
					continue
				}
				if w.first > 0 && !strings.Contains(got.Reason, fmt.Sprintf("already appears in row %d;", w.first)) {
					t.Errorf("row %d (case %d): reason %q, want it to name row %d", w.row, i, got.Reason, w.first)
				}
				if w.first > 0 && got.Value == "" {
					t.Errorf("row %d: no value in %+v", w.row, got)
				}
			}
			if n, _ := db.CountOrders(ctx, c.ID, ""); n != stored {
				t.Errorf("after a refused file the carrier holds %d orders, want %d", n, stored)
			}
		})
	}
}

// testLedgerReimportMixed re-imports a file whose orders are partly
// changed, partly the same, partly new (one cycle stored, one not) and
// checks every order and the users after it.
func testLedgerReimportMixed(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Mixed")
	first := gen.Spec{Orders: 1500, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 1}
	if n, err := importFile(t, db, c.ID, writeLedgerCSV(t, first)); err != nil || n != 1500 {
		t.Fatalf("first import = %d, %v", n, err)
	}
	changed := gen.Spec{Orders: 2000, Cycle: first.Cycle, Seed: 2}
	other := gen.Spec{Orders: 30, Cycle: trueup.Cycle{Year: 2025, Month: 10}, Seed: 4}
	head, oldLines := ledgerLines(t, first)
	_, newLines := ledgerLines(t, changed)
	_, otherLines := ledgerLines(t, other)
	// Orders 0-999 changed, 1000-1499 as stored, 1500-1999 new; the
	// other cycle all new.
	lines := append(append(append([]string{}, newLines[:1000]...), oldLines[1000:]...), newLines[1500:]...)
	lines = append(lines, otherLines...)
	if n, err := importFile(t, db, c.ID, writeLines(t, head, lines)); err != nil || n != int64(len(lines)) {
		t.Fatalf("re-import = %d, %v; want %d", n, err, len(lines))
	}
	for _, cy := range []struct {
		cycle string
		want  func(i int) trueup.Order
		n     int
	}{
		{"2025-09", func(i int) trueup.Order {
			if i >= 1000 && i < 1500 {
				return first.Order(i)
			}
			return changed.Order(i)
		}, 2000},
		{"2025-10", other.Order, 30},
	} {
		got := collect(t, db, c.ID, cy.cycle)
		if len(got) != cy.n {
			t.Fatalf("cycle %s holds %d orders, want %d", cy.cycle, len(got), cy.n)
		}
		for i, o := range got {
			w := cy.want(i)
			if o.CarrierOrderID != w.CarrierOrderID || o.KdOrderID != w.KdOrderID || o.CarrierUserID != w.CarrierUserID ||
				o.KdUserID != w.KdUserID || o.SkuCode != w.SkuCode || !o.SkuPrice.Equal(w.SkuPrice) || o.KdPackageID != w.KdPackageID ||
				!o.KdActiveTime.Equal(w.KdActiveTime) || !o.KdEndTime.Equal(w.KdEndTime) || !o.KdOrderTime.Equal(w.KdOrderTime) ||
				!o.KdSaleTotal.Equal(w.KdSaleTotal) || o.Channel != w.Channel || o.UserStatus != "1" {
				t.Fatalf("cycle %s order %d = %+v, want %+v with status 1", cy.cycle, i, o, w)
			}
		}
	}
}
