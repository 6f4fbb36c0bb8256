package reconcile_test

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// Example checks a four-row statement against a ledger of two orders: a
// first pass validates the rows and finds repeated IDs, a second compares
// each ledger order with its row.
func Example() {
	header := []string{"carrierOrderId", "carrierUserId", "carrierOrderTime", "skuCode", "carrierPackageId",
		"carrierActiveTime", "carrierEndTime", "carrierSale", "carrierSaleToKd", "channel"}
	sheet := [][]string{
		{"B-2", "u2", "2025-09-03 10:00:00", "1p500g", "P1", "2025-09-16", "2025-10-16", "10", "0.40", "0"},
		{"A-1", "u1", "45901.5", "1p500g", "P1", "2025-09-01", "2025-10-01", "10", "0.50", "0"},
		{"C-3", "u3", "2025-09-05T02:00:00Z", "1p500g", "P1", "2025-09-01", "2025-10-01", "", "0.50", ""},
		{"A-1", "u1", "2025-13-01", "1p500g", "P1", "2025-09-01", "2025-10-01", "10", "0.50", "0"},
	}
	opt := reconcile.Options{
		Cycle:    trueup.Cycle{Year: 2025, Month: time.September},
		Location: time.FixedZone("UTC+8", 8*3600),
	}

	// Pass 1: validate every row and look for repeated IDs.
	index := map[string]int{}
	for i, name := range header {
		index[name] = i
	}
	var cells []string
	get := func(column string) string { return cells[index[column]] }
	first := map[string]int64{} // carrierOrderId → the row it first appears in
	var rows []reconcile.Row
	for i, c := range sheet {
		cells = c
		row, errs := reconcile.ParseRow(int64(i+2), get, opt)
		if n, dup := first[row.CarrierOrderID]; dup {
			errs = append(errs, reconcile.DuplicateError(row.Number, n, row.CarrierOrderID))
		} else {
			first[row.CarrierOrderID] = row.Number
		}
		for _, e := range errs {
			fmt.Printf("row %d %s: %s\n", e.Row, e.Column, e.Reason)
		}
		if errs == nil {
			rows = append(rows, row)
		}
	}
	// A statement with row errors fails; this example goes on without them.

	// Pass 2: compare each ledger order with its row; rows left are
	// unknown to the ledger.
	at := func(s string) time.Time { t, _ := reconcile.ParseTime(s, opt.Location); return t }
	ledger := []trueup.Order{
		{CarrierOrderID: "A-1", KdOrderID: "K1", SkuCode: "1p500g", KdPackageID: "P1",
			KdActiveTime: at("2025-09-01"), KdEndTime: at("2025-10-01"), KdSaleTotal: decimal.RequireFromString("0.50")},
		{CarrierOrderID: "B-2", KdOrderID: "K2", SkuCode: "1p500g", KdPackageID: "P1",
			KdActiveTime: at("2025-09-16"), KdEndTime: at("2025-10-16"), KdSaleTotal: decimal.RequireFromString("0.60")},
	}
	byID := map[string]reconcile.Row{}
	for _, r := range rows {
		byID[r.CarrierOrderID] = r
	}
	var found []trueup.Discrepancy
	for _, o := range ledger {
		r, ok := byID[o.CarrierOrderID]
		if !ok {
			found = append(found, reconcile.MissingOnCarrier(o, opt))
			continue
		}
		delete(byID, o.CarrierOrderID)
		found = append(found, reconcile.Compare(r, o, opt)...)
	}
	for _, r := range rows {
		if _, left := byID[r.CarrierOrderID]; left {
			found = append(found, reconcile.MissingOnPlatform(r, opt))
		}
	}
	for _, d := range found {
		fmt.Printf("%s kind %d: %s (this month %s, next %s)\n", d.CarrierOrderID, d.DiffType, d.DiffReason, d.ThisMonthBilling, d.NextMonthBilling)
	}
	// Output:
	// row 5 carrierOrderTime: "2025-13-01" is not a date-time: month 13 does not exist; use 2025-10-27T11:47:46Z, 2025-10-27T19:47:46+08:00, 2025-10-27 19:47:46 (read in UTC+8) or an Excel date cell
	// row 5 carrierOrderId: carrierOrderId "A-1" already appears in row 3; each order must appear once, so merge the two rows or remove one
	// B-2 kind 4: carrierSaleToKd 0.40 != kdSaleTotal 0.60 (difference 0.20 exceeds tolerance 0.01) (this month 0.30, next 0.30)
	// C-3 kind 2: the ledger has no order with carrierOrderId "C-3" for this carrier in billing cycle 2025-09 (this month , next )
}
