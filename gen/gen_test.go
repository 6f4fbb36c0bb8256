package gen_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/xuri/excelize/v2"
)

func TestExpected(t *testing.T) {
	spec := gen.Spec{Orders: 1000, MissingEvery: 10, ExtraEvery: 25, RightsEvery: 20, AmountEvery: 7}
	got := spec.Expected()
	// Counted by hand from the rules: kinds are taken in order 1, 3, 4.
	var want trueup.DiffCounts
	for i := 0; i < 1000; i++ {
		switch {
		case i%10 == 1:
			want[trueup.DiffMissingOnCarrier]++
		case i%20 == 2:
			want[trueup.DiffRights]++
		case i%7 == 3:
			want[trueup.DiffAmount]++
		}
		if i%25 == 24 {
			want[trueup.DiffMissingOnPlatform]++
		}
	}
	if got != want {
		t.Errorf("Expected() = %+v, want %+v", got, want)
	}
}

// TestXLSXMatchesCSV reads the generated workbook with excelize and with
// trueup's reader and compares both with the CSV of the same spec.
func TestXLSXMatchesCSV(t *testing.T) {
	spec := gen.Spec{Orders: 300, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 3, MissingEvery: 10, ExtraEvery: 25, RightsEvery: 20, AmountEvery: 7}
	var csvBuf bytes.Buffer
	if err := spec.WriteCSV(&csvBuf); err != nil {
		t.Fatal(err)
	}
	want, err := csv.NewReader(&csvBuf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, opt := range []gen.XLSXOptions{{}, {SharedStrings: true}, {SharedStrings: true, NumericAmounts: true}} {
		var buf bytes.Buffer
		if err := spec.WriteXLSX(&buf, opt); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%+v: excelize: %v", opt, err)
		}
		rows, err := f.GetRows("Statement", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		compare(t, "excelize", rows, want)
		r, err := sheet.OpenXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("%+v: OpenXLSX: %v", opt, err)
		}
		var ours [][]string
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ours = append(ours, append([]string(nil), row.Cells...))
		}
		compare(t, "statement", ours, want)
	}
}

func compare(t *testing.T, who string, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", who, len(got), len(want))
	}
	for i := range want {
		for j := range want[i] {
			if got[i][j] != want[i][j] {
				t.Fatalf("%s: row %d col %d = %q, want %q", who, i+1, j, got[i][j], want[i][j])
			}
		}
	}
}
