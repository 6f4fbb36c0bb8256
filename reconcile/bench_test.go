package reconcile_test

import (
	"testing"

	"github.com/trueup/trueup/reconcile"
)

// Run the benchmarks with
//
//	go test ./reconcile/ -run '^$' -bench . -benchmem

func BenchmarkCompare(b *testing.B) {
	row, order := agreeing(b)
	order.KdSaleTotal = dec(b, "0.505")
	opt := reconcile.Options{Cycle: sep2025}
	b.ReportAllocs()
	for b.Loop() {
		if reconcile.Compare(row, order, opt) != nil {
			b.Fatal("discrepancy")
		}
	}
}

func BenchmarkCompareBothKinds(b *testing.B) {
	row, order := agreeing(b)
	row.SkuCode = "1p1t"
	order.KdSaleTotal = dec(b, "0.60")
	opt := reconcile.Options{Cycle: sep2025}
	b.ReportAllocs()
	for b.Loop() {
		if len(reconcile.Compare(row, order, opt)) != 2 {
			b.Fatal("want two discrepancies")
		}
	}
}

// BenchmarkParseRow reads a row as a caller holding a header index would:
// cells by position, looked up by column name.
func BenchmarkParseRow(b *testing.B) {
	index := map[string]int{}
	var cellsOfRow []string
	for name, v := range cells(map[string]string{reconcile.ColCarrierEndTime: "45931.5"}) {
		index[name] = len(cellsOfRow)
		cellsOfRow = append(cellsOfRow, v)
	}
	get := func(name string) string {
		if i, ok := index[name]; ok && i < len(cellsOfRow) {
			return cellsOfRow[i]
		}
		return ""
	}
	opt := reconcile.Options{Cycle: sep2025, Location: loadLocation(b, "Asia/Shanghai")}
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := reconcile.ParseRow(2, get, opt); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	loc := loadLocation(b, "Asia/Shanghai")
	for _, in := range []string{"2025-10-27T11:47:46.977Z", "2025-10-27T19:47:46+08:00", "2025-10-27 19:47:46", "45922.76168981481"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reconcile.ParseTime(in, loc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseAmount(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reconcile.ParseAmount("9.90"); err != nil {
			b.Fatal(err)
		}
	}
}
