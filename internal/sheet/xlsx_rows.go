package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

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
	ownSST   bool // Close closes sst (a reader of OpenXLSX, not of a Book)
	date1904 bool
	dateXf   []bool // by cell style: whether it is a date format (1904 only)
	lim      Limits // all fields set
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
			if col >= x.lim.RowCells {
				return Row{}, x.parseError(rowNum, ColumnLetter(col), &LimitError{Limit: LimitRowCells, Max: int64(x.lim.RowCells)})
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
			if !x.appendText(start) {
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
				if !x.appendText(start) {
					return Row{}, x.parseError(rowNum, "", s.error())
				}
			}
		case "t":
			if inIS && !inPh && !s.isEnd && !s.empty {
				if !x.appendText(start) {
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

// appendText appends the text at the scanner to the row's text, as part of
// the cell whose text starts at rowText[start:]. Past the cell's or the
// row's limit, it sets the scanner's error to the *LimitError.
func (x *xlsxReader) appendText(start int) bool {
	var ok bool
	cellEnd := start + x.lim.FieldBytes
	x.rowText, ok = x.s.appendText(x.rowText, min(cellEnd, x.lim.RowBytes))
	if !ok && x.s.err == errTextTooLong {
		if cellEnd <= x.lim.RowBytes {
			x.s.err = &LimitError{Limit: LimitFieldBytes, Max: int64(x.lim.FieldBytes)}
		} else {
			x.s.err = &LimitError{Limit: LimitRowBytes, Max: int64(x.lim.RowBytes)}
		}
	}
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
		if x.sst.disk != nil {
			return x.diskString(row, col, start, i)
		}
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

// diskString completes the cell of row at column col, whose text starts
// at rowText[start:], with shared string i of a table on disk: its text is
// read into the row.
func (x *xlsxReader) diskString(row int64, col, start, i int) error {
	v, err := x.sst.disk.get(i)
	if err != nil {
		return err
	}
	if len(v) == 0 {
		return nil
	}
	if start+len(v) > x.lim.RowBytes {
		return x.parseError(row, ColumnLetter(col), &LimitError{Limit: LimitRowBytes, Max: int64(x.lim.RowBytes)})
	}
	x.rowText = append(x.rowText, v...)
	x.cells = append(x.cells, xlsxCell{col: int32(col), a: int32(start), b: int32(len(x.rowText))})
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
	if x.ownSST {
		x.sst.close()
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
