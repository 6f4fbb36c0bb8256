package statement

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
)

// ExportColumns are the columns of a discrepancy export, in order: the
// fields of seed 004's DiffBill under their JSON names (thisMouthBilling and
// nextMouthBilling spelt as the seed spells them).
var ExportColumns = []string{
	"carrierOrderId", "kdOrderId", "carrierUserId", "carrierOrderTime", "kdUserId", "userStatus",
	"diffType", "diffReason", "skuCode", "skuPrice", "billingCycle", "carrierSale", "carrierSaleToKd",
	"thisMouthBilling", "nextMouthBilling", "channel", "carrierActiveTime", "carrierEndTime",
	"carrierPackageId", "kdActiveTime", "kdEndTime", "kdOrderTime", "kdPackageId", "kdSaleTotal",
}

// ExportSheet is the name of the sheet of an xlsx discrepancy export.
const ExportSheet = "Discrepancies"

// The indexes in ExportColumns of the columns that hold numbers.
const (
	exportDiffType    = 6
	exportSkuPrice    = 9
	exportKdSaleTotal = 23
)

// ErrExportClosed is returned by the methods of an ExportWriter after Close.
var ErrExportClosed = errors.New("export writer is closed")

// ExportWriter writes discrepancies as a CSV or xlsx file, one row each
// after a header row of ExportColumns, in bounded memory.
//
// Text that a spreadsheet program could take for a formula is neutralised:
// a text cell beginning with =, +, -, @, a tab or a carriage return gets a
// single quote ' in front ("=1+2" is written '=1+2), unless the whole text is
// a plain decimal number such as -10 or +3.5, which no program runs and a
// quote would spoil. Numbers (diffType, skuPrice, kdSaleTotal) are not
// quoted.
//
// A CSV export is UTF-8 with a byte order mark (so that Excel shows Chinese
// text correctly), comma-separated, with RFC 4180 quoting. An xlsx export
// has one sheet, Discrepancies, with a bold, frozen header row; diffType,
// skuPrice and kdSaleTotal are number cells (a decimal that a float64 cannot
// hold exactly is written as text instead, so that no digit is lost). Its
// rows stream through excelize's StreamWriter, which keeps at most 16 MiB in
// memory and the rest in a temporary file, and Close streams the workbook to
// w. An xlsx sheet holds at most 1,048,576 rows: Write fails past 1,048,575
// discrepancies.
//
// An ExportWriter is not safe for concurrent use.
type ExportWriter struct {
	format Format
	rec    []string

	csv *csv.Writer

	w    io.Writer
	book *excelize.File
	sw   *excelize.StreamWriter
	vals []any
	row  int

	err    error // sticky: the first failure
	closed bool
}

// ExportHeader returns the Content-Type and Content-Disposition of the
// export of batch no in format f.
func ExportHeader(no trueup.BatchNo, f Format) (contentType, disposition string) {
	contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if f == CSV {
		contentType = "text/csv; charset=utf-8"
	}
	return contentType, fmt.Sprintf(`attachment; filename="discrepancies-%s.%s"`, no, f)
}

// NewExportWriter returns an ExportWriter of format f (CSV or XLSX) writing
// to w, having written the header row (to w for CSV; an xlsx workbook
// reaches w only at Close). It returns an error for another format, or the
// error of starting the file.
func NewExportWriter(w io.Writer, f Format) (*ExportWriter, error) {
	e := &ExportWriter{format: f, rec: make([]string, len(ExportColumns))}
	switch f {
	case CSV:
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return nil, fmt.Errorf("export csv: %w", err)
		}
		e.csv = csv.NewWriter(w)
		if err := e.csv.Write(ExportColumns); err != nil {
			return nil, fmt.Errorf("export csv: %w", err)
		}
	case XLSX:
		if err := e.startXLSX(w); err != nil {
			if e.book != nil {
				_ = e.book.Close()
			}
			return nil, fmt.Errorf("export xlsx: %w", err)
		}
	default:
		return nil, fmt.Errorf("export: format %q is not csv or xlsx", f)
	}
	return e, nil
}

// startXLSX creates the workbook and writes its header row.
func (e *ExportWriter) startXLSX(w io.Writer) error {
	e.w = w
	e.book = excelize.NewFile()
	// File.WriteTo builds the whole zip in a bytes.Buffer before copying it
	// to w, which would hold the compressed export in memory; a zip writer
	// on w itself streams the sheet from the StreamWriter's temporary file
	// instead, leaving that buffer empty.
	e.book.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	if err := e.book.SetSheetName("Sheet1", ExportSheet); err != nil {
		return err
	}
	sw, err := e.book.NewStreamWriter(ExportSheet)
	if err != nil {
		return err
	}
	e.sw = sw
	bold, err := e.book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, name := range ExportColumns {
		width := float64(len(name)) + 4
		switch name {
		case "diffReason":
			width = 40
		case "carrierOrderId", "kdOrderId", "carrierOrderTime", "carrierActiveTime", "carrierEndTime",
			"kdActiveTime", "kdEndTime", "kdOrderTime":
			width = 26
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	e.vals = make([]any, len(ExportColumns))
	for i, name := range ExportColumns {
		e.vals[i] = excelize.Cell{StyleID: bold, Value: name}
	}
	e.row = 1
	return sw.SetRow("A1", e.vals)
}

// Write writes d as the next row. It returns ErrExportClosed after Close,
// and the error of writing the row (again on each later call once one has
// failed).
func (e *ExportWriter) Write(d trueup.Discrepancy) error {
	switch {
	case e.closed:
		return ErrExportClosed
	case e.err != nil:
		return e.err
	}
	discrepancyFields(e.rec, d)
	for i, s := range e.rec {
		if i != exportDiffType && i != exportSkuPrice && i != exportKdSaleTotal {
			e.rec[i] = NeutraliseFormula(s)
		}
	}
	if e.csv != nil {
		if err := e.csv.Write(e.rec); err != nil {
			e.err = fmt.Errorf("export csv: %w", err)
		}
		return e.err
	}
	for i, s := range e.rec {
		e.vals[i] = s
		if s == "" {
			e.vals[i] = nil // no cell at all
		}
	}
	e.vals[exportDiffType] = int(d.DiffType)
	e.vals[exportSkuPrice] = decimalCell(d.SkuPrice)
	e.vals[exportKdSaleTotal] = decimalCell(d.KdSaleTotal)
	e.row++
	cell, err := excelize.CoordinatesToCellName(1, e.row)
	if err == nil {
		err = e.sw.SetRow(cell, e.vals)
	}
	if err != nil {
		e.err = fmt.Errorf("export xlsx: row %d: %w", e.row, err)
	}
	return e.err
}

// Close finishes the file: it flushes a CSV export, or writes the xlsx
// workbook to w and removes its temporary files. It returns the first error
// of writing, then the same on later calls.
func (e *ExportWriter) Close() error {
	if e.closed {
		return e.err
	}
	e.closed = true
	if e.csv != nil {
		e.csv.Flush()
		if err := e.csv.Error(); err != nil && e.err == nil {
			e.err = fmt.Errorf("export csv: %w", err)
		}
		return e.err
	}
	if e.err == nil {
		if err := e.sw.Flush(); err != nil {
			e.err = fmt.Errorf("export xlsx: %w", err)
		} else if _, err := e.book.WriteTo(e.w); err != nil {
			e.err = fmt.Errorf("export xlsx: write: %w", err)
		}
	}
	if err := e.book.Close(); err != nil && e.err == nil {
		e.err = fmt.Errorf("export xlsx: %w", err)
	}
	return e.err
}

// discrepancyFields sets rec to the text of each field of d, in the order of
// ExportColumns.
func discrepancyFields(rec []string, d trueup.Discrepancy) {
	rec[0] = d.CarrierOrderID
	rec[1] = d.KdOrderID
	rec[2] = d.CarrierUserID
	rec[3] = d.CarrierOrderTime
	rec[4] = d.KdUserID
	rec[5] = d.UserStatus
	rec[exportDiffType] = strconv.Itoa(int(d.DiffType))
	rec[7] = d.DiffReason
	rec[8] = d.SkuCode
	rec[exportSkuPrice] = d.SkuPrice.String()
	rec[10] = d.BillingCycle
	rec[11] = d.CarrierSale
	rec[12] = d.CarrierSaleToKd
	rec[13] = d.ThisMonthBilling
	rec[14] = d.NextMonthBilling
	rec[15] = d.Channel
	rec[16] = d.CarrierActiveTime
	rec[17] = d.CarrierEndTime
	rec[18] = d.CarrierPackageID
	rec[19] = d.KdActiveTime
	rec[20] = d.KdEndTime
	rec[21] = d.KdOrderTime
	rec[22] = d.KdPackageID
	rec[exportKdSaleTotal] = d.KdSaleTotal.String()
}

// decimalCell returns d as a float64 when the float64 holds it exactly, and
// as its text otherwise.
func decimalCell(d decimal.Decimal) any {
	f := d.InexactFloat64()
	if decimal.NewFromFloat(f).Equal(d) {
		return f
	}
	return d.String()
}

// NeutraliseFormula returns s with a single quote ' in front when it begins
// with =, +, -, @, a tab or a carriage return, which a spreadsheet program
// may take for a formula, unless s is a plain decimal number (an optional
// sign, digits, and an optional dot and digits). Other text is returned as
// it is.
func NeutraliseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !isPlainDecimal(s) {
			return "'" + s
		}
	}
	return s
}

// isPlainDecimal reports whether s is an optional sign, digits, and an
// optional dot followed by digits.
func isPlainDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits := func() int {
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n
	}
	if digits() == 0 {
		return false
	}
	if s == "" {
		return true
	}
	if s[0] != '.' {
		return false
	}
	s = s[1:]
	return digits() > 0 && s == ""
}

// utf8BOM is the UTF-8 byte order mark written at the start of a CSV export,
// so that spreadsheet programs read it as UTF-8.
const utf8BOM = "\xef\xbb\xbf"
