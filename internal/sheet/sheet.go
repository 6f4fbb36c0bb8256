// Package sheet reads spreadsheet files (xlsx, xls, csv) as a stream of
// rows of cell text, within the bounds of a Limits. It knows nothing of what
// the columns mean: the carrier statement (package statement) and the
// generic imports (package tabular) read through it.
package sheet

import (
	"errors"
	"fmt"
	"strings"
)

// Format is a spreadsheet file format.
type Format string

// The formats trueup reads.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	XLS  Format = "xls"
)

// Row is one row of a sheet.
type Row struct {
	// Number is the 1-based row number as a spreadsheet program shows it
	// (the header is row 1 when it is the sheet's first row).
	Number int64
	// Cells holds each cell's text, indexed by column (A=0). Trailing empty
	// cells may be missing. Numbers are written as stored (no number format
	// applied); a number in a date-formatted cell is the Excel serial day
	// number of the 1900 date system (a 1904-system workbook is converted);
	// booleans are TRUE or FALSE; a formula cell holds its cached value.
	Cells []string
}

// Reader is a stream of rows. Next returns the next non-empty row, or io.EOF
// after the last one. A file that is damaged or truncated makes Next return
// an error (wrapping ErrCorrupt), never a shorter stream; a file past one of
// the Limits, an error wrapping ErrLimit. A row refused alone (a CSV record
// whose field count differs from the header's) makes Next return a
// *ParseError of that row wrapping ErrRow, and the next call reads on; any
// other error ends the stream.
type Reader interface {
	Next() (Row, error)
	// Progress returns the fraction of the input consumed so far, 0 to 1.
	Progress() float64
	Close() error
}

// Sentinel errors, wrapped by the errors the readers return.
var (
	ErrCorrupt     = errors.New("file is damaged or truncated")
	ErrWrongFormat = errors.New("file content does not match its format")
	ErrEmpty       = errors.New("file is empty")
)

// ParseError is an error at a place in a sheet file.
type ParseError struct {
	Sheet  string
	Row    int64 // 1-based; 0 when unknown
	Column string
	Err    error
}

// Error returns the place and the cause.
func (e *ParseError) Error() string {
	var where []string
	if e.Sheet != "" {
		where = append(where, fmt.Sprintf("sheet %q", e.Sheet))
	}
	if e.Row > 0 {
		where = append(where, fmt.Sprintf("row %d", e.Row))
	}
	if e.Column != "" {
		where = append(where, "column "+e.Column)
	}
	if len(where) == 0 {
		return e.Err.Error()
	}
	return strings.Join(where, " ") + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Column describes one column of a file whose first row names its columns.
type Column struct {
	Name     string
	Required bool
	Type     string
	Meaning  string
	Formats  string
}
