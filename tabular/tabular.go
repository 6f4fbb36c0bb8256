// Package tabular reads the records of a file whose columns are named: a
// CSV, xlsx or xls file whose first row is the header, or JSON Lines whose
// object keys are the column names. The ledger's orders, a buyer's
// transactions and the risk list are imported through it.
package tabular

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
)

// Spec describes the columns of one kind of file.
type Spec struct {
	Columns []sheet.Column
	// What names a column in errors, completing "is not ...", for example
	// "an order field".
	What string
	// Limits bound the files Open reads (zero fields take the defaults of
	// sheet.DefaultLimits); a JSON Lines line is bounded by RowBytes and
	// a value by FieldBytes.
	Limits sheet.Limits
}

// Names returns the names of the columns, separated by commas.
func (s Spec) Names() string {
	n := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// canon maps the folded name of each column to its name.
func (s Spec) canon() map[string]string {
	m := make(map[string]string, len(s.Columns))
	for _, c := range s.Columns {
		m[Fold(c.Name)] = c.Name
	}
	return m
}

// Fold returns a column name as names are compared: lower case, without a
// byte order mark, spaces, tabs, underscores or hyphens (transaction_id,
// Transaction ID and transactionId are one column).
func Fold(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

func fileError(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, format, args...)
}

// MapHeader maps the cells of a header row to the columns of s, matching
// names as Fold does and skipping empty cells. It returns each present
// column's name and 0-based cell index, or an EINVALID *trueup.Error when
// a cell names no column (the message lists the accepted ones), when two
// cells name the same column, or when required columns are missing (the
// message lists them).
func (s Spec) MapHeader(cells []string) (map[string]int, error) {
	canon := s.canon()
	idx := map[string]int{}
	for i, h := range cells {
		f := Fold(h)
		if f == "" {
			continue
		}
		name, ok := canon[f]
		if !ok {
			return nil, fileError("header column %d %q is not %s; the accepted columns are %s", i+1, h, s.What, s.Names())
		}
		if _, dup := idx[name]; dup {
			return nil, fileError("header column %q appears twice; keep one", name)
		}
		idx[name] = i
	}
	var missing []string
	for _, c := range s.Columns {
		if _, ok := idx[c.Name]; c.Required && !ok {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fileError("header lacks required column(s) %s; add them to the first row", strings.Join(missing, ", "))
	}
	return idx, nil
}

// Source is a stream of a file's records: column name to text, with the
// record's row (or line) number.
type Source interface {
	// Next returns the next record's number and a function returning the
	// text of a column by its name ("" when absent), or io.EOF after the
	// last record. The function is valid until the next call.
	Next() (row int64, get func(column string) string, err error)
	// Progress returns the fraction of the input read so far, 0 to 1.
	Progress() float64
	Close() error
}

// sheetSource reads a CSV or spreadsheet whose first row names the columns.
type sheetSource struct {
	r     sheet.Reader
	index map[string]int
	order []indexedColumn // the known columns, left to right
	cells []string
	// bad holds the rows refused while reading: by the reader (a CSV
	// record whose field count differs from the header's) or for a
	// control character. Next skips them and returns bad in place of
	// io.EOF.
	bad RowErrors
}

// NewSheetSource reads the header of r (its first row) with s.MapHeader
// and returns a Source over the rows after it. An empty file is an
// EINVALID *trueup.Error, as are the errors of MapHeader; a read error is
// returned wrapped.
//
// The Source refuses a row whose CSV record has more or fewer fields than
// the header, and a row with a control character (a NUL, a tab, a line
// break, U+007F) in a cell of a known column: no column of an import keeps
// them, not even free text. It reads on past such rows and, at the end,
// returns a *RowErrors listing them (row, column, reason) in place of
// io.EOF, so that the caller imports nothing.
func NewSheetSource(r sheet.Reader, s Spec) (Source, error) {
	head, err := r.Next()
	if errors.Is(err, io.EOF) {
		return nil, fileError("the file is empty; the first row must name the columns: %s", s.Names())
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	idx, err := s.MapHeader(head.Cells)
	if err != nil {
		return nil, err
	}
	order := make([]indexedColumn, 0, len(idx))
	for name, i := range idx {
		order = append(order, indexedColumn{name, i})
	}
	slices.SortFunc(order, func(a, b indexedColumn) int { return a.i - b.i })
	return &sheetSource{r: r, index: idx, order: order}, nil
}

// indexedColumn is a known column and its cell index.
type indexedColumn struct {
	name string
	i    int
}

func (s *sheetSource) Next() (int64, func(string) string, error) {
	for {
		row, err := s.r.Next()
		var pe *sheet.ParseError
		switch {
		case errors.Is(err, io.EOF) && s.bad.Total > 0:
			return 0, nil, &s.bad
		case errors.Is(err, sheet.ErrRow) && errors.As(err, &pe):
			s.bad.Add(trueup.RowError{Row: pe.Row, Reason: pe.Err.Error()})
			continue
		case err != nil:
			return 0, nil, err
		}
		s.cells = row.Cells
		if e, bad := s.checkControl(row.Number); bad {
			s.bad.Add(e)
			continue
		}
		return row.Number, s.get, nil
	}
}

// checkControl returns the row error of the first cell of a known column
// that holds a control character, and whether there is one.
func (s *sheetSource) checkControl(n int64) (trueup.RowError, bool) {
	for _, c := range s.order {
		if c.i < len(s.cells) {
			if e, bad := CheckControl(n, c.name, s.cells[c.i]); bad {
				return e, true
			}
		}
	}
	return trueup.RowError{}, false
}

func (s *sheetSource) get(col string) string {
	i, ok := s.index[col]
	if !ok || i >= len(s.cells) {
		return ""
	}
	return s.cells[i]
}

func (s *sheetSource) Progress() float64 { return s.r.Progress() }
func (s *sheetSource) Close() error      { return s.r.Close() }

// jsonlSource reads JSON Lines: one object a line, keyed by column names.
type jsonlSource struct {
	spec  Spec
	canon map[string]string
	sc    *bufio.Scanner
	size  int64
	read  int64
	line  int64
	rec   map[string]string
	close func() error
	bad   RowErrors    // the lines refused for a control character
	lim   sheet.Limits // all fields set
}

// NewJSONLSource returns a Source over JSON Lines read from r, whose size
// in bytes is size (for Progress; 0 when unknown); closer, when not nil, is
// called by Close. Blank lines are skipped and a record's number is its
// line. Keys are matched with the columns of s as header names are; a line
// that is not one JSON object or has an unknown key is an EINVALID
// *trueup.Error from Next. A line with a control character in a value is
// refused as NewSheetSource refuses such a row: Next reads on and returns a
// *RowErrors at the end. Strings are read as their text, numbers and
// booleans as written, null as "".
func NewJSONLSource(r io.Reader, size int64, closer func() error, s Spec) Source {
	lim := s.Limits.WithDefaults()
	sc := bufio.NewScanner(r)
	// The larger of the buffer's capacity and the maximum bounds a line.
	sc.Buffer(make([]byte, min(64<<10, lim.RowBytes+1)), lim.RowBytes+1) // the line and its \n
	return &jsonlSource{spec: s, canon: s.canon(), sc: sc, size: size, close: closer, lim: lim}
}

func (s *jsonlSource) Next() (int64, func(string) string, error) {
	for s.sc.Scan() {
		s.line++
		b := s.sc.Bytes()
		s.read += int64(len(b)) + 1
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		rec := map[string]json.RawMessage{}
		if err := json.Unmarshal(b, &rec); err != nil {
			return 0, nil, fileError("line %d is not a JSON object (%v); write one object per line", s.line, err)
		}
		s.rec = make(map[string]string, len(rec))
		bad := false
		for k, raw := range rec {
			name, ok := s.canon[Fold(k)]
			if !ok {
				return 0, nil, fileError("line %d: key %q is not %s; the accepted keys are %s", s.line, k, s.spec.What, s.spec.Names())
			}
			v := jsonText(raw)
			if len(v) > s.lim.FieldBytes {
				return 0, nil, fileError("line %d: the value of %s is longer than %d bytes (the limit of a cell's size); shorten it", s.line, name, s.lim.FieldBytes)
			}
			if e, ctl := CheckControl(s.line, name, v); ctl && !bad {
				s.bad.Add(e)
				bad = true
			}
			s.rec[name] = v
		}
		if bad {
			continue
		}
		return s.line, s.get, nil
	}
	if err := s.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return 0, nil, fileError("line %d is longer than %d bytes (the limit of a row's size); write one record per line", s.line+1, s.lim.RowBytes)
		}
		return 0, nil, fmt.Errorf("read line %d: %w", s.line+1, err)
	}
	if s.bad.Total > 0 {
		return 0, nil, &s.bad
	}
	return 0, nil, io.EOF
}

func (s *jsonlSource) get(col string) string { return s.rec[col] }

// jsonText returns a JSON value as text: a string's content, "" for null,
// anything else as written.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

func (s *jsonlSource) Progress() float64 {
	if s.size <= 0 {
		return 0
	}
	return min(1, float64(s.read)/float64(s.size))
}

func (s *jsonlSource) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

// Open opens the file at path as a Source of s: JSON Lines when it is
// named .jsonl or .ndjson, else CSV, xlsx or xls as sheet.Detect tells
// by its content. It returns the Source and the file's size in bytes. A
// file that is none of these formats, or whose header is wrong, is an
// error prefixed with the path and wrapping the cause (an EINVALID
// *trueup.Error or sheet.ErrWrongFormat); an error opening the file
// is returned as it is.
func Open(path string, s Spec) (Source, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".jsonl" || ext == ".ndjson" {
		return NewJSONLSource(f, st.Size(), f.Close, s), st.Size(), nil
	}
	head := make([]byte, sheet.DetectSize)
	n, _ := f.ReadAt(head, 0)
	format, err := sheet.Detect(head[:n], path)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	r, err := s.Limits.Open(f, st.Size(), format)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	src, err := NewSheetSource(r, s)
	if err != nil {
		r.Close()
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return fileSource{src, f}, st.Size(), nil
}

// fileSource closes the file after its reader.
type fileSource struct {
	Source
	f *os.File
}

func (s fileSource) Close() error {
	err := s.Source.Close()
	if ferr := s.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// MaxReportedErrors is how many row errors a RowErrors keeps at most.
const MaxReportedErrors = 1000

// RowErrors is a refused file: every row error found (up to
// MaxReportedErrors) and how many there were in all. Nothing was stored.
type RowErrors struct {
	Rows  []trueup.RowError
	Total int
}

// Error summarises the first five row errors.
func (e *RowErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d row error(s); nothing was imported", e.Total)
	for i, r := range e.Rows {
		if i == 5 {
			b.WriteString("; ...")
			break
		}
		fmt.Fprintf(&b, "; row %d", r.Row)
		if r.Column != "" {
			fmt.Fprintf(&b, " column %s", r.Column)
		}
		if r.Value != "" {
			fmt.Fprintf(&b, " value %q", r.Value)
		}
		fmt.Fprintf(&b, ": %s", r.Reason)
	}
	return b.String()
}

// Add counts errs and keeps them while fewer than MaxReportedErrors are
// kept.
func (e *RowErrors) Add(errs ...trueup.RowError) {
	e.Total += len(errs)
	for _, r := range errs {
		if len(e.Rows) < MaxReportedErrors {
			e.Rows = append(e.Rows, r)
		}
	}
}

// CheckControl returns the row error of row n whose cell of column col
// holds v, when v has a control character (U+0000 to U+001F or U+007F:
// a NUL, a tab, a line break), and whether it has one. The error's value
// shows the characters escaped (\x00, \n), cut to 64 characters.
func CheckControl(n int64, col, v string) (trueup.RowError, bool) {
	i := strings.IndexFunc(v, isControl)
	if i < 0 {
		return trueup.RowError{}, false
	}
	return trueup.RowError{Row: n, Column: col, Value: Printable(v),
		Reason: fmt.Sprintf("%s holds the control character %s; remove it (ids, codes and text are written on one line, without tabs or other control characters)",
			col, strings.Trim(strconv.QuoteRune(rune(v[i])), "'"))}, true
}

// isControl reports whether r is a C0 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Printable returns v cut to 64 characters (with an ellipsis), its control
// characters escaped as Go writes them (\x00, \t, \n) and bytes that are
// not UTF-8 replaced by U+FFFD, for an error message or a stored row error.
func Printable(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	var b strings.Builder
	n := 0
	for _, r := range v {
		if n == 64 {
			b.WriteString("…")
			break
		}
		n++
		if isControl(r) {
			b.WriteString(strings.Trim(strconv.QuoteRune(r), "'"))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
