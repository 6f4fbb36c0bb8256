package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The variants of the benchmark workbook.
const (
	xlsxBenchInline = "inline" // inline strings, numbers and dates, as a streaming writer makes
	xlsxBenchShared = "shared" // every cell a distinct shared string
)

// xlsxBenchFile returns the path of a workbook of a header row and n data
// rows of 10 columns (the template's) of the variant, written once into the
// system's temporary folder and reused by later runs (the name says the
// variant, n and the generator's version; delete the files to rebuild).
func xlsxBenchFile(tb testing.TB, variant string, n int) string {
	tb.Helper()
	name := filepath.Join(os.TempDir(), fmt.Sprintf("trueup-bench-xlsx-v1-%s-%d.xlsx", variant, n))
	if _, err := os.Stat(name); err == nil {
		return name
	}
	tmp, err := os.CreateTemp(os.TempDir(), "trueup-bench-xlsx-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	if err := xlsxWriteBench(tmp, variant, n); err != nil {
		tmp.Close()
		tb.Fatalf("write benchmark workbook: %v", err)
	}
	if err := tmp.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		tb.Fatal(err)
	}
	return name
}

// xlsxBenchPrefixes starts the text of each column of the shared variant;
// the row number follows, so that every string is distinct.
var xlsxBenchPrefixes = [10]string{"CO", "U", "T", "SKU", "PKG", "A", "E", "S", "K", "CH"}

// xlsxWriteBench writes the benchmark workbook of the variant with n data
// rows to w, with a hand-rolled XML writer (excelize takes minutes for a
// million rows).
func xlsxWriteBench(w io.Writer, variant string, n int) error {
	zw := zip.NewWriter(w)
	parts := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Statement" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`},
		{"xl/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`},
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
	f, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>`)
	var line []byte
	cellRef := func(col, row int) {
		line = append(line, `<c r="`...)
		line = append(line, byte('A'+col))
		line = strconv.AppendInt(line, int64(row), 10)
		line = append(line, '"')
	}
	inline := func(col, row int, text string, id int) {
		cellRef(col, row)
		line = append(line, ` t="inlineStr"><is><t>`...)
		line = append(line, text...)
		if id >= 0 {
			line = strconv.AppendInt(line, int64(id), 10)
		}
		line = append(line, `</t></is></c>`...)
	}
	number := func(col, row int, style bool, v string) {
		cellRef(col, row)
		if style {
			line = append(line, ` s="1"`...)
		}
		line = append(line, `><v>`...)
		line = append(line, v...)
		line = append(line, `</v></c>`...)
	}
	shared := 0
	for row := 1; row <= n+1; row++ {
		line = append(line[:0], `<row r="`...)
		line = strconv.AppendInt(line, int64(row), 10)
		line = append(line, `" spans="1:10">`...)
		for col := range 10 {
			switch {
			case variant == xlsxBenchShared:
				cellRef(col, row)
				line = append(line, ` t="s"><v>`...)
				line = strconv.AppendInt(line, int64(shared), 10)
				line = append(line, `</v></c>`...)
				shared++
			case row == 1:
				inline(col, row, Columns[col].Name, -1)
			default:
				id := 100000000 + row
				switch col {
				case 0:
					inline(col, row, "CO", id)
				case 1:
					inline(col, row, "U", id)
				case 3:
					inline(col, row, "1p500g", -1)
				case 4:
					inline(col, row, "PKG1235666", -1)
				case 2, 5, 6:
					serial := 45900 + float64(row%10000)/10000 + float64(col)
					number(col, row, true, strconv.FormatFloat(serial, 'f', -1, 64))
				case 7:
					number(col, row, false, "10")
				case 8:
					number(col, row, false, "0.5")
				case 9:
					number(col, row, false, strconv.Itoa(row%3))
				}
			}
		}
		line = append(line, `</row>`...)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	f, err = zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	bw = bufio.NewWriterSize(f, 256<<10)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="` + strconv.Itoa(shared) +
		`" uniqueCount="` + strconv.Itoa(shared) + `">`)
	for row := 1; row <= n+1 && variant == xlsxBenchShared; row++ {
		line = line[:0]
		for col := range 10 {
			line = append(line, `<si><t>`...)
			if row == 1 {
				line = append(line, Columns[col].Name...)
			} else {
				line = append(line, xlsxBenchPrefixes[col]...)
				line = strconv.AppendInt(line, int64(100000000+row), 10)
			}
			line = append(line, `</t></si>`...)
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	bw.WriteString(`</sst>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// xlsxBenchOpen opens the benchmark workbook at name and returns it with its
// size and the uncompressed size of its sheet.
func xlsxBenchOpen(tb testing.TB, name string) (*os.File, int64, int64) {
	tb.Helper()
	f, err := os.Open(name)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		tb.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == "xl/worksheets/sheet1.xml" {
			return f, fi.Size(), int64(zf.UncompressedSize64)
		}
	}
	tb.Fatal("no sheet in the benchmark workbook")
	return nil, 0, 0
}

// BenchmarkXLSX reads a workbook of TRUEUP_BENCH_ROWS data rows (100000 by
// default) of 10 columns through OpenXLSX: with inline strings, numbers and
// dates, and with every cell a distinct shared string. The workbooks are
// written once into the system's temporary folder. Run it with
//
//	TRUEUP_BENCH_ROWS=1000000 go test -run '^$' -bench 'XLSX|ZipFloor' -benchtime 1x ./internal/sheet/
func BenchmarkXLSX(b *testing.B) {
	n := benchRows(b)
	for _, variant := range []string{xlsxBenchInline, xlsxBenchShared} {
		name := xlsxBenchFile(b, variant, n)
		b.Run(variant, func(b *testing.B) {
			f, size, sheetSize := xlsxBenchOpen(b, name)
			b.SetBytes(sheetSize)
			for b.Loop() {
				r, err := OpenXLSX(f, size)
				if err != nil {
					b.Fatal(err)
				}
				if rows := countRows(b, r); rows != n+1 {
					b.Fatalf("read %d rows, want %d", rows, n+1)
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}

// BenchmarkZipFloor only inflates the sheet of the benchmark workbooks and
// counts its </row> tags: the floor under any .xlsx reader. Its
// shared+strings case inflates the shared strings part too, which OpenXLSX
// must read before the sheet.
func BenchmarkZipFloor(b *testing.B) {
	n := benchRows(b)
	for _, c := range []struct {
		name, variant string
		strings       bool
	}{{xlsxBenchInline, xlsxBenchInline, false}, {xlsxBenchShared, xlsxBenchShared, false}, {"shared+strings", xlsxBenchShared, true}} {
		name := xlsxBenchFile(b, c.variant, n)
		b.Run(c.name, func(b *testing.B) {
			f, size, sheetSize := xlsxBenchOpen(b, name)
			b.SetBytes(sheetSize)
			buf := make([]byte, 64<<10)
			tag := []byte("</row>")
			for b.Loop() {
				zr, err := zip.NewReader(f, size)
				if err != nil {
					b.Fatal(err)
				}
				if c.strings {
					rc, err := zr.Open("xl/sharedStrings.xml")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
						b.Fatal(err)
					}
					rc.Close()
				}
				rc, err := zr.Open("xl/worksheets/sheet1.xml")
				if err != nil {
					b.Fatal(err)
				}
				rows, keep := 0, 0
				for {
					k, err := rc.Read(buf[keep:])
					data := buf[:keep+k]
					rows += bytes.Count(data, tag)
					// Keep back a tail that may hold the start of a tag.
					keep = copy(buf, data[max(len(data)-len(tag)+1, 0):])
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				rc.Close()
				if rows != n+1 {
					b.Fatalf("counted %d rows, want %d", rows, n+1)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
		})
	}
}
