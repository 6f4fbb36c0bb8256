package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxCellRef returns the reference of the cell at the 0-based column col
// of row.
func xlsxCellRef(tb testing.TB, col, row int) string {
	tb.Helper()
	ref, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		tb.Fatal(err)
	}
	return ref
}

// xlsxExcelizeRows reads the first sheet of data with excelize's Rows and
// Options{RawCellValue: true}, and returns its non-empty rows as OpenXLSX
// documents them: trailing empty cells dropped, booleans as TRUE and FALSE,
// and the date cells listed in dates1904 (of a 1904-system workbook) turned
// into 1900-system serials.
func xlsxExcelizeRows(tb testing.TB, data []byte, dates1904 map[string]bool) []Row {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	rows, err := f.Rows(sheet)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []Row
	for n := int64(1); rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			tb.Fatal(err)
		}
		for i, v := range cells {
			ref := xlsxCellRef(tb, i, int(n))
			typ, err := f.GetCellType(sheet, ref)
			if err != nil {
				tb.Fatal(err)
			}
			if typ == excelize.CellTypeBool {
				cells[i] = map[string]string{"1": "TRUE", "0": "FALSE"}[v]
			}
			if dates1904[ref] {
				serial, err := strconv.ParseFloat(v, 64)
				if err != nil {
					tb.Fatalf("%s: %v", ref, err)
				}
				cells[i] = strconv.FormatFloat(serial+1462, 'f', -1, 64)
			}
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) > 0 {
			out = append(out, Row{Number: n, Cells: cells})
		}
	}
	if err := rows.Error(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// xlsxSameRows reports the differences between the rows got and want,
// comparing the cells listed in numeric as numbers.
func xlsxSameRows(tb testing.TB, got, want []Row, numeric map[string]bool) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("read %d rows, excelize %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Number != w.Number || len(g.Cells) != len(w.Cells) {
			tb.Errorf("row %d:\n got %d %q\nwant %d %q", i, g.Number, g.Cells, w.Number, w.Cells)
			continue
		}
		for j := range g.Cells {
			ref := xlsxCellRef(tb, j, int(g.Number))
			if numeric[ref] {
				a, err1 := strconv.ParseFloat(g.Cells[j], 64)
				b, err2 := strconv.ParseFloat(w.Cells[j], 64)
				if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-9 {
					tb.Errorf("%s = %q, want %q", ref, g.Cells[j], w.Cells[j])
				}
				continue
			}
			if g.Cells[j] != w.Cells[j] {
				tb.Errorf("%s = %q, want %q", ref, g.Cells[j], w.Cells[j])
			}
		}
	}
}

// xlsxOracleValues are values of every kind excelize writes.
func xlsxOracleValues(i int) []any {
	when := time.Date(2025, 10, 27, 11, 47, 46, 0, time.UTC).Add(time.Duration(i) * 36 * time.Hour)
	return []any{
		fmt.Sprintf("CO%09d", i),
		i * 7,
		float64(i) + 0.25,
		-3.5e-7 * float64(i),
		i%2 == 0,
		when,
		`entities & < > " ' done`,
		"日本語テキスト 😀 ünïcödé",
		"  spaced  ",
		"line1\nline2\ttab\r\nline3",
		strings.Repeat("long text ", 500),
		"",
		nil,
		"1p500g",
		int64(math.MaxInt64),
		1e21,
		"=not a formula",
	}
}

func TestOpenXLSXMatchesExcelize(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) (*excelize.File, map[string]bool) // the workbook and its 1904 date cells
	}{{
		name: "shared strings",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			for i := 1; i <= 40; i++ {
				row := i
				if i > 20 {
					row = i * 3 // gaps between rows
				}
				ref := xlsxCellRef(t, i%3, row)
				values := xlsxOracleValues(i)
				if err := f.SetSheetRow("Sheet1", ref, &values); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				ref string
				v   any
			}{{"AB5", "far"}, {"D200", 1.5}, {"ZZ201", "zz"}, {"A202", true}, {"B202", false}, {"C202", ""}} {
				if err := f.SetCellValue("Sheet1", c.ref, c.v); err != nil {
					t.Fatal(err)
				}
			}
			return f, nil
		},
	}, {
		name: "stream writer",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			sw, err := f.NewStreamWriter("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 60; i++ {
				row := i
				if i > 30 {
					row = i + 10 // a gap
				}
				values := xlsxOracleValues(i)
				values = append(values,
					excelize.Cell{Formula: fmt.Sprintf("B%d*2", row), Value: i * 14},
					excelize.Cell{Formula: `"x"&"y"`, Value: "xy"},
					[]excelize.RichTextRun{{Text: "bold", Font: &excelize.Font{Bold: true}}, {Text: " & plain"}},
				)
				ref := xlsxCellRef(t, i%4, row)
				if err := sw.SetRow(ref, values); err != nil {
					t.Fatal(err)
				}
			}
			if err := sw.SetRow("C100", []any{nil, nil, "after blanks"}); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			return f, nil
		},
	}, {
		name: "1904 dates",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			yes := true
			if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
				t.Fatal(err)
			}
			dates := map[string]bool{}
			for i := 1; i <= 30; i++ {
				ref := xlsxCellRef(t, 1, i)
				when := time.Date(2020+i%7, time.Month(1+i%12), 1+i, i%24, i, 0, 0, time.UTC)
				if err := f.SetCellValue("Sheet1", ref, when); err != nil {
					t.Fatal(err)
				}
				dates[ref] = true
				if err := f.SetSheetRow("Sheet1", fmt.Sprintf("C%d", i), &[]any{float64(i) + 0.5, "text", i%2 == 1}); err != nil {
					t.Fatal(err)
				}
			}
			return f, dates
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dates := tt.build(t)
			buf, err := f.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			want := xlsxExcelizeRows(t, data, dates)
			if len(want) < 20 {
				t.Fatalf("excelize read only %d rows", len(want))
			}
			got, err := xlsxReadAll(t, data)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			xlsxSameRows(t, got, want, dates)
		})
	}
}

func TestOpenXLSXProgress(t *testing.T) {
	var buf bytes.Buffer
	if err := xlsxWriteBench(&buf, xlsxBenchInline, 5000); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if p := r.Progress(); p != 0 {
		t.Errorf("progress before reading = %v, want 0", p)
	}
	if rows := readWithProgress(t, r); rows != 5001 {
		t.Errorf("read %d rows, want 5001", rows)
	}
}

func TestOpenXLSXClose(t *testing.T) {
	var buf bytes.Buffer
	if err := xlsxWriteBench(&buf, xlsxBenchShared, 5000); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row.Number != 1 || len(row.Cells) != 10 || row.Cells[0] != Columns[0].Name {
		t.Errorf("first row = %v", row)
	}
	// Close in the middle of the sheet stops the read-ahead.
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want an error", err)
	}
}

func TestOpenXLSXCellsReused(t *testing.T) {
	data := xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>a</v></c><c r="B1"><v>b</v></c></row><row r="2"><c r="A2"><v>c</v></c></row>`)}.zip(t)
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	a := first.Cells[0]
	second, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if a != "a" || len(second.Cells) != 1 || second.Cells[0] != "c" {
		t.Errorf("got %q then %q", a, second.Cells)
	}
}
