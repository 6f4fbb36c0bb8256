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
// quoted as RFC 4180 describes; records may have any number of fields. Blank
// lines, and records whose fields are all empty or spaces, are skipped.
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
// letter and wrapping ErrEncoding for text that is not valid UTF-8. After an
// error, Next returns the same error again. OpenCSV itself returns an error
// only when r fails before the first line can be examined.
func OpenCSV(r io.Reader, size int64) (Reader, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, csvPeekSize)
	head, err := br.Peek(csvPeekSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	if bytes.HasPrefix(head, []byte(utf8BOM)) {
		head = head[len(utf8BOM):]
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return nil, fmt.Errorf("read csv: %w", err)
		}
	}
	c := csv.NewReader(br)
	c.Comma = sniffDelimiter(head)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	return &csvReader{csv: c, count: cr, size: size}, nil
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
type countingReader struct {
	r       io.Reader
	n       int64
	invalid bool    // the bytes read so far are not valid UTF-8
	carry   [4]byte // the start of a character cut by the end of the last read
	nCarry  int
}

func (c *countingReader) Read(p []byte) (int, error) {
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
	err   error // sticky; io.EOF once the input is read
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
		if r.count.invalid {
			for i, cell := range rec {
				if !utf8.ValidString(cell) {
					r.err = &ParseError{Row: row, Column: ColumnLetter(i), Err: fmt.Errorf(
						"%w; save the file as CSV UTF-8 (it may be saved in GBK or another encoding)", ErrEncoding)}
					return Row{}, r.err
				}
			}
		}
		for _, cell := range rec {
			if !isBlank(cell) {
				return Row{Number: row, Cells: rec}, nil
			}
		}
	}
}

// wrapError turns an error of encoding/csv into a *ParseError.
func (r *csvReader) wrapError(err error) error {
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
