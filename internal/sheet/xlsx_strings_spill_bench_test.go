package sheet

import (
	"math/rand/v2"
	"testing"
)

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

// BenchmarkXLSXStringsSpillGet looks up strings of a table on disk of 2
// million strings of 10 to 30 bytes: in order, at random, and in the mix
// of a statement whose rows each refer to a new string, back to an earlier
// one, and to a few used on every row.
func BenchmarkXLSXStringsSpillGet(b *testing.B) {
	const n = 2 << 20
	d, err := newXLSXStringsSpill(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.close()
	rng := rand.New(rand.NewPCG(5, 6))
	p := make([]byte, 30)
	for i := range n {
		if err := d.add(p[:10+rng.IntN(20)]); err != nil {
			b.Fatal(err)
		}
		_ = i
	}
	if err := d.finish(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		next func(k int) int
	}{
		{"sequential", func(k int) int { return k % n }},
		{"random", func(int) int { return rng.IntN(n) }},
		{"statement", func(k int) int {
			switch k % 4 {
			case 0:
				return (k / 4) % n
			case 1:
				return rng.IntN(max(1, (k/4)%n))
			}
			return k % 4 * 7
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			k := 0
			for b.Loop() {
				if _, err := d.get(c.next(k)); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}
