package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestXLSXColumnIndex(t *testing.T) {
	tests := []struct {
		ref  string
		want int
		ok   bool
	}{
		{"A1", 0, true}, {"B", 1, true}, {"Z9", 25, true}, {"AA10", 26, true}, {"az3", 51, true},
		{"XFD1048576", 16383, true}, {"XFE1", 0, false}, {"ZZZZZZZZZZ1", 0, false}, {"", 0, false}, {"1A", 0, false}, {"A1B", 0, false}, {"$A$1", 0, false},
	}
	for _, tt := range tests {
		got, ok := xlsxColumnIndex([]byte(tt.ref))
		if got != tt.want || ok != tt.ok {
			t.Errorf("xlsxColumnIndex(%q) = %d, %v, want %d, %v", tt.ref, got, ok, tt.want, tt.ok)
		}
	}
}

func TestXLSXAdd1462(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "1462"}, {"44130", "45592"}, {"44130.123456789012345", "45592.123456789012345"}, {"0.25", "1462.25"},
		{"4.413E4", "45592"}, {"-1", "1461"}, {"1e-3", "1462.001"}, {"x", "x"}, {"1.", "1463."},
	}
	for _, tt := range tests {
		b := append([]byte("pre"), tt.in...)
		if got := string(xlsxAdd1462(b, 3)); got != "pre"+tt.want {
			t.Errorf("xlsxAdd1462(%q) = %q, want %q", tt.in, got, "pre"+tt.want)
		}
	}
}

func TestXLSXUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"}, {"_x000D_", "\r"}, {"a_x0009_b", "a\tb"}, {"_x005F_x000D_", "_x000D_"},
		{"_x00e9_", "é"}, {"_x00G9_", "_x00G9_"}, {"_x12", "_x12"}, {"__x0041__", "_A_"},
	}
	for _, tt := range tests {
		if got := string(xlsxUnescape([]byte(tt.in))); got != tt.want {
			t.Errorf("xlsxUnescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestXLSXStringsBuilder(t *testing.T) {
	// Chunks of 4 KiB: strings that fill one, cross into the next, take
	// several, and empty strings at every place.
	sizes := []int{0, 1, 4095, 0, 1, 4096, 0, 10000, 0, 1, 8192, 4096, 4095, 2, 0}
	for i := range 300 {
		sizes = append(sizes, (i*7919)%5000)
	}
	b := newXLSXStringsBuilder(0, 0)
	var want []string
	for i, n := range sizes {
		s := strings.Repeat(string(rune('a'+i%26)), n)
		if err := b.add([]byte(s)); err != nil {
			t.Fatal(err)
		}
		want = append(want, s)
	}
	tab := b.table()
	if tab.bits != 12 {
		t.Errorf("chunks of 1<<%d bytes, want 1<<12", tab.bits)
	}
	if tab.len() != len(want) {
		t.Fatalf("len = %d, want %d", tab.len(), len(want))
	}
	for i, w := range want {
		if got := tab.at(i); got != w {
			t.Errorf("string %d has %d bytes (%.5q), want %d", i, len(got), got, len(w))
		}
	}
	empty := newXLSXStringsBuilder(0, 0).table()
	if empty.len() != 0 {
		t.Errorf("empty table len = %d", empty.len())
	}
}

// TestOpenXLSXHead reads the first rows of a workbook with more shared
// strings than OpenXLSXHead loads, and fails cleanly on a cell beyond them.
func TestOpenXLSXHead(t *testing.T) {
	var rows [][]string
	for i := 0; i < HeadStrings; i++ { // two strings a row: 2*HeadStrings strings
		rows = append(rows, []string{fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)})
	}
	data := xlsxSharedStringsWorkbook(t, rows)
	r, err := OpenXLSXHead(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; ; i++ {
		row, err := r.Next()
		if i < HeadStrings/2 {
			if err != nil || row.Cells[0] != rows[i][0] || row.Cells[1] != rows[i][1] {
				t.Fatalf("row %d = %v, %v; want %v", i+1, row.Cells, err, rows[i])
			}
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("row %d beyond the strings read: err = %v, want ErrCorrupt", i+1, err)
		}
		break
	}
}

// xlsxSharedStringsWorkbook builds a minimal workbook whose cells are all
// shared strings, in order of first use.
func xlsxSharedStringsWorkbook(tb testing.TB, rows [][]string) []byte {
	tb.Helper()
	var sheet, sst strings.Builder
	n := 0
	for i, row := range rows {
		fmt.Fprintf(&sheet, `<row r="%d">`, i+1)
		for j, v := range row {
			fmt.Fprintf(&sheet, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+j, i+1, n)
			fmt.Fprintf(&sst, `<si><t>%s</t></si>`, v)
			n++
		}
		sheet.WriteString(`</row>`)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	parts := map[string]string{
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   `<worksheet><sheetData>` + sheet.String() + `</sheetData></worksheet>`,
		"xl/sharedStrings.xml":       fmt.Sprintf(`<sst count="%d" uniqueCount="%d">%s</sst>`, n, n, sst.String()),
	}
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
