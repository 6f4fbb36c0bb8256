package sheet

import (
	"bytes"
	"os"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestBookSheets: OpenBook lists the worksheets of a workbook in workbook
// order and reads each one; a CSV file is one sheet with no name.
func TestBookSheets(t *testing.T) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", "First"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Second", "Third"} {
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ sheet, cell, value string }{
		{"First", "A1", "a"}, {"First", "A2", "b"}, {"Second", "B3", "c"}, {"Third", "A1", "d"},
	} {
		if err := f.SetCellStr(c.sheet, c.cell, c.value); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	xls, err := os.ReadFile("testdata/xls/statement.xls")
	if err != nil {
		t.Fatal(err)
	}
	csv := []byte("h\nv\n")
	tests := []struct {
		name   string
		data   []byte
		format Format
		sheets []string
		rows   []int // rows read of each sheet
	}{
		{"xlsx", buf.Bytes(), XLSX, []string{"First", "Second", "Third"}, []int{2, 1, 1}},
		{"xls", xls, XLS, nil, nil},
		{"csv", csv, CSV, []string{""}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := DefaultLimits().OpenBook(bytes.NewReader(tt.data), int64(len(tt.data)), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			names := b.Sheets()
			if tt.sheets != nil && !equalStrings(names, tt.sheets) {
				t.Errorf("sheets %q, want %q", names, tt.sheets)
			}
			if tt.format == XLS && len(names) < 2 {
				t.Errorf("xls sheets %q, want the statement and the second sheet", names)
			}
			for i := range names {
				r, err := b.Open(i)
				if err != nil {
					t.Fatalf("open sheet %d: %v", i, err)
				}
				n := countRows(t, r)
				r.Close()
				if tt.rows != nil && n != tt.rows[i] {
					t.Errorf("sheet %q: %d rows, want %d", names[i], n, tt.rows[i])
				}
			}
			// The first sheet through the format's own Open is the book's.
			r, err := DefaultLimits().Open(bytes.NewReader(tt.data), int64(len(tt.data)), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			first, err := b.Open(0)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			if a, b := countRows(t, r), countRows(t, first); a != b {
				t.Errorf("Open reads %d rows, the book's first sheet %d", a, b)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
