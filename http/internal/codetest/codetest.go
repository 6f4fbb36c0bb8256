// Package codetest checks an API's table of errors: the HTTP status and
// the numeric code its edge answers for each error. The carrier API
// (package http) and the admin API (package http/admin) share it.
package codetest

import (
	"fmt"
	"testing"

	"github.com/trueup/trueup"
)

// Case is an error and the status and code its API must answer.
type Case struct {
	Err    error
	Status int
	Code   int
}

// Check runs a subtest per case, named by the error's kind and reason, and
// fails it when answer, the API's mapping (named name in messages), gives
// another status or code.
func Check(t *testing.T, name string, answer func(error) (status, code int), cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", trueup.ErrorKind(c.Err), trueup.ErrorReason(c.Err)), func(t *testing.T) {
			status, code := answer(c.Err)
			if status != c.Status || code != c.Code {
				t.Errorf("%s(%v) = %d %d, want %d %d", name, c.Err, status, code, c.Status, c.Code)
			}
		})
	}
}
