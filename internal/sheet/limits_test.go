package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAllWithin opens data as format f within l and reads it to the end. It
// returns the rows read and the error of Open or Next (nil at io.EOF).
func readAllWithin(tb testing.TB, l Limits, data []byte, f Format) ([]Row, error) {
	tb.Helper()
	r, err := l.Open(bytes.NewReader(data), int64(len(data)), f)
	if err != nil {
		return nil, err
	}
	defer func() { _ = r.Close() }()
	return readRows(tb, r)
}

// wantLimit fails the test unless err is a *LimitError of limit whose
// message holds each of texts.
func wantLimit(tb testing.TB, err error, limit Limit, texts ...string) {
	tb.Helper()
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != limit || !errors.Is(err, ErrLimit) {
		tb.Fatalf("error %v, want a *LimitError of %s", err, limit)
	}
	if errors.Is(err, ErrCorrupt) {
		tb.Errorf("error %v wraps ErrCorrupt: a file past a limit is not damaged", err)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		tb.Errorf("error %v is not a *ParseError", err)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			tb.Errorf("error %q does not say %q", err, s)
		}
	}
}

// sharedStringsBook returns a workbook whose shared strings table holds n
// strings of size bytes each, used by the cells of column A.
func sharedStringsBook(tb testing.TB, n, size int) []byte {
	tb.Helper()
	items := make([]string, n)
	var rows strings.Builder
	for i := range items {
		items[i] = "<t>" + strings.Repeat(string(rune('a'+i%26)), size) + "</t>"
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c></row>`, i+1, i+1, i)
	}
	return xlsxBook{sheet: xlsxSheetXML(rows.String()), sst: xlsxSSTXML(items...)}.zip(tb)
}

// TestLimitsSharedStrings: a shared strings table past the budget is
// refused by bytes, whatever its count of strings, in both the full and the
// quick look at a workbook (issue 10 #1).
func TestLimitsSharedStrings(t *testing.T) {
	book := sharedStringsBook(t, 40, 1024) // 40 strings, 41 KiB with their offsets
	small := Limits{SharedStrings: 16 << 10}
	if _, err := small.OpenXLSX(bytes.NewReader(book), int64(len(book))); err != nil {
		wantLimit(t, err, LimitSharedStrings, "16 KiB", "shared strings")
	} else {
		t.Fatal("OpenXLSX read 41 KiB of shared strings within a budget of 16 KiB")
	}
	_, err := small.OpenXLSXHead(bytes.NewReader(book), int64(len(book)))
	wantLimit(t, err, LimitSharedStrings, "16 KiB")

	rows, err := readAllWithin(t, Limits{SharedStrings: 64 << 10}, book, XLSX)
	if err != nil || len(rows) != 40 {
		t.Fatalf("within a budget of 64 KiB: %d rows, %v; want 40 rows", len(rows), err)
	}
}

// TestLimitsInflated: a workbook that inflates past the limit fails with an
// error that says so, whether the sheet or another part passes it (issue 10
// #2).
func TestLimitsInflated(t *testing.T) {
	var rows strings.Builder
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>order %d</t></is></c></row>`, i, i, i)
	}
	book := xlsxBook{sheet: xlsxSheetXML(rows.String())}.zip(t)
	_, err := readAllWithin(t, Limits{Inflated: 32 << 10}, book, XLSX)
	wantLimit(t, err, LimitInflated, "32 KiB", "inflates")
	if got, err := readAllWithin(t, Limits{Inflated: 1 << 20}, book, XLSX); err != nil || len(got) != 2000 {
		t.Fatalf("within 1 MiB: %d rows, %v", len(got), err)
	}

	// A sheet of over 1 MiB is inflated ahead by a goroutine: the limit
	// holds there too.
	rows.Reset()
	for i := 1; i <= 30000; i++ {
		fmt.Fprintf(&rows, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>order %d</t></is></c></row>`, i, i, i)
	}
	big := xlsxBook{sheet: xlsxSheetXML(rows.String())}.zip(t)
	_, err = readAllWithin(t, Limits{Inflated: 512 << 10}, big, XLSX)
	wantLimit(t, err, LimitInflated, "512 KiB")

	// The shared strings alone pass the limit.
	sst := sharedStringsBook(t, 40, 1024)
	_, err = readAllWithin(t, Limits{Inflated: 16 << 10}, sst, XLSX)
	wantLimit(t, err, LimitInflated, "16 KiB")
}

// TestLimitsXLSXCells: an inline or shared string, or a value, past the
// cell limit is refused, and so is a row past the row limit; a 20 MiB inline
// cell is refused under the defaults (issue 10 #9).
func TestLimitsXLSXCells(t *testing.T) {
	// inline returns a workbook of one row of inline strings, its sheet
	// stored (deflating 20 MiB would take most of the test's time).
	inline := func(texts ...string) []byte {
		var b strings.Builder
		b.WriteString(`<row r="1">`)
		for i, s := range texts {
			fmt.Fprintf(&b, `<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>`, ColumnLetter(i), s)
		}
		b.WriteString(`</row>`)
		return xlsxBook{sheet: xlsxSheetXML(b.String()), store: true}.zip(t)
	}
	t.Run("20 MiB inline cell under the defaults", func(t *testing.T) {
		_, err := readAllWithin(t, Limits{}, inline(strings.Repeat("x", 20<<20)), XLSX)
		wantLimit(t, err, LimitFieldBytes, "1 MiB", `row 1`)
	})
	t.Run("cell at and past the limit", func(t *testing.T) {
		l := Limits{FieldBytes: 100}
		if rows, err := readAllWithin(t, l, inline(strings.Repeat("x", 100)), XLSX); err != nil || len(rows[0].Cells[0]) != 100 {
			t.Fatalf("a cell of 100 bytes: %v", err)
		}
		_, err := readAllWithin(t, l, inline(strings.Repeat("x", 101)), XLSX)
		wantLimit(t, err, LimitFieldBytes, "100 bytes")
	})
	t.Run("rich text runs count together", func(t *testing.T) {
		run := strings.Repeat("y", 60)
		sheet := xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><r><t>` + run + `</t></r><r><t>` + run + `</t></r></is></c></row>`)
		_, err := readAllWithin(t, Limits{FieldBytes: 100}, xlsxBook{sheet: sheet}.zip(t), XLSX)
		wantLimit(t, err, LimitFieldBytes, "100 bytes")
	})
	t.Run("shared string past the cell limit", func(t *testing.T) {
		_, err := readAllWithin(t, Limits{FieldBytes: 512}, sharedStringsBook(t, 2, 1024), XLSX)
		wantLimit(t, err, LimitFieldBytes, "512 bytes")
	})
	t.Run("row past the row limit", func(t *testing.T) {
		cell := strings.Repeat("z", 90)
		_, err := readAllWithin(t, Limits{FieldBytes: 100, RowBytes: 200}, inline(cell, cell, cell), XLSX)
		wantLimit(t, err, LimitRowBytes, "200 bytes")
	})
	t.Run("cells past the row's limit", func(t *testing.T) {
		_, err := readAllWithin(t, Limits{RowCells: 2}, inline("a", "b", "c"), XLSX)
		wantLimit(t, err, LimitRowCells, "more than 2 cells")
	})
}

// TestLimitsCSV: a field or a record past its limit is refused with the
// bound in the message, and the read stops at the record's limit: a quote
// left open does not read the rest of the file into one field (issue 10
// #9).
func TestLimitsCSV(t *testing.T) {
	t.Run("field of 2 MiB under the defaults", func(t *testing.T) {
		in := "a,b\n1," + strings.Repeat("x", 2<<20) + "\n"
		_, err := readAllWithin(t, Limits{}, []byte(in), CSV)
		wantLimit(t, err, LimitFieldBytes, "1 MiB", "row 2 column B")
	})
	t.Run("record past the row limit", func(t *testing.T) {
		src := &countReader{r: io.MultiReader(strings.NewReader("a,b\n1,\""), zeros{})}
		r, err := Limits{RowBytes: 1 << 10}.OpenCSV(src, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = readRows(t, r)
		wantLimit(t, err, LimitRowBytes, "1 KiB", "row 2")
		if src.n > 1<<20 {
			t.Errorf("read %d bytes of an endless field; the limit is 1 KiB", src.n)
		}
	})
	t.Run("too many fields", func(t *testing.T) {
		_, err := readAllWithin(t, Limits{RowCells: 3}, []byte("a,b,c,d\n"), CSV)
		wantLimit(t, err, LimitRowCells, "more than 3 cells")
	})
}

// zeros is an endless stream of 'x'.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestLimitsXLS: the limits hold for an xls workbook too.
func TestLimitsXLS(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "xls", "statement.xls"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAllWithin(t, Limits{}, data, XLS); err != nil {
		t.Fatalf("under the defaults: %v", err)
	}
	tests := []struct {
		name  string
		l     Limits
		limit Limit
	}{
		{"shared strings", Limits{SharedStrings: 16}, LimitSharedStrings},
		{"cell", Limits{FieldBytes: 8}, LimitFieldBytes},
		{"row", Limits{RowBytes: 40}, LimitRowBytes},
		{"cells", Limits{RowCells: 3}, LimitRowCells},
		{"inflated", Limits{Inflated: 1024}, LimitInflated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAllWithin(t, tt.l, data, XLS)
			wantLimit(t, err, tt.limit)
		})
	}
}

// TestOpenCSVFieldCount: a record with more or fewer fields than the header
// is refused alone, naming its row and both counts, and the reader reads on
// (issue 10 #12: 12,50 written unquoted used to shift the columns).
func TestOpenCSVFieldCount(t *testing.T) {
	in := "carrierOrderId,amount,channel\nA1,12,50,0\nA2,3\n\n,,,,\nA3,\"12,50\",0\n"
	r := openCSVString(t, in)
	var got []string
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *ParseError
		var fe *FieldCountError
		switch {
		case err == nil:
			got = append(got, fmt.Sprintf("row %d: %q", row.Number, row.Cells))
		case errors.Is(err, ErrRow) && errors.As(err, &pe) && errors.As(err, &fe):
			got = append(got, fmt.Sprintf("row %d refused: %d of %d", pe.Row, fe.Fields, fe.Header))
			if !strings.Contains(err.Error(), fmt.Sprintf("row %d: the row has %d fields but the header has %d", pe.Row, fe.Fields, fe.Header)) {
				t.Errorf("message %q does not name the row and the counts", err)
			}
		default:
			t.Fatalf("Next: %v", err)
		}
	}
	want := []string{
		`row 1: ["carrierOrderId" "amount" "channel"]`,
		"row 2 refused: 4 of 3",
		"row 3 refused: 2 of 3",
		`row 6: ["A3" "12,50" "0"]`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
