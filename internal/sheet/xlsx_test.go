package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxPart is a file of a zip archive.
type xlsxPart struct {
	name, body string
	store      bool // stored without compression
}

// xlsxZip returns a zip archive of the parts.
func xlsxZip(tb testing.TB, parts ...xlsxPart) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		method := zip.Deflate
		if p.store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: method})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, p.body); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// xlsxBook describes a hand-made workbook. Empty fields take the usual
// parts.
type xlsxBook struct {
	sheet     string // the worksheet part
	sst       string // the shared strings part; none when empty
	styles    string // the styles part; none when empty
	date1904  string // the workbookPr date1904 attribute; none when empty
	sheetPath string // the worksheet's part name, xl/worksheets/sheet1.xml by default
	workbook  string // replaces the workbook part
	rels      string // replaces the workbook's relationships; "-" for none
	store     bool   // store the worksheet uncompressed
}

const (
	xlsxNS  = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	xlsxRel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
)

// xlsxSheetXML returns a worksheet part whose <sheetData> holds rows.
func xlsxSheetXML(rows string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n<worksheet " + xlsxNS +
		`><dimension ref="A1"/><sheetData>` + rows + `</sheetData><pageMargins left="0.7"/></worksheet>`
}

// xlsxSSTXML returns a shared strings part of the items (the inside of each
// <si>).
func xlsxSSTXML(items ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`+"\n"+
		`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(items), len(items))
	for _, it := range items {
		b.WriteString("<si>" + it + "</si>")
	}
	b.WriteString("</sst>")
	return b.String()
}

// zip returns the workbook as a zip archive.
func (b xlsxBook) zip(tb testing.TB) []byte {
	tb.Helper()
	sheetPath := b.sheetPath
	if sheetPath == "" {
		sheetPath = "xl/worksheets/sheet1.xml"
	}
	parts := []xlsxPart{{name: "_rels/.rels", body: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="xl/workbook.xml"/></Relationships>`}}
	wb := b.workbook
	if wb == "" {
		pr := ""
		if b.date1904 != "" {
			pr = `<workbookPr date1904="` + b.date1904 + `"/>`
		}
		wb = `<?xml version="1.0" encoding="UTF-8"?><workbook ` + xlsxNS + `>` + pr + `<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`
	}
	parts = append(parts, xlsxPart{name: "xl/workbook.xml", body: wb})
	switch b.rels {
	case "-":
	case "":
		rels := `<Relationship Id="rId1" Type="` + xlsxRel + `worksheet" Target="/` + sheetPath + `"/>`
		if b.sst != "" {
			rels += `<Relationship Id="rId2" Type="` + xlsxRel + `sharedStrings" Target="sharedStrings.xml"/>`
		}
		if b.styles != "" {
			rels += `<Relationship Id="rId3" Type="` + xlsxRel + `styles" Target="styles.xml"/>`
		}
		parts = append(parts, xlsxPart{name: "xl/_rels/workbook.xml.rels", body: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels + `</Relationships>`})
	default:
		parts = append(parts, xlsxPart{name: "xl/_rels/workbook.xml.rels", body: b.rels})
	}
	if b.sst != "" {
		parts = append(parts, xlsxPart{name: "xl/sharedStrings.xml", body: b.sst})
	}
	if b.styles != "" {
		parts = append(parts, xlsxPart{name: "xl/styles.xml", body: b.styles})
	}
	parts = append(parts, xlsxPart{name: sheetPath, body: b.sheet, store: b.store})
	return xlsxZip(tb, parts...)
}

// xlsxReadAll opens data with OpenXLSX, reads it to the end and returns
// copies of its rows and the error that ended the stream (nil for io.EOF).
// It fails the test when OpenXLSX fails.
func xlsxReadAll(tb testing.TB, data []byte) ([]Row, error) {
	tb.Helper()
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatalf("OpenXLSX: %v", err)
	}
	defer r.Close()
	return readRows(tb, r)
}

// xlsxReadSheetOneByte parses the worksheet XML sheet read one byte at a
// time, with the shared strings of book, so that every token crosses the
// scanner's window boundary.
func xlsxReadSheetOneByte(tb testing.TB, book xlsxBook) ([]Row, error) {
	tb.Helper()
	x := &xlsxReader{sheet: "Data", sst: &xlsxSharedStrings{off: []uint32{0}}}
	if book.sst != "" {
		data := xlsxZip(tb, xlsxPart{name: "sst.xml", body: book.sst})
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			tb.Fatal(err)
		}
		if x.sst, err = xlsxReadSharedStrings(zr.File[0], 0); err != nil {
			tb.Fatal(err)
		}
	}
	x.s.init(iotest.OneByteReader(strings.NewReader(book.sheet)), 0)
	return readRows(tb, x)
}

// xlsxStyles returns a styles part whose cellXfs have the number formats
// ids, with the custom formats numFmts (id, code pairs).
func xlsxStyles(ids []int, numFmts ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
	if len(numFmts) > 0 {
		b.WriteString(`<numFmts>`)
		for i := 0; i+1 < len(numFmts); i += 2 {
			fmt.Fprintf(&b, `<numFmt numFmtId="%s" formatCode="%s"/>`, numFmts[i], numFmts[i+1])
		}
		b.WriteString(`</numFmts>`)
	}
	b.WriteString(`<cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs>`)
	for _, id := range ids {
		fmt.Fprintf(&b, `<xf numFmtId="%d" fontId="0"/>`, id)
	}
	b.WriteString(`</cellXfs></styleSheet>`)
	return b.String()
}

func TestOpenXLSX(t *testing.T) {
	tests := []struct {
		name string
		book xlsxBook
		want []Row
	}{{
		name: "cell types",
		book: xlsxBook{
			sst: xlsxSSTXML(`<t>shared</t>`, `<t xml:space="preserve"> two </t>`),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>` +
				`<c r="C1" t="inlineStr"><is><t>inline</t></is></c><c r="D1"><v>-1.5E-3</v></c>` +
				`<c r="E1" t="n"><v>42</v></c><c r="F1" t="b"><v>1</v></c><c r="G1" t="b"><v>0</v></c>` +
				`<c r="H1" t="e"><v>#N/A</v></c><c r="I1" t="d"><v>2025-10-27T11:47:46Z</v></c>` +
				`<c r="J1" t="str"><f>A1&amp;"x"</f><v>sharedx</v></c><c r="K1"><f>1+1</f><v>2</v></c>` +
				`<c r="L1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>`),
		},
		want: []Row{{1, []string{"shared", " two ", "inline", "-1.5E-3", "42", "TRUE", "FALSE", "#N/A", "2025-10-27T11:47:46Z", "sharedx", "2", "#DIV/0!"}}},
	}, {
		name: "namespace prefixes",
		book: xlsxBook{
			sst: `<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="1"><x:si><x:t>pre</x:t></x:si></x:sst>`,
			sheet: `<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
				`<x:row x:r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="inlineStr"><x:is><x:t>in</x:t></x:is></x:c><x:c r="C1"><x:v>7</x:v></x:c></x:row>` +
				`</x:sheetData></x:worksheet>`,
		},
		want: []Row{{1, []string{"pre", "in", "7"}}},
	}, {
		name: "rich text",
		book: xlsxBook{
			sst: xlsxSSTXML(`<r><rPr><b/><sz val="11"/></rPr><t>bo</t></r><r><t xml:space="preserve">ld </t></r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh><phoneticPr fontId="1"/>`,
				`<t>plain</t><rPh sb="0" eb="1"><t>ふりがな</t></rPh>`),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>` +
				`<c r="C1" t="inlineStr"><is><r><t>a</t></r><r><rPr><i/></rPr><t>b</t></r><rPh><t>x</t></rPh></is></c></row>`),
		},
		want: []Row{{1, []string{"bold ", "plain", "ab"}}},
	}, {
		name: "no r attributes",
		book: xlsxBook{sheet: xlsxSheetXML(`<row><c><v>1</v></c><c><v>2</v></c></row><row><c r="C2"><v>3</v></c><c><v>4</v></c></row><row><c t="inlineStr"><is><t>x</t></is></c></row>`)},
		want: []Row{{1, []string{"1", "2"}}, {2, []string{"", "", "3", "4"}}, {3, []string{"x"}}},
	}, {
		name: "self-closing and sparse",
		book: xlsxBook{sheet: xlsxSheetXML(`<row r="1"/><row r="2" spans="1:3"><c r="A2"/><c r="B2" s="1"/><c r="C2"><v>c</v></c></row>` +
			`<row r="5"><c r="B5"/><c r="AA5"><v>far</v></c></row><row r="6"><c r="A6"><v></v></c><c r="B6" t="inlineStr"><is><t/></is></c></row>` +
			`<row><c r="D7"><v>d</v></c><c r="E7"/></row>`)},
		want: []Row{{2, []string{"", "", "c"}}, {5, append(make([]string, 26), "far")}, {7, []string{"", "", "", "d"}}},
	}, {
		name: "text escapes",
		book: xlsxBook{
			sst: xlsxSSTXML(`<t>a_x000D_b_x005F_x0041_</t>`),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;&#x1F600;</t></is></c>` +
				`<c r="B1" t="inlineStr"><is><t><![CDATA[<raw> & ]]]]><![CDATA[>]]>x</t></is></c>` +
				"<c r=\"C1\" t=\"inlineStr\"><is><t xml:space=\"preserve\">  line1\r\nline2\rline3 <!-- note --></t></is></c>" +
				`<c r="D1" t="s"><v> 0 </v></c><c r="E1" t="str"><v>tab_x0009_</v></c><c r="F1" t="inlineStr"><is><t>日本語 😀</t></is></c></row>`),
		},
		want: []Row{{1, []string{`&<>"'AB😀`, "<raw> & ]]>x", "  line1\nline2\nline3 ", "a\rb_x0041_", "tab\t", "日本語 😀"}}},
	}, {
		name: "markup to skip",
		book: xlsxBook{sheet: "\ufeff<?xml version='1.0' encoding='UTF-8'?>\n<!-- made by hand --><?mso-application progid=\"Excel.Sheet\"?>" +
			"<worksheet " + xlsxNS + "><sheetPr><outlinePr summaryBelow='1'/></sheetPr><sheetData>\n" +
			"  <row r = '3' ht=\"15\" >\n    <c r='A3' t = 'inlineStr' ><is><t>q</t></is></c>\n  <!-- <row r=\"4\"><c><v>no</v></c></row> -->\n  </row>\n" +
			"</sheetData><extLst><ext uri=\"{x}\"><x14:row xmlns:x14=\"urn:x\"><x14:c><x14:v>no</x14:v></x14:c></x14:row></ext></extLst></worksheet>\n"},
		want: []Row{{3, []string{"q"}}},
	}, {
		name: "empty rows and cells skipped",
		book: xlsxBook{
			sst:   xlsxSSTXML(`<t></t>`, `<t>x</t>`),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"/></row><row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2" t="s"><v>0</v></c></row><row r="3"></row>`),
		},
		want: []Row{{2, []string{"x"}}},
	}, {
		name: "empty sheet",
		book: xlsxBook{sheet: `<worksheet ` + xlsxNS + `><sheetData/></worksheet>`},
	}, {
		name: "1904 dates",
		book: xlsxBook{
			date1904: "1",
			// Styles: 0 General, 1 built-in date 14, 2 custom date, 3 custom
			// number, 4 built-in time 21, 5 elapsed [h]:mm, 6 quoted text.
			styles: xlsxStyles([]int{0, 14, 164, 165, 21, 166, 167}, "164", "yyyy-mm-dd", "165", `0.00`, "166", "[h]:mm", "167", `0.0&quot;days&quot;`),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>44130</v></c><c r="B1" s="1"><v>44130</v></c><c r="C1" s="2"><v>44130.5</v></c>` +
				`<c r="D1" s="3"><v>44130</v></c><c r="E1" s="4" t="n"><v>0.25</v></c><c r="F1" s="5"><v>1.5E1</v></c><c r="G1" s="6"><v>3</v></c>` +
				`<c r="H1" s="1" t="inlineStr"><is><t>text</t></is></c><c r="I1" s="9"><v>5</v></c></row>`),
		},
		want: []Row{{1, []string{"44130", "45592", "45592.5", "44130", "1462.25", "1477", "3", "text", "5"}}},
	}, {
		name: "1900 dates kept",
		book: xlsxBook{
			date1904: "false",
			styles:   xlsxStyles([]int{0, 14}),
			sheet:    xlsxSheetXML(`<row r="1"><c r="A1" s="1"><v>45957.5</v></c></row>`),
		},
		want: []Row{{1, []string{"45957.5"}}},
	}, {
		name: "1904 true without styles",
		book: xlsxBook{date1904: "true", sheet: xlsxSheetXML(`<row r="1"><c r="A1" s="1"><v>1</v></c></row>`)},
		want: []Row{{1, []string{"1"}}},
	}, {
		name: "sheet not named sheet1",
		book: xlsxBook{
			sheetPath: "xl/worksheets/data.xml",
			workbook:  `<workbook ` + xlsxNS + `><sheets><sheet name="Chart" sheetId="3" r:id="rId9"/><sheet name="Data" sheetId="2" r:id="rId7"/><sheet name="Other" sheetId="1" r:id="rId1"/></sheets></workbook>`,
			rels: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
				`<Relationship Id="rId1" Type="` + xlsxRel + `worksheet" Target="worksheets/sheet1.xml"/>` +
				`<Relationship Id="rId9" Type="` + xlsxRel + `chartsheet" Target="chartsheets/sheet1.xml"/>` +
				`<Relationship Id="rId7" Type="` + xlsxRel + `worksheet" Target="worksheets/../worksheets/data.xml"/></Relationships>`,
			sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>data</v></c></row>`),
		},
		want: []Row{{1, []string{"data"}}},
	}, {
		name: "prefixed workbook and part names in another case",
		book: xlsxBook{
			sheetPath: "xl/worksheets/Sheet1.xml",
			workbook:  `<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:rr="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:workbookPr x:date1904="true"/><x:sheets><x:sheet name="Data" sheetId="1" rr:id="rId1"/></x:sheets></x:workbook>`,
			rels:      `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `worksheet" Target="WORKSHEETS/sheet1.XML"/><Relationship Id="rId3" Type="` + xlsxRel + `styles" Target="styles.xml"/></Relationships>`,
			styles:    xlsxStyles([]int{0, 14}),
			sheet:     xlsxSheetXML(`<row r="1"><c r="A1" s="1"><v>1</v></c></row>`),
		},
		want: []Row{{1, []string{"1463"}}},
	}, {
		name: "no workbook relationships",
		book: xlsxBook{rels: "-", sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>fallback</v></c></row>`)},
		want: []Row{{1, []string{"fallback"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := xlsxReadAll(t, tt.book.zip(t))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, tt.want)
			}
			if tt.book.styles != "" {
				return // xlsxReadSheetOneByte knows no styles
			}
			got, err = xlsxReadSheetOneByte(t, tt.book)
			if err != nil {
				t.Fatalf("read one byte at a time: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows read one byte at a time:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// xlsxCutAfter returns s cut after the nth occurrence of sep.
func xlsxCutAfter(tb testing.TB, s, sep string, n int) string {
	tb.Helper()
	end := 0
	for range n {
		i := strings.Index(s[end:], sep)
		if i < 0 {
			tb.Fatalf("fewer than %d %q", n, sep)
		}
		end += i + len(sep)
	}
	return s[:end]
}

// xlsxManyRows returns the <row> elements of n rows of a few cells.
func xlsxManyRows(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>order %d</t></is></c><c r="B%d"><v>%d.25</v></c><c r="C%d" t="s"><v>%d</v></c></row>`, i, i, i, i, i*7, i, i%2)
	}
	return b.String()
}

func TestOpenXLSXDamaged(t *testing.T) {
	sst := xlsxSSTXML(`<t>even</t>`, `<t>odd</t>`)
	sheet := xlsxSheetXML(xlsxManyRows(2000))
	good := xlsxBook{sst: sst, sheet: sheet}
	// A sheet over xlsxPrefetchMin, read ahead by a goroutine.
	big := xlsxSheetXML(xlsxManyRows(12000))
	if len(big) < 1<<20+1<<17 {
		t.Fatalf("the large sheet has only %d bytes", len(big))
	}
	// flip returns data with a byte in the middle of the part name's data
	// changed by change.
	flip := func(t *testing.T, data []byte, name string, change func(byte) byte) []byte {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == name {
				off, err := f.DataOffset()
				if err != nil {
					t.Fatal(err)
				}
				d := bytes.Clone(data)
				i := off + int64(f.CompressedSize64)/2
				d[i] = change(d[i])
				return d
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	// digit turns a digit into another one, so that the XML stays
	// well-formed and only the CRC finds the change.
	digit := func(t *testing.T, data []byte) []byte {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		off, err := zr.File[len(zr.File)-1].DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		d := bytes.Clone(data)
		for i := off + int64(zr.File[len(zr.File)-1].CompressedSize64)/2; ; i++ {
			if d[i] >= '0' && d[i] <= '8' && d[i-1] >= '0' && d[i-1] <= '9' {
				d[i]++
				return d
			}
		}
	}
	tests := []struct {
		name     string
		data     func(t *testing.T) []byte
		openErr  error // wanted from OpenXLSX
		readErr  error // wanted from Next
		also     error // also wrapped
		maxRows  int   // at most this many rows before the error
		row      int64 // the error's row, when not 0
		column   string
		nonEmpty bool // the reader must return some rows before failing
	}{{
		name: "cut at a row boundary",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 700)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  700,
		row:      701,
		nonEmpty: true,
	}, {
		name: "cut at a row boundary of a large sheet",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, big, "</row>", 11000)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  11000,
		row:      11001,
		nonEmpty: true,
	}, {
		name: "cut inside a tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 700) + "<row r=\"701\"><c r=\"A7"}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 700,
	}, {
		name: "cut inside a value",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 3) + `<row r="4"><c r="A4"><v>12`}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 3,
	}, {
		name: "no closing worksheet tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: strings.TrimSuffix(sheet, "<pageMargins left=\"0.7\"/></worksheet>")}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 2000,
	}, {
		name:    "no sheetData",
		data:    func(t *testing.T) []byte { return xlsxBook{sheet: `<worksheet ` + xlsxNS + `></worksheet>`}.zip(t) },
		readErr: ErrCorrupt,
	}, {
		name: "flipped compressed byte",
		data: func(t *testing.T) []byte {
			return flip(t, good.zip(t), "xl/worksheets/sheet1.xml", func(b byte) byte { return b ^ 0x55 })
		},
		readErr: ErrCorrupt,
		maxRows: 2000,
	}, {
		name: "flipped compressed byte in a large sheet",
		data: func(t *testing.T) []byte {
			return flip(t, xlsxBook{sst: sst, sheet: big}.zip(t), "xl/worksheets/sheet1.xml", func(b byte) byte { return b ^ 0x55 })
		},
		readErr: ErrCorrupt,
		maxRows: 12000,
	}, {
		name:     "CRC mismatch in a large stored sheet",
		data:     func(t *testing.T) []byte { return digit(t, xlsxBook{sst: sst, sheet: big, store: true}.zip(t)) },
		readErr:  ErrCorrupt,
		also:     zip.ErrChecksum,
		maxRows:  12000,
		nonEmpty: true,
	}, {
		name:     "CRC mismatch in a stored sheet",
		data:     func(t *testing.T) []byte { return digit(t, xlsxBook{sst: sst, sheet: sheet, store: true}.zip(t)) },
		readErr:  ErrCorrupt,
		also:     zip.ErrChecksum,
		maxRows:  2000,
		nonEmpty: true,
	}, {
		name: "flipped byte in the shared strings",
		data: func(t *testing.T) []byte {
			return flip(t, good.zip(t), "xl/sharedStrings.xml", func(b byte) byte { return b ^ 0x55 })
		},
		openErr: ErrCorrupt,
	}, {
		name:    "truncated file",
		data:    func(t *testing.T) []byte { d := good.zip(t); return d[:len(d)/2] },
		openErr: ErrCorrupt,
	}, {
		name:    "truncated end of central directory",
		data:    func(t *testing.T) []byte { d := good.zip(t); return d[:len(d)-5] },
		openErr: ErrCorrupt,
	}, {
		name:    "not a zip",
		data:    func(*testing.T) []byte { return []byte("carrierOrderId,carrierUserId\nCO1,U1\n") },
		openErr: ErrWrongFormat,
	}, {
		name: "an OLE2 file",
		data: func(*testing.T) []byte {
			return append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 600)...)
		},
		openErr: ErrWrongFormat,
	}, {
		name:    "empty",
		data:    func(*testing.T) []byte { return nil },
		openErr: ErrEmpty,
	}, {
		name: "a zip with no workbook",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "word/document.xml", body: "<document/>"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "a word document",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "_rels/.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="word/document.xml"/></Relationships>`},
				xlsxPart{name: "word/document.xml", body: "<w:document xmlns:w=\"urn:w\"/>"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "an xlsb workbook",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "_rels/.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="xl/workbook.bin"/></Relationships>`},
				xlsxPart{name: "xl/workbook.bin", body: "\x83\x01\x00"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "no sheet part",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "xl/workbook.xml", body: "<workbook><sheets/></workbook>"})
		},
		openErr: ErrCorrupt,
	}, {
		name:    "malformed workbook",
		data:    func(t *testing.T) []byte { return xlsxBook{workbook: "<workbook><sheets>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name: "shared strings without their end",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: strings.TrimSuffix(sst, "</sst>"), sheet: sheet}.zip(t)
		},
		openErr: ErrCorrupt,
	}, {
		name:    "shared strings with an end tag only",
		data:    func(t *testing.T) []byte { return xlsxBook{sst: "</sst>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name:    "shared strings outside a table",
		data:    func(t *testing.T) []byte { return xlsxBook{sst: "<si><t>x</t></si>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name: "shared string index out of range",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>`)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  1,
		row:      2,
		column:   "B",
		nonEmpty: true,
	}, {
		name: "shared string index not a number",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxSheetXML(`<row r="3"><c r="C3" t="s"><v>x</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     3,
		column:  "C",
	}, {
		name: "unknown entity",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     1,
	}, {
		name: "bad cell reference",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="1A"><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     1,
	}, {
		name: "column beyond XFD",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="XFE1"><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "bad row number",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="0"><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "unquoted attribute",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r=1><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "huge tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1" x="` + strings.Repeat("a", 2<<20) + `"><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
			if tt.openErr != nil {
				if !errors.Is(err, tt.openErr) {
					t.Fatalf("OpenXLSX error = %v, want one wrapping %v", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenXLSX: %v", err)
			}
			defer r.Close()
			rows, err := readRows(t, r)
			if !errors.Is(err, tt.readErr) {
				t.Fatalf("after %d rows, error = %v, want one wrapping %v", len(rows), err, tt.readErr)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error = %v, want one wrapping %v too", err, tt.also)
			}
			if len(rows) > tt.maxRows {
				t.Errorf("read %d rows before the error, want at most %d", len(rows), tt.maxRows)
			}
			if tt.nonEmpty && len(rows) == 0 {
				t.Error("read no rows before the error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Sheet != "Data" {
				t.Errorf("ParseError.Sheet = %q, want Data", pe.Sheet)
			}
			if tt.row != 0 && pe.Row != tt.row {
				t.Errorf("ParseError.Row = %d, want %d (%v)", pe.Row, tt.row, err)
			}
			if pe.Column != tt.column {
				t.Errorf("ParseError.Column = %q, want %q (%v)", pe.Column, tt.column, err)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the error = %v, want the same error %v", again, err)
			}
		})
	}
}

// xlsxCellRef returns the reference of the cell at the 0-based column col
// of row.
func xlsxCellRef(tb testing.TB, col, row int) string {
	tb.Helper()
	ref, err := excelize.CoordinatesToCellName(col+1, row)
	if err != nil {
		tb.Fatal(err)
	}
	return ref
}

// xlsxExcelizeRows reads the first sheet of data with excelize's Rows and
// Options{RawCellValue: true}, and returns its non-empty rows as OpenXLSX
// documents them: trailing empty cells dropped, booleans as TRUE and FALSE,
// and the date cells listed in dates1904 (of a 1904-system workbook) turned
// into 1900-system serials.
func xlsxExcelizeRows(tb testing.TB, data []byte, dates1904 map[string]bool) []Row {
	tb.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sheet := f.GetSheetList()[0]
	rows, err := f.Rows(sheet)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []Row
	for n := int64(1); rows.Next(); n++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			tb.Fatal(err)
		}
		for i, v := range cells {
			ref := xlsxCellRef(tb, i, int(n))
			typ, err := f.GetCellType(sheet, ref)
			if err != nil {
				tb.Fatal(err)
			}
			if typ == excelize.CellTypeBool {
				cells[i] = map[string]string{"1": "TRUE", "0": "FALSE"}[v]
			}
			if dates1904[ref] {
				serial, err := strconv.ParseFloat(v, 64)
				if err != nil {
					tb.Fatalf("%s: %v", ref, err)
				}
				cells[i] = strconv.FormatFloat(serial+1462, 'f', -1, 64)
			}
		}
		for len(cells) > 0 && cells[len(cells)-1] == "" {
			cells = cells[:len(cells)-1]
		}
		if len(cells) > 0 {
			out = append(out, Row{Number: n, Cells: cells})
		}
	}
	if err := rows.Error(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// xlsxSameRows reports the differences between the rows got and want,
// comparing the cells listed in numeric as numbers.
func xlsxSameRows(tb testing.TB, got, want []Row, numeric map[string]bool) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Errorf("read %d rows, excelize %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Number != w.Number || len(g.Cells) != len(w.Cells) {
			tb.Errorf("row %d:\n got %d %q\nwant %d %q", i, g.Number, g.Cells, w.Number, w.Cells)
			continue
		}
		for j := range g.Cells {
			ref := xlsxCellRef(tb, j, int(g.Number))
			if numeric[ref] {
				a, err1 := strconv.ParseFloat(g.Cells[j], 64)
				b, err2 := strconv.ParseFloat(w.Cells[j], 64)
				if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-9 {
					tb.Errorf("%s = %q, want %q", ref, g.Cells[j], w.Cells[j])
				}
				continue
			}
			if g.Cells[j] != w.Cells[j] {
				tb.Errorf("%s = %q, want %q", ref, g.Cells[j], w.Cells[j])
			}
		}
	}
}

// xlsxOracleValues are values of every kind excelize writes.
func xlsxOracleValues(i int) []any {
	when := time.Date(2025, 10, 27, 11, 47, 46, 0, time.UTC).Add(time.Duration(i) * 36 * time.Hour)
	return []any{
		fmt.Sprintf("CO%09d", i),
		i * 7,
		float64(i) + 0.25,
		-3.5e-7 * float64(i),
		i%2 == 0,
		when,
		`entities & < > " ' done`,
		"日本語テキスト 😀 ünïcödé",
		"  spaced  ",
		"line1\nline2\ttab\r\nline3",
		strings.Repeat("long text ", 500),
		"",
		nil,
		"1p500g",
		int64(math.MaxInt64),
		1e21,
		"=not a formula",
	}
}

func TestOpenXLSXMatchesExcelize(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T) (*excelize.File, map[string]bool) // the workbook and its 1904 date cells
	}{{
		name: "shared strings",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			for i := 1; i <= 40; i++ {
				row := i
				if i > 20 {
					row = i * 3 // gaps between rows
				}
				ref := xlsxCellRef(t, i%3, row)
				values := xlsxOracleValues(i)
				if err := f.SetSheetRow("Sheet1", ref, &values); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				ref string
				v   any
			}{{"AB5", "far"}, {"D200", 1.5}, {"ZZ201", "zz"}, {"A202", true}, {"B202", false}, {"C202", ""}} {
				if err := f.SetCellValue("Sheet1", c.ref, c.v); err != nil {
					t.Fatal(err)
				}
			}
			return f, nil
		},
	}, {
		name: "stream writer",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			sw, err := f.NewStreamWriter("Sheet1")
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 60; i++ {
				row := i
				if i > 30 {
					row = i + 10 // a gap
				}
				values := xlsxOracleValues(i)
				values = append(values,
					excelize.Cell{Formula: fmt.Sprintf("B%d*2", row), Value: i * 14},
					excelize.Cell{Formula: `"x"&"y"`, Value: "xy"},
					[]excelize.RichTextRun{{Text: "bold", Font: &excelize.Font{Bold: true}}, {Text: " & plain"}},
				)
				ref := xlsxCellRef(t, i%4, row)
				if err := sw.SetRow(ref, values); err != nil {
					t.Fatal(err)
				}
			}
			if err := sw.SetRow("C100", []any{nil, nil, "after blanks"}); err != nil {
				t.Fatal(err)
			}
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			return f, nil
		},
	}, {
		name: "1904 dates",
		build: func(t *testing.T) (*excelize.File, map[string]bool) {
			f := excelize.NewFile()
			yes := true
			if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
				t.Fatal(err)
			}
			dates := map[string]bool{}
			for i := 1; i <= 30; i++ {
				ref := xlsxCellRef(t, 1, i)
				when := time.Date(2020+i%7, time.Month(1+i%12), 1+i, i%24, i, 0, 0, time.UTC)
				if err := f.SetCellValue("Sheet1", ref, when); err != nil {
					t.Fatal(err)
				}
				dates[ref] = true
				if err := f.SetSheetRow("Sheet1", fmt.Sprintf("C%d", i), &[]any{float64(i) + 0.5, "text", i%2 == 1}); err != nil {
					t.Fatal(err)
				}
			}
			return f, dates
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dates := tt.build(t)
			buf, err := f.WriteToBuffer()
			if err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			want := xlsxExcelizeRows(t, data, dates)
			if len(want) < 20 {
				t.Fatalf("excelize read only %d rows", len(want))
			}
			got, err := xlsxReadAll(t, data)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			xlsxSameRows(t, got, want, dates)
		})
	}
}

func TestOpenXLSXProgress(t *testing.T) {
	var buf bytes.Buffer
	if err := xlsxWriteBench(&buf, xlsxBenchInline, 5000); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if p := r.Progress(); p != 0 {
		t.Errorf("progress before reading = %v, want 0", p)
	}
	if rows := readWithProgress(t, r); rows != 5001 {
		t.Errorf("read %d rows, want 5001", rows)
	}
}

func TestOpenXLSXClose(t *testing.T) {
	var buf bytes.Buffer
	if err := xlsxWriteBench(&buf, xlsxBenchShared, 5000); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row.Number != 1 || len(row.Cells) != 10 || row.Cells[0] != Columns[0].Name {
		t.Errorf("first row = %v", row)
	}
	// Close in the middle of the sheet stops the read-ahead.
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want an error", err)
	}
}

func TestOpenXLSXCellsReused(t *testing.T) {
	data := xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>a</v></c><c r="B1"><v>b</v></c></row><row r="2"><c r="A2"><v>c</v></c></row>`)}.zip(t)
	r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	a := first.Cells[0]
	second, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if a != "a" || len(second.Cells) != 1 || second.Cells[0] != "c" {
		t.Errorf("got %q then %q", a, second.Cells)
	}
}

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
