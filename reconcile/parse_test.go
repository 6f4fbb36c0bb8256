package reconcile_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup/reconcile"
)

func TestParseTime(t *testing.T) {
	shanghai := loadLocation(t, "Asia/Shanghai")
	havana := loadLocation(t, "America/Havana")
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339 in UTC
	}{
		// ISO 8601 with a zone: loc does not matter.
		{"2025-10-27T11:47:46.977Z", shanghai, "2025-10-27T11:47:46.977Z"},
		{"2025-10-27T11:47:46Z", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27t11:47:46z", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27T19:47:46+08:00", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27T19:47:46+0800", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27T19:47:46+08", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27T06:17:46-05:30", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27 19:47:46 +08:00", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27T11:47:46.123456789Z", nil, "2025-10-27T11:47:46.123456789Z"},
		{"2025-10-27T11:47:46.1234567891Z", nil, "2025-10-27T11:47:46.123456789Z"},
		{"2025-10-27T11:47:46,5Z", nil, "2025-10-27T11:47:46.5Z"},
		{"  2025-10-27T11:47:46Z\t", nil, "2025-10-27T11:47:46Z"},
		// Zone-less: read in loc (nil is UTC).
		{"2025-10-27 11:47:46", nil, "2025-10-27T11:47:46Z"},
		{"2025-10-27 11:47:46", shanghai, "2025-10-27T03:47:46Z"},
		{"2025-10-27T11:47:46", shanghai, "2025-10-27T03:47:46Z"},
		{"2025-10-27  11:47:46.5", shanghai, "2025-10-27T03:47:46.5Z"},
		{"2025-10-27 11:47", shanghai, "2025-10-27T03:47:00Z"},
		{"2025/9/1 8:00", shanghai, "2025-09-01T00:00:00Z"},
		{"2025/09/01 08:00:00", shanghai, "2025-09-01T00:00:00Z"},
		{"2025-10-27", shanghai, "2025-10-26T16:00:00Z"},
		{"2024-02-29", nil, "2024-02-29T00:00:00Z"},
		{"1900-01-01", nil, "1900-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999Z", nil, "9999-12-31T23:59:59.999Z"},
		// A date whose midnight a daylight-saving switch skips starts at 01:00.
		{"2012-04-01", havana, "2012-04-01T05:00:00Z"},
		// Excel serial day numbers, 1900 system, read in loc.
		{"45922.76168981481", nil, "2025-09-22T18:16:50Z"},
		{"45922.76168981481", shanghai, "2025-09-22T10:16:50Z"},
		{"45922", shanghai, "2025-09-21T16:00:00Z"},
		{"45922.5000000058", nil, "2025-09-22T12:00:00.001Z"},           // rounded up to the millisecond
		{"45922.5000000057", nil, "2025-09-22T12:00:00Z"},               // rounded down
		{"45922.99999999999", nil, "2025-09-23T00:00:00Z"},              // rounds into the next day
		{"4.592276168981481E4", nil, "2025-09-22T18:16:50Z"},            // scientific notation
		{".5e5", nil, "2036-11-21T00:00:00Z"},                           // 50000 days
		{"1", nil, "1900-01-01T00:00:00Z"},                              // the first serial
		{"59", nil, "1900-02-28T00:00:00Z"},                             // before Excel's fictional 1900-02-29
		{"61", nil, "1900-03-01T00:00:00Z"},                             // after it
		{"2958465.9999", nil, "9999-12-31T23:59:51.36Z"},                // the last day Excel shows
		{"45922.761689814814814814814814", nil, "2025-09-22T18:16:50Z"}, // more digits than matter
		{"2012-04-01 12:00", havana, "2012-04-01T16:00:00Z"},
	}
	for _, tt := range tests {
		got, err := reconcile.ParseTime(tt.in, tt.loc)
		if err != nil {
			t.Errorf("ParseTime(%q, %v): %v", tt.in, tt.loc, err)
			continue
		}
		if want := utc(t, tt.want); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q, %v) = %s, want %s", tt.in, tt.loc, got, want)
		}
	}
}

func TestParseTimeErrors(t *testing.T) {
	shanghai := loadLocation(t, "Asia/Shanghai")
	tests := []struct {
		in     string
		detail string // what the error must say is wrong
	}{
		{"", `"" is not a date-time: it is empty`},
		{"2025-13-01", `"2025-13-01" is not a date-time: month 13 does not exist`},
		{"2025-00-01", "month 0 does not exist"},
		{"2025-02-29", "February 2025 has no day 29"},
		{"2025-04-31", "April 2025 has no day 31"},
		{"0000-01-01", "year 0000 is before 1900"},
		{"0001-01-01T00:00:00Z", "year 0001 is before 1900"}, // the zero time.Time
		{"1899-12-31", "year 1899 is before 1900"},
		{"2025-10", `expected '-' after the month`},
		{"2025-10/27", `expected '-' after the month`},
		{"2025-", "the month is missing"},
		{"2025-10-", "the day is missing"},
		{"2025-10-27X", `unexpected "X" after the date`},
		{"2025-10-27T", "is not hh:mm or hh:mm:ss"},
		{"2025-10-27T11", "is not hh:mm or hh:mm:ss"},
		{"2025-10-27T11:4", "the minutes must have two digits"},
		{"2025-10-27T11:47:4", "the seconds must have two digits"},
		{"2025-10-27T11:47:46.", "the fraction of a second has no digits"},
		{"2025-10-27T24:00:00Z", "hour 24 does not exist"},
		{"2025-10-27T11:60:00Z", "minute 60 does not exist"},
		{"2025-10-27T11:47:60Z", "second 60 does not exist"},
		{"2025-10-27T11:47:46+24:00", `the zone offset "+24:00" is not ±hh:mm`},
		{"2025-10-27T11:47:46+08:60", "is not ±hh:mm"},
		{"2025-10-27T11:47:46+8", "is not ±hh:mm"},
		{"2025-10-27T11:47:46+08:00:00", "is not ±hh:mm"},
		{"2025-10-27T11:47:46Zjunk", `unexpected "junk" after the zone Z`},
		{"2025-10-27T11:47:46 CST", `unexpected "CST" after the time`},
		{"27/10/2025", "neither an ISO 8601 date-time nor an Excel date"},
		{"10/27/2025", "neither an ISO 8601 date-time nor an Excel date"},
		{"yesterday", "neither an ISO 8601 date-time nor an Excel date"},
		{"1.2.3", "neither an ISO 8601 date-time nor an Excel date"},
		{"0.5", "before 1900-01-01 (a time of day without a date?)"},
		{"0", "before 1900-01-01"},
		{"-45922", "before 1900-01-01"},
		{"60", "1900-02-29, which does not exist"},
		{"60.5", "1900-02-29, which does not exist"},
		{"20251027", "after 9999-12-31 (a date written as a plain number?)"},
		{"2958466", "after 9999-12-31"},
		{"1e7", "after 9999-12-31"},
	}
	for _, tt := range tests {
		got, err := reconcile.ParseTime(tt.in, shanghai)
		if err == nil {
			t.Errorf("ParseTime(%q) = %s, want an error saying %q", tt.in, got, tt.detail)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, reconcile.ErrTime) {
			t.Errorf("ParseTime(%q) error %q does not wrap ErrTime", tt.in, msg)
		}
		if !strings.Contains(msg, tt.detail) {
			t.Errorf("ParseTime(%q) error = %q, want it to say %q", tt.in, msg, tt.detail)
		}
		if hint := "; use 2025-10-27T11:47:46Z, 2025-10-27T19:47:46+08:00, 2025-10-27 19:47:46 (read in Asia/Shanghai) or an Excel date cell"; !strings.HasSuffix(msg, hint) {
			t.Errorf("ParseTime(%q) error = %q, want it to end with the layouts to use", tt.in, msg)
		}
	}
}

func TestParseTimeClipsLongInput(t *testing.T) {
	in := strings.Repeat("x", 1000)
	_, err := reconcile.ParseTime(in, nil)
	if err == nil {
		t.Fatal("ParseTime of 1000 x: no error")
	}
	if want := `"` + strings.Repeat("x", 64) + `…"`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %.100q…, want it to quote the first 64 characters then …", err.Error())
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10", "10"},
		{"9.90", "9.9"},
		{"-0.5", "-0.5"},
		{"+1.25", "1.25"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-0", "0"},
		{"0.005", "0.005"},
		{"1E-3", "0.001"},
		{"1e3", "1000"},
		{"1.5E+2", "150"},
		{"-2.5e-1", "-0.25"},
		{"0.30000000000000004", "0.30000000000000004"},
		{" 7 ", "7"},
		{"\u00a09.90\u00a0", "9.9"}, // no-break spaces around, as spreadsheets pad
		{"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"1e24", "1000000000000000000000000"},
	}
	for _, tt := range tests {
		got, err := reconcile.ParseAmount(tt.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(dec(t, tt.want)) {
			t.Errorf("ParseAmount(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseAmountKeepsScale(t *testing.T) {
	// The scale written is the scale kept: discrepancies show 0.50, not 0.5.
	for in, exp := range map[string]int32{"0.50": -2, "10": 0, "1E-3": -3, "9.900": -3} {
		got, err := reconcile.ParseAmount(in)
		if err != nil {
			t.Fatalf("ParseAmount(%q): %v", in, err)
		}
		if got.Exponent() != exp {
			t.Errorf("ParseAmount(%q) has exponent %d, want %d", in, got.Exponent(), exp)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	tests := []struct{ in, detail string }{
		{"", `"" is not a decimal number: it is empty`},
		{"   ", "it is empty"},
		{"1,000.50", `"1,000.50" is not a decimal number: it has a comma (a thousands separator or a decimal comma)`},
		{"9,90", "it has a comma"},
		{"1 000", "it has a space inside"},
		{"1\u00a0000", "it has a space inside"},
		{"¥10", `it has the currency sign '¥'`},
		{"$10", `it has the currency sign '$'`},
		{"10€", `it has the currency sign '€'`},
		{"NaN", "it is not a finite number"},
		{"-Inf", "it is not a finite number"},
		{"Infinity", "it is not a finite number"},
		{"10%", "it is a percentage"},
		{"abc", "it is not a plain number"},
		{"0x10", "it is not a plain number"},
		{"1_000", "it is not a plain number"},
		{"1.2.3", "it is not a plain number"},
		{"--1", "it is not a plain number"},
		{"1e", "it is not a plain number"},
		{"e5", "it is not a plain number"},
		{".", "it is not a plain number"},
		{"-", "it is not a plain number"},
		{"1e99999", "it is out of range"},
		{"1e25", "it is out of range"},
		{"1e-25", "it is out of range"},
		{"123456789012345678901234567890123456789", "it is out of range"},
		{strings.Repeat("1", 65), "it is longer than 64 characters"},
	}
	for _, tt := range tests {
		got, err := reconcile.ParseAmount(tt.in)
		if err == nil {
			t.Errorf("ParseAmount(%q) = %s, want an error saying %q", tt.in, got, tt.detail)
			continue
		}
		msg := err.Error()
		if !errors.Is(err, reconcile.ErrAmount) {
			t.Errorf("ParseAmount(%q) error %q does not wrap ErrAmount", tt.in, msg)
		}
		if !strings.Contains(msg, tt.detail) {
			t.Errorf("ParseAmount(%q) error = %q, want it to say %q", tt.in, msg, tt.detail)
		}
		if hint := "; write digits with a dot for decimals, for example 9.90 or -0.5, without currency sign, thousands separator or spaces"; !strings.HasSuffix(msg, hint) {
			t.Errorf("ParseAmount(%q) error = %q, want it to end with how to write the number", tt.in, msg)
		}
	}
}
