package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of the .xlsx reader. They bound the memory a damaged or hostile file
// can make it use; Excel's own limits are far below them.
const (
	// xlsxBufSize is the size of the window the XML scanner reads through.
	xlsxBufSize = 64 << 10
	// xlsxMaxMarkup is the longest tag, comment, processing instruction or
	// declaration the scanner accepts (the window grows up to it).
	xlsxMaxMarkup = 1 << 20
	// xlsxMaxText is the longest cell text or shared string, in bytes
	// (Excel's limit is 32,767 characters).
	xlsxMaxText = 16 << 20
	// xlsxMaxRowText is the most text one row may hold, in bytes.
	xlsxMaxRowText = 64 << 20
	// xlsxMaxColumns is the number of columns of a worksheet (A to XFD).
	xlsxMaxColumns = 16384
	// xlsxMaxRatio bounds the uncompressed size a zip entry may claim
	// relative to its compressed size (deflate cannot exceed about 1032:1),
	// so that a false claim cannot make OpenXLSX reserve memory.
	xlsxMaxRatio = 1100
)

// OpenXLSX returns a Reader of the first worksheet of the .xlsx (Office Open
// XML) workbook read from r, whose length in bytes is size.
//
// The first worksheet is the first <sheet> of xl/workbook.xml that its
// relationships resolve to a worksheet part; when the workbook has no
// relationships part, xl/worksheets/sheet1.xml. The sheet is read as a
// stream, by a byte-level scanner; only the shared strings table is held in
// memory, compactly (the text of the strings end to end, and four bytes a
// string).
//
// Row.Cells holds each cell's text: a shared or inline string (rich text runs
// joined, phonetic runs left out, _xHHHH_ escapes decoded), a number as
// stored (no number format applied), TRUE or FALSE for a boolean, the error
// text (#N/A) of an error cell, the ISO 8601 text of a t="d" cell, and the
// cached value of a formula cell. A number in a date-formatted cell is the
// serial day number of the 1900 date system: OpenXLSX adds 1462 to those of
// a workbook that uses the 1904 date system. Row.Number is the row's r
// attribute, or one more than the previous row's when it has none. Rows
// whose cells are all empty are skipped and trailing empty cells are left
// out. The Cells slice of a returned Row is reused by the next call to Next
// (the strings in it are not).
//
// OpenXLSX returns an error wrapping ErrEmpty when size is 0,
// ErrWrongFormat when r is not a zip archive or holds no workbook, and
// ErrCorrupt when the archive or a part OpenXLSX reads (the workbook, its
// relationships, the styles of a 1904-system workbook, the shared strings)
// is damaged. Each part is read to its end, so that a CRC mismatch is
// found.
//
// Next returns io.EOF only after the sheet's closing tags and its CRC
// check. A sheet that is cut short, does not inflate, fails its CRC, or
// holds what the scanner cannot read (a malformed tag, an unknown entity, a
// cell reference past column XFD, a tag over 1 MiB, a text over 16 MiB)
// makes Next return a *ParseError wrapping ErrCorrupt and the cause, with
// the row number when it is known. So does a shared string index out of
// range, with the row and the column. After an error, Next returns the
// same error again. Progress returns the fraction of the
// sheet's uncompressed bytes read.
//
// A goroutine inflates a sheet of over 1 MiB ahead of the scanner, which on
// two cores makes reading take little longer than inflating. Close stops it
// and releases the sheet's zip reader: call Close whether or not the sheet
// was read to its end. The Reader is not safe for concurrent use.
func OpenXLSX(r io.ReaderAt, size int64) (Reader, error) {
	return openXLSX(r, size, 0)
}

// HeadStrings is how many shared strings OpenXLSXHead reads.
const HeadStrings = 4096

// OpenXLSXHead is OpenXLSX for a quick look at the first rows: it reads
// only the first HeadStrings strings of the shared-strings table, so a
// workbook of millions of strings opens at once. A cell whose string lies
// beyond them makes Next return an error wrapping ErrCorrupt (writers store
// strings in order of first use, so the first rows rarely do); the caller
// may then fall back to OpenXLSX. The table's end is not checked.
func OpenXLSXHead(r io.ReaderAt, size int64) (Reader, error) {
	return openXLSX(r, size, HeadStrings)
}

func openXLSX(r io.ReaderAt, size int64, limit int) (Reader, error) {
	if size <= 0 {
		return nil, fmt.Errorf("open xlsx: %w", ErrEmpty)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		if xlsxLooksLikeZip(r) {
			return nil, fmt.Errorf("open xlsx: %w: %w", ErrCorrupt, err)
		}
		return nil, fmt.Errorf("open xlsx: not a zip archive: %w", ErrWrongFormat)
	}
	pkg := xlsxPackage{files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		if _, dup := pkg.files[name]; !dup {
			pkg.files[name] = f
		}
	}
	wb, err := pkg.workbook()
	if err != nil {
		return nil, err
	}
	sst := &xlsxSharedStrings{off: []uint32{0}}
	if f := pkg.file(wb.sharedStrings); f != nil {
		if sst, err = xlsxReadSharedStrings(f, limit); err != nil {
			return nil, err
		}
	}
	x := &xlsxReader{sheet: wb.sheetName, sst: sst, date1904: wb.date1904}
	if wb.date1904 {
		if f := pkg.file(wb.styles); f != nil {
			if x.dateXf, err = xlsxReadDateStyles(f); err != nil {
				return nil, err
			}
		}
	}
	sheet := pkg.file(wb.sheetPath)
	if sheet == nil {
		return nil, &ParseError{Sheet: wb.sheetName, Err: fmt.Errorf("no part %s in the archive: %w", wb.sheetPath, ErrCorrupt)}
	}
	rc, err := sheet.Open()
	if err != nil {
		return nil, &ParseError{Sheet: wb.sheetName, Err: fmt.Errorf("open %s: %w: %w", sheet.Name, ErrCorrupt, err)}
	}
	x.rc = rc
	x.size = int64(sheet.UncompressedSize64)
	if x.size > xlsxPrefetchMin {
		x.pf = newXLSXPrefetch(rc)
		x.s.init(x.pf, x.size)
	} else {
		x.s.init(rc, x.size)
	}
	return x, nil
}

// xlsxLooksLikeZip reports whether r starts with a zip signature, which tells
// a damaged zip archive from a file of another kind.
func xlsxLooksLikeZip(r io.ReaderAt) bool {
	var head [4]byte
	if n, _ := r.ReadAt(head[:], 0); n < len(head) {
		return false
	}
	switch string(head[:]) {
	case "PK\x03\x04", "PK\x05\x06", "PK\x07\x08":
		return true
	}
	return false
}

// xlsxPackage is the zip archive of a workbook.
type xlsxPackage struct {
	files map[string]*zip.File // by lower-case name without a leading slash
}

// file returns the part named name (OOXML part names ignore case), or nil.
func (p *xlsxPackage) file(name string) *zip.File {
	if name == "" {
		return nil
	}
	return p.files[strings.ToLower(name)]
}

// xlsxWorkbook is what OpenXLSX takes from the workbook part and its
// relationships.
type xlsxWorkbook struct {
	sheetName     string
	sheetPath     string
	sharedStrings string // part name, or "" when there is none
	styles        string
	date1904      bool
}

// xlsxRelationships is a relationships (.rels) part.
type xlsxRelationships struct {
	Rels []struct {
		ID         string `xml:"Id,attr"`
		Type       string `xml:"Type,attr"`
		Target     string `xml:"Target,attr"`
		TargetMode string `xml:"TargetMode,attr"`
	} `xml:"Relationship"`
}

// xlsxWorkbookPart is the workbook part (xl/workbook.xml).
type xlsxWorkbookPart struct {
	XMLName xml.Name
	Pr      struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name string `xml:"name,attr"`
		RID  string `xml:"id,attr"` // r:id
	} `xml:"sheets>sheet"`
}

// workbook finds the workbook part, reads it and its relationships, and
// returns where the first worksheet, the shared strings and the styles are.
func (p *xlsxPackage) workbook() (xlsxWorkbook, error) {
	var wb xlsxWorkbook
	wbPath := "xl/workbook.xml"
	if f := p.file("_rels/.rels"); f != nil {
		rels, err := xlsxReadRels(f)
		if err != nil {
			return wb, err
		}
		for _, rel := range rels.Rels {
			if strings.HasSuffix(rel.Type, "/officeDocument") && rel.TargetMode != "External" {
				if t := xlsxResolve("", rel.Target); p.file(t) != nil {
					wbPath = t
				}
				break
			}
		}
	}
	f := p.file(wbPath)
	if f == nil {
		return wb, fmt.Errorf("open xlsx: no workbook part (xl/workbook.xml): %w", ErrWrongFormat)
	}
	if !strings.HasSuffix(strings.ToLower(wbPath), ".xml") {
		// An .xlsb workbook (xl/workbook.bin) or another binary package.
		return wb, fmt.Errorf("open xlsx: the workbook part %s is not XML (an .xlsb file?): %w", f.Name, ErrWrongFormat)
	}
	var part xlsxWorkbookPart
	if err := xlsxDecodePart(f, &part); err != nil {
		return wb, err
	}
	if part.XMLName.Local != "workbook" {
		return wb, fmt.Errorf("open xlsx: %s is a <%s>, not a workbook: %w", f.Name, part.XMLName.Local, ErrWrongFormat)
	}
	wb.date1904 = part.Pr.Date1904 == "1" || strings.EqualFold(part.Pr.Date1904, "true")

	dir := path.Dir(wbPath)
	rels := xlsxRelationships{}
	if rf := p.file(path.Join(dir, "_rels", path.Base(wbPath)+".rels")); rf != nil {
		var err error
		if rels, err = xlsxReadRels(rf); err != nil {
			return wb, err
		}
	}
	for _, rel := range rels.Rels {
		if rel.TargetMode == "External" {
			continue
		}
		switch {
		case strings.HasSuffix(rel.Type, "/sharedStrings") && wb.sharedStrings == "":
			wb.sharedStrings = xlsxResolve(dir, rel.Target)
		case strings.HasSuffix(rel.Type, "/styles") && wb.styles == "":
			wb.styles = xlsxResolve(dir, rel.Target)
		}
	}
	if wb.sharedStrings == "" && p.file("xl/sharedStrings.xml") != nil {
		wb.sharedStrings = "xl/sharedStrings.xml"
	}
	if wb.styles == "" {
		wb.styles = "xl/styles.xml"
	}
	// The first sheet that is a worksheet (not a chart or dialog sheet).
	for _, sh := range part.Sheets {
		for _, rel := range rels.Rels {
			if rel.ID == sh.RID && strings.HasSuffix(rel.Type, "/worksheet") && rel.TargetMode != "External" {
				wb.sheetName, wb.sheetPath = sh.Name, xlsxResolve(dir, rel.Target)
				return wb, nil
			}
		}
	}
	wb.sheetPath = "xl/worksheets/sheet1.xml"
	if len(part.Sheets) > 0 {
		wb.sheetName = part.Sheets[0].Name
	}
	if wb.sheetName == "" {
		wb.sheetName = "Sheet1"
	}
	return wb, nil
}

// xlsxResolve returns the part name a relationship target names, relative to
// the folder dir of the part the relationship belongs to.
func xlsxResolve(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(target)[1:]
	}
	return strings.TrimPrefix(path.Join(dir, target), "/")
}

// xlsxReadRels reads a relationships part.
func xlsxReadRels(f *zip.File) (xlsxRelationships, error) {
	var rels xlsxRelationships
	err := xlsxDecodePart(f, &rels)
	return rels, err
}

// xlsxDecodePart decodes the small XML part f into v with encoding/xml and
// reads the part to its end, so that archive/zip checks its CRC. Every
// error it returns wraps ErrCorrupt.
func xlsxDecodePart(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open xlsx: open %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("open xlsx: read %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("open xlsx: read %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	return nil
}

// xlsxStylesPart is the part of the styles part (xl/styles.xml) that tells
// which cell styles are date formats.
type xlsxStylesPart struct {
	NumFmts []struct {
		ID   string `xml:"numFmtId,attr"`
		Code string `xml:"formatCode,attr"`
	} `xml:"numFmts>numFmt"`
	Xfs []struct {
		NumFmtID string `xml:"numFmtId,attr"`
	} `xml:"cellXfs>xf"`
}

// xlsxReadDateStyles reads the styles part f and returns, for each cell
// style (the s attribute of a cell), whether its number format is a date or
// time format.
func xlsxReadDateStyles(f *zip.File) ([]bool, error) {
	var part xlsxStylesPart
	if err := xlsxDecodePart(f, &part); err != nil {
		return nil, err
	}
	custom := make(map[int]string, len(part.NumFmts))
	for _, nf := range part.NumFmts {
		if id, err := strconv.Atoi(strings.TrimSpace(nf.ID)); err == nil {
			custom[id] = nf.Code
		}
	}
	dates := make([]bool, len(part.Xfs))
	for i, xf := range part.Xfs {
		id, err := strconv.Atoi(strings.TrimSpace(xf.NumFmtID))
		if err != nil {
			continue
		}
		if code, ok := custom[id]; ok {
			dates[i] = isDateFormat(code)
		} else {
			dates[i] = isDateFormatID(id)
		}
	}
	return dates, nil
}

// xlsxSharedStrings is a workbook's shared strings table, held compactly:
// the text of all the strings, end to end, in chunks of 1<<bits bytes (a
// string never crosses from one chunk into the next; one longer than a
// chunk has a chunk of its own, which takes the place of as many chunks as
// it needs), and the offset of each string in that sequence. Chunks let the
// table grow without copying it, so that its memory is the text and four
// bytes a string, even when the part does not say how many strings it
// holds.
type xlsxSharedStrings struct {
	chunks []string
	bits   uint
	off    []uint32 // string i starts at off[i]; off[len] is the end
}

// len returns the number of strings.
func (t *xlsxSharedStrings) len() int { return len(t.off) - 1 }

// at returns string i, which must be in range.
func (t *xlsxSharedStrings) at(i int) string {
	a, b := t.off[i], t.off[i+1]
	mask := uint32(1)<<t.bits - 1
	c := a >> t.bits
	if b>>t.bits != c {
		// The last string of its chunk.
		return t.chunks[c][a&mask:]
	}
	return t.chunks[c][a&mask : b&mask]
}

// xlsxStringsBuilder builds an xlsxSharedStrings.
type xlsxStringsBuilder struct {
	t   xlsxSharedStrings
	cur strings.Builder // the chunk being filled: chunk len(t.chunks)
}

// newXLSXStringsBuilder returns a builder of a table of n strings (0 when
// unknown) of about size bytes of text at most.
func newXLSXStringsBuilder(n, size uint64) *xlsxStringsBuilder {
	b := &xlsxStringsBuilder{}
	// Chunks of 4 KiB to 16 MiB: no larger than the text needs, and at
	// most 256 of them for 4 GiB.
	b.t.bits = uint(min(max(bits.Len64(size), 12), 24))
	b.t.off = make([]uint32, 0, n+1)
	return b
}

// pos returns the offset of the next string.
func (b *xlsxStringsBuilder) pos() uint64 {
	return uint64(len(b.t.chunks))<<b.t.bits + uint64(b.cur.Len())
}

// add appends the string s to the table.
func (b *xlsxStringsBuilder) add(s []byte) error {
	size := 1 << b.t.bits
	if b.cur.Len()+len(s) > size || b.cur.Len() == size {
		b.t.chunks = append(b.t.chunks, b.cur.String())
		b.cur = strings.Builder{}
	}
	start := b.pos()
	if start+uint64(len(s)) > math.MaxUint32 {
		return fmt.Errorf("shared strings longer than 4 GiB: %w", ErrCorrupt)
	}
	b.t.off = append(b.t.off, uint32(start))
	if len(s) > size {
		b.t.chunks = append(b.t.chunks, string(s))
		for range (len(s) - 1) / size {
			b.t.chunks = append(b.t.chunks, "")
		}
		return nil
	}
	if b.cur.Cap() == 0 {
		b.cur.Grow(size)
	}
	b.cur.Write(s)
	return nil
}

// table returns the table built.
func (b *xlsxStringsBuilder) table() *xlsxSharedStrings {
	t := b.t
	t.off = append(t.off, uint32(b.pos()))
	last := b.cur.String()
	if b.cur.Cap()-len(last) > len(last)/8+1<<16 {
		last = strings.Clone(last) // give back the room not used
	}
	t.chunks = append(t.chunks, last)
	if cap(t.off)-len(t.off) > len(t.off)/8+1<<14 {
		t.off = append([]uint32(nil), t.off...)
	}
	return &t
}

// xlsxReadSharedStrings reads the shared strings part f.
func xlsxReadSharedStrings(f *zip.File, limit int) (*xlsxSharedStrings, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open xlsx: open %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	defer rc.Close()
	fail := func(err error) (*xlsxSharedStrings, error) {
		return nil, fmt.Errorf("open xlsx: read %s: %w", f.Name, err)
	}
	size := min(f.UncompressedSize64, f.CompressedSize64*xlsxMaxRatio+1<<20)
	var s xlsxScanner
	if f.UncompressedSize64 > xlsxPrefetchMin {
		pf := newXLSXPrefetch(rc)
		defer pf.Close()
		s.init(pf, int64(size))
	} else {
		s.init(rc, int64(size))
	}
	var (
		b      *xlsxStringsBuilder
		item   []byte // the text of the current <si>
		inItem bool
		inPh   bool // in a phonetic run (<rPh>)
		sawEnd bool
	)
	for s.nextTag() {
		if limit > 0 && b != nil && len(b.t.off) >= limit {
			return b.table(), nil // enough for a look at the first rows
		}
		switch string(s.name()) {
		case "sst":
			if s.isEnd || s.empty {
				sawEnd = true
			}
			if b != nil || s.isEnd {
				continue
			}
			// The text is at most the part's size less the shortest
			// markup of each string (<si><t></t></si>).
			n := uint64(0)
			if v, ok := s.attrValue("uniqueCount"); ok {
				if u, err := strconv.ParseUint(string(v), 10, 32); err == nil {
					n = min(u, size/5)
				}
			}
			if limit > 0 {
				n, size = min(n, uint64(limit)), min(size, 1<<20)
			}
			b = newXLSXStringsBuilder(n, size-min(size, 16*n))
		case "si":
			if b == nil {
				return fail(fmt.Errorf("<si> outside <sst>: %w", ErrCorrupt))
			}
			switch {
			case s.empty && !s.isEnd:
				if err := b.add(nil); err != nil {
					return fail(err)
				}
				continue
			case !s.isEnd:
				inItem, inPh, item = true, false, item[:0]
				// The common <si><t>text</t></si> takes a shortcut.
				if !s.skip("<t>") {
					continue
				}
				var ok bool
				if item, ok = s.appendText(item, xlsxMaxText); !ok {
					return fail(s.error())
				}
				if !s.skip("</t></si>") {
					continue
				}
			case !inItem:
				continue
			}
			inItem = false
			if bytes.IndexByte(item, '_') >= 0 {
				item = xlsxUnescape(item)
			}
			if err := b.add(item); err != nil {
				return fail(err)
			}
		case "t":
			if inItem && !inPh && !s.isEnd && !s.empty {
				var ok bool
				if item, ok = s.appendText(item, xlsxMaxText); !ok {
					return fail(s.error())
				}
			}
		case "rPh":
			inPh = !s.isEnd && !s.empty
		}
	}
	if s.err != io.EOF {
		return fail(s.error())
	}
	if !sawEnd || inItem || b == nil {
		return fail(fmt.Errorf("no closing </sst> tag: %w", ErrCorrupt))
	}
	return b.table(), nil
}

// xlsxUnescape decodes, in place, the _xHHHH_ escapes with which OOXML
// writes characters XML cannot hold (_x000D_ is a carriage return,
// _x005F_ an underscore), and returns the shortened b.
func xlsxUnescape(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		if b[r] == '_' && r+7 <= len(b) && b[r+1] == 'x' && b[r+6] == '_' {
			if v, err := strconv.ParseUint(string(b[r+2:r+6]), 16, 16); err == nil {
				var enc [utf8.UTFMax]byte
				n := utf8.EncodeRune(enc[:], rune(v))
				w += copy(b[w:], enc[:n]) // an escape is longer than its rune
				r += 7
				continue
			}
		}
		b[w] = b[r]
		w++
		r++
	}
	return b[:w]
}

// Cell types: the t attribute of a <c> element.
const (
	xlsxNumber        = iota // absent or "n"
	xlsxShared               // "s"
	xlsxInline               // "inlineStr"
	xlsxFormulaString        // "str"
	xlsxBool                 // "b"
	xlsxOther                // "e", "d" and unknown types: the text as it is
)

// xlsxCell is a non-empty cell of the current row.
type xlsxCell struct {
	col    int32
	shared bool  // the text is shared string a
	a, b   int32 // else it is rowText[a:b]
}

// xlsxReader is the Reader OpenXLSX returns.
type xlsxReader struct {
	sheet    string
	rc       io.ReadCloser
	pf       *xlsxPrefetch // reads rc ahead; nil for a small sheet
	size     int64         // uncompressed size of the sheet part
	s        xlsxScanner
	sst      *xlsxSharedStrings
	date1904 bool
	dateXf   []bool // by cell style: whether it is a date format (1904 only)
	err      error  // sticky
	closed   bool

	lastRow      int64 // number of the last row read
	inSheetData  bool
	sawSheetData bool // the </sheetData> tag

	rowText []byte     // text of the current row's cells
	cells   []xlsxCell // the current row's non-empty cells
	out     []string   // Row.Cells, reused
}

// errXLSXClosed is returned by Next after Close.
var errXLSXClosed = errors.New("read xlsx: reader is closed")

// Next returns the next row that has a non-empty cell, or io.EOF after the
// last row of a sheet that ends as it should.
func (x *xlsxReader) Next() (Row, error) {
	if x.err != nil {
		return Row{}, x.err
	}
	row, err := x.next()
	if err != nil {
		x.err = err
		return Row{}, err
	}
	return row, nil
}

// next reads tags up to the end of the next non-empty row.
func (x *xlsxReader) next() (Row, error) {
	s := &x.s
	var (
		inRow   bool
		rowNum  int64
		col     int  // the current cell's column
		typ     int  // the current cell's type
		style   int  // the current cell's style
		inCell  bool // in a <c> element
		inIS    bool // in an <is> element of the cell
		inPh    bool // in a phonetic run (<rPh>)
		start   int  // where the current cell's text starts in rowText
		prevCol = -1
	)
	for s.nextTag() {
		switch string(s.name()) {
		case "c":
			if s.isEnd {
				if inCell {
					inCell = false
					if err := x.endCell(rowNum, col, typ, style, start); err != nil {
						return Row{}, err
					}
				}
				continue
			}
			if !inRow {
				continue
			}
			typ, style, col = xlsxNumber, 0, prevCol+1
			for i := range s.nattr {
				name, value := s.attr(i)
				switch string(name) {
				case "r":
					c, ok := xlsxColumnIndex(value)
					if !ok {
						return Row{}, x.parseError(rowNum, "", fmt.Errorf("cell reference %q is not valid: %w", value, ErrCorrupt))
					}
					col = c
				case "t":
					typ = xlsxCellType(value)
				case "s":
					if x.date1904 {
						style, _ = strconv.Atoi(string(value)) // no date style when not a number
					}
				}
			}
			if col >= xlsxMaxColumns {
				return Row{}, x.parseError(rowNum, "", fmt.Errorf("cell beyond column XFD: %w", ErrCorrupt))
			}
			prevCol = col
			if s.empty {
				continue
			}
			inCell, inIS, inPh, start = true, false, false, len(x.rowText)
			// The common <v>text</v></c> and <is><t>text</t></is></c> take
			// a shortcut.
			end := "</v></c>"
			if typ == xlsxInline {
				if !s.skip("<is><t>") {
					continue
				}
				inIS, end = true, "</t></is></c>"
			} else if !s.skip("<v>") {
				continue
			}
			if !x.appendText() {
				return Row{}, x.parseError(rowNum, "", s.error())
			}
			if s.skip(end) {
				inCell, inIS = false, false
				if err := x.endCell(rowNum, col, typ, style, start); err != nil {
					return Row{}, err
				}
			}
		case "v":
			if inCell && !s.isEnd && !s.empty && typ != xlsxInline {
				if !x.appendText() {
					return Row{}, x.parseError(rowNum, "", s.error())
				}
			}
		case "t":
			if inIS && !inPh && !s.isEnd && !s.empty {
				if !x.appendText() {
					return Row{}, x.parseError(rowNum, "", s.error())
				}
			}
		case "is":
			inIS = inCell && !s.isEnd && !s.empty
		case "rPh":
			inPh = !s.isEnd && !s.empty
		case "row":
			if s.isEnd {
				if !inRow {
					continue
				}
				inRow, inCell = false, false
				x.lastRow = rowNum
				if row, ok := x.endRow(rowNum); ok {
					return row, nil
				}
				continue
			}
			if !x.inSheetData {
				continue
			}
			rowNum = x.lastRow + 1
			if v, ok := s.attrValue("r"); ok {
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil || n < 1 {
					return Row{}, x.parseError(x.lastRow+1, "", fmt.Errorf("row number %q is not valid: %w", v, ErrCorrupt))
				}
				rowNum = n
			}
			if s.empty {
				x.lastRow = rowNum
				continue
			}
			inRow, prevCol = true, -1
			x.rowText, x.cells = x.rowText[:0], x.cells[:0]
		case "sheetData":
			switch {
			case s.empty && !s.isEnd:
				x.sawSheetData = true
			case !s.isEnd:
				x.inSheetData = true
			default:
				if inRow {
					return Row{}, x.parseError(rowNum, "", fmt.Errorf("</sheetData> inside a row: %w", ErrCorrupt))
				}
				x.inSheetData, x.sawSheetData = false, true
			}
		case "worksheet":
			if !s.isEnd && !s.empty {
				continue
			}
			if !x.sawSheetData {
				return Row{}, x.parseError(0, "", fmt.Errorf("the sheet has no <sheetData>: %w", ErrCorrupt))
			}
			// Read the part to its end so that archive/zip checks its CRC.
			if !s.drain() {
				return Row{}, x.parseError(0, "", s.error())
			}
			return Row{}, io.EOF
		}
	}
	if s.err == io.EOF {
		return Row{}, x.parseError(x.lastRow+1, "", fmt.Errorf("the sheet ends without its closing tags: %w", ErrCorrupt))
	}
	return Row{}, x.parseError(x.lastRow+1, "", s.error())
}

// appendText appends the text at the scanner to the row's text.
func (x *xlsxReader) appendText() bool {
	var ok bool
	x.rowText, ok = x.s.appendText(x.rowText, xlsxMaxRowText)
	return ok
}

// endCell completes the cell of row at column col, of type typ and style
// style, whose text starts at rowText[start:].
func (x *xlsxReader) endCell(row int64, col, typ, style, start int) error {
	v := x.rowText[start:]
	switch typ {
	case xlsxShared:
		v = bytes.TrimSpace(v)
		if len(v) == 0 {
			x.rowText = x.rowText[:start]
			return nil
		}
		i, ok := xlsxIndex(v)
		if !ok || i >= x.sst.len() {
			return x.parseError(row, ColumnLetter(col), fmt.Errorf("shared string index %q out of range (the table has %d strings): %w", v, x.sst.len(), ErrCorrupt))
		}
		x.rowText = x.rowText[:start]
		if x.sst.off[i] != x.sst.off[i+1] { // not empty
			x.cells = append(x.cells, xlsxCell{col: int32(col), shared: true, a: int32(i)})
		}
		return nil
	case xlsxBool:
		switch string(bytes.TrimSpace(v)) {
		case "1", "true", "TRUE":
			x.rowText = append(x.rowText[:start], "TRUE"...)
		case "0", "false", "FALSE":
			x.rowText = append(x.rowText[:start], "FALSE"...)
		}
	case xlsxInline, xlsxFormulaString:
		if bytes.IndexByte(v, '_') >= 0 {
			x.rowText = x.rowText[:start+len(xlsxUnescape(v))]
		}
	case xlsxNumber:
		if x.date1904 && style > 0 && style < len(x.dateXf) && x.dateXf[style] && len(v) > 0 {
			x.rowText = xlsxAdd1462(x.rowText, start)
		}
	}
	if len(x.rowText) > start {
		x.cells = append(x.cells, xlsxCell{col: int32(col), a: int32(start), b: int32(len(x.rowText))})
	}
	return nil
}

// endRow returns the row numbered n from the cells read, and false when
// they are all empty.
func (x *xlsxReader) endRow(n int64) (Row, bool) {
	last := -1
	for _, c := range x.cells {
		last = max(last, int(c.col))
	}
	if last < 0 {
		return Row{}, false
	}
	if cap(x.out) > last {
		x.out = x.out[:last+1]
		clear(x.out)
	} else {
		x.out = make([]string, last+1)
	}
	var text string
	if len(x.rowText) > 0 {
		text = string(x.rowText)
	}
	for _, c := range x.cells {
		if c.shared {
			x.out[c.col] = x.sst.at(int(c.a))
		} else {
			x.out[c.col] = text[c.a:c.b]
		}
	}
	return Row{Number: n, Cells: x.out}, true
}

// parseError returns a *ParseError at row (0 when unknown) and column.
func (x *xlsxReader) parseError(row int64, column string, err error) error {
	return &ParseError{Sheet: x.sheet, Row: row, Column: column, Err: err}
}

// Progress returns the fraction of the sheet's uncompressed bytes read.
func (x *xlsxReader) Progress() float64 {
	if x.size <= 0 {
		if x.err == io.EOF {
			return 1
		}
		return 0
	}
	return min(1, float64(x.s.n)/float64(x.size))
}

// Close stops the read-ahead and releases the sheet's zip reader. Next
// returns an error after it.
func (x *xlsxReader) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	if x.err == nil {
		x.err = errXLSXClosed
	}
	x.s.src = nil
	if x.pf != nil {
		x.pf.Close()
	}
	if err := x.rc.Close(); err != nil {
		return fmt.Errorf("close xlsx: %w", err)
	}
	return nil
}

// xlsxIndex returns the non-negative decimal number v, and false when v is
// not one or exceeds 2^31-1.
func xlsxIndex(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 10 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= math.MaxInt32
}

// xlsxCellType returns the cell type named by the t attribute value t.
func xlsxCellType(t []byte) int {
	switch string(t) {
	case "", "n":
		return xlsxNumber
	case "s":
		return xlsxShared
	case "inlineStr":
		return xlsxInline
	case "str":
		return xlsxFormulaString
	case "b":
		return xlsxBool
	}
	return xlsxOther
}

// xlsxColumnIndex returns the 0-based column of the cell reference ref (A1,
// BC12); the row digits are not checked.
func xlsxColumnIndex(ref []byte) (int, bool) {
	col := 0
	i := 0
	for ; i < len(ref); i++ {
		c := ref[i]
		switch {
		case c >= 'A' && c <= 'Z':
			col = col*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			col = col*26 + int(c-'a') + 1
		default:
			goto done
		}
		if col > xlsxMaxColumns {
			return 0, false
		}
	}
done:
	if i == 0 {
		return 0, false
	}
	for ; i < len(ref); i++ {
		if c := ref[i]; c < '0' || c > '9' {
			return 0, false
		}
	}
	return col - 1, true
}

// xlsxAdd1462 adds 1462 days to the serial number b[start:], turning a
// 1904-system date into a 1900-system one, and returns b. The fraction is
// kept as written; text that is not a number is left as it is.
func xlsxAdd1462(b []byte, start int) []byte {
	v := b[start:]
	intPart, frac := v, []byte(nil)
	if i := bytes.IndexByte(v, '.'); i >= 0 {
		intPart, frac = v[:i], v[i:]
	}
	digits := len(intPart) > 0 && len(intPart) <= 15
	for _, c := range intPart {
		digits = digits && c >= '0' && c <= '9'
	}
	for _, c := range frac[min(1, len(frac)):] {
		digits = digits && c >= '0' && c <= '9'
	}
	if digits {
		n, _ := strconv.ParseInt(string(intPart), 10, 64) // at most 15 digits
		var tail [64]byte
		t := append(tail[:0], frac...)
		return append(strconv.AppendInt(b[:start], n+1462, 10), t...)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return b
	}
	return strconv.AppendFloat(b[:start], f+1462, 'f', -1, 64)
}

// Chunks of a prefetched zip entry. Entries of up to xlsxPrefetchMin bytes
// are read directly.
const (
	xlsxPrefetchMin = 1 << 20
	xlsxChunkSize   = 128 << 10
	xlsxChunks      = 4
)

// xlsxPrefetch reads a zip entry ahead in a goroutine of its own, so that
// inflating the next chunks overlaps scanning this one (on two cores, the
// reader then takes little more time than inflating alone). It holds at
// most xlsxChunks chunks. Close must be called to stop the goroutine.
type xlsxPrefetch struct {
	full    chan xlsxChunk // chunks read, in order; the last has an error
	free    chan []byte    // chunks to fill
	stop    chan struct{}  // closed by Close
	exited  chan struct{}  // closed when the goroutine returns
	cur     xlsxChunk      // the chunk Read is returning
	off     int            // bytes of cur returned
	stopped bool
}

// xlsxChunk is a chunk of a prefetched zip entry and the error that ended
// the read (io.EOF at the end of the entry).
type xlsxChunk struct {
	b   []byte
	err error
}

// newXLSXPrefetch starts reading src ahead.
func newXLSXPrefetch(src io.Reader) *xlsxPrefetch {
	p := &xlsxPrefetch{
		full:   make(chan xlsxChunk, xlsxChunks),
		free:   make(chan []byte, xlsxChunks),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	for range xlsxChunks - 1 {
		p.free <- make([]byte, xlsxChunkSize)
	}
	p.cur.b = make([]byte, 0, xlsxChunkSize)
	go p.run(src)
	return p
}

// run fills free chunks from src and sends them on, until src fails or ends
// or Close is called.
func (p *xlsxPrefetch) run(src io.Reader) {
	defer close(p.exited)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n, idle := 0, 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = src.Read(buf[n:])
			n += k
			if idle++; k > 0 {
				idle = 0
			} else if idle == 100 && err == nil {
				err = io.ErrNoProgress
			}
		}
		select {
		case p.full <- xlsxChunk{buf[:n], err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read returns the next bytes read ahead, or the error that ended the
// entry. It must not be called after Close.
func (p *xlsxPrefetch) Read(b []byte) (int, error) {
	for p.off == len(p.cur.b) {
		if p.cur.err != nil {
			return 0, p.cur.err
		}
		p.free <- p.cur.b[:cap(p.cur.b)] // never blocks: free has room for every chunk
		p.cur, p.off = <-p.full, 0
	}
	n := copy(b, p.cur.b[p.off:])
	p.off += n
	return n, nil
}

// Close stops the goroutine and waits for it to return, so that the entry
// may be closed.
func (p *xlsxPrefetch) Close() {
	if !p.stopped {
		p.stopped = true
		close(p.stop)
		<-p.exited
	}
}

// xlsxScanner is a byte-level scanner of the XML of the parts of a workbook.
// It knows just enough XML for them: tags and their attributes, text with
// the predefined and numeric character references, CDATA sections; it skips
// comments, processing instructions and declarations. It does not check
// that elements nest, which the readers above it check where it matters
// (the closing tags of a sheet). Element and attribute names are reported
// without their namespace prefix. It reads through a window that it reuses;
// the slices it returns are valid until the next call.
type xlsxScanner struct {
	src  io.Reader
	buf  []byte
	r, w int   // the unread bytes are buf[r:w]
	n    int64 // bytes read from src
	err  error // io.EOF at the end of src, or the read or syntax error

	// The last tag nextTag read, as offsets in buf (not slices, which would
	// cost a write barrier a tag while the garbage collector runs).
	name0, name1 int        // local name
	isEnd        bool       // an end tag
	empty        bool       // a self-closing start tag
	attrs        []xlsxAttr // attrs[:nattr]
	nattr        int
}

// xlsxAttr is an attribute of a tag: its local name is buf[name0:name1] and
// its value (not unescaped) buf[value0:value1].
type xlsxAttr struct {
	name0, name1, value0, value1 int
}

// name returns the local name of the last tag.
func (s *xlsxScanner) name() []byte { return s.buf[s.name0:s.name1] }

// attr returns the local name and the value of attribute i of the last tag.
func (s *xlsxScanner) attr(i int) (name, value []byte) {
	a := &s.attrs[i]
	return s.buf[a.name0:a.name1], s.buf[a.value0:a.value1]
}

// init makes s read src, whose size is about size bytes (which sizes the
// window: a small part needs no large one).
func (s *xlsxScanner) init(src io.Reader, size int64) {
	s.src = src
	s.buf = make([]byte, min(max(size+1, 4<<10), xlsxBufSize))
	s.attrs = make([]xlsxAttr, 8)
}

// xlsxSyntaxError returns a syntax error wrapping ErrCorrupt.
func xlsxSyntaxError(format string, args ...any) error {
	return fmt.Errorf("xml: %s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
}

// error returns the error that stopped s, wrapping ErrCorrupt for anything
// but a plain read error: a sudden end of the XML, damaged compressed data
// or a CRC mismatch.
func (s *xlsxScanner) error() error {
	err := s.err
	var flateErr flate.CorruptInputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrCorrupt):
		return err
	case err == io.EOF:
		return xlsxSyntaxError("unexpected end of the XML")
	case errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &flateErr):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return fmt.Errorf("read: %w", err)
}

// more reads more of src into the window, keeping the unread bytes, and
// reports whether it read any. The window grows when it is full, up to
// xlsxMaxMarkup.
func (s *xlsxScanner) more() bool {
	if s.err != nil {
		return false
	}
	if s.r > 0 {
		s.w = copy(s.buf, s.buf[s.r:s.w])
		s.r = 0
	}
	if s.w == len(s.buf) {
		if len(s.buf) >= xlsxMaxMarkup {
			s.err = xlsxSyntaxError("markup longer than %d bytes", xlsxMaxMarkup)
			return false
		}
		b := make([]byte, 2*len(s.buf))
		copy(b, s.buf[:s.w])
		s.buf = b
	}
	for range 100 {
		n, err := s.src.Read(s.buf[s.w:])
		s.w += n
		s.n += int64(n)
		if err != nil {
			s.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// drain reads src to its end and reports whether it ended without an error.
func (s *xlsxScanner) drain() bool {
	for {
		s.r = s.w
		if !s.more() {
			return s.err == io.EOF
		}
	}
}

// Results of markup.
const (
	xlsxTag     = iota // a start or end tag
	xlsxSkipped        // a comment, processing instruction or declaration
	xlsxShort          // the window ends inside the markup
	xlsxBad            // not well-formed; s.err is set
)

// nextTag reads up to the end of the next start or end tag, skipping text
// and other markup, and reports whether there was one. When it returns
// false, s.err is io.EOF at the end of the input, or the error.
func (s *xlsxScanner) nextTag() bool {
	for {
		i := 0
		if s.r == s.w || s.buf[s.r] != '<' {
			i = bytes.IndexByte(s.buf[s.r:s.w], '<')
		}
		if i < 0 {
			s.r = s.w
			if !s.more() {
				return false
			}
			continue
		}
		s.r += i
		switch s.markup() {
		case xlsxTag:
			return true
		case xlsxShort:
			if !s.more() {
				if s.err == io.EOF {
					s.err = xlsxSyntaxError("unexpected end of the XML")
				}
				return false
			}
		case xlsxBad:
			return false
		}
	}
}

// isSpace reports whether c is XML white space.
func xlsxIsSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// Classes of bytes in a tag.
const (
	xlsxNameByte = iota // part of a name
	xlsxNameEnd         // white space, '=', '/' or '>': ends a name
	xlsxColon           // ':' ends a namespace prefix
)

// xlsxClass is the class of each byte in a tag.
var xlsxClass = [256]uint8{
	' ': xlsxNameEnd, '\t': xlsxNameEnd, '\n': xlsxNameEnd, '\r': xlsxNameEnd,
	'=': xlsxNameEnd, '/': xlsxNameEnd, '>': xlsxNameEnd, ':': xlsxColon,
}

// xlsxName returns where the name at b[p] ends, and where its local part
// (after any prefix) starts.
func xlsxName(b []byte, p int) (end, local int) {
	local = p
	for p < len(b) {
		k := xlsxClass[b[p]]
		if k == xlsxNameByte {
			p++
			continue
		}
		if k != xlsxColon {
			break
		}
		p++
		local = p
	}
	return p, local
}

// markup reads the markup at s.buf[s.r] ('<') when it is all in the window.
func (s *xlsxScanner) markup() int {
	b := s.buf[s.r:s.w]
	if len(b) < 2 {
		return xlsxShort
	}
	switch b[1] {
	case '/':
		p, local := xlsxName(b, 2)
		name := b[local:p]
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		if b[p] != '>' || len(name) == 0 {
			s.err = xlsxSyntaxError("malformed end tag %.20q", b[:p+1])
			return xlsxBad
		}
		s.name0, s.name1, s.isEnd, s.empty, s.nattr = s.r+local, s.r+local+len(name), true, false, 0
		s.r += p + 1
		return xlsxTag
	case '?':
		i := bytes.Index(b[2:], []byte("?>"))
		if i < 0 {
			return xlsxShort
		}
		s.r += 2 + i + 2
		return xlsxSkipped
	case '!':
		return s.declaration(b)
	}
	p, local := xlsxName(b, 1)
	if p == len(b) {
		return xlsxShort
	}
	name := b[local:p]
	if len(name) == 0 {
		s.err = xlsxSyntaxError("malformed tag %.20q", b[:p+1])
		return xlsxBad
	}
	nattr := 0
	empty := false
	for {
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		c := b[p]
		if c == '>' {
			p++
			break
		}
		if c == '/' {
			if p+1 == len(b) {
				return xlsxShort
			}
			if b[p+1] != '>' {
				s.err = xlsxSyntaxError("malformed tag %.20q", b[:p+2])
				return xlsxBad
			}
			p += 2
			empty = true
			break
		}
		n0 := p
		var nl int
		p, nl = xlsxName(b, p)
		an := b[nl:p]
		for ; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p+1 >= len(b) {
			return xlsxShort
		}
		if len(an) == 0 || b[p] != '=' {
			s.err = xlsxSyntaxError("malformed attribute in %.40q", b[n0:p+1])
			return xlsxBad
		}
		for p++; p < len(b) && xlsxIsSpace(b[p]); p++ {
		}
		if p == len(b) {
			return xlsxShort
		}
		q := b[p]
		if q != '"' && q != '\'' {
			s.err = xlsxSyntaxError("unquoted attribute value in %.40q", b[:p+1])
			return xlsxBad
		}
		p++
		v := p
		// Values are short: a loop beats IndexByte.
		for p < len(b) && b[p] != q {
			p++
		}
		if p == len(b) {
			return xlsxShort
		}
		a := xlsxAttr{s.r + nl, s.r + nl + len(an), s.r + v, s.r + p}
		if nattr < len(s.attrs) {
			s.attrs[nattr] = a
		} else {
			s.attrs = append(s.attrs, a)
		}
		nattr++
		p++
	}
	s.name0, s.name1, s.isEnd, s.empty, s.nattr = s.r+local, s.r+local+len(name), false, empty, nattr
	s.r += p
	return xlsxTag
}

// declaration skips the comment, CDATA section (outside text) or
// declaration (<!DOCTYPE ...>) that starts b.
func (s *xlsxScanner) declaration(b []byte) int {
	var end string
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		b, end = b[4:], "-->"
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		b, end = b[9:], "]]>"
	case len(b) < 9 && (bytes.HasPrefix([]byte("<!--"), b) || bytes.HasPrefix([]byte("<![CDATA["), b)):
		return xlsxShort
	default:
		// A declaration, perhaps with an internal subset in brackets.
		depth := 0
		for p := 2; p < len(b); p++ {
			switch b[p] {
			case '[':
				depth++
			case ']':
				depth--
			case '>':
				if depth <= 0 {
					s.r += p + 1
					return xlsxSkipped
				}
			}
		}
		return xlsxShort
	}
	i := bytes.Index(b, []byte(end))
	if i < 0 {
		return xlsxShort
	}
	s.r = s.w - len(b) + i + len(end)
	return xlsxSkipped
}

// attrValue returns the value of the last tag's attribute of local name
// name.
func (s *xlsxScanner) attrValue(name string) ([]byte, bool) {
	for i := range s.nattr {
		if n, v := s.attr(i); string(n) == name {
			return v, true
		}
	}
	return nil, false
}

// skip reads lit when the input goes on with it, and reports whether it
// did.
func (s *xlsxScanner) skip(lit string) bool {
	if s.w-s.r < len(lit) && !s.ensure(len(lit)) {
		return false
	}
	if string(s.buf[s.r:s.r+len(lit)]) != lit {
		return false
	}
	s.r += len(lit)
	return true
}

// ensure makes at least n unread bytes available when the input has them,
// and reports whether it does.
func (s *xlsxScanner) ensure(n int) bool {
	for s.w-s.r < n {
		if !s.more() {
			return false
		}
	}
	return true
}

// appendText appends to dst the text up to the next tag, with character
// references decoded, CDATA sections taken as they are, comments left out
// and line breaks normalised to \n, and returns it; the next tag is left
// unread. It returns false when the text would make dst longer than limit,
// or on a syntax or read error (s.err says which).
func (s *xlsxScanner) appendText(dst []byte, limit int) ([]byte, bool) {
	for {
		b := s.buf[s.r:s.w]
		i := 0
		for ; i < len(b); i++ {
			if c := b[i]; c == '<' || c == '&' || c == '\r' {
				break
			}
		}
		if len(dst)+i > limit {
			s.err = xlsxSyntaxError("text longer than %d bytes", limit)
			return dst, false
		}
		dst = append(dst, b[:i]...)
		s.r += i
		if i == len(b) {
			if !s.more() {
				if s.err == io.EOF {
					s.err = xlsxSyntaxError("unexpected end of the XML")
				}
				return dst, false
			}
			continue
		}
		switch b[i] {
		case '<':
			if i+1 < len(b) && b[i+1] != '!' {
				return dst, true // a tag: the common case
			}
			if !s.ensure(9) && s.err != io.EOF {
				return dst, false
			}
			b = s.buf[s.r:s.w]
			switch {
			case bytes.HasPrefix(b, []byte("<![CDATA[")):
				var ok bool
				if dst, ok = s.appendCDATA(dst, limit); !ok {
					return dst, false
				}
			case bytes.HasPrefix(b, []byte("<!--")):
				switch s.markup() {
				case xlsxShort:
					if !s.more() {
						if s.err == io.EOF {
							s.err = xlsxSyntaxError("unexpected end of the XML")
						}
						return dst, false
					}
				case xlsxBad:
					return dst, false
				}
			default:
				return dst, true
			}
		case '&':
			var ok bool
			if dst, ok = s.appendReference(dst); !ok {
				return dst, false
			}
		case '\r':
			// \r\n and a lone \r both read as \n.
			if !s.ensure(2) && s.err != io.EOF {
				return dst, false
			}
			s.r++
			if s.r < s.w && s.buf[s.r] == '\n' {
				s.r++
			}
			dst = append(dst, '\n')
		}
	}
}

// appendCDATA appends the content of the CDATA section at s.buf[s.r] to dst.
func (s *xlsxScanner) appendCDATA(dst []byte, limit int) ([]byte, bool) {
	s.r += len("<![CDATA[")
	for {
		b := s.buf[s.r:s.w]
		if i := bytes.Index(b, []byte("]]>")); i >= 0 {
			if len(dst)+i > limit {
				s.err = xlsxSyntaxError("text longer than %d bytes", limit)
				return dst, false
			}
			s.r += i + 3
			return append(dst, b[:i]...), true
		}
		// Keep back what may be the start of "]]>".
		k := max(len(b)-2, 0)
		if len(dst)+k > limit {
			s.err = xlsxSyntaxError("text longer than %d bytes", limit)
			return dst, false
		}
		dst = append(dst, b[:k]...)
		s.r += k
		if !s.more() {
			if s.err == io.EOF {
				s.err = xlsxSyntaxError("unexpected end of the XML in a CDATA section")
			}
			return dst, false
		}
	}
}

// appendReference appends the character that the reference at s.buf[s.r]
// ('&') stands for to dst.
func (s *xlsxScanner) appendReference(dst []byte) ([]byte, bool) {
	const longest = len("&#x10FFFF;")
	if !s.ensure(longest) && s.err != io.EOF {
		return dst, false
	}
	b := s.buf[s.r:min(s.w, s.r+longest+1)]
	i := bytes.IndexByte(b, ';')
	if i < 0 {
		s.err = xlsxSyntaxError("malformed character reference %q", b)
		return dst, false
	}
	ref := b[1:i]
	s.r += i + 1
	switch string(ref) {
	case "amp":
		return append(dst, '&'), true
	case "lt":
		return append(dst, '<'), true
	case "gt":
		return append(dst, '>'), true
	case "quot":
		return append(dst, '"'), true
	case "apos":
		return append(dst, '\''), true
	}
	if len(ref) > 1 && ref[0] == '#' {
		var (
			v   uint64
			err error
		)
		if ref[1] == 'x' {
			v, err = strconv.ParseUint(string(ref[2:]), 16, 32)
		} else {
			v, err = strconv.ParseUint(string(ref[1:]), 10, 32)
		}
		if err == nil && utf8.ValidRune(rune(v)) {
			return utf8.AppendRune(dst, rune(v)), true
		}
	}
	s.err = xlsxSyntaxError("unknown character reference %q", b[:i+1])
	return dst, false
}
