package reconcile_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// agreeing returns a statement row and its ledger order that agree, for
// the September 2025 cycle: the package runs the whole of September.
func agreeing(tb testing.TB) (reconcile.Row, trueup.Order) {
	tb.Helper()
	row := reconcile.Row{
		Number:           2,
		CarrierOrderID:   "123124444435355",
		CarrierUserID:    "4565523231",
		SkuCode:          "1p500g",
		CarrierPackageID: "1235666",
		Channel:          "0",
		OrderTime:        utc(tb, "2025-08-31T11:47:46.977Z"),
		ActiveTime:       utc(tb, "2025-09-01T00:00:00Z"),
		EndTime:          utc(tb, "2025-10-01T00:00:00Z"),
		CarrierSale:      dec(tb, "10"),
		HasCarrierSale:   true,
		CarrierSaleToKd:  dec(tb, "0.50"),
	}
	order := trueup.Order{
		CarrierID:      "cmcc",
		CarrierOrderID: "123124444435355",
		BillingCycle:   "2025-09",
		KdOrderID:      "133556565222323",
		CarrierUserID:  "4565523231",
		KdUserID:       "111114152",
		UserStatus:     "1",
		SkuCode:        "1p500g",
		SkuPrice:       dec(tb, "0.00012"),
		KdPackageID:    "1235666",
		KdActiveTime:   utc(tb, "2025-09-01T00:00:00Z"),
		KdEndTime:      utc(tb, "2025-10-01T00:00:00Z"),
		KdOrderTime:    utc(tb, "2025-08-31T11:47:47Z"),
		KdSaleTotal:    dec(tb, "0.50"),
		Channel:        "0",
	}
	return row, order
}

func TestCompare(t *testing.T) {
	type kindReason struct {
		kind   trueup.DiffType
		reason string
	}
	tests := []struct {
		name  string
		tol   string // Options.Tolerance; "" leaves the zero value
		row   func(*reconcile.Row)
		order func(*trueup.Order)
		want  []kindReason
	}{
		{name: "agree"},
		{name: "same amount at another scale", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.5000") }},
		{name: "times differ below the millisecond", order: func(o *trueup.Order) {
			o.KdActiveTime = o.KdActiveTime.Add(999 * time.Microsecond)
		}},
		{name: "times in other zones, same instant", row: func(r *reconcile.Row) {
			r.EndTime = r.EndTime.In(time.FixedZone("+08", 8*3600))
		}},
		{name: "package", row: func(r *reconcile.Row) { r.CarrierPackageID = "1235667" }, want: []kindReason{
			{trueup.DiffRights, `carrierPackageId "1235667" != kdPackageId "1235666"`}}},
		{name: "sku", row: func(r *reconcile.Row) { r.SkuCode = "1p1t" }, want: []kindReason{
			{trueup.DiffRights, `carrier skuCode "1p1t" != kd skuCode "1p500g"`}}},
		{name: "active time by a millisecond", order: func(o *trueup.Order) { o.KdActiveTime = o.KdActiveTime.Add(time.Millisecond) }, want: []kindReason{
			{trueup.DiffRights, "carrierActiveTime 2025-09-01T00:00:00.000Z != kdActiveTime 2025-09-01T00:00:00.001Z"}}},
		{name: "end time", row: func(r *reconcile.Row) { r.EndTime = r.EndTime.AddDate(0, 0, 1) }, want: []kindReason{
			{trueup.DiffRights, "carrierEndTime 2025-10-02T00:00:00.000Z != kdEndTime 2025-10-01T00:00:00.000Z"}}},
		{name: "ledger without end time", order: func(o *trueup.Order) { o.KdEndTime = time.Time{} }, want: []kindReason{
			{trueup.DiffRights, "carrierEndTime 2025-10-01T00:00:00.000Z != kdEndTime (none)"}}},
		{name: "every right, in a fixed order", row: func(r *reconcile.Row) {
			r.CarrierPackageID, r.SkuCode = "P2", "S2"
			r.ActiveTime, r.EndTime = r.ActiveTime.Add(time.Hour), r.EndTime.Add(-time.Hour)
		}, want: []kindReason{{trueup.DiffRights, `carrierPackageId "P2" != kdPackageId "1235666"; carrier skuCode "S2" != kd skuCode "1p500g"; ` +
			"carrierActiveTime 2025-09-01T01:00:00.000Z != kdActiveTime 2025-09-01T00:00:00.000Z; " +
			"carrierEndTime 2025-09-30T23:00:00.000Z != kdEndTime 2025-10-01T00:00:00.000Z"}}},
		{name: "amount", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.60") }, want: []kindReason{
			{trueup.DiffAmount, "carrierSaleToKd 0.50 != kdSaleTotal 0.60 (difference 0.10 exceeds tolerance 0.01)"}}},
		{name: "difference equal to the tolerance", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.51") }},
		{name: "difference equal to the tolerance, below", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.49") }},
		{name: "difference 0.005", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.505") }},
		{name: "difference 0.0100000001", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.5100000001") }, want: []kindReason{
			{trueup.DiffAmount, "carrierSaleToKd 0.50 != kdSaleTotal 0.5100000001 (difference 0.0100000001 exceeds tolerance 0.01)"}}},
		{name: "difference 0.015", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.485") }, want: []kindReason{
			{trueup.DiffAmount, "carrierSaleToKd 0.50 != kdSaleTotal 0.485 (difference 0.015 exceeds tolerance 0.01)"}}},
		{name: "tolerance 0.005, difference 0.005", tol: "0.005", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.495") }},
		{name: "tolerance 0.005, difference 0.006", tol: "0.005", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.494") }, want: []kindReason{
			{trueup.DiffAmount, "carrierSaleToKd 0.50 != kdSaleTotal 0.494 (difference 0.006 exceeds tolerance 0.005)"}}},
		{name: "tolerance 1, difference 0.99", tol: "1", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "1.49") }},
		{name: "negative tolerance: exact", tol: "-1", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.501") }, want: []kindReason{
			{trueup.DiffAmount, "carrierSaleToKd 0.50 != kdSaleTotal 0.501 (difference 0.001 exceeds tolerance 0)"}}},
		{name: "negative tolerance, equal amounts", tol: "-1", order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.5") }},
		{name: "negative amounts", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "-0.50") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "-0.60") }, want: []kindReason{
				{trueup.DiffAmount, "carrierSaleToKd -0.50 != kdSaleTotal -0.60 (difference 0.10 exceeds tolerance 0.01)"}}},
		{name: "opposite signs", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "-0.005") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.005") }},
		{name: "1E-3 as written by a spreadsheet", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "1E-3") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "0.012") }, want: []kindReason{
				{trueup.DiffAmount, "carrierSaleToKd 0.001 != kdSaleTotal 0.012 (difference 0.011 exceeds tolerance 0.01)"}}},
		{name: "1E3 against 1000.00", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "1E3") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "1000.00") }},
		{name: "amounts beyond 18 digits", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "12345678901234567890.12") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "12345678901234567890.14") }, want: []kindReason{
				{trueup.DiffAmount, "carrierSaleToKd 12345678901234567890.12 != kdSaleTotal 12345678901234567890.14 (difference 0.02 exceeds tolerance 0.01)"}}},
		{name: "amounts beyond 18 digits, within tolerance", row: func(r *reconcile.Row) { r.CarrierSaleToKd = dec(t, "12345678901234567890.12") },
			order: func(o *trueup.Order) { o.KdSaleTotal = dec(t, "12345678901234567890.13") }},
		{name: "rights and amount", row: func(r *reconcile.Row) { r.SkuCode = "1p1t"; r.CarrierSaleToKd = dec(t, "0.7") },
			want: []kindReason{
				{trueup.DiffRights, `carrier skuCode "1p1t" != kd skuCode "1p500g"`},
				{trueup.DiffAmount, "carrierSaleToKd 0.7 != kdSaleTotal 0.50 (difference 0.20 exceeds tolerance 0.01)"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, order := agreeing(t)
			if tt.row != nil {
				tt.row(&row)
			}
			if tt.order != nil {
				tt.order(&order)
			}
			opt := reconcile.Options{Cycle: sep2025}
			if tt.tol != "" {
				opt.Tolerance = dec(t, tt.tol)
			}
			got := reconcile.Compare(row, order, opt)
			if len(got) != len(tt.want) {
				t.Fatalf("Compare returned %d discrepancies, want %d:\n%s", len(got), len(tt.want), jsonOf(t, got))
			}
			if tt.want == nil && got != nil {
				t.Errorf("Compare = %#v, want nil", got)
			}
			for i, w := range tt.want {
				if got[i].DiffType != w.kind || got[i].DiffReason != w.reason {
					t.Errorf("discrepancy %d = kind %d %q\nwant kind %d %q", i, got[i].DiffType, got[i].DiffReason, w.kind, w.reason)
				}
			}
		})
	}
}

// TestCompareFields checks every DiffBill field of a rights and an amount
// discrepancy of one order.
func TestCompareFields(t *testing.T) {
	row, order := agreeing(t)
	row.CarrierPackageID = "1235667"
	row.CarrierSaleToKd = dec(t, "9.90")
	row.Channel = ""
	order.KdSaleTotal = dec(t, "10")
	order.KdActiveTime = utc(t, "2025-09-16T00:00:00Z")
	order.KdEndTime = utc(t, "2025-10-16T00:00:00Z")
	order.Channel = "7"
	got := reconcile.Compare(row, order, reconcile.Options{Cycle: sep2025})

	base := trueup.Discrepancy{
		CarrierOrderID:    "123124444435355",
		KdOrderID:         "133556565222323",
		CarrierUserID:     "4565523231",
		CarrierOrderTime:  "2025-08-31T11:47:46.977Z",
		KdUserID:          "111114152",
		UserStatus:        "1",
		SkuCode:           "1p500g",
		SkuPrice:          dec(t, "0.00012"),
		BillingCycle:      "2025-09",
		CarrierSale:       "10",
		CarrierSaleToKd:   "9.90",
		ThisMonthBilling:  "5.00", // 15 of the period's 30 days are in September
		NextMonthBilling:  "5.00",
		Channel:           "7", // the row has none: the ledger's
		CarrierActiveTime: "2025-09-01T00:00:00.000Z",
		CarrierEndTime:    "2025-10-01T00:00:00.000Z",
		CarrierPackageID:  "1235667",
		KdActiveTime:      "2025-09-16T00:00:00.000Z",
		KdEndTime:         "2025-10-16T00:00:00.000Z",
		KdOrderTime:       "2025-08-31T11:47:47.000Z",
		KdPackageID:       "1235666",
		KdSaleTotal:       dec(t, "10"),
	}
	rights, amount := base, base
	rights.DiffType = trueup.DiffRights
	rights.DiffReason = `carrierPackageId "1235667" != kdPackageId "1235666"; carrierActiveTime 2025-09-01T00:00:00.000Z != kdActiveTime 2025-09-16T00:00:00.000Z; ` +
		"carrierEndTime 2025-10-01T00:00:00.000Z != kdEndTime 2025-10-16T00:00:00.000Z"
	amount.DiffType = trueup.DiffAmount
	amount.DiffReason = "carrierSaleToKd 9.90 != kdSaleTotal 10 (difference 0.10 exceeds tolerance 0.01)"
	if g, w := jsonOf(t, got), jsonOf(t, []trueup.Discrepancy{rights, amount}); g != w {
		t.Errorf("Compare =\n%s\nwant\n%s", g, w)
	}

	// The row's channel, when it has one, wins; skuCode stays the ledger's.
	row.Channel, row.SkuCode = "3", "1p1t"
	got = reconcile.Compare(row, order, reconcile.Options{Cycle: sep2025})
	if got[0].Channel != "3" || got[0].SkuCode != "1p500g" {
		t.Errorf("channel, skuCode = %q, %q; want the row's channel 3 and the ledger's skuCode 1p500g", got[0].Channel, got[0].SkuCode)
	}
	// Without carrierSale, the field is empty.
	row.HasCarrierSale = false
	if got = reconcile.Compare(row, order, reconcile.Options{Cycle: sep2025}); got[0].CarrierSale != "" {
		t.Errorf("carrierSale without a value = %q, want empty", got[0].CarrierSale)
	}
}

func TestCompareDoesNotAllocate(t *testing.T) {
	row, order := agreeing(t)
	order.KdSaleTotal = dec(t, "0.5049") // another scale, within the tolerance
	for _, opt := range []reconcile.Options{
		{Cycle: sep2025},
		{Cycle: sep2025, Tolerance: decimal.New(5, -3)},
		{Cycle: sep2025, Tolerance: decimal.New(-1, 0)},
	} {
		if opt.Tolerance.IsNegative() {
			order.KdSaleTotal = dec(t, "0.5000")
		}
		if got := reconcile.Compare(row, order, opt); got != nil {
			t.Fatalf("Compare with tolerance %s = %v, want nil", opt.Tolerance, got)
		}
		if n := testing.AllocsPerRun(100, func() { reconcile.Compare(row, order, opt) }); n != 0 {
			t.Errorf("Compare of agreeing records with tolerance %s allocates %v times, want 0", opt.Tolerance, n)
		}
	}
}

func TestMissingOnCarrier(t *testing.T) {
	_, order := agreeing(t)
	order.KdActiveTime = utc(t, "2025-09-16T00:00:00Z")
	order.KdEndTime = utc(t, "2025-10-16T00:00:00Z")
	order.KdSaleTotal = dec(t, "0.60")
	got := reconcile.MissingOnCarrier(order, reconcile.Options{Cycle: sep2025})
	want := trueup.Discrepancy{
		CarrierOrderID:   "123124444435355",
		KdOrderID:        "133556565222323",
		CarrierUserID:    "4565523231",
		KdUserID:         "111114152",
		UserStatus:       "1",
		DiffType:         trueup.DiffMissingOnCarrier,
		DiffReason:       `the statement has no row with carrierOrderId "123124444435355"; the ledger has it as kdOrderId "133556565222323"`,
		SkuCode:          "1p500g",
		SkuPrice:         dec(t, "0.00012"),
		BillingCycle:     "2025-09",
		ThisMonthBilling: "0.30",
		NextMonthBilling: "0.30",
		Channel:          "0",
		KdActiveTime:     "2025-09-16T00:00:00.000Z",
		KdEndTime:        "2025-10-16T00:00:00.000Z",
		KdOrderTime:      "2025-08-31T11:47:47.000Z",
		KdPackageID:      "1235666",
		KdSaleTotal:      dec(t, "0.60"),
	}
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Errorf("MissingOnCarrier =\n%s\nwant\n%s", g, w)
	}
}

func TestMissingOnPlatform(t *testing.T) {
	row, _ := agreeing(t)
	row.CarrierSaleToKd = dec(t, "1E-3")
	got := reconcile.MissingOnPlatform(row, reconcile.Options{Cycle: sep2025})
	want := trueup.Discrepancy{
		CarrierOrderID:    "123124444435355",
		CarrierUserID:     "4565523231",
		CarrierOrderTime:  "2025-08-31T11:47:46.977Z",
		DiffType:          trueup.DiffMissingOnPlatform,
		DiffReason:        `the ledger has no order with carrierOrderId "123124444435355" for this carrier in billing cycle 2025-09`,
		SkuCode:           "1p500g",
		BillingCycle:      "2025-09",
		CarrierSale:       "10",
		CarrierSaleToKd:   "0.001",
		Channel:           "0",
		CarrierActiveTime: "2025-09-01T00:00:00.000Z",
		CarrierEndTime:    "2025-10-01T00:00:00.000Z",
		CarrierPackageID:  "1235666",
	}
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Errorf("MissingOnPlatform =\n%s\nwant\n%s", g, w)
	}
}
