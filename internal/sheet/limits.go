package sheet

import (
	"errors"
	"fmt"
	"io"
)

// Limits bounds the memory and the work one file may cost a reader. A zero
// field takes its default (see DefaultLimits); the readers refuse a file
// past a bound with an error wrapping ErrLimit that names the bound.
type Limits struct {
	// SharedStrings is the most bytes the shared strings table of a
	// workbook (xlsx or xls) may hold in memory: the text of the strings
	// plus 4 bytes a string for an xlsx, the text for an xls.
	SharedStrings int64
	// StringsMemory is the bytes (counted as for SharedStrings) past
	// which the shared strings table of an xlsx workbook moves from
	// memory to a temporary file in TempDir, from which its strings are
	// then read, with the same results: memory then holds 8 bytes for 64
	// strings and a few hundred KiB of read windows and cache, and
	// Inflated alone bounds the table. When it is not below SharedStrings
	// the table stays in memory (and past SharedStrings is refused). With
	// the table on disk, the shared strings a row refers to count against
	// RowBytes (they are read into the row).
	StringsMemory int64
	// TempDir is the folder of the temporary files of StringsMemory;
	// os.TempDir() when empty.
	TempDir string
	// Inflated is the most bytes an xlsx may inflate to: the uncompressed
	// bytes of every part the reader reads (workbook, relationships,
	// styles, shared strings, sheet), together. For an xls it bounds the
	// workbook stream. A CSV file is not compressed: the upload limit
	// bounds it.
	Inflated int64
	// FieldBytes is the longest text of one cell (a CSV field, an xlsx
	// inline string, value or shared string, an xls string), in bytes.
	FieldBytes int
	// RowBytes is the most text one row may hold, in bytes: all its
	// cells together for a workbook, the record's line(s) for a CSV file.
	RowBytes int
	// RowCells is the most cells one row may have (its last column, for a
	// workbook; its field count, for a CSV file).
	RowCells int
}

// The default limits, which DefaultLimits returns. Excel keeps at most
// 32,767 characters in a cell and 16,384 columns in a row, far below them.
const (
	DefaultSharedStrings = 256 << 20
	DefaultStringsMemory = 64 << 20
	DefaultInflated      = 1 << 30
	DefaultFieldBytes    = 1 << 20
	DefaultRowBytes      = 8 << 20
	DefaultRowCells      = 16384
)

// DefaultLimits returns the limits the package-level Open functions use.
func DefaultLimits() Limits {
	return Limits{
		SharedStrings: DefaultSharedStrings,
		StringsMemory: DefaultStringsMemory,
		Inflated:      DefaultInflated,
		FieldBytes:    DefaultFieldBytes,
		RowBytes:      DefaultRowBytes,
		RowCells:      DefaultRowCells,
	}
}

// WithDefaults returns l with its zero (or negative) fields set to their
// defaults.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.SharedStrings <= 0 {
		l.SharedStrings = d.SharedStrings
	}
	if l.StringsMemory <= 0 {
		l.StringsMemory = d.StringsMemory
	}
	if l.Inflated <= 0 {
		l.Inflated = d.Inflated
	}
	if l.FieldBytes <= 0 {
		l.FieldBytes = d.FieldBytes
	}
	if l.RowBytes <= 0 {
		l.RowBytes = d.RowBytes
	}
	if l.RowCells <= 0 {
		l.RowCells = d.RowCells
	}
	return l
}

// ErrLimit is wrapped by the errors of a file past one of the Limits.
var ErrLimit = errors.New("the file is past a limit of the reader")

// A Limit names one of the Limits, in the errors of a file past it.
type Limit string

// The limits, as the errors name them.
const (
	LimitSharedStrings Limit = "shared strings"
	LimitInflated      Limit = "inflated size"
	LimitFieldBytes    Limit = "cell size"
	LimitRowBytes      Limit = "row size"
	LimitRowCells      Limit = "cells in a row"
)

// LimitError is a file past one of the Limits. It wraps ErrLimit.
type LimitError struct {
	Limit Limit
	Max   int64 // the bound: bytes, or cells for LimitRowCells
}

// Error says which bound the file passes and what to do.
func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitSharedStrings:
		return fmt.Sprintf("the shared strings of the workbook take more than %s (the limit of shared strings); split the file into smaller ones, or save it as CSV", formatBytes(e.Max))
	case LimitInflated:
		return fmt.Sprintf("the workbook inflates to more than %s (the limit of a file's inflated size); split it into smaller files", formatBytes(e.Max))
	case LimitFieldBytes:
		return fmt.Sprintf("a cell holds more than %s of text (the limit of a cell's size); shorten it", formatBytes(e.Max))
	case LimitRowBytes:
		return fmt.Sprintf("the row holds more than %s of text (the limit of a row's size); shorten its cells (a quote left open in a CSV file makes the rest of the file one field)", formatBytes(e.Max))
	case LimitRowCells:
		return fmt.Sprintf("the row has more than %d cells (the limit of cells in a row); remove the extra columns", e.Max)
	}
	return fmt.Sprintf("the file is past the limit of %s (%d)", e.Limit, e.Max)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// formatBytes returns n bytes in the largest binary unit that divides it
// (16 MiB, 1 GiB, 1500 bytes).
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// inflateBudget counts the bytes inflated from the parts of one archive
// against Limits.Inflated.
type inflateBudget struct {
	left, max int64
}

// reader returns r counted against b: a read past the budget fails with a
// *LimitError.
func (b *inflateBudget) reader(r io.Reader) io.Reader { return &budgetReader{r: r, b: b} }

// budgetReader is a reader counted against an inflateBudget.
type budgetReader struct {
	r io.Reader
	b *inflateBudget
}

func (r *budgetReader) Read(p []byte) (int, error) {
	// Read one byte past the budget at most, to tell a part that ends
	// at it from one that goes on.
	if int64(len(p)) > r.b.left+1 {
		p = p[:r.b.left+1]
	}
	n, err := r.r.Read(p)
	r.b.left -= int64(n)
	if r.b.left < 0 {
		return n, &LimitError{Limit: LimitInflated, Max: r.b.max}
	}
	return n, err
}

// Open returns a Reader of the file in r, whose length is size, read as
// format f (as Detect returns it) within l. It returns the errors of
// OpenCSV, OpenXLSX or OpenXLS, or one wrapping ErrWrongFormat for an
// unknown format.
func (l Limits) Open(r io.ReaderAt, size int64, f Format) (Reader, error) {
	switch f {
	case CSV:
		return l.OpenCSV(io.NewSectionReader(r, 0, size), size)
	case XLSX:
		return l.OpenXLSX(r, size)
	case XLS:
		return l.OpenXLS(r, size)
	}
	return nil, fmt.Errorf("%w: unknown file format %q", ErrWrongFormat, f)
}

// placeLimit returns err, a *LimitError not yet in a *ParseError put in
// one, so that every error past a limit is a *ParseError: callers tell the
// errors of a file by that type.
func placeLimit(err error) error {
	var pe *ParseError
	if errors.Is(err, ErrLimit) && !errors.As(err, &pe) {
		return &ParseError{Err: err}
	}
	return err
}
