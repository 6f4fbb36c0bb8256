package sheet

import (
	"errors"
	"io"
	"os"
	"strconv"
	"testing"
)

// readRows reads r to the end and returns copies of its rows, and the error
// that ended the stream (nil for io.EOF).
func readRows(tb testing.TB, r Reader) ([]Row, error) {
	tb.Helper()
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		row.Cells = append([]string(nil), row.Cells...)
		rows = append(rows, row)
	}
}

// readWithProgress reads r to the end and returns the number of rows read.
// It fails the test when Next fails, when Progress goes back or past 1,
// never lies between 0.2 and 0.8, or is not 1 at the end.
func readWithProgress(tb testing.TB, r Reader) int {
	tb.Helper()
	prev, mid, rows := 0.0, false, 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		rows++
		p := r.Progress()
		if p < prev || p > 1 {
			tb.Fatalf("progress went from %v to %v", prev, p)
		}
		mid = mid || p > 0.2 && p < 0.8
		prev = p
	}
	if !mid {
		tb.Error("progress never passed between 0.2 and 0.8")
	}
	if p := r.Progress(); p != 1 {
		tb.Errorf("progress at EOF = %v, want 1", p)
	}
	return rows
}

// countRows reads r to the end, without copying rows, and returns how many
// it read; it fails the benchmark or test when Next fails.
func countRows(tb testing.TB, r Reader) int {
	tb.Helper()
	rows := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			tb.Fatal(err)
		}
		rows++
	}
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

// Columns names the ten columns of the carrier statement, which the tests
// and benchmarks write as the header of their sheets.
var Columns = []Column{
	{Name: "carrierOrderId"}, {Name: "carrierUserId"}, {Name: "carrierOrderTime"}, {Name: "skuCode"},
	{Name: "carrierPackageId"}, {Name: "carrierActiveTime"}, {Name: "carrierEndTime"},
	{Name: "carrierSale"}, {Name: "carrierSaleToKd"}, {Name: "channel"},
}

// templateHeader returns the names of Columns in order.
func templateHeader() []string {
	h := make([]string, len(Columns))
	for i, c := range Columns {
		h[i] = c.Name
	}
	return h
}
