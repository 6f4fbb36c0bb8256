// Package statement reads partner statement files (xlsx, xls, csv) as a
// stream of rows of cell text, and writes the import template and the
// discrepancy exports. It knows nothing of the ledger or of matching.
package statement

import (
	"errors"
	"fmt"
	"strings"
)

// Format is a statement file format.
type Format string

// The formats trueup reads.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	XLS  Format = "xls"
)

// Row is one row of a statement sheet.
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
// an error (wrapping ErrCorrupt), never a shorter stream.
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

// ParseError is an error at a place in a statement file.
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

// Column describes one column of the carrier statement.
type Column struct {
	Name     string
	Required bool
	Type     string
	Meaning  string
	Formats  string
}

// Columns lists the carrier-side fields of seed 004's DiffBill, in the
// template's order.
var Columns = []Column{
	{"carrierOrderId", true, "text", "The carrier's order ID; unique within the statement. Matched with the ledger's carrierOrderId.", "Text up to 128 characters."},
	{"carrierUserId", true, "text", "The carrier's user ID of the subscriber.", "Text up to 128 characters."},
	{"carrierOrderTime", true, "date-time", "When the subscriber ordered the package on the carrier side.", "ISO 8601 (2025-10-27T11:47:46.977Z, 2025-10-27T19:47:46+08:00, 2025-10-27 11:47:46) or an Excel date cell, read in the carrier's time zone (UTC unless configured)."},
	{"skuCode", true, "text", "The SKU code of the package.", "Text up to 128 characters, for example 1p500g."},
	{"carrierPackageId", true, "text", "The package ID recorded by the carrier.", "Text up to 128 characters."},
	{"carrierActiveTime", true, "date-time", "When the package became effective on the carrier side.", "As carrierOrderTime."},
	{"carrierEndTime", true, "date-time", "When the package ends on the carrier side.", "As carrierOrderTime; not before carrierActiveTime."},
	{"carrierSale", false, "decimal", "The carrier's revenue of the order.", "A decimal number with a dot, for example 10 or 9.90; no currency sign or thousands separator."},
	{"carrierSaleToKd", true, "decimal", "The revenue share the carrier owes the platform for the order. Compared with the ledger's kdSaleTotal.", "As carrierSale."},
	{"channel", false, "text", "The sales channel value.", "Text up to 128 characters, for example 0."},
}
