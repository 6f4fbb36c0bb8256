package postgres_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/storetest"
)

// TestOrderImportCyclesNewAndStored imports orders of a cycle the carrier
// has (staged and merged) beside orders of a new cycle (copied straight
// into orders): repeats of either kind are reported by row, and without
// them both kinds are stored.
func TestOrderImportCyclesNewAndStored(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	c := storetest.MustCarrier(t, db, "Cycles")
	add := func(orders ...trueup.Order) ledger.OrderImport {
		t.Helper()
		imp, err := db.BeginOrderImport(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range orders {
			o.CarrierID = c.ID
			if err := imp.AddRow(ctx, int64(i+1), o); err != nil {
				t.Fatal(err)
			}
		}
		return imp
	}
	imp := add(storetest.Order("o1", "2025-08"), storetest.Order("o2", "2025-08"), storetest.Order("o3", "2025-08"))
	if n, err := imp.Commit(); err != nil || n != 3 {
		t.Fatalf("first import = %d, %v", n, err)
	}

	changed := storetest.Order("o1", "2025-08")
	changed.KdSaleTotal = decimal.RequireFromString("9.75")
	file := []trueup.Order{changed, storetest.Order("n1", "2025-09"), storetest.Order("n2", "2025-09"), storetest.Order("o9", "2025-08")}

	imp = add(append(append([]trueup.Order{}, file...), storetest.Order("n1", "2025-09"), storetest.Order("o1", "2025-08"))...)
	dups, total, err := imp.Duplicates(ctx, 10)
	imp.Rollback()
	want := []ledger.Duplicate{{Row: 5, FirstRow: 2, CarrierOrderID: "n1", BillingCycle: "2025-09"}, {Row: 6, FirstRow: 1, CarrierOrderID: "o1", BillingCycle: "2025-08"}}
	if err != nil || total != 2 || len(dups) != 2 || dups[0] != want[0] || dups[1] != want[1] {
		t.Fatalf("Duplicates = %+v, %d, %v; want %+v, 2", dups, total, err, want)
	}

	imp = add(file...)
	if n, err := imp.Commit(); err != nil || n != 4 {
		t.Fatalf("import = %d, %v", n, err)
	}
	for cycle, want := range map[string]int64{"2025-08": 4, "2025-09": 2} {
		if n, err := db.CountOrders(ctx, c.ID, cycle); err != nil || n != want {
			t.Errorf("cycle %s holds %d orders (%v), want %d", cycle, n, err, want)
		}
	}
	err = db.EachOrder(ctx, c.ID, "2025-08", func(o trueup.Order) error {
		if o.CarrierOrderID == "o1" && !o.KdSaleTotal.Equal(changed.KdSaleTotal) {
			t.Errorf("o1 kdSaleTotal = %s, want %s", o.KdSaleTotal, changed.KdSaleTotal)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
