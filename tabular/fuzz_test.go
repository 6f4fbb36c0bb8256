package tabular_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/tabular"
)

// FuzzImport reads its input as CSV and as JSON Lines through the import
// sources and checks that they never panic, that every record they return
// is free of control characters in its known columns, and that they end
// with io.EOF, a *tabular.RowErrors, or an EINVALID error or a reader
// error for a malformed file. Run it with
//
//	go test -run '^$' -fuzz FuzzImport -fuzztime 1m ./tabular/
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"order_id,amount,note\nA,1.50,x\nB,2\n",
		"Order ID;Amount\nA;12,50\n",
		"order_id,amount\n\"A\nB\",1\nC\x00,2\n",
		`{"order_id":"A","amount":1.5}` + "\n" + `{"order_id":"B\u0000","amount":null}` + "\n",
		`{"colour":"red"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := sheet.OpenCSV(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if src, err := tabular.NewSheetSource(r, spec); err == nil {
			checkSource(t, src)
		} else if trueup.ErrorKind(err) != trueup.EINVALID && !errors.Is(err, sheet.ErrCorrupt) && !errors.Is(err, sheet.ErrEncoding) && !errors.Is(err, sheet.ErrLimit) {
			t.Fatalf("NewSheetSource: %v", err)
		}
		checkSource(t, tabular.NewJSONLSource(bytes.NewReader(data), int64(len(data)), nil, spec))
	})
}

// checkSource reads src to its end and checks its records and its last
// error.
func checkSource(t *testing.T, src tabular.Source) {
	t.Helper()
	defer src.Close()
	for {
		n, get, err := src.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		var re *tabular.RowErrors
		if errors.As(err, &re) {
			if re.Total == 0 || len(re.Rows) == 0 {
				t.Fatalf("empty row errors: %+v", re)
			}
			for _, e := range re.Rows {
				if strings.ContainsFunc(e.Value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
					t.Fatalf("row error value %q holds a control character", e.Value)
				}
			}
			return
		}
		if err != nil {
			if trueup.ErrorKind(err) != trueup.EINVALID && !errors.Is(err, sheet.ErrCorrupt) && !errors.Is(err, sheet.ErrEncoding) && !errors.Is(err, sheet.ErrLimit) {
				t.Fatalf("Next: %v", err)
			}
			return
		}
		if n < 1 {
			t.Fatalf("record number %d", n)
		}
		for _, c := range spec.Columns {
			if v := get(c.Name); strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("record %d column %s holds a control character: %q", n, c.Name, v)
			}
		}
	}
}
