package statement

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/trueup/trueup/internal/sheet"
)

// openReadAll opens data as format f and returns copies of all its rows,
// failing the test when Open or a Next fails.
func openReadAll(tb testing.TB, data []byte, f Format) []sheet.Row {
	tb.Helper()
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), f)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	defer func() { _ = r.Close() }()
	var rows []sheet.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			tb.Fatalf("Next: %v", err)
		}
		row.Cells = append([]string(nil), row.Cells...)
		rows = append(rows, row)
	}
}

// detect returns the format sheet.Detect finds in the start of b.
func detect(b []byte, name string) (Format, error) {
	return sheet.Detect(b[:min(len(b), sheet.DetectSize)], name)
}

// benchRows returns the row count from TRUEUP_BENCH_ROWS, 100000 by default.
func benchRows(tb testing.TB) int {
	tb.Helper()
	n := 100000
	if s := os.Getenv("TRUEUP_BENCH_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			tb.Fatalf("TRUEUP_BENCH_ROWS=%q is not a positive number", s)
		}
		n = v
	}
	return n
}
