package statement

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"

	"github.com/trueup/trueup/internal/sheet"
)

// failWriter is an io.Writer that always fails.
type failWriter struct{}

var errFailWriter = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errFailWriter }

// sampleDiscrepancies returns discrepancies of every kind, with text that
// needs quoting or neutralising.
func sampleDiscrepancies() []trueup.Discrepancy {
	return []trueup.Discrepancy{
		{
			CarrierOrderID: "CO-1", KdOrderID: "KD-1", CarrierUserID: "U1", CarrierOrderTime: "2025-09-03T08:00:00.000Z",
			KdUserID: "KU1", UserStatus: "1", DiffType: trueup.DiffAmount, DiffReason: "carrierSaleToKd 0.5 differs from kdSaleTotal 0.45",
			SkuCode: "1p500g", SkuPrice: decimal.RequireFromString("9.90"), BillingCycle: "2025-09",
			CarrierSale: "10", CarrierSaleToKd: "0.5", ThisMonthBilling: "-10", NextMonthBilling: "+3.5", Channel: "0",
			CarrierActiveTime: "2025-09-03T08:00:00.000Z", CarrierEndTime: "2025-10-03T08:00:00.000Z", CarrierPackageID: "PKG1",
			KdActiveTime: "2025-09-03T08:00:00.000Z", KdEndTime: "2025-10-03T08:00:00.000Z", KdOrderTime: "2025-09-03T08:00:00.000Z",
			KdPackageID: "PKG1", KdSaleTotal: decimal.RequireFromString("0.45"),
		},
		{
			CarrierOrderID: "=HYPERLINK(\"http://x\",\"y\")", CarrierUserID: "@SUM(A1)", DiffType: trueup.DiffMissingOnPlatform,
			DiffReason: "not in the ledger, \"quoted\", with a comma\nand a line", SkuCode: "-2+3", Channel: "+cmd|' /C calc'!A0",
			CarrierSale: "\t=1", CarrierSaleToKd: "\r=1", BillingCycle: "2025-09", CarrierPackageID: "中国移动套餐",
		},
		{
			KdOrderID: "KD-3", KdUserID: "KU3", DiffType: trueup.DiffMissingOnCarrier, DiffReason: "not in the statement",
			SkuCode: "1p500g", SkuPrice: decimal.RequireFromString("0.1234567890123456789"), BillingCycle: "2025-09",
			KdSaleTotal: decimal.RequireFromString("-1.5"),
		},
	}
}

// wantExportRow returns the cell texts an export of d holds.
func wantExportRow(d trueup.Discrepancy) []string {
	rec := make([]string, len(ExportColumns))
	discrepancyFields(rec, d)
	for i := range rec {
		if i != exportDiffType && i != exportSkuPrice && i != exportKdSaleTotal {
			rec[i] = NeutraliseFormula(rec[i])
		}
	}
	return rec
}

// export writes ds in format f and returns the file.
func export(tb testing.TB, f Format, ds []trueup.Discrepancy) []byte {
	tb.Helper()
	var buf bytes.Buffer
	e, err := NewExportWriter(&buf, f)
	if err != nil {
		tb.Fatalf("NewExportWriter: %v", err)
	}
	for _, d := range ds {
		if err := e.Write(d); err != nil {
			tb.Fatalf("Write: %v", err)
		}
	}
	if err := e.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func TestExportRoundTrip(t *testing.T) {
	ds := sampleDiscrepancies()
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			b := export(t, f, ds)
			if got, err := detect(b, "export."+string(f)); err != nil || got != f {
				t.Errorf("Detect = %q, %v; want %q", got, err, f)
			}
			if f == CSV && !bytes.HasPrefix(b, []byte(utf8BOM)) {
				t.Error("the CSV export lacks a byte order mark")
			}
			rows := openReadAll(t, b, f)
			if len(rows) != len(ds)+1 {
				t.Fatalf("read %d rows, want %d", len(rows), len(ds)+1)
			}
			if !reflect.DeepEqual(rows[0].Cells, ExportColumns) {
				t.Errorf("header %q, want %q", rows[0].Cells, ExportColumns)
			}
			for i, d := range ds {
				want := wantExportRow(d)
				got := rows[i+1].Cells
				for len(got) < len(want) {
					got = append(got, "") // a reader may leave out empty cells at the end
				}
				if f == XLSX {
					// Numbers read back as the float64 written.
					want[exportSkuPrice] = xlsxNumberText(d.SkuPrice)
					want[exportKdSaleTotal] = xlsxNumberText(d.KdSaleTotal)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("row %d:\n got %q\nwant %q", i+2, got, want)
				}
			}
		})
	}
}

// xlsxNumberText returns the text an xlsx reader gives for d written by an
// ExportWriter.
func xlsxNumberText(d decimal.Decimal) string {
	if f, ok := decimalCell(d).(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return d.String()
}

// TestExportXLSXCells checks the sheet, the header style and the cell types
// of an xlsx export.
func TestExportXLSXCells(t *testing.T) {
	b := export(t, XLSX, sampleDiscrepancies())
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{ExportSheet}) {
		t.Errorf("sheets %q, want [%s]", got, ExportSheet)
	}
	styleID, err := f.GetCellStyle(ExportSheet, "A1")
	if err != nil {
		t.Fatal(err)
	}
	if style, err := f.GetStyle(styleID); err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("header style %+v (%v), want bold", style, err)
	}
	tests := []struct {
		cell string
		want excelize.CellType
	}{
		{"G2", excelize.CellTypeNumber},       // diffType
		{"J2", excelize.CellTypeNumber},       // skuPrice 9.90
		{"X2", excelize.CellTypeNumber},       // kdSaleTotal 0.45
		{"J4", excelize.CellTypeInlineString}, // skuPrice with more digits than a float64 holds
		{"X4", excelize.CellTypeNumber},       // kdSaleTotal -1.5
		{"L2", excelize.CellTypeInlineString}, // carrierSale "10" stays text
		{"A3", excelize.CellTypeInlineString},
	}
	for _, tt := range tests {
		got, err := f.GetCellType(ExportSheet, tt.cell)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want && !(tt.want == excelize.CellTypeNumber && got == excelize.CellTypeUnset) {
			t.Errorf("cell %s has type %v, want %v", tt.cell, got, tt.want)
		}
	}
	if v, _ := f.GetCellValue(ExportSheet, "J4", excelize.Options{RawCellValue: true}); v != "0.1234567890123456789" {
		t.Errorf("J4 = %q, want the exact decimal", v)
	}
}

func TestNeutraliseFormula(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"CO-1", "CO-1"},
		{"=1+2", "'=1+2"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-", "'-"},
		{"+", "'+"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1e3", "'-1e3"},
		{"-10", "-10"},
		{"+3.5", "+3.5"},
		{"-0.25", "-0.25"},
		{"10", "10"},
		{" =1", " =1"},
		{"a=1", "a=1"},
		{"中国移动", "中国移动"},
		{"'quoted", "'quoted"},
	}
	for _, tt := range tests {
		if got := NeutraliseFormula(tt.in); got != tt.want {
			t.Errorf("NeutraliseFormula(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExportInjection writes risky text in a text column of both formats
// and reads the cell back.
func TestExportInjection(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"=1+2", "'=1+2"},
		{"+1+2", "'+1+2"},
		{"-1+2", "'-1+2"},
		{"@A1", "'@A1"},
		{"\t=A1", "'\t=A1"},
		{"\r=A1", "'\r=A1"},
		{"-12.5", "-12.5"},
		{"plain", "plain"},
	}
	for _, f := range []Format{CSV, XLSX} {
		for _, tt := range tests {
			b := export(t, f, []trueup.Discrepancy{{DiffReason: tt.in, Channel: tt.in, DiffType: trueup.DiffRights}})
			rows := openReadAll(t, b, f)
			if len(rows) != 2 {
				t.Fatalf("%s: read %d rows, want 2", f, len(rows))
			}
			h, err := mapExportHeader(rows[0].Cells)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{"diffReason", "channel"} {
				if got := rows[1].Cells[h[col]]; got != tt.want {
					t.Errorf("%s %s of %q = %q, want %q", f, col, tt.in, got, tt.want)
				}
			}
		}
	}
}

// mapExportHeader returns the index of each export column in header.
func mapExportHeader(header []string) (map[string]int, error) {
	m := make(map[string]int)
	for i, name := range header {
		m[name] = i
	}
	for _, name := range ExportColumns {
		if _, ok := m[name]; !ok {
			return nil, errors.New("export header lacks " + name)
		}
	}
	return m, nil
}

func TestExportWriterErrors(t *testing.T) {
	if _, err := NewExportWriter(io.Discard, sheet.XLS); err == nil {
		t.Error("NewExportWriter(xls) returned no error")
	}
	if _, err := NewExportWriter(failWriter{}, CSV); !errors.Is(err, errFailWriter) {
		t.Errorf("NewExportWriter(csv) to a failing writer: %v, want the write error", err)
	}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			w := &limitWriter{n: 3} // the byte order mark fits; nothing more does
			e, err := NewExportWriter(w, f)
			if err != nil {
				t.Fatal(err)
			}
			var werr error
			for range 50 { // enough to fill the CSV writer's buffer
				if werr = e.Write(sampleDiscrepancies()[0]); werr != nil {
					break
				}
			}
			cerr := e.Close()
			if !errors.Is(werr, errFailWriter) && !errors.Is(cerr, errFailWriter) {
				t.Errorf("Write %v, Close %v; want the write error from one", werr, cerr)
			}
			if again := e.Close(); !errors.Is(again, errFailWriter) {
				t.Errorf("second Close = %v, want the same error", again)
			}
			if err := e.Write(trueup.Discrepancy{}); !errors.Is(err, ErrExportClosed) {
				t.Errorf("Write after Close = %v, want ErrExportClosed", err)
			}
		})
	}
}

// limitWriter accepts n bytes, then fails.
type limitWriter struct{ n int }

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFailWriter
	}
	w.n -= len(p)
	return len(p), nil
}

// BenchmarkExport writes TRUEUP_BENCH_ROWS discrepancies (100000 by
// default) in each format to io.Discard. Run it with
//
//	TRUEUP_BENCH_ROWS=1000000 go test -run '^$' -bench Export -benchmem ./statement/
func BenchmarkExport(b *testing.B) {
	n := benchRows(b)
	d := sampleDiscrepancies()[0]
	for _, f := range []Format{CSV, XLSX} {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				e, err := NewExportWriter(io.Discard, f)
				if err != nil {
					b.Fatal(err)
				}
				for i := range n {
					d.CarrierOrderID = "CO" + strconv.Itoa(i)
					if err := e.Write(d); err != nil {
						b.Fatal(err)
					}
				}
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}
