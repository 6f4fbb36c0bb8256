package sheet

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Magic numbers at the start of the binary formats.
var (
	zipMagic  = []byte("PK\x03\x04")
	ole2Magic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// DetectSize is how many bytes of a file's start Detect needs to tell its
// content well; fewer are fine for short files.
const DetectSize = 512

// content is what the start of a file looks like.
type content int

const (
	contentBinary content = iota
	contentXLSX           // a zip archive: an xlsx workbook, or another zip
	contentODS            // an OpenDocument spreadsheet (a zip)
	contentXLS            // an OLE2 compound file: an Excel 97-2003 workbook
	contentCSV            // UTF-8 text
	contentHTML           // UTF-8 text that is an HTML page (some systems name these .xls)
	contentXML            // UTF-8 text that is XML (Excel 2003 XML is sometimes named .xls)
	contentUTF16          // text with a UTF-16 byte order mark
	contentPDF
)

// describe returns a phrase naming what c looks like, for error messages.
func (c content) describe() string {
	switch c {
	case contentXLSX:
		return "an xlsx workbook or another zip archive"
	case contentODS:
		return "an OpenDocument .ods spreadsheet"
	case contentXLS:
		return "an xls (Excel 97-2003) workbook"
	case contentCSV:
		return "CSV text"
	case contentHTML:
		return "an HTML page"
	case contentXML:
		return "XML text"
	case contentUTF16:
		return "UTF-16 text"
	case contentPDF:
		return "a PDF document"
	}
	return "binary data"
}

// sniff returns what head, the start of a file, looks like.
func sniff(head []byte) content {
	switch {
	case bytes.HasPrefix(head, zipMagic):
		// An OpenDocument file stores its uncompressed mimetype first.
		if bytes.Contains(head[:min(len(head), 100)], []byte("application/vnd.oasis.opendocument")) {
			return contentODS
		}
		return contentXLSX
	case bytes.HasPrefix(head, ole2Magic):
		return contentXLS
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return contentPDF
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return contentUTF16
	}
	text := bytes.TrimPrefix(head, []byte(utf8BOM))
	if bytes.IndexByte(text, 0) >= 0 || !validUTF8Prefix(text) {
		return contentBinary
	}
	start := bytes.ToLower(bytes.TrimLeft(text[:min(len(text), 64)], " \t\r\n"))
	switch {
	case bytes.HasPrefix(start, []byte("<!doctype html")), bytes.HasPrefix(start, []byte("<html")),
		bytes.HasPrefix(start, []byte("<table")):
		return contentHTML
	case bytes.HasPrefix(start, []byte("<?xml")):
		return contentXML
	}
	return contentCSV
}

// validUTF8Prefix reports whether b is valid UTF-8 but for a character cut
// short by its end.
func validUTF8Prefix(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if b[i] < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// formatOfContent maps the contents trueup reads to their formats.
var formatOfContent = map[content]Format{contentXLSX: XLSX, contentXLS: XLS, contentCSV: CSV}

// Detect returns the format of a file (a statement or an import) from head,
// the start of its content (DetectSize bytes, or the whole file when
// shorter), and checks it against the extension of fileName (.xlsx, .xls or
// .csv, in any case).
//
// The content decides: a zip archive is XLSX, an OLE2 compound file is XLS,
// and UTF-8 text (a byte order mark allowed) with no NUL byte is CSV.
// Detect returns an error wrapping ErrEmpty when head is empty, and one
// wrapping ErrWrongFormat when the content is none of these, when the
// extension is missing or another, or when the extension and the content
// disagree; the messages say what the content looks like and what to do.
func Detect(head []byte, fileName string) (Format, error) {
	if len(head) == 0 {
		return "", fmt.Errorf("file %s: %w", fileName, ErrEmpty)
	}
	c := sniff(head)
	got, ok := formatOfContent[c]
	ext := strings.ToLower(filepath.Ext(fileName))
	var named Format
	switch ext {
	case ".xlsx":
		named = XLSX
	case ".xls":
		named = XLS
	case ".csv":
		named = CSV
	default:
		what := "has no extension"
		if ext != "" {
			what = fmt.Sprintf("has the extension %s", ext)
		}
		advice := "upload a statement saved as .xlsx, .xls or .csv"
		if ok {
			advice = fmt.Sprintf("it looks like %s: name it .%s", c.describe(), got)
		}
		return "", wrongFormat("file %q %s; trueup reads .xlsx, .xls and .csv files; %s", fileName, what, advice)
	}
	if ok && got == named {
		return got, nil
	}
	return "", wrongFormat("file named %s is not %s (it looks like %s); %s",
		fileName, describeFormat(named), c.describe(), mismatchAdvice(named, c))
}

// formatError is an error wrapping ErrWrongFormat whose message is only its
// own text, written for the person who uploaded the file.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return ErrWrongFormat }

// wrongFormat returns a *formatError of the formatted message.
func wrongFormat(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// describeFormat returns a phrase naming a file of format f.
func describeFormat(f Format) string {
	switch f {
	case XLSX:
		return "an xlsx workbook"
	case XLS:
		return "an xls (Excel 97-2003) workbook"
	}
	return "CSV text"
}

// mismatchAdvice tells what to do with a file named as format named whose
// content looks like c.
func mismatchAdvice(named Format, c content) string {
	if got, ok := formatOfContent[c]; ok {
		switch {
		case named == CSV:
			return fmt.Sprintf("upload the CSV text saved as .csv (UTF-8), or name the workbook .%s", got)
		case got == CSV:
			return fmt.Sprintf("upload the workbook saved as .%s, or name the CSV file .csv", named)
		}
		return fmt.Sprintf("name the file .%s, or save it as .%s", got, named)
	}
	switch c {
	case contentUTF16:
		if named == CSV {
			return "save it as CSV UTF-8"
		}
	case contentHTML, contentXML, contentODS:
		if named != CSV {
			return "open it in a spreadsheet program and save it as .xlsx"
		}
	}
	if named == CSV {
		return "upload the statement saved as CSV UTF-8, or as an .xlsx workbook"
	}
	return fmt.Sprintf("upload the workbook saved as .%s", named)
}

// Open returns a Reader of the file in r, whose length is size, read as
// format f (as Detect returns it) within DefaultLimits. It returns the
// errors of OpenCSV, OpenXLSX or OpenXLS, or one wrapping ErrWrongFormat for
// an unknown format.
func Open(r io.ReaderAt, size int64, f Format) (Reader, error) {
	return DefaultLimits().Open(r, size, f)
}
