package batch

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/statement"
)

// A statement may come as a workbook split over sheets (an xlsx sheet holds
// at most 1,048,576 rows): every sheet whose first row is the template
// header is part of it, in workbook order; the other sheets (notes, the
// template's Columns sheet) are skipped.

// sheetKind is what the first rows of a sheet make of it.
type sheetKind int

const (
	sheetSkipped   sheetKind = iota // empty, or its first row is not the header
	sheetHeader                     // the header and nothing below it
	sheetStatement                  // the header and at least one row
)

// classifySheet reads the first rows of sheet i of b. It returns the kind
// of the sheet and, for a skipped one, why (the header's error); an error
// of the reader ends the look (the file is damaged).
func classifySheet(b sheet.Book, i int, wantData bool) (sheetKind, error, error) {
	r, err := b.Open(i)
	if err != nil {
		return sheetSkipped, nil, openError{err}
	}
	defer r.Close()
	head, err := r.Next()
	if errors.Is(err, io.EOF) {
		return sheetSkipped, trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "the file has no rows; fill the template: a header row, then one row per order"), nil
	}
	if err != nil {
		return sheetSkipped, nil, err
	}
	if _, err := statement.MapHeader(head.Cells); err != nil {
		return sheetSkipped, err, nil
	}
	if !wantData {
		return sheetHeader, nil, nil
	}
	if _, err := r.Next(); errors.Is(err, io.EOF) {
		return sheetHeader, nil, nil
	} else if err != nil {
		return sheetSkipped, nil, err
	}
	return sheetStatement, nil, nil
}

// openError is an error opening a sheet, as opposed to reading its rows.
type openError struct{ err error }

func (e openError) Error() string { return e.err.Error() }
func (e openError) Unwrap() error { return e.err }

// checkBook makes sure the book holds a statement: a sheet whose first row
// is the template header with a data row below it. A one-sheet file is
// refused with that sheet's own error; a workbook with no such sheet, with
// an error that lists its sheets.
func checkBook(b sheet.Book, err error) error {
	if err != nil {
		return err
	}
	defer b.Close()
	names := b.Sheets()
	var first error
	headers := 0
	for i := range names {
		kind, why, err := classifySheet(b, i, true)
		if err != nil {
			return err
		}
		switch kind {
		case sheetStatement:
			return nil
		case sheetHeader:
			headers++
			why = trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "the file has a header row but no data rows; add one row per order below the header")
		}
		if first == nil {
			first = why
		}
	}
	return noStatement(names, first, headers)
}

// noStatement returns the error of a book with no statement sheet: first is
// the error of its first sheet, headers the number of sheets with the
// header and no data rows.
func noStatement(names []string, first error, headers int) error {
	if len(names) == 1 {
		return first
	}
	if headers > 0 {
		return trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "the sheets of the workbook that start with the template header have no data rows; add one row per order below the header")
	}
	return trueup.Reasonf(trueup.EINVALID, ReasonBadFile,
		"no sheet of the workbook (%s) starts with the template header; put the header row (%s) in row 1 of the statement sheet (sheet %q: %s)",
		quoteNames(names), strings.Join(statementColumnNames(), ", "), names[0], trueup.ErrorMessage(fileError(first)))
}

// statementColumnNames returns the names of the template's columns.
func statementColumnNames() []string {
	names := make([]string, len(statement.Columns))
	for i, c := range statement.Columns {
		names[i] = c.Name
	}
	return names
}

// quoteNames returns the sheet names quoted and joined by commas.
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// statementSheets is the plan of a check: which sheets of the book hold the
// statement and which are skipped.
type statementSheets struct {
	names   []string
	read    []int    // the statement's sheets, in workbook order
	skipped []string // the names of the others
}

// split reports whether the statement is read from more than one sheet;
// then row errors name their sheet.
func (p *statementSheets) split() bool { return len(p.read) > 1 }

// planSheets classifies the sheets of b. It returns a message for the
// batch's failure when no sheet holds the statement, or when the file is
// damaged.
func planSheets(b sheet.Book) (statementSheets, string) {
	p := statementSheets{names: b.Sheets()}
	var first error
	for i, name := range p.names {
		kind, why, err := classifySheet(b, i, false)
		if err != nil {
			var oe openError
			if len(p.names) == 1 && !errors.As(err, &oe) {
				return p, "the file has no header row; fill the template: a header row, then one row per order"
			}
			return p, trueup.ErrorMessage(fileError(err))
		}
		if kind == sheetSkipped {
			if first == nil {
				first = why
			}
			p.skipped = append(p.skipped, name)
			continue
		}
		p.read = append(p.read, i)
	}
	if len(p.read) == 0 {
		if len(p.names) == 1 {
			if errors.Is(first, statement.ErrHeader) {
				return p, trueup.ErrorMessage(fileError(first))
			}
			return p, "the file has no header row; fill the template: a header row, then one row per order"
		}
		return p, trueup.ErrorMessage(noStatement(p.names, first, 0))
	}
	return p, ""
}

// rowPlace packs the place of a statement row, the index of its sheet in
// the book and its row number, into one number that grows in reading order.
func rowPlace(sheetIndex int, row int64) int64 { return int64(sheetIndex)<<40 | row }

// placeRow returns the sheet index and the row number of a place.
func placeRow(place int64) (int, int64) { return int(place >> 40), place & (1<<40 - 1) }

// sheetRowError returns e, a row error of sheet name, naming the sheet.
func sheetRowError(e trueup.RowError, name string) trueup.RowError {
	e.Reason = fmt.Sprintf("sheet %q: %s", name, e.Reason)
	return e
}
