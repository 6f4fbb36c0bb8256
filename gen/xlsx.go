package gen

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
)

// XLSXOptions say how WriteXLSX stores text.
type XLSXOptions struct {
	// SharedStrings keeps every text cell in the shared-strings table (as
	// Excel does); otherwise text is written inline (as streaming writers
	// do).
	SharedStrings bool
	// NumericAmounts writes carrierSale and carrierSaleToKd as number cells.
	NumericAmounts bool
	// SheetRows, when above 0, splits the statement over sheets of at most
	// that many data rows each, every one starting with the header (named
	// Statement, Statement 2, ...); 0 writes one sheet.
	SheetRows int
	// Notes adds a sheet named Notes, without the header, after the first
	// statement sheet.
	Notes bool
}

// WriteXLSX writes the spec's statement as an xlsx workbook with one sheet
// (or the sheets opt asks for), streaming: it holds no more than a row in memory (the shared strings go
// through a temporary file).
func (s Spec) WriteXLSX(w io.Writer, opt XLSXOptions) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	var sst *bufio.Writer
	var sstFile *os.File
	var nStrings int
	if opt.SharedStrings {
		var err error
		if sstFile, err = os.CreateTemp("", "trueup-sst-*"); err != nil {
			return err
		}
		defer os.Remove(sstFile.Name())
		defer sstFile.Close()
		sst = bufio.NewWriterSize(sstFile, 1<<20)
	}
	var names []string // the sheets, in workbook order
	var bw *bufio.Writer
	rowNum, dataRows := 0, 0
	openSheet := func(name string) error {
		if bw != nil {
			bw.WriteString(`</sheetData></worksheet>`)
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		names = append(names, name)
		part, err := zw.Create(fmt.Sprintf("xl/worksheets/sheet%d.xml", len(names)))
		if err != nil {
			return err
		}
		bw = bufio.NewWriterSize(part, 1<<20)
		bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
			`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		rowNum = 0
		return nil
	}
	var buf []byte
	writeRow := func(cells []string) error {
		rowNum++
		buf = buf[:0]
		buf = append(buf, `<row r="`...)
		buf = strconv.AppendInt(buf, int64(rowNum), 10)
		buf = append(buf, `">`...)
		for i, v := range cells {
			ref := string(rune('A'+i)) + strconv.Itoa(rowNum)
			numeric := opt.NumericAmounts && rowNum > 1 && (i == 7 || i == 8)
			switch {
			case numeric:
				buf = append(buf, `<c r="`+ref+`"><v>`+v+`</v></c>`...)
			case opt.SharedStrings:
				buf = append(buf, `<c r="`+ref+`" t="s"><v>`...)
				buf = strconv.AppendInt(buf, int64(nStrings), 10)
				buf = append(buf, `</v></c>`...)
				sst.WriteString("<si><t>")
				xml.EscapeText(sst, []byte(v))
				sst.WriteString("</t></si>")
				nStrings++
			default:
				buf = append(buf, `<c r="`+ref+`" t="inlineStr"><is><t>`...)
				buf = append(buf, escape(v)...)
				buf = append(buf, `</t></is></c>`...)
			}
		}
		buf = append(buf, "</row>"...)
		_, err := bw.Write(buf)
		return err
	}
	if err := openSheet("Statement"); err != nil {
		return err
	}
	if err := writeRow(StatementHeader); err != nil {
		return err
	}
	err := s.EachStatementRow(func(cells []string) error {
		if opt.SheetRows > 0 && dataRows > 0 && dataRows%opt.SheetRows == 0 {
			if opt.Notes && len(names) == 1 {
				if err := openSheet("Notes"); err != nil {
					return err
				}
				if err := writeRow([]string{"Statement of the cycle, split over sheets"}); err != nil {
					return err
				}
			}
			if err := openSheet(fmt.Sprintf("Statement %d", dataRows/opt.SheetRows+1)); err != nil {
				return err
			}
			if err := writeRow(StatementHeader); err != nil {
				return err
			}
		}
		dataRows++
		return writeRow(cells)
	})
	if err != nil {
		return err
	}
	if opt.Notes && len(names) == 1 {
		if err := openSheet("Notes"); err != nil {
			return err
		}
		if err := writeRow([]string{"Statement of the cycle"}); err != nil {
			return err
		}
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := writeWorkbookParts(zw, names); err != nil {
		return err
	}
	f, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	fmt.Fprintf(f, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, nStrings, nStrings)
	if sst != nil {
		if err := sst.Flush(); err != nil {
			return err
		}
		if _, err := sstFile.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(f, sstFile); err != nil {
			return err
		}
	}
	io.WriteString(f, `</sst>`)
	return zw.Close()
}

// writeWorkbookParts writes the parts of a workbook whose worksheets,
// xl/worksheets/sheetN.xml, are named names.
func writeWorkbookParts(zw *zip.Writer, names []string) error {
	var types, sheets, rels strings.Builder
	for i, name := range names {
		n := i + 1
		fmt.Fprintf(&types, `<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, n)
		fmt.Fprintf(&sheets, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, escape(name), n, n)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, n, n)
	}
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` + types.String() + `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>` + sheets.String() + `</sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels.String() + fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`, len(names)+1)},
	}
	for _, p := range parts {
		f, err := zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, p.body); err != nil {
			return err
		}
	}
	return nil
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func escape(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	return xmlEscaper.Replace(s)
}

// WriteLedgerCSV writes the spec's ledger orders as CSV with the order
// import's header (the ledger side of the PostgreSQL reference route and of
// `trueup import orders`).
func (s Spec) WriteLedgerCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("carrierOrderId,billingCycle,kdOrderId,carrierUserId,kdUserId,skuCode,skuPrice,kdPackageId,kdActiveTime,kdEndTime,kdOrderTime,kdSaleTotal,channel\n")
	for i := 0; i < s.Orders; i++ {
		o := s.Order(i)
		fmt.Fprintf(bw, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", o.CarrierOrderID, o.BillingCycle, o.KdOrderID, o.CarrierUserID, o.KdUserID,
			o.SkuCode, o.SkuPrice, o.KdPackageID, trueup.FormatTime(o.KdActiveTime), trueup.FormatTime(o.KdEndTime), trueup.FormatTime(o.KdOrderTime), o.KdSaleTotal, o.Channel)
	}
	return bw.Flush()
}
