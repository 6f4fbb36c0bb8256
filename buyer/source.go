package buyer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/statement"
)

// Column is a column of a file trueup reads from a buyer's operator:
// transactions (TransactionColumns) or a process's list (ItemColumns).
type Column struct {
	Name     string
	Required bool
	Meaning  string
}

// Source is a stream of a file's records: column name → text, with the
// record's row (or line) number.
type Source interface {
	// Next returns the next record, or io.EOF after the last.
	Next() (row int64, get func(column string) string, err error)
	// Progress returns the fraction of the input read, 0 to 1.
	Progress() float64
	Close() error
}

// fold returns a header name compared without regard to case, spaces,
// underscores or hyphens (transaction_id, Transaction ID and transactionId
// are one column), and without a byte order mark.
func fold(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

func columnNames(cols []Column) string {
	n := make([]string, len(cols))
	for i, c := range cols {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// canonical returns the column a header or key names, or "".
func canonical(cols []Column, name string) string {
	f := fold(name)
	for _, c := range cols {
		if fold(c.Name) == f {
			return c.Name
		}
	}
	return ""
}

// sheetSource reads a CSV or spreadsheet whose first row names the columns.
type sheetSource struct {
	r     statement.Reader
	index map[string]int
	cells []string
}

// NewSheetSource reads the header of r (its first row) against cols and
// returns a Source over the rows after it. An empty file, an unknown or
// repeated column, and a missing required one are EINVALID errors.
func NewSheetSource(r statement.Reader, cols []Column) (Source, error) {
	head, err := r.Next()
	if errors.Is(err, io.EOF) {
		return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "the file is empty; its first row must name the columns: %s", columnNames(cols))
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	idx := map[string]int{}
	for i, h := range head.Cells {
		if fold(h) == "" {
			continue
		}
		name := canonical(cols, h)
		if name == "" {
			return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "header column %d %q is not a known column; the columns are %s", i+1, h, columnNames(cols))
		}
		if _, dup := idx[name]; dup {
			return nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "header column %q appears twice; keep one", name)
		}
		idx[name] = i
	}
	if err := missing(cols, func(name string) bool { _, ok := idx[name]; return ok }); err != nil {
		return nil, err
	}
	return &sheetSource{r: r, index: idx}, nil
}

func missing(cols []Column, has func(string) bool) error {
	var out []string
	for _, c := range cols {
		if c.Required && !has(c.Name) {
			out = append(out, c.Name)
		}
	}
	if len(out) > 0 {
		return trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "the header lacks the required column(s) %s; add them to the first row", strings.Join(out, ", "))
	}
	return nil
}

func (s *sheetSource) Next() (int64, func(string) string, error) {
	row, err := s.r.Next()
	if err != nil {
		return 0, nil, err
	}
	s.cells = row.Cells
	return row.Number, s.get, nil
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
	cols  []Column
	sc    *bufio.Scanner
	size  int64
	read  int64
	line  int64
	rec   map[string]any
	close func() error
}

// NewJSONLSource returns a Source over JSON Lines read from r, whose size
// in bytes is size (for Progress; 0 when unknown); closer, when not nil, is
// called by Close. Keys are matched with cols as header names are; an
// unknown key or a line that is not an object is an EINVALID error from
// Next. Numbers are kept as written.
func NewJSONLSource(r io.Reader, size int64, closer func() error, cols []Column) Source {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	return &jsonlSource{cols: cols, sc: sc, size: size, close: closer}
}

func (s *jsonlSource) Next() (int64, func(string) string, error) {
	for s.sc.Scan() {
		s.line++
		b := s.sc.Bytes()
		s.read += int64(len(b)) + 1
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		rec := map[string]any{}
		if err := dec.Decode(&rec); err != nil {
			return 0, nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "line %d is not a JSON object (%v); write one object per line", s.line, err)
		}
		s.rec = make(map[string]any, len(rec))
		for k, v := range rec {
			name := canonical(s.cols, k)
			if name == "" {
				return 0, nil, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidFile, "line %d: key %q is not a known column; the keys are %s", s.line, k, columnNames(s.cols))
			}
			s.rec[name] = v
		}
		return s.line, s.get, nil
	}
	if err := s.sc.Err(); err != nil {
		return 0, nil, fmt.Errorf("read line %d: %w", s.line+1, err)
	}
	return 0, nil, io.EOF
}

func (s *jsonlSource) get(col string) string {
	switch v := s.rec[col].(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
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
