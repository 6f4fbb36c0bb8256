package auth_test

import (
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
)

// fuzzNow is the server's clock in FuzzCheckDate.
var fuzzNow = time.Date(2025, 10, 27, 11, 47, 46, 0, time.UTC)

// FuzzCheckDate holds CheckDate to its contract on any X-Date: a value it
// accepts is the layout's text of a second in the 15 minutes up to now,
// and anything else is an EINVALID (format) or EUNAUTHORIZED (window)
// error with an X-Date code and a message no longer than the value's
// quoted bound allows.
func FuzzCheckDate(f *testing.F) {
	f.Fuzz(func(t *testing.T, v string) {
		err := auth.CheckDate(v, fuzzNow)
		if err != nil {
			kind, reason := trueup.ErrorKind(err), trueup.ErrorReason(err)
			if !(kind == trueup.EINVALID && reason == auth.ReasonDateFormat) && !(kind == trueup.EUNAUTHORIZED && reason == auth.ReasonDateWindow) {
				t.Fatalf("CheckDate(%q): kind %s reason %q (%v)", v, kind, reason, err)
			}
			if msg := trueup.ErrorMessage(err); len(msg) > 400 {
				t.Fatalf("CheckDate(%.80q): a %d-byte message; a client's value is quoted cut", v, len(msg))
			}
			return
		}
		d, perr := time.Parse(auth.DateLayout, v)
		if perr != nil || d.Format(auth.DateLayout) != v || d.After(fuzzNow) || fuzzNow.Sub(d) > auth.MaxDateAge {
			t.Fatalf("CheckDate(%q) accepted %v (%v)", v, d, perr)
		}
	})
}
