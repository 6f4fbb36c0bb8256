package statement

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

// writeTemplateFile writes the template and opens it with excelize.
func writeTemplateFile(tb testing.TB) (*excelize.File, []byte) {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteTemplate(&buf); err != nil {
		tb.Fatalf("WriteTemplate: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		tb.Fatalf("open the template: %v", err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	return f, buf.Bytes()
}

func TestWriteTemplate(t *testing.T) {
	f, raw := writeTemplateFile(t)
	if got, err := detect(raw, "template.xlsx"); err != nil || got != XLSX {
		t.Errorf("Detect = %q, %v; want xlsx", got, err)
	}
	if got, want := f.GetSheetList(), []string{TemplateSheet, TemplateColumnsSheet}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	rows, err := f.GetRows(TemplateSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("the Statement sheet has %d rows, want 2", len(rows))
	}
	if !reflect.DeepEqual(rows[0], templateHeader()) {
		t.Errorf("header %q, want %q", rows[0], templateHeader())
	}
	h, err := MapHeader(rows[0])
	if err != nil {
		t.Fatalf("MapHeader of the template's header: %v", err)
	}
	wantExample := map[string]string{
		"carrierOrderId": "123124444435355", "carrierUserId": "4565523231",
		"carrierOrderTime": "2025-09-03T08:00:00.000Z", "skuCode": "1p500g", "carrierPackageId": "1235666",
		"carrierActiveTime": "2025-09-03T08:00:00.000Z", "carrierEndTime": "2025-10-03T08:00:00.000Z",
		"carrierSale": "10", "carrierSaleToKd": "0.5", "channel": "0",
	}
	for name, want := range wantExample {
		if got := h.Get(rows[1], name); got != want {
			t.Errorf("example %s = %q, want %q", name, got, want)
		}
	}
	for i, c := range Columns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		styleID, err := f.GetCellStyle(TemplateSheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		style, err := f.GetStyle(styleID)
		if err != nil {
			t.Fatal(err)
		}
		if style.Font == nil || !style.Font.Bold {
			t.Errorf("header cell %s is not bold", cell)
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		if w, err := f.GetColWidth(TemplateSheet, col); err != nil || w < float64(len(c.Name)) {
			t.Errorf("column %s is %v wide (%v), want at least %d", col, w, err, len(c.Name))
		}
		// Decimals are numbers; the rest are text, in text-formatted columns.
		cell2, _ := excelize.CoordinatesToCellName(i+1, 2)
		typ, err := f.GetCellType(TemplateSheet, cell2)
		if err != nil {
			t.Fatal(err)
		}
		wantNumber := c.Type == "decimal"
		if got := typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber; got != wantNumber {
			t.Errorf("example cell %s (%s) has type %v", cell2, c.Name, typ)
		}
		if !wantNumber {
			styleID, _ := f.GetCellStyle(TemplateSheet, cell2)
			style, _ := f.GetStyle(styleID)
			if style.NumFmt != 49 {
				t.Errorf("example cell %s (%s) has number format %d, want 49 (text)", cell2, c.Name, style.NumFmt)
			}
		}
	}

	cols, err := f.GetRows(TemplateColumnsSheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"name", "required", "type", "meaning", "accepted formats"}}
	for _, c := range Columns {
		req := "no"
		if c.Required {
			req = "yes"
		}
		want = append(want, []string{c.Name, req, c.Type, c.Meaning, c.Formats})
	}
	if !reflect.DeepEqual(cols, want) {
		t.Errorf("Columns sheet:\n got %q\nwant %q", cols, want)
	}
}

// TestWriteTemplateReadBack reads the template through the package's own
// xlsx reader, as an upload of it would be.
func TestWriteTemplateReadBack(t *testing.T) {
	_, raw := writeTemplateFile(t)
	rows := openReadAll(t, raw, XLSX)
	if len(rows) != 2 || rows[0].Number != 1 || rows[1].Number != 2 {
		t.Fatalf("rows %+v, want the header and the example", rows)
	}
	if !reflect.DeepEqual(rows[0].Cells, templateHeader()) {
		t.Errorf("header %q, want %q", rows[0].Cells, templateHeader())
	}
	h, err := MapHeader(rows[0].Cells)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"carrierOrderId": "123124444435355", "carrierSaleToKd": "0.5", "channel": "0"} {
		if got := h.Get(rows[1].Cells, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestWriteTemplateWriteError(t *testing.T) {
	if err := WriteTemplate(failWriter{}); err == nil {
		t.Fatal("WriteTemplate to a failing writer returned nil")
	}
}
