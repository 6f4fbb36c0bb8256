package sheet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimits are small limits the fuzz targets read within, so that the
// limits are reached often.
var fuzzLimits = Limits{SharedStrings: 1 << 10, Inflated: 64 << 10, FieldBytes: 64, RowBytes: 256, RowCells: 8}

// checkWithin reads r to its end and fails the test when a row breaks l
// (more cells than RowCells, a cell over FieldBytes) or has no number, when
// Progress leaves 0 to 1, or when an error other than a refused row does not
// repeat. It returns the rows read.
func checkWithin(t *testing.T, r Reader, l Limits) int {
	t.Helper()
	defer r.Close()
	rows := 0
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if errors.Is(err, ErrRow) {
			continue
		}
		if err != nil {
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after error %v returned %v", err, again)
			}
			return rows
		}
		rows++
		if row.Number < 1 || len(row.Cells) > l.RowCells {
			t.Fatalf("row %d has %d cells, the limit is %d", row.Number, len(row.Cells), l.RowCells)
		}
		for _, c := range row.Cells {
			if len(c) > l.FieldBytes {
				t.Fatalf("row %d has a cell of %d bytes, the limit is %d", row.Number, len(c), l.FieldBytes)
			}
		}
		if p := r.Progress(); p < 0 || p > 1 {
			t.Fatalf("progress %v", p)
		}
	}
}

// FuzzCSV checks that OpenCSV and Next never panic, keep every row within
// the limits, and read the same rows within the defaults as within limits
// the input does not reach. Run it with
//
//	go test -run '^$' -fuzz FuzzCSV -fuzztime 1m ./internal/sheet/
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n",
		"\ufeffa;b\n1;2\n\n3;4\n",
		"a,b\n\"x\ny\",\"p\"\"q\"\n12,50,1\n1\n",
		"a,b\n\"open\n",
		"a\x00,b\n\xff,2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		small, err := fuzzLimits.OpenCSV(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		checkWithin(t, small, fuzzLimits)
		r, err := OpenCSV(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		checkWithin(t, r, DefaultLimits())
	})
}

// FuzzXLS checks that OpenXLS and Next never panic and keep every row
// within the limits. The seeds are the workbooks of testdata/xls. Run it
// with
//
//	go test -run '^$' -fuzz FuzzXLS -fuzztime 1m ./internal/sheet/
func FuzzXLS(f *testing.F) {
	for _, name := range []string{"statement.xls", "date1904.xls"} {
		b, err := os.ReadFile(filepath.Join("testdata", "xls", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, l := range []Limits{fuzzLimits, DefaultLimits()} {
			r, err := l.OpenXLS(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				continue
			}
			checkWithin(t, r, l)
		}
	})
}
