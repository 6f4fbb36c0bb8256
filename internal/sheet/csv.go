package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrEncoding is wrapped by the error a reader returns for text that is not
// valid UTF-8.
var ErrEncoding = errors.New("text is not valid UTF-8")

// utf8BOM is the byte order mark some programs write at the start of a UTF-8
// text file.
const utf8BOM = "\xef\xbb\xbf"

// csvPeekSize is how much of a CSV file's start OpenCSV examines for a
// byte order mark and the delimiter; it is also the read buffer's size.
const csvPeekSize = 64 << 10

// OpenCSV returns a Reader of the CSV text read from r, whose length in bytes
// is size (used for Progress only; pass 0 or less when unknown).
//
// A UTF-8 byte order mark is skipped. The delimiter is a comma, or a
// semicolon when the first line holds semicolons and no comma. Fields may be
// quoted as RFC 4180 describes. Blank lines, and records whose fields are all
// empty or spaces, are skipped. The first other record is the header: every
// record after it must have as many fields.
//
// Row.Number is the row a spreadsheet program shows for the record: it
// counts every line, blank ones included, except the extra lines of quoted
// fields that span lines; the first record (the header) is row 1 when it is
// on the first line. The Cells slice of a returned Row is reused by the next
// call to Next (the strings in it are not).
//
// Next returns a *ParseError wrapping both ErrCorrupt and the
// *csv.ParseError for malformed quoting (its text gives the line and the
// character position), or a *ParseError naming the row and the column
// letter and wrapping ErrEncoding for text that is not valid UTF-8. It reads
// within DefaultLimits: a record longer than RowBytes (counted from its
// first line; the read stops there), a field longer than FieldBytes, or more
// fields than RowCells make Next return a *ParseError wrapping a
// *LimitError. After any of these errors, Next returns the same error again.
//
// A record whose field count differs from the header's is refused alone:
// Next returns a *ParseError of its row wrapping ErrRow, and the next call
// reads on. OpenCSV itself returns an error only when r fails before the
// first line can be examined.
func OpenCSV(r io.Reader, size int64) (Reader, error) {
	return DefaultLimits().OpenCSV(r, size)
}

// OpenCSV is the package's OpenCSV within l.
func (l Limits) OpenCSV(r io.Reader, size int64) (Reader, error) {
	l = l.WithDefaults()
	// The reader fails a record past RowBytes, counted from the record's
	// first byte; what the read buffer holds ahead is allowed for.
	cr := &countingReader{r: r, rowMax: int64(l.RowBytes), slack: csvPeekSize}
	br := bufio.NewReaderSize(cr, csvPeekSize)
	head, err := br.Peek(csvPeekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	bom := int64(0)
	if bytes.HasPrefix(head, []byte(utf8BOM)) {
		bom = int64(len(utf8BOM))
		head = head[len(utf8BOM):]
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
	}
	c := csv.NewReader(br)
	c.Comma = sniffDelimiter(head)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return &csvReader{csv: c, count: cr, size: size, lim: l, nextRow: 1, base: bom}, nil
}

// sniffDelimiter returns ';' when the first line of head holds semicolons and
// no comma, and ',' otherwise.
func sniffDelimiter(head []byte) rune {
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if bytes.IndexByte(line, ';') >= 0 && bytes.IndexByte(line, ',') < 0 {
		return ';'
	}
	return ','
}

// countingReader counts the bytes read through it and notes whether they
// hold anything but valid UTF-8. Checking the stream in large chunks is
// cheaper than checking every field; since the delimiters, quotes and line
// breaks are ASCII, the stream is valid UTF-8 exactly when every field is, so
// the fields need checking only once the stream is found invalid.
//
// It also bounds the bytes read past mark, the start of the record being
// read, to rowMax plus slack (0 for no bound), failing the read past them
// with a *LimitError.
type countingReader struct {
	r       io.Reader
	n       int64
	mark    int64
	rowMax  int64
	slack   int64
	invalid bool    // the bytes read so far are not valid UTF-8
	carry   [4]byte // the start of a character cut by the end of the last read
	nCarry  int
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.rowMax > 0 && c.n-c.mark > c.rowMax+c.slack {
		return 0, &LimitError{Limit: LimitRowBytes, Max: c.rowMax}
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if !c.invalid {
		c.check(p[:n])
		if err != nil && c.nCarry > 0 {
			c.invalid = true // the text ends inside a character
		}
	}
	return n, err
}

// check notes in c.invalid whether b, following the bytes before it, is not
// valid UTF-8.
func (c *countingReader) check(b []byte) {
	if c.nCarry > 0 && len(b) > 0 {
		k := min(len(c.carry)-c.nCarry, len(b))
		buf := append(c.carry[:c.nCarry:c.nCarry], b[:k]...)
		if !utf8.FullRune(buf) {
			c.nCarry = copy(c.carry[:], buf)
			return
		}
		r, size := utf8.DecodeRune(buf)
		if r == utf8.RuneError && size <= 1 {
			c.invalid = true
			return
		}
		b = b[size-c.nCarry:]
		c.nCarry = 0
	}
	// Keep back a character cut by the end of b.
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if b[i] < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				c.nCarry = copy(c.carry[:], b[i:])
				b = b[:i]
			}
			break
		}
	}
	if !utf8.Valid(b) {
		c.invalid = true
	}
}

// csvReader is the Reader OpenCSV returns.
type csvReader struct {
	csv   *csv.Reader
	count *countingReader
	size  int64
	// extra counts the line breaks inside quoted fields of the records read
	// so far, which a spreadsheet program does not show as rows.
	extra int64
	err   error  // sticky; io.EOF once the input is read
	lim   Limits // all fields set
	base  int64  // the bytes before the text csv reads (a byte order mark)
	// nextRow is the row after the last record read, where the next one
	// starts unless blank lines come first.
	nextRow int64
	// header is the header's field count, 0 until it is read.
	header int
}

// Next returns the next record that is not blank, or io.EOF after the last.
func (r *csvReader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	for {
		rec, err := r.csv.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.err = io.EOF
				return Row{}, io.EOF
			}
			r.err = r.wrapError(err)
			return Row{}, r.err
		}
		start := r.count.mark
		r.count.mark = r.base + r.csv.InputOffset()
		startLine, _ := r.csv.FieldPos(0)
		row := int64(startLine) - r.extra
		// A record that ends on a later line than it starts hides those line
		// breaks from the row count of the records after it.
		last := len(rec) - 1
		endLine, _ := r.csv.FieldPos(last)
		r.extra += int64(endLine - startLine)
		if strings.IndexByte(rec[last], '\n') >= 0 {
			r.extra += int64(strings.Count(rec[last], "\n"))
		}
		r.nextRow = int64(endLine) + 1 - r.extra
		if len(rec) > r.lim.RowCells {
			r.err = &ParseError{Row: row, Err: &LimitError{Limit: LimitRowCells, Max: int64(r.lim.RowCells)}}
			return Row{}, r.err
		}
		// No field of a record shorter than the limit can pass it.
		if r.count.mark-start > int64(r.lim.FieldBytes) {
			for i, cell := range rec {
				if len(cell) > r.lim.FieldBytes {
					r.err = &ParseError{Row: row, Column: ColumnLetter(i), Err: &LimitError{Limit: LimitFieldBytes, Max: int64(r.lim.FieldBytes)}}
					return Row{}, r.err
				}
			}
		}
		if r.count.invalid {
			for i, cell := range rec {
				if !utf8.ValidString(cell) {
					r.err = &ParseError{Row: row, Column: ColumnLetter(i), Err: fmt.Errorf(
						"%w; save the file as CSV UTF-8 (it may be saved in GBK or another encoding)", ErrEncoding)}
					return Row{}, r.err
				}
			}
		}
		if blankRecord(rec) {
			continue
		}
		switch {
		case r.header == 0:
			r.header = len(rec)
		case len(rec) != r.header:
			return Row{}, &ParseError{Row: row, Err: &FieldCountError{Fields: len(rec), Header: r.header, Comma: r.csv.Comma}}
		}
		return Row{Number: row, Cells: rec}, nil
	}
}

// blankRecord reports whether every field of rec is empty or spaces.
func blankRecord(rec []string) bool {
	for _, cell := range rec {
		if !isBlank(cell) {
			return false
		}
	}
	return true
}

// ErrRow is wrapped by the error of a row a reader refuses while it reads
// on: Next returns it in place of the row, and the next call returns the
// rows after it.
var ErrRow = errors.New("the row is refused")

// FieldCountError is a CSV record whose field count differs from the
// header's. It wraps ErrRow.
type FieldCountError struct {
	Fields, Header int
	Comma          rune // the delimiter
}

// Error gives both counts and says how to fix the record.
func (e *FieldCountError) Error() string {
	return fmt.Sprintf("the row has %d fields but the header has %d; every row needs one field per header column: "+
		"enclose a value holding %q in double quotes (\"12%c50\"), and remove or add delimiters to match the header",
		e.Fields, e.Header, e.Comma, e.Comma)
}

// Unwrap returns ErrRow.
func (e *FieldCountError) Unwrap() error { return ErrRow }

// wrapError turns an error of encoding/csv into a *ParseError.
func (r *csvReader) wrapError(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return &ParseError{Row: r.nextRow, Err: le}
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read csv: %w", err)
	}
	return &ParseError{Row: int64(pe.StartLine) - r.extra, Err: &csvSyntaxError{pe}}
}

// csvSyntaxError is malformed CSV text. It wraps ErrCorrupt and the
// *csv.ParseError, and says how to quote fields.
type csvSyntaxError struct{ err *csv.ParseError }

func (e *csvSyntaxError) Error() string {
	return "malformed CSV (" + e.err.Error() + "); enclose a field holding quotes, delimiters or line breaks in double quotes, doubling the quotes inside it"
}

func (e *csvSyntaxError) Unwrap() []error { return []error{ErrCorrupt, e.err} }

// isBlank reports whether s holds nothing but spaces and tabs.
func isBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// Progress returns the fraction of the input's bytes read so far: 0 when the
// size is unknown, 1 after io.EOF.
func (r *csvReader) Progress() float64 {
	if r.err == io.EOF {
		return 1
	}
	if r.size <= 0 {
		return 0
	}
	return min(float64(r.count.n)/float64(r.size), 1)
}

// Close releases nothing (the caller owns the underlying reader) and
// returns nil.
func (r *csvReader) Close() error { return nil }

// ColumnLetter returns the spreadsheet letters of the 0-based column index i
// (0 is A, 25 is Z, 26 is AA).
func ColumnLetter(i int) string {
	if i < 0 {
		return strconv.Itoa(i)
	}
	var b [8]byte
	n := len(b)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		b[n] = byte('A' + (i-1)%26)
	}
	return string(b[n:])
}
