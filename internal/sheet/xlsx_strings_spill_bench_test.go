package sheet

import "testing"

// BenchmarkXLSXStringsSpill reads the shared-strings benchmark workbook of
// BenchmarkXLSX (every cell a distinct shared string: 10 strings a row)
// with the table in memory and with the table moved to a temporary file,
// to compare the two in one run:
//
//	TRUEUP_BENCH_ROWS=1000000 go test -run '^$' -bench XLSXStringsSpill -benchtime 1x -count 3 ./internal/sheet/
func BenchmarkXLSXStringsSpill(b *testing.B) {
	n := benchRows(b)
	name := xlsxBenchFile(b, xlsxBenchShared, n)
	for _, c := range []struct {
		name string
		at   int64
	}{{"memory", DefaultSharedStrings}, {"disk", 1 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			f, size, sheetSize := xlsxBenchOpen(b, name)
			b.SetBytes(sheetSize)
			lim := Limits{SharedStrings: 1 << 30, StringsMemory: c.at, TempDir: b.TempDir()}
			if c.name == "memory" {
				lim.StringsMemory = lim.SharedStrings
			}
			for b.Loop() {
				r, err := lim.OpenXLSX(f, size)
				if err != nil {
					b.Fatal(err)
				}
				if rows := countRows(b, r); rows != n+1 {
					b.Fatalf("read %d rows, want %d", rows, n+1)
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}
