package reconcile_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// loadLocation returns the named zone or stops the test.
func loadLocation(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// utc parses an RFC 3339 instant or stops the test.
func utc(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("parse time %q: %v", s, err)
	}
	return t.UTC()
}

// dec parses a decimal or stops the test.
func dec(tb testing.TB, s string) decimal.Decimal {
	tb.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		tb.Fatalf("parse decimal %q: %v", s, err)
	}
	return d
}

// jsonOf returns v as indented JSON, to compare discrepancies whole with a
// readable difference.
func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// sep2025 is the September 2025 billing cycle.
var sep2025 = trueup.Cycle{Year: 2025, Month: time.September}
