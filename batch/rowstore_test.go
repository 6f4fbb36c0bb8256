package batch

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup/reconcile"
)

func TestRowStore(t *testing.T) {
	var s rowStore
	s.reserve(4) // far fewer than added: the table grows
	at := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	row := func(n int) reconcile.Row {
		return reconcile.Row{Number: int64(n + 2), CarrierOrderID: fmt.Sprintf("CO%d", n), CarrierUserID: "u", SkuCode: "1p500g",
			CarrierPackageID: "p", OrderTime: at, ActiveTime: at, EndTime: at.Add(time.Hour),
			CarrierSale: decimal.RequireFromString("10"), HasCarrierSale: n%2 == 0, CarrierSaleToKd: decimal.RequireFromString("0.50")}
	}
	const n = 5000
	for i := 0; i < n; i++ {
		if _, dup := s.add(row(i)); dup {
			t.Fatalf("row %d reported as a repeat", i)
		}
	}
	tests := []struct {
		id    string
		first int64
		dup   bool
	}{
		{"CO0", 2, true},
		{"CO4999", 5001, true},
		{"CO5000", 0, false},
		{"co0", 0, false},
	}
	for _, tt := range tests {
		r := row(0)
		r.CarrierOrderID = tt.id
		first, dup := s.add(r)
		if dup != tt.dup || first != tt.first {
			t.Errorf("add(%q) = %d, %v; want %d, %v", tt.id, first, dup, tt.first, tt.dup)
		}
	}
	for _, i := range []int{0, 1, 2500, n - 1} {
		k := s.lookup(fmt.Sprintf("CO%d", i))
		if k != i {
			t.Fatalf("lookup(CO%d) = %d", i, k)
		}
		got, want := s.view(k, true), row(i)
		if got.CarrierOrderID != want.CarrierOrderID || got.Number != want.Number || !got.EndTime.Equal(want.EndTime) ||
			got.HasCarrierSale != want.HasCarrierSale || got.CarrierSaleToKd.String() != "0.5" || (got.HasCarrierSale && !got.CarrierSale.Equal(want.CarrierSale)) {
			t.Errorf("view(%d) = %+v, want %+v", k, got, want)
		}
		if s := keepScale(decimal.RequireFromString("0.50")); s != "0.50" {
			t.Errorf("keepScale(0.50) = %q", s)
		}
	}
	if s.lookup("nope") != -1 {
		t.Error("lookup of an unknown id found a row")
	}
}
