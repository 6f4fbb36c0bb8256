package reconcile_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// FuzzParseAmount holds ParseAmount to its contract on any cell: an amount
// it accepts is a decimal of at most 38 digits that reads back equal from
// its own text, and anything else wraps ErrAmount.
func FuzzParseAmount(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := reconcile.ParseAmount(s)
		if err != nil {
			if !errors.Is(err, reconcile.ErrAmount) {
				t.Fatalf("ParseAmount(%q): %v does not wrap ErrAmount", s, err)
			}
			return
		}
		if d.NumDigits() > 38 {
			t.Fatalf("ParseAmount(%q) = %s: more than 38 digits", s, d)
		}
		back, err := decimal.NewFromString(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseAmount(%q) = %s, which reads back as %s (%v)", s, d, back, err)
		}
	})
}

// FuzzParseTime holds ParseTime to its contract on any cell, in UTC and in
// a zone east of it: an accepted time is UTC, and anything else wraps
// ErrTime.
func FuzzParseTime(f *testing.F) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string, east bool) {
		loc := time.UTC
		if east {
			loc = shanghai
		}
		got, err := reconcile.ParseTime(s, loc)
		if err != nil {
			if !errors.Is(err, reconcile.ErrTime) {
				t.Fatalf("ParseTime(%q): %v does not wrap ErrTime", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not UTC", s, got)
		}
	})
}

// FuzzParseRow reads statement rows of fuzzed cells: each row error names
// the row, a column and a reason, and a row without errors holds
// non-empty ids without control characters, times in order and amounts.
func FuzzParseRow(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, orderTime, active, end, sale, saleToKd string) {
		cells := map[string]string{
			reconcile.ColCarrierOrderID:    id,
			reconcile.ColCarrierUserID:     "u1",
			reconcile.ColCarrierOrderTime:  orderTime,
			reconcile.ColSkuCode:           "1p500g",
			reconcile.ColCarrierPackageID:  "14",
			reconcile.ColCarrierActiveTime: active,
			reconcile.ColCarrierEndTime:    end,
			reconcile.ColCarrierSale:       sale,
			reconcile.ColCarrierSaleToKd:   saleToKd,
		}
		opt := reconcile.Options{Cycle: trueup.Cycle{Year: 2025, Month: 9}}
		row, errs := reconcile.ParseRow(7, func(c string) string { return cells[c] }, opt)
		for _, e := range errs {
			if e.Row != 7 || e.Column == "" || strings.TrimSpace(e.Reason) == "" {
				t.Fatalf("row error %+v: want row 7, a column and a reason", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		if row.CarrierOrderID == "" || !utf8.ValidString(row.CarrierOrderID) || strings.ContainsFunc(row.CarrierOrderID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("accepted carrierOrderId %q", row.CarrierOrderID)
		}
		if row.EndTime.Before(row.ActiveTime) {
			t.Fatalf("accepted carrierEndTime %v before carrierActiveTime %v", row.EndTime, row.ActiveTime)
		}
	})
}
