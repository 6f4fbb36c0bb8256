package sheet

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Bounds of the .xlsx format, beside the configurable Limits. They bound the
// memory a damaged or hostile file can make the reader use; Excel's own
// limits are far below them.
const (
	// xlsxBufSize is the size of the window the XML scanner reads through.
	xlsxBufSize = 64 << 10
	// xlsxMaxMarkup is the longest tag, comment, processing instruction or
	// declaration the scanner accepts (the window grows up to it).
	xlsxMaxMarkup = 1 << 20
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
// string), up to Limits.StringsMemory: a larger table is written to a
// temporary file and read from there (Close releases it).
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
// cell reference past column XFD, a tag over 1 MiB)
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
//
// OpenXLSX reads within DefaultLimits: past one of them, OpenXLSX or Next
// returns an error wrapping ErrLimit (a *LimitError) that names it.
func OpenXLSX(r io.ReaderAt, size int64) (Reader, error) {
	return DefaultLimits().OpenXLSX(r, size)
}

// OpenXLSX is the package's OpenXLSX within l.
func (l Limits) OpenXLSX(r io.ReaderAt, size int64) (Reader, error) {
	x, err := l.WithDefaults().openXLSX(r, size, 0)
	return x, placeLimit(err)
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
	return DefaultLimits().OpenXLSXHead(r, size)
}

// OpenXLSXHead is the package's OpenXLSXHead within l.
func (l Limits) OpenXLSXHead(r io.ReaderAt, size int64) (Reader, error) {
	x, err := l.WithDefaults().openXLSX(r, size, HeadStrings)
	return x, placeLimit(err)
}

// openXLSX opens the first worksheet of the workbook within l, whose
// fields are all set, reading only the first head shared strings when head
// is not 0.
func (l Limits) openXLSX(r io.ReaderAt, size int64, head int) (Reader, error) {
	b, err := l.openXLSXBook(r, size, head)
	if err != nil {
		return nil, err
	}
	x, err := b.Open(0)
	if err != nil {
		b.Close()
		return nil, err
	}
	x.(*xlsxReader).ownSST = true
	return x, nil
}

// xlsxWorkbookFile is the Book of an .xlsx workbook: its parts found, its shared
// strings and date styles read once for all its worksheets.
type xlsxWorkbookFile struct {
	pkg    xlsxPackage
	wb     xlsxWorkbook
	sst    *xlsxSharedStrings
	dateXf []bool
	lim    Limits
}

// openXLSXBook opens the workbook within l, whose fields are all set,
// reading only the first head shared strings when head is not 0.
func (l Limits) openXLSXBook(r io.ReaderAt, size int64, head int) (*xlsxWorkbookFile, error) {
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
	pkg := xlsxPackage{files: make(map[string]*zip.File, len(zr.File)),
		budget: &inflateBudget{left: l.Inflated, max: l.Inflated}}
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
	b := &xlsxWorkbookFile{pkg: pkg, wb: wb, lim: l, sst: &xlsxSharedStrings{off: []uint32{0}}}
	if f := pkg.file(wb.sharedStrings); f != nil {
		if b.sst, err = xlsxReadSharedStrings(f, sstOptions{head: head, budget: pkg.budget, limits: l}); err != nil {
			return nil, err
		}
	}
	if wb.date1904 {
		if f := pkg.file(wb.styles); f != nil {
			if b.dateXf, err = pkg.readDateStyles(f); err != nil {
				b.sst.close()
				return nil, err
			}
		}
	}
	return b, nil
}

// Sheets returns the names of the workbook's worksheets, in workbook order.
func (b *xlsxWorkbookFile) Sheets() []string {
	names := make([]string, len(b.wb.sheets))
	for i, sh := range b.wb.sheets {
		names[i] = sh.name
	}
	return names
}

// Open returns a Reader of worksheet i.
func (b *xlsxWorkbookFile) Open(i int) (Reader, error) {
	sh := b.wb.sheets[i]
	x := &xlsxReader{sheet: sh.name, sst: b.sst, date1904: b.wb.date1904, dateXf: b.dateXf, lim: b.lim}
	part := b.pkg.file(sh.path)
	if part == nil {
		return nil, &ParseError{Sheet: sh.name, Err: fmt.Errorf("no part %s in the archive: %w", sh.path, ErrCorrupt)}
	}
	rc, err := part.Open()
	if err != nil {
		return nil, &ParseError{Sheet: sh.name, Err: fmt.Errorf("open %s: %w: %w", part.Name, ErrCorrupt, err)}
	}
	x.rc = rc
	x.size = int64(part.UncompressedSize64)
	src := b.pkg.budget.reader(rc)
	if x.size > xlsxPrefetchMin {
		x.pf = newXLSXPrefetch(src)
		x.s.init(x.pf, x.size)
	} else {
		x.s.init(src, x.size)
	}
	return x, nil
}

// Close releases the temporary file of a shared strings table on disk;
// the readers Open returns hold what else must be released.
func (b *xlsxWorkbookFile) Close() error { return b.sst.close() }

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
	files  map[string]*zip.File // by lower-case name without a leading slash
	budget *inflateBudget       // the bytes its parts may still inflate to
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
	sheets        []xlsxSheetRef // the worksheets, at least one
	sharedStrings string         // part name, or "" when there is none
	styles        string
	date1904      bool
}

// xlsxSheetRef is a worksheet of a workbook: its name and its part.
type xlsxSheetRef struct {
	name, path string
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
// returns where the worksheets, the shared strings and the styles are.
func (p *xlsxPackage) workbook() (xlsxWorkbook, error) {
	var wb xlsxWorkbook
	wbPath := "xl/workbook.xml"
	if f := p.file("_rels/.rels"); f != nil {
		rels, err := p.readRels(f)
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
	if err := p.decodePart(f, &part); err != nil {
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
		if rels, err = p.readRels(rf); err != nil {
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
	// The sheets that are worksheets (not chart or dialog sheets).
	for _, sh := range part.Sheets {
		for _, rel := range rels.Rels {
			if rel.ID == sh.RID && strings.HasSuffix(rel.Type, "/worksheet") && rel.TargetMode != "External" {
				wb.sheets = append(wb.sheets, xlsxSheetRef{name: sh.Name, path: xlsxResolve(dir, rel.Target)})
				break
			}
		}
	}
	if len(wb.sheets) > 0 {
		return wb, nil
	}
	first := xlsxSheetRef{path: "xl/worksheets/sheet1.xml"}
	if len(part.Sheets) > 0 {
		first.name = part.Sheets[0].Name
	}
	if first.name == "" {
		first.name = "Sheet1"
	}
	wb.sheets = []xlsxSheetRef{first}
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

// readRels reads a relationships part.
func (p *xlsxPackage) readRels(f *zip.File) (xlsxRelationships, error) {
	var rels xlsxRelationships
	err := p.decodePart(f, &rels)
	return rels, err
}

// decodePart decodes the small XML part f into v with encoding/xml and
// reads the part to its end, so that archive/zip checks its CRC. Its bytes
// count against the package's inflate budget: past it, the error is the
// *LimitError. Every other error it returns wraps ErrCorrupt.
func (p *xlsxPackage) decodePart(f *zip.File, v any) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("open xlsx: open %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	defer rc.Close()
	r := p.budget.reader(rc)
	fail := func(err error) error {
		var le *LimitError
		if errors.As(err, &le) {
			return le
		}
		return fmt.Errorf("open xlsx: read %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	if err := xml.NewDecoder(r).Decode(v); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fail(err)
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
func (p *xlsxPackage) readDateStyles(f *zip.File) ([]bool, error) {
	var part xlsxStylesPart
	if err := p.decodePart(f, &part); err != nil {
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
