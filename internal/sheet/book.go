package sheet

import (
	"fmt"
	"io"
)

// Book is a file read one worksheet at a time: a workbook (xlsx, xls) with
// its worksheets in workbook order, or a CSV file as one sheet with no name.
type Book interface {
	// Sheets returns the names of the worksheets, in workbook order; at
	// least one.
	Sheets() []string
	// Open returns a Reader of worksheet i (0-based), with the errors of
	// the format's Open function. Close it before opening the next.
	Open(i int) (Reader, error)
	// Close releases the book.
	Close() error
}

// OpenBook returns a Book of the file in r, whose length is size, read as
// format f within l. It returns the errors of OpenCSV, OpenXLSX or OpenXLS
// about the file as a whole (the workbook part, the shared strings), or
// one wrapping ErrWrongFormat for an unknown format; the errors of a sheet
// come from Open.
func (l Limits) OpenBook(r io.ReaderAt, size int64, f Format) (Book, error) {
	l = l.WithDefaults()
	switch f {
	case CSV:
		return &csvBook{l: l, r: r, size: size}, nil
	case XLSX:
		b, err := l.openXLSXBook(r, size, 0)
		if err != nil {
			return nil, placeLimit(err)
		}
		return b, nil
	case XLS:
		return l.openXLSBook(r, size)
	}
	return nil, fmt.Errorf("%w: unknown file format %q", ErrWrongFormat, f)
}

// OpenXLSXHeadBook is OpenBook of an .xlsx workbook for a quick look at the
// first rows of its sheets, reading only the first HeadStrings shared
// strings (see OpenXLSXHead).
func (l Limits) OpenXLSXHeadBook(r io.ReaderAt, size int64) (Book, error) {
	b, err := l.WithDefaults().openXLSXBook(r, size, HeadStrings)
	if err != nil {
		return nil, placeLimit(err)
	}
	return b, nil
}

// csvBook is a CSV file as a Book of one sheet.
type csvBook struct {
	l    Limits
	r    io.ReaderAt
	size int64
}

func (b *csvBook) Sheets() []string { return []string{""} }

func (b *csvBook) Open(int) (Reader, error) {
	return b.l.OpenCSV(io.NewSectionReader(b.r, 0, b.size), b.size)
}

func (b *csvBook) Close() error { return nil }
