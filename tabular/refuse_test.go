package tabular_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/tabular"
)

// inlineXLSX returns a workbook of one sheet whose rows hold the given
// cells as inline strings.
func inlineXLSX(tb testing.TB, rows ...[]string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			tb.Fatal(err)
		}
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	const rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	write("xl/workbook.xml", `<workbook `+ns+`><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	write("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="`+rel+`worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	var b strings.Builder
	for i, row := range rows {
		b.WriteString("<row>")
		for j, c := range row {
			b.WriteString(`<c r="` + sheet.ColumnLetter(j) + strconv.Itoa(i+1) + `" t="inlineStr"><is><t>` + c + `</t></is></c>`)
		}
		b.WriteString("</row>")
	}
	write("xl/worksheets/sheet1.xml", `<worksheet `+ns+`><sheetData>`+b.String()+`</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readFile writes data to a file named name, opens it with tabular.Open and
// reads it to the end.
func readFile(tb testing.TB, name string, data []byte) ([]string, error) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	src, _, err := tabular.Open(path, spec)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return readAll(tb, src)
}

// TestRefusedRows: a record whose field count differs from the header's
// (issue 10 #12) and a control character in a cell (issue 10 #3, #11: a NUL
// past the first 4 KB, a line break in a quoted field, _x0000_ in an xlsx)
// are row errors: the source reads every row, then returns a *RowErrors
// listing the refused ones, so that nothing is imported.
func TestRefusedRows(t *testing.T) {
	pad := strings.Repeat("P,1\n", 1200) // past the first 4 KB
	tests := []struct {
		name string
		file string
		data []byte
		want []trueup.RowError
	}{
		{"unquoted decimal comma", "a.csv", []byte("order_id,amount\nA,12,50\nB,3\n"), []trueup.RowError{
			{Row: 2, Reason: `the row has 3 fields but the header has 2; every row needs one field per header column: enclose a value holding ',' in double quotes ("12,50"), and remove or add delimiters to match the header`}}},
		{"short row", "a.csv", []byte("order_id,amount,note\nA,1\n"), []trueup.RowError{
			{Row: 2, Reason: `the row has 2 fields but the header has 3; every row needs one field per header column: enclose a value holding ',' in double quotes ("12,50"), and remove or add delimiters to match the header`}}},
		{"NUL past 4 KB", "a.csv", []byte("order_id,amount\n" + pad + "A\x00B,1\n"), []trueup.RowError{
			{Row: 1202, Column: "order_id", Value: `A\x00B`, Reason: `order_id holds the control character \x00; remove it (ids, codes and text are written on one line, without tabs or other control characters)`}}},
		{"line break in a quoted id", "a.csv", []byte("order_id,amount\n\"A\nB\",1\nC,2\n"), []trueup.RowError{
			{Row: 2, Column: "order_id", Value: `A\nB`, Reason: `order_id holds the control character \n; remove it (ids, codes and text are written on one line, without tabs or other control characters)`}}},
		{"line break in free text", "a.csv", []byte("order_id,amount,note\nA,1,\"two\r\nlines\"\n"), []trueup.RowError{
			{Row: 2, Column: "note", Value: `two\nlines`, Reason: `note holds the control character \n; remove it (ids, codes and text are written on one line, without tabs or other control characters)`}}},
		{"xlsx escape _x0000_", "a.xlsx", inlineXLSX(t, []string{"order_id", "amount"}, []string{"A_x0000_", "1"}), []trueup.RowError{
			{Row: 2, Column: "order_id", Value: `A\x00`, Reason: `order_id holds the control character \x00; remove it (ids, codes and text are written on one line, without tabs or other control characters)`}}},
		{"JSON Lines", "a.jsonl", []byte(`{"order_id":"A\u0000","amount":"1"}` + "\n" + `{"order_id":"B","amount":"2"}` + "\n"), []trueup.RowError{
			{Row: 1, Column: "order_id", Value: `A\x00`, Reason: `order_id holds the control character \x00; remove it (ids, codes and text are written on one line, without tabs or other control characters)`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFile(t, tt.file, tt.data)
			var re *tabular.RowErrors
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a *tabular.RowErrors", err)
			}
			if re.Total != len(tt.want) || len(re.Rows) != len(tt.want) {
				t.Fatalf("row errors %+v, want %+v", re.Rows, tt.want)
			}
			for i := range tt.want {
				if re.Rows[i] != tt.want[i] {
					t.Errorf("row error\n got %+v\nwant %+v", re.Rows[i], tt.want[i])
				}
			}
		})
	}
}

// TestPrintable: values are cut and their control characters escaped.
func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"a\x00b\tc\r\n\x7f", `a\x00b\tc\r\n\x7f`},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{strings.Repeat("é", 70), strings.Repeat("é", 64) + "…"},
	}
	for _, tt := range tests {
		if got := tabular.Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestJSONLLimits: a JSON Lines line past the row limit, or a value past the
// cell limit, is an EINVALID error that names the line and the bound.
func TestJSONLLimits(t *testing.T) {
	small := spec
	small.Limits = sheet.Limits{RowBytes: 100, FieldBytes: 10}
	tests := []struct {
		name, text, want string
	}{
		{"long line", `{"order_id":"A","amount":1}` + "\n" + `{"order_id":"` + strings.Repeat("x", 200) + `"}` + "\n", "line 2 is longer than 100 bytes (the limit of a row's size)"},
		{"long value", `{"order_id":"` + strings.Repeat("x", 11) + `","amount":1}` + "\n", "line 1: the value of order_id is longer than 10 bytes (the limit of a cell's size)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tabular.NewJSONLSource(strings.NewReader(tt.text), 0, nil, small)
			_, err := readAll(t, src)
			if err == nil || !strings.Contains(err.Error(), tt.want) || trueup.ErrorKind(err) != trueup.EINVALID {
				t.Fatalf("error %v (%s), want EINVALID with %q", err, trueup.ErrorKind(err), tt.want)
			}
		})
	}
}
