package reconcile_test

import (
	"fmt"
	"iter"
	"runtime"
	"testing"

	"github.com/trueup/trueup"
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

// ids returns n distinct carrierOrderIds in increasing byte order.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("CO%013d", i*7)
	}
	return out
}

// BenchmarkDedup adds a million distinct IDs per operation and reports the
// bytes the Dedup holds per ID.
func BenchmarkDedup(b *testing.B) {
	const n = 1_000_000
	all := ids(n)
	var before, after runtime.MemStats
	b.ReportAllocs()
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		var d reconcile.Dedup
		for i, id := range all {
			if d.Add(int64(i+2), id) != nil {
				b.Fatal("duplicate")
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/id")
		runtime.KeepAlive(&d)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/id")
}

// stream returns rows and orders whose IDs are those of ids(n). When
// differ is true, one order in ten misses its row, one row in ten its
// order, and one pair in ten differs in amount; otherwise all agree.
func stream(tb testing.TB, n int, differ bool) (iter.Seq2[reconcile.Row, error], iter.Seq2[trueup.Order, error]) {
	all := ids(n)
	row0, order0 := agreeing(tb)
	amount := dec(tb, "0.70")
	rows := func(yield func(reconcile.Row, error) bool) {
		r := row0
		for i, id := range all {
			if differ && i%10 == 1 {
				continue
			}
			r.CarrierOrderID, r.Number = id, int64(i+2)
			if !yield(r, nil) {
				return
			}
		}
	}
	orders := func(yield func(trueup.Order, error) bool) {
		for i, id := range all {
			if differ && i%10 == 2 {
				continue
			}
			o := order0
			o.CarrierOrderID = id
			if differ && i%10 == 3 {
				o.KdSaleTotal = amount
			}
			if !yield(o, nil) {
				return
			}
		}
	}
	return rows, orders
}

// BenchmarkMatch matches 100,000 rows with 100,000 orders per operation,
// all agreeing or 30% of them with a discrepancy.
func BenchmarkMatch(b *testing.B) {
	const n = 100_000
	for _, differ := range []bool{false, true} {
		name := map[bool]string{false: "agreeing", true: "30%-discrepant"}[differ]
		b.Run(name, func(b *testing.B) {
			rows, orders := stream(b, n, differ)
			opt := reconcile.Options{Cycle: sep2025}
			want := map[bool]int64{false: 0, true: 3 * n / 10}[differ]
			b.ReportAllocs()
			for b.Loop() {
				var c trueup.DiffCounts
				for d, err := range reconcile.Match(rows, orders, opt) {
					if err != nil {
						b.Fatal(err)
					}
					c.Add(d.DiffType)
				}
				if c.Total() != want {
					b.Fatalf("counts %+v, want %d in all", c, want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
		})
	}
}

// TestMatchMemoryIsBounded streams 100,000 rows and orders through Match
// and checks that the heap does not grow with them.
func TestMatchMemoryIsBounded(t *testing.T) {
	const n = 100_000
	rows, orders := stream(t, n, true)
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	count := 0
	for _, err := range reconcile.Match(rows, orders, reconcile.Options{Cycle: sep2025}) {
		if err != nil {
			t.Fatal(err)
		}
		if count++; count%5000 == 0 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}
	if count != 3*n/10 {
		t.Errorf("%d discrepancies, want %d", count, 3*n/10)
	}
	// Holding every discrepancy (~600 bytes each) would take 18 MB.
	t.Logf("heap grew by %.1f MB", float64(int64(peak)-int64(base))/(1<<20))
	if grew := int64(peak) - int64(base); grew > 12<<20 {
		t.Errorf("heap grew by %d MB while matching %d rows; want it bounded", grew>>20, n)
	}
}
