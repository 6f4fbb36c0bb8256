package admin

import (
	"testing"

	"github.com/trueup/trueup"
)

// FuzzAdminCursor holds the admin discrepancy list's cursor to its
// contract: anything but a cursor of the batch's attempt is an EINVALID
// error (a 400), and an accepted one names a position of 0 or more.
func FuzzAdminCursor(f *testing.F) {
	f.Add(encodeCursor(2, 41), 2)
	f.Add(encodeCursor(1, 41), 2)
	f.Add("***", 1)
	f.Add(encodeCursor(1, -1), 1)
	f.Add("bm90LWEtY3Vyc29y", 1)
	f.Fuzz(func(t *testing.T, v string, attempt int) {
		seq, err := decodeCursor(v, "b1", attempt)
		if err != nil {
			if trueup.ErrorKind(err) != trueup.EINVALID {
				t.Fatalf("decodeCursor(%q): %v is not EINVALID", v, err)
			}
			return
		}
		if seq < 0 {
			t.Fatalf("decodeCursor(%q) = %d", v, seq)
		}
	})
}
