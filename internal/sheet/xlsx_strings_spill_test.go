package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// spillLimits returns the default limits with the shared strings table
// moved to a temporary file in dir once it holds more than at bytes.
func spillLimits(dir string, at int64) Limits {
	l := DefaultLimits()
	l.StringsMemory, l.TempDir = at, dir
	return l
}

// readBookWithin reads every sheet of the workbook data within l and
// returns the rows of each, and the first error.
func readBookWithin(tb testing.TB, l Limits, data []byte) ([][]Row, error) {
	tb.Helper()
	b, err := l.OpenBook(bytes.NewReader(data), int64(len(data)), XLSX)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var out [][]Row
	for i := range b.Sheets() {
		r, err := b.Open(i)
		if err != nil {
			return out, err
		}
		rows, err := readRows(tb, r)
		r.Close()
		out = append(out, rows)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// noSpillFiles fails the test when dir holds a file.
func noSpillFiles(tb testing.TB, dir string) {
	tb.Helper()
	if names, _ := os.ReadDir(dir); len(names) > 0 {
		tb.Errorf("%d files left in the temporary folder (%s)", len(names), names[0].Name())
	}
}

// spillWorkbook returns a workbook of sheets sheets whose text cells refer
// to a table of shared strings of every kind, stored in order of first
// use as Excel does: empty, escaped, rich text with phonetic runs, longer
// than a read window and than the cache's longest, strings used on every
// row, and references back to earlier strings.
func spillWorkbook(tb testing.TB, sheets, rows int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var sst strings.Builder
	index := map[string]int{}
	var items []string // the XML of each <si>
	ref := func(item string) int {
		i, ok := index[item]
		if !ok {
			i = len(items)
			index[item] = i
			items = append(items, item)
			sst.WriteString("<si>" + item + "</si>")
		}
		return i
	}
	text := func(s string) string {
		var b strings.Builder
		b.WriteString(`<t xml:space="preserve">`)
		xml.EscapeText(&b, []byte(s))
		b.WriteString(`</t>`)
		return b.String()
	}
	long := strings.Repeat("0123456789abcdef", spillWindow/16+100)
	var parts []xlsxPart
	var wbSheets, rels strings.Builder
	for s := range sheets {
		var sh strings.Builder
		for r := 1; r <= rows; r++ {
			fmt.Fprintf(&sh, `<row r="%d">`, r)
			cells := []string{
				text(fmt.Sprintf("CO%09d-%d", r, s)),                   // new on every row
				text([]string{"SKU-A", "SKU-B", "SKU-C"}[r%3]),         // used on every row
				text(strings.Repeat("x", 200+r%100)),                   // near spillHotMax
				text(strings.Repeat("y", spillHotMax+1+r%7)),           // past it
				text("line1\r\nline2 & < > \" é 😀") + `<t>_x000D_</t>`, // escapes
				`<r><t>rich</t></r><r><t xml:space="preserve"> ` + fmt.Sprint(r%5) + `</t></r><rPh sb="0" eb="1"><t>ph</t></rPh>`,
				`<t/>`,
			}
			if len(items) > 0 {
				cells = append(cells, items[rng.IntN(len(items))]) // refers back
			}
			if r%97 == 0 {
				cells = append(cells, text(long[:spillWindow+r])) // past a read window
			}
			for c, item := range cells {
				fmt.Fprintf(&sh, `<c r="%s%d" t="s"><v>%d</v></c>`, ColumnLetter(c), r, ref(item))
			}
			fmt.Fprintf(&sh, `<c r="%s%d"><v>%d</v></c></row>`, ColumnLetter(len(cells)), r, r)
		}
		parts = append(parts, xlsxPart{name: fmt.Sprintf("xl/worksheets/sheet%d.xml", s+1), body: xlsxSheetXML(sh.String())})
		fmt.Fprintf(&wbSheets, `<sheet name="S%d" sheetId="%d" r:id="rId%d"/>`, s+1, s+1, s+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>`, s+1, xlsxRel, s+1)
	}
	fmt.Fprintf(&rels, `<Relationship Id="rIdS" Type="%ssharedStrings" Target="sharedStrings.xml"/>`, xlsxRel)
	parts = append(parts,
		xlsxPart{name: "_rels/.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		xlsxPart{name: "xl/workbook.xml", body: `<workbook ` + xlsxNS + `><sheets>` + wbSheets.String() + `</sheets></workbook>`},
		xlsxPart{name: "xl/_rels/workbook.xml.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels.String() + `</Relationships>`},
		xlsxPart{name: "xl/sharedStrings.xml", body: fmt.Sprintf(`<sst count="%d" uniqueCount="%d">`, len(items), len(items)) + sst.String() + `</sst>`},
	)
	return xlsxZip(tb, parts...)
}

// TestXLSXStringsSpill: a shared strings table moved to a temporary file,
// from its first string or midway, reads to the same rows as in memory,
// through a Book of several sheets and through OpenXLSX, and leaves no
// file behind.
func TestXLSXStringsSpill(t *testing.T) {
	data := spillWorkbook(t, 3, 700)
	want, err := readBookWithin(t, DefaultLimits(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 || len(want[2]) != 700 || want[2][0].Cells[1] != "SKU-B" || want[0][96].Cells[8] == "" {
		t.Fatalf("the workbook reads to %d sheets, %q", len(want), want[0][0].Cells)
	}
	// The same table through the oracle workbooks of excelize.
	oracle := excelize.NewFile()
	for i := 1; i <= 40; i++ {
		values := xlsxOracleValues(i)
		if err := oracle.SetSheetRow("Sheet1", xlsxCellRef(t, i%3, i), &values); err != nil {
			t.Fatal(err)
		}
	}
	obuf, err := oracle.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	ob := obuf.Bytes()
	for _, at := range []int64{1, 4 << 10, 200 << 10} {
		t.Run(fmt.Sprint(at), func(t *testing.T) {
			dir := t.TempDir()
			got, err := readBookWithin(t, spillLimits(dir, at), data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for s := range min(len(got), len(want)) {
					for i := range min(len(got[s]), len(want[s])) {
						if !reflect.DeepEqual(got[s][i], want[s][i]) {
							t.Fatalf("sheet %d row %d:\n got %q\nwant %q", s, i, got[s][i].Cells, want[s][i].Cells)
						}
					}
				}
				t.Fatalf("sheets of %v rows, want %v", len(got), len(want))
			}
			noSpillFiles(t, dir)

			wantOracle, err := xlsxReadAll(t, ob)
			if err != nil {
				t.Fatal(err)
			}
			gotOracle, err := readAllWithin(t, spillLimits(dir, at), ob, XLSX)
			if err != nil || !reflect.DeepEqual(gotOracle, wantOracle) {
				t.Fatalf("oracle workbook: %v\n got %v\nwant %v", err, gotOracle, wantOracle)
			}
			xlsxSameRows(t, gotOracle, xlsxExcelizeRows(t, ob, nil), nil)
			noSpillFiles(t, dir)
		})
	}
}

// TestXLSXStringsSpillMoves: the table moves to disk past StringsMemory and
// only then, and not when StringsMemory is not below SharedStrings.
func TestXLSXStringsSpillMoves(t *testing.T) {
	book := sharedStringsBook(t, 40, 1024) // 41 KiB with the offsets
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var part *zip.File
	for _, f := range zr.File {
		if f.Name == "xl/sharedStrings.xml" {
			part = f
		}
	}
	tests := []struct {
		lim       Limits
		disk      bool
		refusedBy Limit
	}{
		{Limits{StringsMemory: 64 << 10}, false, ""},
		{Limits{StringsMemory: 16 << 10}, true, ""},
		{Limits{StringsMemory: 16 << 10, SharedStrings: 16 << 10}, false, LimitSharedStrings},
		{Limits{StringsMemory: 16 << 10, SharedStrings: 20 << 10}, true, ""},
	}
	for _, tt := range tests {
		tt.lim.TempDir = t.TempDir()
		sst, err := xlsxReadSharedStrings(part, sstOptions{limits: tt.lim})
		if tt.refusedBy != "" {
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tt.refusedBy {
				t.Errorf("%+v: err %v, want past %s", tt.lim, err, tt.refusedBy)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%+v: %v", tt.lim, err)
		}
		if (sst.disk != nil) != tt.disk || sst.len() != 40 {
			t.Errorf("%+v: on disk %v, %d strings; want on disk %v, 40", tt.lim, sst.disk != nil, sst.len(), tt.disk)
		}
		sst.close()
		noSpillFiles(t, tt.lim.TempDir)
	}
}

// TestXLSXStringsSpillGet reads a table on disk in every order: forward,
// backward, at random, each index again, across groups and windows.
func TestXLSXStringsSpillGet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d, err := newXLSXStringsSpill(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	var want []string
	for i := range 20000 {
		n := rng.IntN(40)
		switch {
		case i%1000 == 7:
			n = spillWindow*2 + rng.IntN(1000)
		case i%50 == 3:
			n = spillHotMax + rng.IntN(2000)
		case i%11 == 0:
			n = 0
		}
		s := make([]byte, n)
		for j := range s {
			s[j] = byte('a' + rng.IntN(26))
		}
		if err := d.add(s); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(s))
	}
	if err := d.finish(); err != nil {
		t.Fatal(err)
	}
	check := func(order string, i int) {
		t.Helper()
		got, err := d.get(i)
		if err != nil || string(got) != want[i] {
			t.Fatalf("%s: string %d = %.20q (%d bytes), %v; want %.20q (%d bytes)", order, i, got, len(got), err, want[i], len(want[i]))
		}
	}
	for i := range want {
		check("forward", i)
	}
	for i := len(want) - 1; i >= 0; i-- {
		check("backward", i)
	}
	for range 50000 {
		check("random", rng.IntN(len(want)))
	}
	for i := range want {
		check("each twice", i)
		check("each twice", i)
		check("hot", 5) // one string used on every row
	}
}

// TestXLSXStringsSpillHostile: a table on disk keeps memory bounded against
// a hostile workbook: a row of many references to a long string is refused
// at the row's limit (its strings are read into the row), a table of a
// million empty strings costs an index of 8 bytes for 64, an index out of
// range is damage, and a temporary folder that cannot be written to is an
// error, not a panic.
func TestXLSXStringsSpillHostile(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("z", 60000)
	var cells strings.Builder
	for c := range 300 { // 300 × 60 KB = 18 MB of text in one row
		fmt.Fprintf(&cells, `<c r="%s1" t="s"><v>1</v></c>`, ColumnLetter(c))
	}
	book := xlsxBook{sst: xlsxSSTXML(`<t>a</t>`, `<t>`+long+`</t>`), sheet: xlsxSheetXML(`<row r="1">` + cells.String() + `</row>`)}.zip(t)
	_, err := readAllWithin(t, spillLimits(dir, 1), book, XLSX)
	wantLimit(t, err, LimitRowBytes, "row's size")
	noSpillFiles(t, dir)
	// Within the row's limit, the same strings as in memory.
	lim := spillLimits(dir, 1)
	lim.RowBytes = 32 << 20
	got, err := readAllWithin(t, lim, book, XLSX)
	if err != nil || len(got) != 1 || len(got[0].Cells) != 300 || got[0].Cells[299] != long {
		t.Fatalf("within the limit: %d rows, %v", len(got), err)
	}

	// A million empty strings (<si/>): 5 MB of XML.
	empties := `<sst>` + strings.Repeat(`<si/>`, 1<<20) + `<si><t>last</t></si></sst>`
	book = xlsxBook{sst: empties, sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1048576</v></c><c r="C1" t="s"><v>1048577</v></c></row>`)}.zip(t)
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/sharedStrings.xml" {
			continue
		}
		sst, err := xlsxReadSharedStrings(f, sstOptions{limits: spillLimits(dir, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if sst.disk == nil || sst.len() != 1<<20+1 || sst.disk.size != 1<<20+5 {
			t.Errorf("a million empty strings: on disk %v, %d strings", sst.disk != nil, sst.len())
		} else if cap(sst.disk.idx)*8 > 300<<10 {
			t.Errorf("an index of %d bytes", cap(sst.disk.idx)*8)
		}
		sst.close()
	}
	_, err = readAllWithin(t, spillLimits(dir, 1), book, XLSX)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index past the table on disk: %v, want ErrCorrupt", err)
	}
	noSpillFiles(t, dir)

	// No temporary folder.
	book = spillWorkbook(t, 1, 10)
	_, err = readAllWithin(t, spillLimits(dir+"/missing", 1), book, XLSX)
	if err == nil || errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "temporary file") {
		t.Errorf("no temporary folder: %v", err)
	}
}

// FuzzXLSXStringsSpill checks that a shared strings part reads to the same
// strings on disk as in memory, whatever the input.
//
//	go test -run '^$' -fuzz FuzzXLSXStringsSpill -fuzztime 1m ./internal/sheet/
func FuzzXLSXStringsSpill(f *testing.F) {
	for _, s := range []string{
		xlsxFuzzSST,
		`<sst><si><t>a</t></si><si/><si><r><t>b</t></r><rPh><t>c</t></rPh></si><si><t>_x0041_&amp;</t></si></sst>`,
		xlsxSSTXML(`<t xml:space="preserve"> two </t>`, `<t/>`, `<t>`+strings.Repeat("é", 300)+`</t>`),
	} {
		f.Add([]byte(s), uint16(1))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sst []byte, at uint16) {
		part := xlsxZip(t, xlsxPart{name: "sst.xml", body: string(sst)})
		zr, err := zip.NewReader(bytes.NewReader(part), int64(len(part)))
		if err != nil {
			t.Fatal(err)
		}
		lim := Limits{SharedStrings: 1 << 20, Inflated: 4 << 20}
		mem, err1 := xlsxReadSharedStrings(zr.File[0], sstOptions{limits: lim})
		lim.StringsMemory, lim.TempDir = int64(at)+1, dir
		disk, err2 := xlsxReadSharedStrings(zr.File[0], sstOptions{limits: lim})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("in memory: %v; on disk: %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		defer disk.close()
		if mem.len() != disk.len() {
			t.Fatalf("%d strings in memory, %d on disk", mem.len(), disk.len())
		}
		for i := range mem.len() {
			want := mem.at(i)
			if disk.disk == nil {
				if disk.at(i) != want {
					t.Fatalf("string %d", i)
				}
				continue
			}
			got, err := disk.disk.get(i)
			if err != nil || string(got) != want {
				t.Fatalf("string %d = %q, %v; want %q", i, got, err, want)
			}
		}
	})
}
