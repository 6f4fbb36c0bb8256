package reconcile_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// cells returns a valid statement row as column name → cell text, with
// changes applied (a change to "" empties the cell).
func cells(changes map[string]string) map[string]string {
	m := map[string]string{
		reconcile.ColCarrierOrderID:    "123124444435355",
		reconcile.ColCarrierUserID:     "4565523231",
		reconcile.ColCarrierOrderTime:  "2025-09-01T11:47:46.977Z",
		reconcile.ColSkuCode:           "1p500g",
		reconcile.ColCarrierPackageID:  "1235666",
		reconcile.ColCarrierActiveTime: "2025-09-01 00:00:00",
		reconcile.ColCarrierEndTime:    "45931", // 2025-10-01, an Excel date cell
		reconcile.ColCarrierSale:       "10",
		reconcile.ColCarrierSaleToKd:   "0.50",
		reconcile.ColChannel:           "0",
	}
	for k, v := range changes {
		m[k] = v
	}
	return m
}

// getter returns the cell getter of m, as ParseRow takes it.
func getter(m map[string]string) func(string) string {
	return func(column string) string { return m[column] }
}

func TestParseRow(t *testing.T) {
	shanghai := loadLocation(t, "Asia/Shanghai")
	opt := reconcile.Options{Cycle: sep2025, Location: shanghai}
	in := cells(map[string]string{reconcile.ColCarrierOrderID: "  123124444435355 ", reconcile.ColChannel: " 0\t"})
	got, errs := reconcile.ParseRow(7, getter(in), opt)
	if errs != nil {
		t.Fatalf("ParseRow: %v", errs)
	}
	want := reconcile.Row{
		Number:           7,
		CarrierOrderID:   "123124444435355",
		CarrierUserID:    "4565523231",
		SkuCode:          "1p500g",
		CarrierPackageID: "1235666",
		Channel:          "0",
		OrderTime:        utc(t, "2025-09-01T11:47:46.977Z"),
		ActiveTime:       utc(t, "2025-08-31T16:00:00Z"), // midnight in Shanghai
		EndTime:          utc(t, "2025-09-30T16:00:00Z"), // the Excel serial, read in Shanghai
		CarrierSale:      dec(t, "10"),
		HasCarrierSale:   true,
		CarrierSaleToKd:  dec(t, "0.50"),
	}
	if jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("ParseRow =\n%s\nwant\n%s", jsonOf(t, got), jsonOf(t, want))
	}
	if got.CarrierSaleToKd.Exponent() != -2 {
		t.Errorf("carrierSaleToKd kept exponent %d, want -2 (0.50 as written)", got.CarrierSaleToKd.Exponent())
	}
}

func TestParseRowOptionalAbsent(t *testing.T) {
	for _, absent := range []string{"", "  "} {
		in := cells(map[string]string{reconcile.ColCarrierSale: absent, reconcile.ColChannel: absent})
		got, errs := reconcile.ParseRow(2, getter(in), reconcile.Options{Cycle: sep2025})
		if errs != nil {
			t.Fatalf("ParseRow without carrierSale and channel: %v", errs)
		}
		if got.HasCarrierSale || got.Channel != "" {
			t.Errorf("ParseRow with carrierSale and channel %q: HasCarrierSale %v, Channel %q; want false, \"\"", absent, got.HasCarrierSale, got.Channel)
		}
	}
	// A sheet without the optional columns at all: get returns "".
	in := cells(nil)
	delete(in, reconcile.ColCarrierSale)
	delete(in, reconcile.ColChannel)
	if _, errs := reconcile.ParseRow(2, getter(in), reconcile.Options{Cycle: sep2025}); errs != nil {
		t.Errorf("ParseRow without the optional columns: %v", errs)
	}
}

func TestParseRowEndEqualsActive(t *testing.T) {
	in := cells(map[string]string{reconcile.ColCarrierEndTime: "2025-09-01T00:00:00Z", reconcile.ColCarrierActiveTime: "2025-09-01 08:00:00"})
	if _, errs := reconcile.ParseRow(2, getter(in), reconcile.Options{Location: loadLocation(t, "Asia/Shanghai")}); errs != nil {
		t.Errorf("ParseRow with carrierEndTime equal to carrierActiveTime: %v", errs)
	}
}

func TestParseRowErrors(t *testing.T) {
	long := strings.Repeat("9", 129)
	tests := []struct {
		name    string
		changes map[string]string
		want    []trueup.RowError // Reason: the start of the reason
	}{
		{
			name:    "end before active",
			changes: map[string]string{reconcile.ColCarrierActiveTime: "2025-09-02T00:00:00Z", reconcile.ColCarrierEndTime: "2025-09-01T00:00:00Z"},
			want: []trueup.RowError{{Column: "carrierEndTime", Value: "2025-09-01T00:00:00Z",
				Reason: "carrierEndTime 2025-09-01T00:00:00.000Z is before carrierActiveTime 2025-09-02T00:00:00.000Z; the package cannot end before it becomes effective"}},
		},
		{
			name:    "bad date",
			changes: map[string]string{reconcile.ColCarrierOrderTime: "2025-13-01"},
			want: []trueup.RowError{{Column: "carrierOrderTime", Value: "2025-13-01",
				Reason: `"2025-13-01" is not a date-time: month 13 does not exist; use 2025-10-27T11:47:46Z`}},
		},
		{
			name:    "bad amounts",
			changes: map[string]string{reconcile.ColCarrierSale: "¥10", reconcile.ColCarrierSaleToKd: "1,5"},
			want: []trueup.RowError{
				{Column: "carrierSale", Value: "¥10", Reason: `"¥10" is not a decimal number: it has the currency sign '¥'; write digits with a dot`},
				{Column: "carrierSaleToKd", Value: "1,5", Reason: `"1,5" is not a decimal number: it has a comma`},
			},
		},
		{
			name:    "ID too long",
			changes: map[string]string{reconcile.ColCarrierOrderID: long},
			want: []trueup.RowError{{Column: "carrierOrderId", Value: strings.Repeat("9", 64) + "…",
				Reason: "carrierOrderId has 129 characters; write at most 128"}},
		},
		{
			name: "128 characters of 3 bytes each are fine, 129 are not",
			changes: map[string]string{
				reconcile.ColCarrierUserID:    strings.Repeat("用", 128),
				reconcile.ColCarrierPackageID: strings.Repeat("包", 129),
			},
			want: []trueup.RowError{{Column: "carrierPackageId", Value: strings.Repeat("包", 64) + "…",
				Reason: "carrierPackageId has 129 characters; write at most 128"}},
		},
		{
			name:    "not UTF-8",
			changes: map[string]string{reconcile.ColSkuCode: "1p\xb0\xfc"}, // GBK bytes
			want: []trueup.RowError{{Column: "skuCode", Value: "1p\uFFFD", // a run of bad bytes is one U+FFFD
				Reason: "skuCode is not valid UTF-8 text; save a CSV file as UTF-8, or upload the .xlsx file"}},
		},
		{
			name:    "NUL in an ID (an xlsx _x0000_ or a raw NUL in a CSV file)",
			changes: map[string]string{reconcile.ColCarrierOrderID: "A\x00B"},
			want: []trueup.RowError{{Column: "carrierOrderId", Value: `A\x00B`,
				Reason: `carrierOrderId holds the control character \x00; remove it (ids and codes are written on one line, without tabs or other control characters)`}},
		},
		{
			name: "line break and tab inside codes",
			changes: map[string]string{
				reconcile.ColSkuCode:          "1p\r\n500g",
				reconcile.ColCarrierPackageID: "P\t1",
				reconcile.ColChannel:          "0\x7f",
			},
			want: []trueup.RowError{
				{Column: "skuCode", Value: `1p\r\n500g`, Reason: `skuCode holds the control character \r;`},
				{Column: "carrierPackageId", Value: `P\t1`, Reason: `carrierPackageId holds the control character \t;`},
				{Column: "channel", Value: `0\x7f`, Reason: `channel holds the control character \x7f;`},
			},
		},
		{
			name:    "NUL in a date cell is escaped in the value",
			changes: map[string]string{reconcile.ColCarrierOrderTime: "2025-09-01\x00"},
			want: []trueup.RowError{{Column: "carrierOrderTime", Value: `2025-09-01\x00`,
				Reason: `"2025-09-01\x00" is not a date-time`}},
		},
		{
			name:    "channel is checked as text too",
			changes: map[string]string{reconcile.ColChannel: long},
			want:    []trueup.RowError{{Column: "channel", Value: strings.Repeat("9", 64) + "…", Reason: "channel has 129 characters"}},
		},
		{
			name: "every error of the row, in column order",
			changes: map[string]string{
				reconcile.ColCarrierOrderID:    "",
				reconcile.ColCarrierActiveTime: "tomorrow",
				reconcile.ColCarrierEndTime:    "0.5",
				reconcile.ColCarrierSaleToKd:   "NaN",
			},
			want: []trueup.RowError{
				{Column: "carrierOrderId", Reason: "carrierOrderId is required; write the carrier's order ID, up to 128 characters, unique within the statement"},
				{Column: "carrierActiveTime", Value: "tomorrow", Reason: `"tomorrow" is not a date-time: it is neither an ISO 8601 date-time nor an Excel date; use`},
				{Column: "carrierEndTime", Value: "0.5", Reason: `"0.5" is not a date-time: as an Excel date it is before 1900-01-01 (a time of day without a date?); use`},
				{Column: "carrierSaleToKd", Value: "NaN", Reason: `"NaN" is not a decimal number: it is not a finite number`},
			},
		},
		{
			name: "every required cell empty",
			changes: map[string]string{
				reconcile.ColCarrierOrderID: "", reconcile.ColCarrierUserID: " ", reconcile.ColCarrierOrderTime: "",
				reconcile.ColSkuCode: "", reconcile.ColCarrierPackageID: "", reconcile.ColCarrierActiveTime: "",
				reconcile.ColCarrierEndTime: "", reconcile.ColCarrierSale: "", reconcile.ColCarrierSaleToKd: "", reconcile.ColChannel: "",
			},
			want: []trueup.RowError{
				{Column: "carrierOrderId", Reason: "carrierOrderId is required; write the carrier's order ID"},
				{Column: "carrierUserId", Reason: "carrierUserId is required; write the carrier's user ID of the subscriber"},
				{Column: "carrierOrderTime", Reason: "carrierOrderTime is required; write when the package was ordered, for example 2025-10-27T11:47:46Z"},
				{Column: "skuCode", Reason: "skuCode is required; write the SKU code of the package, for example 1p500g"},
				{Column: "carrierPackageId", Reason: "carrierPackageId is required; write the package ID the carrier recorded"},
				{Column: "carrierActiveTime", Reason: "carrierActiveTime is required; write when the package became effective"},
				{Column: "carrierEndTime", Reason: "carrierEndTime is required; write when the package ends"},
				{Column: "carrierSaleToKd", Reason: "carrierSaleToKd is required; write the revenue share owed to the platform, for example 0.50"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := reconcile.ParseRow(12, getter(cells(tt.changes)), reconcile.Options{Cycle: sep2025})
			if len(got) != len(tt.want) {
				t.Fatalf("ParseRow returned %d errors, want %d:\n%s", len(got), len(tt.want), jsonOf(t, got))
			}
			for i, want := range tt.want {
				g := got[i]
				if g.Row != 12 || g.Column != want.Column || g.Value != want.Value || !strings.HasPrefix(g.Reason, want.Reason) {
					t.Errorf("error %d = %+v\nwant row 12, column %s, value %q, reason starting %q", i, g, want.Column, want.Value, want.Reason)
				}
			}
		})
	}
}

// TestParseRowSerialInCarrierZone checks that an Excel date cell is read in
// the carrier's zone: the same serial is a different instant in Shanghai
// and in UTC.
func TestParseRowSerialInCarrierZone(t *testing.T) {
	in := cells(map[string]string{reconcile.ColCarrierOrderTime: "45922.76168981481"})
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "2025-09-22T18:16:50Z"},
		{loadLocation(t, "Asia/Shanghai"), "2025-09-22T10:16:50Z"},
	} {
		row, errs := reconcile.ParseRow(2, getter(in), reconcile.Options{Location: tt.loc})
		if errs != nil {
			t.Fatal(errs)
		}
		if !row.OrderTime.Equal(utc(t, tt.want)) {
			t.Errorf("carrierOrderTime in %v = %s, want %s", tt.loc, row.OrderTime, tt.want)
		}
	}
}
