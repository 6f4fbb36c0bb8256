package buyer

import (
	"io"

	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/tabular"
)

// Column is a column of a file trueup reads from a buyer's operator:
// transactions (TransactionColumns) or a process's list (ItemColumns).
type Column = sheet.Column

// Source is a stream of a file's records: column name → text, with the
// record's row (or line) number.
type Source = tabular.Source

// spec returns cols as tabular reads them.
func spec(cols []Column) tabular.Spec {
	return tabular.Spec{Columns: cols, What: "a known column"}
}

// NewSheetSource reads the header of r (its first row) against cols and
// returns a Source over the rows after it. An empty file, an unknown or
// repeated column, and a missing required one are EINVALID errors.
func NewSheetSource(r sheet.Reader, cols []Column) (Source, error) {
	return tabular.NewSheetSource(r, spec(cols))
}

// NewJSONLSource returns a Source over JSON Lines read from r, whose size
// in bytes is size (for Progress; 0 when unknown); closer, when not nil, is
// called by Close. Keys are matched with cols as header names are; an
// unknown key or a line that is not an object is an EINVALID error from
// Next. Numbers are kept as written.
func NewJSONLSource(r io.Reader, size int64, closer func() error, cols []Column) Source {
	return tabular.NewJSONLSource(r, size, closer, spec(cols))
}

// OpenFile opens a file of cols as tabular.Open does: JSON Lines by its
// name (.jsonl, .ndjson), else CSV, xlsx or xls by its content, read
// within lim (zero fields take the defaults of sheet.DefaultLimits).
func OpenFile(path string, cols []Column, lim sheet.Limits) (Source, error) {
	sp := spec(cols)
	sp.Limits = lim
	src, _, err := tabular.Open(path, sp)
	return src, err
}
