package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
	x := &xlsxReader{sheet: "Data", lim: DefaultLimits(), sst: &xlsxSharedStrings{off: []uint32{0}}}
	if book.sst != "" {
		data := xlsxZip(tb, xlsxPart{name: "sst.xml", body: book.sst})
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			tb.Fatal(err)
		}
		if x.sst, err = xlsxReadSharedStrings(zr.File[0], sstOptions{}); err != nil {
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
