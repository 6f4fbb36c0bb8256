package statement

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// templateHeader returns the names of Columns in order.
func templateHeader() []string {
	names := make([]string, len(Columns))
	for i, c := range Columns {
		names[i] = c.Name
	}
	return names
}

func TestMapHeader(t *testing.T) {
	all := templateHeader()
	fullIndex := make(map[string]int)
	for i, n := range all {
		fullIndex[n] = i
	}
	tests := []struct {
		name  string
		cells []string
		want  map[string]int
	}{
		{name: "template order", cells: all, want: fullIndex},
		{
			name: "any order, case and spaces, BOM, blanks",
			cells: []string{
				"\ufeffCARRIERORDERID", "", "carrier user id", " skucode ", "CarrierPackageID",
				"carrierOrderTime", "carrier\u00a0Active Time", "carrierendtime", "CARRIERsaleToKd", "",
			},
			want: map[string]int{
				"carrierOrderId": 0, "carrierUserId": 2, "skuCode": 3, "carrierPackageId": 4,
				"carrierOrderTime": 5, "carrierActiveTime": 6, "carrierEndTime": 7, "carrierSaleToKd": 8,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := MapHeader(tt.cells)
			if err != nil {
				t.Fatalf("MapHeader: %v", err)
			}
			if !reflect.DeepEqual(h.Index, tt.want) {
				t.Errorf("Index = %v, want %v", h.Index, tt.want)
			}
		})
	}
}

func TestMapHeaderErrors(t *testing.T) {
	all := templateHeader()
	with := func(extra ...string) []string { return append(append([]string(nil), all...), extra...) }
	without := func(drop ...string) []string {
		var out []string
		for _, n := range all {
			keep := true
			for _, d := range drop {
				keep = keep && n != d
			}
			if keep {
				out = append(out, n)
			}
		}
		return out
	}
	tests := []struct {
		name     string
		cells    []string
		wantCol  string
		wantText []string // substrings of the message
	}{
		{
			name:     "unknown column",
			cells:    with("remark"),
			wantCol:  "remark",
			wantText: []string{`unknown column "remark"`, "accepted columns are carrierOrderId, carrierUserId", "carrierSale, carrierSaleToKd, channel"},
		},
		{
			name:     "unknown columns",
			cells:    with(" remark", "订单号"),
			wantCol:  "remark",
			wantText: []string{`unknown columns "remark", "订单号"`},
		},
		{
			name:     "underscores are not ignored",
			cells:    append(without("skuCode"), "sku_code"),
			wantCol:  "sku_code",
			wantText: []string{`"sku_code"`},
		},
		{
			name:     "duplicate",
			cells:    with("SKUcode"),
			wantCol:  "SKUcode",
			wantText: []string{"column skuCode appears twice (cells D and K)"},
		},
		{
			name:     "one missing",
			cells:    without("carrierEndTime", "channel"),
			wantCol:  "carrierEndTime",
			wantText: []string{"missing required column carrierEndTime;"},
		},
		{
			name:     "all missing named",
			cells:    []string{"carrierOrderId", "carrierSale"},
			wantCol:  "carrierUserId",
			wantText: []string{"missing required columns carrierUserId, carrierOrderTime, skuCode, carrierPackageId, carrierActiveTime, carrierEndTime, carrierSaleToKd;"},
		},
		{
			name:     "empty header",
			cells:    []string{"", " "},
			wantCol:  "carrierOrderId",
			wantText: []string{"missing required columns carrierOrderId,"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MapHeader(tt.cells)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if !errors.Is(err, ErrHeader) {
				t.Errorf("error %v does not wrap ErrHeader", err)
			}
			if pe.Row != 1 || pe.Column != tt.wantCol {
				t.Errorf("place = row %d column %q, want row 1 column %q", pe.Row, pe.Column, tt.wantCol)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestHeaderGet(t *testing.T) {
	h, err := MapHeader([]string{"skuCode", "carrierOrderId", "carrierUserId", "carrierOrderTime",
		"carrierPackageId", "carrierActiveTime", "carrierEndTime", "carrierSaleToKd", "channel"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cells []string
		name  string
		want  string
	}{
		{[]string{"1p500g", "CO1"}, "skuCode", "1p500g"},
		{[]string{"1p500g", "CO1"}, "carrierOrderId", "CO1"},
		{[]string{"1p500g", "CO1"}, "channel", ""},     // row too short
		{[]string{"1p500g", "CO1"}, "carrierSale", ""}, // not in the header
		{nil, "skuCode", ""},
		{[]string{"a"}, "nonsense", ""},
	}
	for _, tt := range tests {
		if got := h.Get(tt.cells, tt.name); got != tt.want {
			t.Errorf("Get(%q, %q) = %q, want %q", tt.cells, tt.name, got, tt.want)
		}
	}
}
