package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxFuzzSST is the shared strings table of the workbooks FuzzXLSX makes
// around worksheet XML.
var xlsxFuzzSST = xlsxSSTXML(`<t>zero</t>`, `<r><t>o</t></r><r><t>ne</t></r><rPh><t>x</t></rPh>`, `<t/>`)

// FuzzXLSX checks that OpenXLSX and Next never panic or loop, whatever the
// input. An input that starts with "PK" is read as a whole file; any other
// is read as the worksheet part of a workbook with a small shared strings
// table, both through the zip archive and one byte at a time, and the two
// reads must agree; it is also read as a shared strings part. Run it with
//
//	go test -run '^$' -fuzz FuzzXLSX -fuzztime 1m ./internal/sheet/
func FuzzXLSX(f *testing.F) {
	sheets := []string{
		xlsxSheetXML(xlsxManyRows(3)),
		xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>1</v></c><c r="C1" t="inlineStr"><is><r><t>a</t></r><r><t>b&amp;</t></r></is></c><c r="D1" t="b"><v>1</v></c></row>` +
			`<row><c t="e"><v>#N/A</v></c><c t="str"><f>A1</f><v>one_x000D_</v></c><c><v>1.5</v></c><c t="d"><v>2025-10-27</v></c></row><row r="9"/>`),
		`<x:worksheet xmlns:x="urn:x"><x:sheetData><x:row x:r="2"><x:c r="B2" t="inlineStr"><x:is><x:t><![CDATA[<a>]]></x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>`,
		"<?xml version='1.0'?><!-- c --><worksheet><sheetData><row r='1'><c r='A1' t='s'><v> 2 </v></c><c r='B1'><v>&#x41;&lt;\r\n</v></c></row></sheetData></worksheet>",
	}
	sheets = append(sheets, xlsxFuzzSST, `<sst><si><t>a</t></si><si/><si><r><t>b</t></r><rPh><t>c</t></rPh></si><si><t>_x0041_&amp;</t></si></sst>`)
	for _, s := range sheets {
		f.Add([]byte(s))
		f.Add(xlsxBook{sheet: s, sst: xlsxFuzzSST}.zip(f))
	}
	var buf bytes.Buffer
	if err := xlsxWriteBench(&buf, xlsxBenchShared, 20); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	buf.Reset()
	if err := xlsxWriteBench(&buf, xlsxBenchInline, 20); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	ef := excelize.NewFile()
	for i := 1; i <= 5; i++ {
		values := xlsxOracleValues(i)
		values[10] = "long text" // keep the seed small
		if err := ef.SetSheetRow("Sheet1", "A"+string(rune('0'+i)), &values); err != nil {
			f.Fatal(err)
		}
	}
	eb, err := ef.WriteToBuffer()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(eb.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		var sheet string
		if !bytes.HasPrefix(data, []byte("PK")) {
			sheet = string(data)
			data = xlsxBook{sheet: sheet, sst: xlsxFuzzSST}.zip(t)
		}
		// Within small limits, every row keeps to them.
		if small, err := fuzzLimits.OpenXLSX(bytes.NewReader(data), int64(len(data))); err == nil {
			checkWithin(t, small, fuzzLimits)
		}
		r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if sheet != "" {
				t.Fatalf("OpenXLSX of a made workbook: %v", err)
			}
			return
		}
		defer r.Close()
		var rows []Row
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if _, again := r.Next(); again != err {
					t.Fatalf("Next after error %v returned %v", err, again)
				}
				break
			}
			if row.Number < 1 || len(row.Cells) == 0 || len(row.Cells) > xlsxMaxColumns || row.Cells[len(row.Cells)-1] == "" {
				t.Fatalf("row %d has %d cells: %q", row.Number, len(row.Cells), row.Cells)
			}
			if p := r.Progress(); p < 0 || p > 1 {
				t.Fatalf("progress %v", p)
			}
			row.Cells = append([]string(nil), row.Cells...)
			rows = append(rows, row)
		}
		if sheet == "" {
			return
		}
		// The input as a shared strings part.
		part := xlsxZip(t, xlsxPart{name: "sst.xml", body: sheet})
		zr, err := zip.NewReader(bytes.NewReader(part), int64(len(part)))
		if err != nil {
			t.Fatal(err)
		}
		if sst, err := xlsxReadSharedStrings(zr.File[0], sstOptions{}); err == nil {
			total := 0
			for i := range sst.len() {
				total += len(sst.at(i))
			}
			if total > len(sheet) {
				t.Fatalf("%d bytes of shared strings from %d bytes of XML", total, len(sheet))
			}
		}
		_, err = r.Next()
		want, wantErr := xlsxReadSheetOneByte(t, xlsxBook{sheet: sheet, sst: xlsxFuzzSST})
		if errors.Is(err, io.EOF) {
			err = nil
		}
		if !reflect.DeepEqual(rows, want) || (err == nil) != (wantErr == nil) {
			t.Fatalf("read through zip: %+v, %v\nread one byte at a time: %+v, %v", rows, err, want, wantErr)
		}
	})
}
