package statement

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/trueup/trueup/internal/sheet"
)

// ErrHeader is wrapped by the errors MapHeader returns.
var ErrHeader = errors.New("the header row does not match the statement template")

// Header tells where each column of a statement sheet is.
type Header struct {
	// Index maps the canonical name (Column.Name) of each column present in
	// the header row to its 0-based cell index. A column missing from the
	// header has no entry. Callers that read many rows may look the indexes
	// up once and index the cells themselves.
	Index map[string]int
}

// canonicalColumns maps the folded form of each name in Columns to the
// name.
var canonicalColumns = func() map[string]string {
	m := make(map[string]string, len(Columns))
	for _, c := range Columns {
		m[foldColumnName(c.Name)] = c.Name
	}
	return m
}()

// foldColumnName returns name lowercased, with its spaces and byte order
// marks removed.
func foldColumnName(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\ufeff' {
			return -1
		}
		return unicode.ToLower(r)
	}, name)
}

// MapHeader maps the cells of a statement's header row (row 1) to the
// columns of Columns. Names match whatever their case and spaces (a byte
// order mark is ignored too), in any order; empty cells are skipped.
//
// It returns a *ParseError of row 1 wrapping ErrHeader when a cell names no
// known column (the message names the accepted ones), when two cells name
// the same column, or when required columns are missing (the message names
// them all). The error's Column is the name as written in the header, or the
// first missing column.
func MapHeader(cells []string) (Header, error) {
	h := Header{Index: make(map[string]int, len(Columns))}
	var unknown []string
	for i, cell := range cells {
		folded := foldColumnName(cell)
		if folded == "" {
			continue
		}
		name, ok := canonicalColumns[folded]
		if !ok {
			unknown = append(unknown, strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")))
			continue
		}
		if j, dup := h.Index[name]; dup {
			return Header{}, &ParseError{Row: 1, Column: strings.TrimSpace(cell), Err: fmt.Errorf(
				"%w: column %s appears twice (cells %s and %s); keep one of them",
				ErrHeader, name, sheet.ColumnLetter(j), sheet.ColumnLetter(i))}
		}
		h.Index[name] = i
	}
	if len(unknown) > 0 {
		what := "an unknown column"
		if len(unknown) > 1 {
			what = "unknown columns"
		}
		return Header{}, &ParseError{Row: 1, Column: unknown[0], Err: fmt.Errorf(
			"%w: %s %s; the accepted columns are %s",
			ErrHeader, what, quoteList(unknown), columnNames(func(Column) bool { return true }))}
	}
	var missing []string
	for _, c := range Columns {
		if _, ok := h.Index[c.Name]; c.Required && !ok {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) > 0 {
		what := "required column"
		if len(missing) > 1 {
			what = "required columns"
		}
		return Header{}, &ParseError{Row: 1, Column: missing[0], Err: fmt.Errorf(
			"%w: missing %s %s; row 1 must name the columns %s",
			ErrHeader, what, strings.Join(missing, ", "), columnNames(func(c Column) bool { return c.Required }))}
	}
	return h, nil
}

// Get returns the cell of the named column (a Column.Name) in cells, or ""
// when the header has no such column or the row is shorter.
func (h Header) Get(cells []string, name string) string {
	i, ok := h.Index[name]
	if !ok || i >= len(cells) {
		return ""
	}
	return cells[i]
}

// columnNames returns the names of the columns that keep accepts, separated
// by commas.
func columnNames(keep func(Column) bool) string {
	var names []string
	for _, c := range Columns {
		if keep(c) {
			names = append(names, c.Name)
		}
	}
	return strings.Join(names, ", ")
}

// quoteList returns names quoted and separated by commas.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
