package reconcile_test

import (
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

func TestSplitBilling(t *testing.T) {
	berlin := loadLocation(t, "Europe/Berlin")
	shanghai := loadLocation(t, "Asia/Shanghai")
	havana := loadLocation(t, "America/Havana")
	at := func(loc *time.Location, y int, m time.Month, d, h int) time.Time {
		return time.Date(y, m, d, h, 0, 0, 0, loc)
	}
	var zero time.Time
	tests := []struct {
		name             string
		cycle            trueup.Cycle
		loc              *time.Location
		active, end      time.Time
		total            string
		wantThis, wantNx string
	}{
		{"entirely inside", sep2025, nil, at(time.UTC, 2025, 9, 3, 0), at(time.UTC, 2025, 9, 20, 0), "10", "10.00", "0.00"},
		{"ends at the cycle end", sep2025, nil, at(time.UTC, 2025, 9, 1, 0), at(time.UTC, 2025, 10, 1, 0), "10", "10.00", "0.00"},
		{"straddles the cycle end", sep2025, nil, at(time.UTC, 2025, 9, 16, 0), at(time.UTC, 2025, 10, 16, 0), "10", "5.00", "5.00"},
		{"straddles, thirds", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 10, 3, 0), "10", "3.33", "6.67"},
		{"straddles at noon", sep2025, nil, at(time.UTC, 2025, 9, 30, 12), at(time.UTC, 2025, 10, 1, 12), "1", "0.50", "0.50"},
		{"starts before the cycle: billed this month", sep2025, nil, at(time.UTC, 2025, 8, 31, 0), at(time.UTC, 2025, 10, 31, 0), "61", "31.00", "30.00"},
		{"entirely before the cycle", sep2025, nil, at(time.UTC, 2025, 7, 1, 0), at(time.UTC, 2025, 8, 1, 0), "10", "10.00", "0.00"},
		{"starts at the cycle end", sep2025, nil, at(time.UTC, 2025, 10, 1, 0), at(time.UTC, 2025, 11, 1, 0), "10", "0.00", "10.00"},
		{"zero length", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 9, 30, 0), "10", "10.00", "0.00"},
		{"zero length after the cycle", sep2025, nil, at(time.UTC, 2025, 10, 9, 0), at(time.UTC, 2025, 10, 9, 0), "10", "10.00", "0.00"},
		{"reversed", sep2025, nil, at(time.UTC, 2025, 10, 30, 0), at(time.UTC, 2025, 9, 1, 0), "10", "10.00", "0.00"},
		{"no end", sep2025, nil, at(time.UTC, 2025, 9, 16, 0), zero, "10", "10.00", "0.00"},
		{"no start", sep2025, nil, zero, at(time.UTC, 2025, 10, 16, 0), "10", "10.00", "0.00"},
		{"zero amount", sep2025, nil, at(time.UTC, 2025, 9, 16, 0), at(time.UTC, 2025, 10, 16, 0), "0", "0.00", "0.00"},
		{"half a cent rounds away from zero", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 10, 2, 0), "0.01", "0.01", "0.00"},
		{"negative half a cent rounds away from zero", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 10, 2, 0), "-0.01", "-0.01", "0.00"},
		{"negative thirds", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 10, 3, 0), "-10", "-3.33", "-6.67"},
		{"more places than cents are kept", sep2025, nil, at(time.UTC, 2025, 9, 30, 0), at(time.UTC, 2025, 10, 3, 0), "0.00012", "0.00004", "0.00008"},
		// Asia/Shanghai: September ends at 2025-09-30T16:00:00Z.
		{"carrier zone: noon to noon in Shanghai", sep2025, shanghai, at(shanghai, 2025, 9, 30, 12), at(shanghai, 2025, 10, 1, 12), "1", "0.50", "0.50"},
		{"the same instants split in UTC", sep2025, nil, at(shanghai, 2025, 9, 30, 12), at(shanghai, 2025, 10, 1, 12), "1", "0.83", "0.17"},
		{"ends at the cycle end in Shanghai", sep2025, shanghai, at(time.UTC, 2025, 9, 1, 0), at(time.UTC, 2025, 9, 30, 16), "1", "1.00", "0.00"},
		// Europe/Berlin: October 2025 has a 25-hour day (the 26th), March 2025
		// a 23-hour one (the 30th). Every calendar day weighs one.
		{"25-hour day: October has 31 days", trueup.Cycle{Year: 2025, Month: time.October}, berlin,
			at(berlin, 2025, 10, 1, 0), at(berlin, 2025, 11, 30, 0), "60", "31.00", "29.00"},
		{"23-hour day weighs a day", trueup.Cycle{Year: 2025, Month: time.March}, berlin,
			at(berlin, 2025, 3, 30, 0), at(berlin, 2025, 4, 2, 0), "3", "2.00", "1.00"},
		{"half of the 23-hour day", trueup.Cycle{Year: 2025, Month: time.March}, berlin,
			at(berlin, 2025, 3, 31, 0).Add(-23 * time.Hour / 2), at(berlin, 2025, 4, 1, 12), "2", "1.50", "0.50"},
		// Leap February.
		{"leap February has 29 days", trueup.Cycle{Year: 2024, Month: time.February}, nil,
			at(time.UTC, 2024, 2, 1, 0), at(time.UTC, 2024, 3, 31, 0), "59", "29.00", "30.00"},
		{"February 2025 has 28", trueup.Cycle{Year: 2025, Month: time.February}, nil,
			at(time.UTC, 2025, 2, 1, 0), at(time.UTC, 2025, 3, 31, 0), "58", "28.00", "30.00"},
		{"December into January", trueup.Cycle{Year: 2024, Month: time.December}, nil,
			at(time.UTC, 2024, 12, 17, 0), at(time.UTC, 2025, 1, 16, 0), "30", "15.00", "15.00"},
		// America/Havana skipped midnight of 2012-04-01: April began at 01:00.
		{"cycle end whose midnight is skipped", trueup.Cycle{Year: 2012, Month: time.March}, havana,
			at(havana, 2012, 3, 31, 0), at(havana, 2012, 4, 2, 0), "2", "1.00", "1.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := trueup.Order{KdActiveTime: tt.active, KdEndTime: tt.end, KdSaleTotal: dec(t, tt.total)}
			this, next := reconcile.SplitBilling(order, reconcile.Options{Cycle: tt.cycle, Location: tt.loc})
			if got := this.StringFixed(-this.Exponent()); got != tt.wantThis {
				t.Errorf("this = %s, want %s", got, tt.wantThis)
			}
			if got := next.StringFixed(-next.Exponent()); got != tt.wantNx {
				t.Errorf("next = %s, want %s", got, tt.wantNx)
			}
			if sum := this.Add(next); !sum.Equal(order.KdSaleTotal) {
				t.Errorf("this + next = %s, want kdSaleTotal %s", sum, order.KdSaleTotal)
			}
		})
	}
}

// TestSplitBillingSumsExactly splits awkward amounts over awkward periods
// and checks that the parts always add up to the total.
func TestSplitBillingSumsExactly(t *testing.T) {
	berlin := loadLocation(t, "Europe/Berlin")
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, berlin)
	totals := []string{"1234.567", "0.01", "-7", "99.999999", "100"}
	for i := range 500 {
		active := start.Add(time.Duration(i) * 97 * time.Minute)
		end := active.Add(time.Duration(i+1) * 7919 * time.Second * 13)
		total := dec(t, totals[i%len(totals)])
		order := trueup.Order{KdActiveTime: active, KdEndTime: end, KdSaleTotal: total}
		this, next := reconcile.SplitBilling(order, reconcile.Options{Cycle: sep2025, Location: berlin})
		if !this.Add(next).Equal(total) {
			t.Fatalf("period %s to %s: %s + %s != %s", active, end, this, next, total)
		}
		if this.Exponent() != next.Exponent() || this.Exponent() > -2 {
			t.Fatalf("this %s and next %s have exponents %d, %d; want the same, at least 2 places", this, next, this.Exponent(), next.Exponent())
		}
	}
}
