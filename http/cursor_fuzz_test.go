package http

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/trueup/trueup"
)

// FuzzDecodeCursor holds the discrepancy list's cursor to its promise: any
// text but a cursor the server issued for the batch and attempt is an
// EINVALID error (a 400), and an accepted one decodes to the issued bytes.
func FuzzDecodeCursor(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	const no = trueup.BatchNo("20251021_1801572310432403201")
	for _, seq := range []int64{0, 1, 99, 1 << 40} {
		f.Add(encodeCursor(key, no, 1, seq), 1)
	}
	f.Add(encodeCursor(key, "other", 1, 5), 1)
	f.Add(encodeCursor(key, no, 2, 5), 1)
	f.Fuzz(func(t *testing.T, v string, attempt int) {
		seq, err := decodeCursor(key, no, attempt, v)
		if err != nil {
			if trueup.ErrorKind(err) != trueup.EINVALID {
				t.Fatalf("decodeCursor(%q): %v is not EINVALID", v, err)
			}
			return
		}
		want, _ := base64.RawURLEncoding.DecodeString(encodeCursor(key, no, attempt, seq))
		got, _ := base64.RawURLEncoding.DecodeString(v)
		if seq < 0 || !bytes.Equal(got, want) {
			t.Fatalf("decodeCursor(%q) accepted seq %d of a cursor not issued", v, seq)
		}
	})
}
