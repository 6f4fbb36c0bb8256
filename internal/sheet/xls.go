package sheet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/richardlehane/mscfb"
)

// OpenXLS returns a Reader of the first worksheet of the legacy Excel 97-2003
// (BIFF8) workbook in r, whose length is size. The whole sheet is read at
// once: a BIFF8 sheet holds at most 65,536 rows of 256 columns.
//
// Cells are read as Row documents them: a number is its float64 value
// written by strconv.FormatFloat(v, 'f', -1, 64), the shortest plain decimal
// that reads back as the same float64 (0.5, 9.9, -3, 123124444435355),
// whatever number format the cell shows it with (a percentage cell holds
// 0.05, not 5%). A number in a cell formatted as a date or a time is likewise
// the Excel serial day number (45903.333333333336 for 2025-09-03 08:00) of
// the 1900 date system: a workbook of the 1904 date system has 1462 days
// added. A formula cell holds its cached result; booleans are TRUE or FALSE,
// error values #N/A and the like. Rows whose cells are all empty or spaces
// are skipped, and empty cells at the end of a row are left out.
//
// The compound file is read with github.com/richardlehane/mscfb (already a
// dependency of excelize; it guards against looping sector chains), and the
// BIFF8 records are decoded here. github.com/shakinm/xlsReader v0.9.12 was
// tried first and dropped: on a LibreOffice file of 2,000 rows of distinct
// strings its shared string table stopped at string 1,689 of 4,003 (the cells
// after it panic with an index out of range), it skips formula cells, reads
// negative RK integers as large positive ones, ignores the 1904 date system,
// and returns a damaged stream as a shorter one without an error.
//
// OpenXLS returns an error wrapping ErrEmpty for an empty file,
// ErrWrongFormat when r is not an OLE2 compound file holding a BIFF8
// workbook with a worksheet (an Excel 5.0/95 file among them), and
// ErrCorrupt when the file is damaged or truncated (a panic while decoding is
// recovered as such). It reads within DefaultLimits: past one of them it
// returns an error wrapping ErrLimit (a *LimitError, in a *ParseError
// naming the row and the column for a cell or a row). The Reader never
// fails after OpenXLS returns it.
func OpenXLS(r io.ReaderAt, size int64) (Reader, error) {
	return DefaultLimits().OpenXLS(r, size)
}

// OpenXLS is the package's OpenXLS within l.
func (l Limits) OpenXLS(r io.ReaderAt, size int64) (Reader, error) {
	b, err := l.WithDefaults().openXLSBook(r, size)
	if err != nil {
		return nil, err
	}
	return b.Open(0)
}

// openXLSBook opens the workbook within l, whose fields are all set, and
// reads its globals.
func (l Limits) openXLSBook(r io.ReaderAt, size int64) (*biffBook, error) {
	if size <= 0 {
		return nil, fmt.Errorf("xls: %w", ErrEmpty)
	}
	head := make([]byte, len(ole2Magic))
	if n, _ := r.ReadAt(head, 0); !bytes.Equal(head[:n], ole2Magic) {
		return nil, wrongFormat("the file is not an xls (Excel 97-2003) workbook (it looks like %s)", sniff(head[:n]).describe())
	}
	var book *biffBook
	err := recoverPanic(func() error {
		stream, err := l.workbookStream(r, size)
		if err != nil {
			return err
		}
		book, err = l.parseBIFF(stream)
		return err
	})
	if err != nil {
		return nil, placeLimit(err)
	}
	return book, nil
}

// Sheets returns the names of the workbook's worksheets, in workbook order.
func (b *biffBook) Sheets() []string {
	names := make([]string, len(b.sheets))
	for i, sh := range b.sheets {
		names[i] = sh.name
	}
	return names
}

// Open reads worksheet i whole and returns a Reader of its rows.
func (b *biffBook) Open(i int) (Reader, error) {
	var cells []xlsCell
	err := recoverPanic(func() error {
		var err error
		cells, err = b.readSheetAt(i)
		return err
	})
	if err != nil {
		return nil, placeLimit(err)
	}
	return &xlsReader{cells: cells}, nil
}

// Close releases the workbook stream and returns nil.
func (b *biffBook) Close() error {
	b.recs = nil
	return nil
}

// recoverPanic calls f and returns its error, or an error wrapping
// ErrCorrupt when f panics.
func recoverPanic(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w (xls: the decoder failed: %s)", ErrCorrupt, fmt.Sprint(p))
		}
	}()
	return f()
}

// workbookStream returns the Workbook stream of the compound file in r.
// Past l.Inflated, the error is a *LimitError.
func (l Limits) workbookStream(r io.ReaderAt, size int64) ([]byte, error) {
	doc, err := mscfb.New(io.NewSectionReader(r, 0, size))
	if err != nil {
		return nil, fmt.Errorf("%w (xls: the compound file cannot be read: %w)", ErrCorrupt, err)
	}
	var book *mscfb.File
	for _, f := range doc.File {
		if len(f.Path) > 0 {
			continue
		}
		// Excel 97 and later name the stream Workbook; Excel 5.0/95 Book.
		if f.Name == "Workbook" || f.Name == "Book" && book == nil {
			book = f
		}
	}
	if book == nil {
		return nil, wrongFormat("the file is a compound document but not an Excel workbook; upload the statement saved as .xlsx")
	}
	if book.Size < 0 || book.Size > size {
		return nil, fmt.Errorf("%w (xls: the workbook stream claims %d bytes in a file of %d)", ErrCorrupt, book.Size, size)
	}
	if book.Size > l.WithDefaults().Inflated {
		return nil, &LimitError{Limit: LimitInflated, Max: l.WithDefaults().Inflated}
	}
	stream := make([]byte, book.Size)
	if _, err := io.ReadFull(book, stream); err != nil {
		return nil, fmt.Errorf("%w (xls: the workbook stream cannot be read: %w)", ErrCorrupt, err)
	}
	return stream, nil
}

// xlsCell is a non-empty cell of a sheet.
type xlsCell struct {
	row, col int // 0-based
	text     string
}

// xlsReader is the Reader OpenXLS returns.
type xlsReader struct {
	cells []xlsCell // sorted by row, then column
	next  int
}

// Next returns the next non-empty row, or io.EOF after the last.
func (r *xlsReader) Next() (Row, error) {
	for r.next < len(r.cells) {
		first := r.next
		row := r.cells[first].row
		end := first
		for end < len(r.cells) && r.cells[end].row == row {
			end++
		}
		r.next = end
		cells := make([]string, r.cells[end-1].col+1)
		blank := true
		for _, c := range r.cells[first:end] {
			cells[c.col] = c.text
			blank = blank && isBlank(c.text)
		}
		if !blank {
			return Row{Number: int64(row) + 1, Cells: cells}, nil
		}
	}
	return Row{}, io.EOF
}

// Progress returns the fraction of the sheet's cells returned so far.
func (r *xlsReader) Progress() float64 {
	if len(r.cells) == 0 {
		return 1
	}
	return float64(r.next) / float64(len(r.cells))
}

// Close releases the cells and returns nil.
func (r *xlsReader) Close() error {
	r.cells, r.next = nil, 0
	return nil
}

// xlsSheetRef is a worksheet of an xls workbook: its name and where its
// substream starts in the workbook stream.
type xlsSheetRef struct {
	name string
	pos  int
}

// biffBook is what OpenXLS reads of a workbook.
type biffBook struct {
	date1904 bool
	sheet    string // the name of the worksheet being read
	sheets   []xlsSheetRef
	recs     *biffRecords // the workbook stream
	xfFormat []int        // the number format index of each XF record
	formats  map[int]string
	dateXF   []int8    // per XF: 0 unknown, 1 date, -1 not
	sst      []string  // the shared strings
	cells    []xlsCell // the cells of the worksheet being read
	lim      Limits    // all fields set
}

// numberText returns the text of number v in a cell of format xf.
func (b *biffBook) numberText(v float64, xf int) string {
	if b.date1904 && b.isDateXF(xf) {
		v += 1462
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// isDateXF reports whether cell format xf shows numbers as dates or times.
func (b *biffBook) isDateXF(xf int) bool {
	if xf < 0 || xf >= len(b.xfFormat) {
		return false
	}
	if b.dateXF[xf] == 0 {
		ifmt := b.xfFormat[xf]
		var isDate bool
		if code, ok := b.formats[ifmt]; ok {
			isDate = isDateFormat(code)
		} else {
			// Built-in formats have no FORMAT record.
			isDate = isDateFormatID(ifmt)
		}
		b.dateXF[xf] = -1
		if isDate {
			b.dateXF[xf] = 1
		}
	}
	return b.dateXF[xf] == 1
}

// BIFF8 record types that OpenXLS reads.
const (
	recFormula    = 0x0006
	recEOF        = 0x000A
	recDateMode   = 0x0022
	recContinue   = 0x003C
	recBoundSheet = 0x0085
	recMulRK      = 0x00BD
	recRString    = 0x00D6
	recXF         = 0x00E0
	recSST        = 0x00FC
	recLabelSST   = 0x00FD
	recNumber     = 0x0203
	recLabel      = 0x0204
	recBoolErr    = 0x0205
	recString     = 0x0207
	recRK         = 0x027E
	recFormat     = 0x041E
	recBOF        = 0x0809
)

// biffMaxCols is the number of columns of a BIFF8 sheet (A to IV).
const biffMaxCols = 256

// biffCorrupt returns an error wrapping ErrCorrupt that says what is wrong.
func biffCorrupt(format string, args ...any) error {
	return fmt.Errorf("%w (xls: %s)", ErrCorrupt, fmt.Sprintf(format, args...))
}

// biffRecords walks the records of a BIFF stream.
type biffRecords struct {
	b   []byte
	pos int
}

// next returns the type and data of the record at the current position and
// moves past it.
func (s *biffRecords) next() (uint16, []byte, error) {
	if s.pos < 0 || s.pos+4 > len(s.b) {
		return 0, nil, biffCorrupt("the workbook stream ends at byte %d, before its end record", len(s.b))
	}
	typ := binary.LittleEndian.Uint16(s.b[s.pos:])
	n := int(binary.LittleEndian.Uint16(s.b[s.pos+2:]))
	start := s.pos + 4
	if start+n > len(s.b) {
		return 0, nil, biffCorrupt("record %#04x at byte %d runs past the stream's end", typ, s.pos)
	}
	s.pos = start + n
	return typ, s.b[start : start+n], nil
}

// parseBIFF reads the workbook globals and the first worksheet of a BIFF8
// workbook stream.
//
// It reads within l (zero fields take their defaults): past a limit, the
// error wraps a *LimitError.
func (l Limits) parseBIFF(stream []byte) (*biffBook, error) {
	recs := &biffRecords{b: stream}
	typ, d, err := recs.next()
	if err != nil {
		return nil, err
	}
	if typ != recBOF || len(d) < 4 {
		return nil, wrongFormat("the file is an Excel workbook older than Excel 5.0; open it in a spreadsheet program and save it as .xlsx")
	}
	if v := binary.LittleEndian.Uint16(d); v != 0x0600 {
		return nil, wrongFormat("the file is an Excel 5.0/95 workbook, which trueup does not read; open it in a spreadsheet program and save it as .xlsx")
	}
	b := &biffBook{formats: make(map[int]string), lim: l.WithDefaults()}
	var sst [][]byte // the SST record and its CONTINUE records
	for typ != recEOF {
		prev := typ
		if typ, d, err = recs.next(); err != nil {
			return nil, err
		}
		switch typ {
		case recDateMode:
			b.date1904 = len(d) >= 2 && binary.LittleEndian.Uint16(d) == 1
		case recBoundSheet:
			// dt 0 is a worksheet (or dialog sheet); others are macro,
			// chart and VBA sheets.
			if len(d) >= 8 && d[5] == 0 {
				b.sheets = append(b.sheets, xlsSheetRef{name: decodeChars(d[8:], int(d[6]), d[7]&1 == 1), pos: int(binary.LittleEndian.Uint32(d))})
			}
		case recXF:
			if len(d) < 4 {
				return nil, biffCorrupt("an XF record is %d bytes long", len(d))
			}
			b.xfFormat = append(b.xfFormat, int(binary.LittleEndian.Uint16(d[2:])))
		case recFormat:
			if len(d) >= 5 {
				b.formats[int(binary.LittleEndian.Uint16(d))] = decodeChars(d[5:], int(binary.LittleEndian.Uint16(d[2:])), d[4]&1 == 1)
			}
		case recSST:
			sst = [][]byte{d}
		case recContinue:
			if len(sst) > 0 && (prev == recSST || prev == recContinue) {
				sst = append(sst, d)
			}
		}
		if typ != recContinue && typ != recSST && len(sst) > 0 && b.sst == nil {
			if b.sst, err = parseSST(sst, b.lim.SharedStrings); err != nil {
				return nil, err
			}
		}
	}
	if len(sst) > 0 && b.sst == nil {
		if b.sst, err = parseSST(sst, b.lim.SharedStrings); err != nil {
			return nil, err
		}
	}
	b.dateXF = make([]int8, len(b.xfFormat))
	if len(b.sheets) == 0 {
		return nil, wrongFormat("the xls workbook has no worksheet")
	}
	for _, sh := range b.sheets {
		if sh.pos < recs.pos {
			return nil, biffCorrupt("the worksheet starts at byte %d, inside the workbook globals", sh.pos)
		}
	}
	b.recs = recs
	// The first worksheet is read at once, so that a damaged one is found
	// when the workbook is opened.
	cells, err := b.readSheetAt(0)
	if err != nil {
		return nil, err
	}
	b.cells = cells
	return b, nil
}

// readSheetAt reads the cells of worksheet i. The cells of the first are
// kept from when the workbook was opened, and handed out once.
func (b *biffBook) readSheetAt(i int) ([]xlsCell, error) {
	if i == 0 && b.cells != nil {
		cells := b.cells
		b.cells = nil
		return cells, nil
	}
	sh := b.sheets[i]
	b.sheet, b.cells = sh.name, nil
	recs := &biffRecords{b: b.recs.b, pos: sh.pos}
	typ, d, err := recs.next()
	if err != nil {
		return nil, err
	}
	if typ != recBOF || len(d) < 4 || binary.LittleEndian.Uint16(d[2:]) != 0x0010 {
		return nil, biffCorrupt("the worksheet does not start with a worksheet BOF record")
	}
	if err := b.readSheet(recs); err != nil {
		return nil, &ParseError{Sheet: sh.name, Err: err}
	}
	cells := b.cells
	b.cells = nil
	return cells, nil
}

// readSheet reads the cells of the worksheet substream at recs up to its end
// record, in row and column order, a later record for a cell replacing an
// earlier one.
func (b *biffBook) readSheet(recs *biffRecords) error {
	depth := 1 // an embedded chart nests its own BOF ... EOF
	var (
		pendingRow, pendingCol = -1, -1 // a formula cell whose STRING record is due
		str                    [][]byte // that STRING record and its CONTINUE records
	)
	add := func(row, col int, text string) error {
		if col >= biffMaxCols {
			return biffCorrupt("a cell in row %d lies in column %d, past the last BIFF8 column", row+1, col+1)
		}
		if col >= b.lim.RowCells {
			return b.limitError(row, col, &LimitError{Limit: LimitRowCells, Max: int64(b.lim.RowCells)})
		}
		if len(text) > b.lim.FieldBytes {
			return b.limitError(row, col, &LimitError{Limit: LimitFieldBytes, Max: int64(b.lim.FieldBytes)})
		}
		if text != "" {
			b.cells = append(b.cells, xlsCell{row, col, text})
		}
		return nil
	}
	for depth > 0 {
		typ, d, err := recs.next()
		if err != nil {
			return err
		}
		if str != nil && typ != recContinue {
			text, err := readUnicodeString(&segReader{segs: str})
			if err != nil {
				return err
			}
			if err := add(pendingRow, pendingCol, text); err != nil {
				return err
			}
			pendingRow, str = -1, nil
		}
		if depth > 1 && typ != recBOF && typ != recEOF {
			continue
		}
		switch typ {
		case recBOF:
			depth++
			continue
		case recEOF:
			depth--
			continue
		case recContinue:
			if str != nil {
				str = append(str, d)
			}
			continue
		case recString:
			if pendingRow >= 0 {
				str = [][]byte{d}
			}
			continue
		case recMulRK:
			if len(d) < 6 || (len(d)-6)%6 != 0 {
				return biffCorrupt("a MULRK record is %d bytes long", len(d))
			}
			row, col := int(binary.LittleEndian.Uint16(d)), int(binary.LittleEndian.Uint16(d[2:]))
			for i := 0; 4+6*i+6 <= len(d)-2; i++ {
				e := d[4+6*i:]
				text := b.numberText(rkValue(binary.LittleEndian.Uint32(e[2:])), int(binary.LittleEndian.Uint16(e)))
				if err := add(row, col+i, text); err != nil {
					return err
				}
			}
			continue
		case recLabelSST, recNumber, recRK, recBoolErr, recLabel, recRString, recFormula:
		default:
			continue
		}
		// The cell records start with the row, the column and the XF index.
		if len(d) < 8 {
			return biffCorrupt("cell record %#04x is %d bytes long", typ, len(d))
		}
		row, col := int(binary.LittleEndian.Uint16(d)), int(binary.LittleEndian.Uint16(d[2:]))
		xf := int(binary.LittleEndian.Uint16(d[4:]))
		var text string
		switch typ {
		case recLabelSST:
			if len(d) < 10 {
				return biffCorrupt("a LABELSST record is %d bytes long", len(d))
			}
			i := int(binary.LittleEndian.Uint32(d[6:]))
			if i >= len(b.sst) {
				return biffCorrupt("the cell in row %d column %s refers to shared string %d of %d", row+1, ColumnLetter(col), i, len(b.sst))
			}
			text = b.sst[i]
		case recLabel, recRString:
			var err error
			if text, err = readUnicodeString(&segReader{segs: [][]byte{d[6:]}}); err != nil {
				return err
			}
		case recNumber:
			if len(d) < 14 {
				return biffCorrupt("a NUMBER record is %d bytes long", len(d))
			}
			text = b.numberText(math.Float64frombits(binary.LittleEndian.Uint64(d[6:])), xf)
		case recRK:
			if len(d) < 10 {
				return biffCorrupt("an RK record is %d bytes long", len(d))
			}
			text = b.numberText(rkValue(binary.LittleEndian.Uint32(d[6:])), xf)
		case recBoolErr:
			text = boolErrText(d[6], d[7] == 1)
		case recFormula:
			if len(d) < 20 {
				return biffCorrupt("a FORMULA record is %d bytes long", len(d))
			}
			v := d[6:14]
			if v[6] != 0xFF || v[7] != 0xFF {
				text = b.numberText(math.Float64frombits(binary.LittleEndian.Uint64(v)), xf)
				break
			}
			switch v[0] {
			case 0: // a string, in the STRING record that follows
				pendingRow, pendingCol = row, col
			case 1:
				text = boolErrText(v[2], false)
			case 2:
				text = boolErrText(v[2], true)
			}
			// 3 is an empty string.
		}
		if err := add(row, col, text); err != nil {
			return err
		}
	}
	slices.SortStableFunc(b.cells, func(x, y xlsCell) int {
		if x.row != y.row {
			return x.row - y.row
		}
		return x.col - y.col
	})
	// Keep the last of cells at the same place.
	out := b.cells[:0]
	for i, c := range b.cells {
		if i+1 < len(b.cells) && b.cells[i+1].row == c.row && b.cells[i+1].col == c.col {
			continue
		}
		out = append(out, c)
	}
	b.cells = out
	rowBytes := 0
	for i, c := range b.cells {
		if i > 0 && b.cells[i-1].row != c.row {
			rowBytes = 0
		}
		if rowBytes += len(c.text); rowBytes > b.lim.RowBytes {
			return b.limitError(c.row, -1, &LimitError{Limit: LimitRowBytes, Max: int64(b.lim.RowBytes)})
		}
	}
	return nil
}

// limitError returns a *ParseError of the first sheet at the 0-based row
// and column (none when col is negative) wrapping err.
func (b *biffBook) limitError(row, col int, err *LimitError) error {
	pe := &ParseError{Sheet: b.sheet, Row: int64(row) + 1, Err: err}
	if col >= 0 {
		pe.Column = ColumnLetter(col)
	}
	return pe
}

// rkValue decodes an RK number: a 30-bit signed integer or the top 30 bits
// of a float64, divided by 100 when its lowest bit is set.
func rkValue(rk uint32) float64 {
	var v float64
	if rk&2 != 0 {
		v = float64(int32(rk) >> 2)
	} else {
		v = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&1 != 0 {
		v /= 100
	}
	return v
}

// boolErrText returns the text of a boolean (b is 0 or 1) or, when isErr,
// of an error value.
func boolErrText(b byte, isErr bool) string {
	if !isErr {
		if b != 0 {
			return "TRUE"
		}
		return "FALSE"
	}
	switch b {
	case 0x00:
		return "#NULL!"
	case 0x07:
		return "#DIV/0!"
	case 0x0F:
		return "#VALUE!"
	case 0x17:
		return "#REF!"
	case 0x1D:
		return "#NAME?"
	case 0x24:
		return "#NUM!"
	case 0x2A:
		return "#N/A"
	case 0x2B:
		return "#GETTING_DATA"
	}
	return "#ERROR!"
}

// decodeChars decodes up to n characters of d: UTF-16LE when wide, else
// one byte each (Latin-1, the low bytes of UTF-16 characters below U+0100).
func decodeChars(d []byte, n int, wide bool) string {
	if wide {
		n = min(n, len(d)/2)
		u := make([]uint16, n)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(d[2*i:])
		}
		return string(utf16.Decode(u))
	}
	d = d[:min(n, len(d))]
	ascii := true
	for _, c := range d {
		ascii = ascii && c < 0x80
	}
	if ascii {
		return string(d)
	}
	var b strings.Builder
	for _, c := range d {
		b.WriteRune(rune(c))
	}
	return b.String()
}

// segReader reads data that a record and its CONTINUE records split.
type segReader struct {
	segs [][]byte // the records' data; segs[0] is being read
}

var errShortString = biffCorrupt("a string runs past the end of its records")

// bytes returns the next n bytes.
func (s *segReader) bytes(n int) ([]byte, error) {
	if len(s.segs) > 0 && len(s.segs[0]) >= n {
		b := s.segs[0][:n]
		s.segs[0] = s.segs[0][n:]
		return b, nil
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		if len(s.segs) == 0 {
			return nil, errShortString
		}
		if len(s.segs[0]) == 0 {
			s.segs = s.segs[1:]
			continue
		}
		k := min(n-len(out), len(s.segs[0]))
		out = append(out, s.segs[0][:k]...)
		s.segs[0] = s.segs[0][k:]
	}
	return out, nil
}

// skip moves past the next n bytes.
func (s *segReader) skip(n int) error {
	for n > 0 {
		if len(s.segs) == 0 {
			return errShortString
		}
		k := min(n, len(s.segs[0]))
		s.segs[0] = s.segs[0][k:]
		n -= k
		if len(s.segs[0]) == 0 {
			s.segs = s.segs[1:]
		}
	}
	return nil
}

// chars decodes the next n characters, one byte each or UTF-16LE when wide.
// Where a record ends inside the characters, the next one starts with a
// flags byte telling whether the rest are wide.
func (s *segReader) chars(n int, wide bool) (string, error) {
	var parts []string
	for n > 0 {
		if len(s.segs) > 0 && len(s.segs[0]) == 0 {
			s.segs = s.segs[1:]
			if len(s.segs) == 0 || len(s.segs[0]) == 0 {
				return "", errShortString
			}
			wide = s.segs[0][0]&1 == 1
			s.segs[0] = s.segs[0][1:]
			continue
		}
		if len(s.segs) == 0 {
			return "", errShortString
		}
		w := 1
		if wide {
			w = 2
		}
		k := min(n, len(s.segs[0])/w)
		if k == 0 {
			return "", biffCorrupt("a UTF-16 character is split between records")
		}
		parts = append(parts, decodeChars(s.segs[0], k, wide))
		s.segs[0] = s.segs[0][k*w:]
		n -= k
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return strings.Join(parts, ""), nil
}

// readUnicodeString reads an XLUnicodeString or XLUnicodeRichExtendedString:
// a 2-byte character count, a flags byte (bit 0 wide characters, bit 2 a
// phonetic block, bit 3 formatting runs), the run count and the phonetic
// block's size when present, the characters, then the runs and the phonetic
// block, which are skipped.
func readUnicodeString(s *segReader) (string, error) {
	h, err := s.bytes(3)
	if err != nil {
		return "", err
	}
	n, flags := int(binary.LittleEndian.Uint16(h)), h[2]
	var runs, ext int
	if flags&0x08 != 0 {
		b, err := s.bytes(2)
		if err != nil {
			return "", err
		}
		runs = int(binary.LittleEndian.Uint16(b))
	}
	if flags&0x04 != 0 {
		b, err := s.bytes(4)
		if err != nil {
			return "", err
		}
		ext = int(binary.LittleEndian.Uint32(b))
	}
	text, err := s.chars(n, flags&0x01 != 0)
	if err != nil {
		return "", err
	}
	if err := s.skip(4*runs + ext); err != nil {
		return "", err
	}
	return text, nil
}

// parseSST reads the shared string table from the data of an SST record and
// its CONTINUE records: two counts, then the unique strings. Text of over
// budget bytes in all is a *LimitError.
func parseSST(segs [][]byte, budget int64) ([]string, error) {
	s := &segReader{segs: segs}
	h, err := s.bytes(8)
	if err != nil {
		return nil, biffCorrupt("the shared string table is %d bytes long", len(segs[0]))
	}
	n := int(binary.LittleEndian.Uint32(h[4:]))
	total := 0
	for _, d := range segs {
		total += len(d)
	}
	if n > total/3 { // a string takes at least 3 bytes
		return nil, biffCorrupt("the shared string table claims %d strings in %d bytes", n, total)
	}
	sst := make([]string, 0, n)
	var held int64
	for range n {
		str, err := readUnicodeString(s)
		if err != nil {
			return nil, err
		}
		if held += int64(len(str)); held > budget {
			return nil, &LimitError{Limit: LimitSharedStrings, Max: budget}
		}
		sst = append(sst, str)
	}
	return sst, nil
}
