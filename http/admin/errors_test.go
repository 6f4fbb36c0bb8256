package admin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/http/internal/codetest"
)

func TestErrorTable(t *testing.T) {
	codetest.Check(t, "errorAnswer", errorAnswer, []codetest.Case{
		{Err: trueup.Errorf(trueup.EINVALID, "x"), Status: 400, Code: 40001},
		{Err: trueup.Errorf(trueup.EUNAUTHORIZED, "x"), Status: 401, Code: 40101},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, apikey.ReasonKeyInvalid, "x"), Status: 401, Code: 40102},
		{Err: fmt.Errorf("wrapped: %w", trueup.Reasonf(trueup.EUNAUTHORIZED, apikey.ReasonKeyInvalid, "x")), Status: 401, Code: 40102},
		{Err: trueup.Errorf(trueup.EFORBIDDEN, "x"), Status: 403, Code: 40302},
		{Err: trueup.NotFound("x"), Status: 404, Code: 40401},
		{Err: trueup.Errorf(trueup.EMETHOD, "x"), Status: 405, Code: 40501},
		{Err: trueup.Errorf(trueup.ETIMEOUT, "x"), Status: 408, Code: 40801},
		{Err: trueup.Errorf(trueup.ECONFLICT, "x"), Status: 409, Code: 40901},
		{Err: trueup.Errorf(trueup.ETOOLARGE, "x"), Status: 413, Code: 41301},
		{Err: trueup.Errorf(trueup.ENOTREADY, "x"), Status: 409, Code: 42501},
		{Err: trueup.Errorf(trueup.ERATELIMIT, "x"), Status: 429, Code: 42901},
		{Err: trueup.Errorf(trueup.EUNAVAILABLE, "x"), Status: 503, Code: 50301},
		{Err: trueup.Errorf(trueup.EINTERNAL, "x"), Status: 500, Code: 50001},
		// A reason the admin API does not tell apart answers its kind's code.
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenExpired, "x"), Status: 401, Code: 40101},
		{Err: trueup.Reasonf(trueup.EINVALID, "no_such_reason", "x"), Status: 400, Code: 40001},
		{Err: trueup.Errorf("no_such_kind", "x"), Status: 500, Code: 50001},
		{Err: errors.New("disk full"), Status: 500, Code: 50001},
	})
}

// TestErrorTableDocumented checks that the code of every reason the admin
// API tells apart is in the OpenAPI fragment's code table.
func TestErrorTableDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "openapi", "admin.json"))
	if err != nil {
		t.Fatal(err)
	}
	for reason, code := range errorTable.reasons {
		status, _ := errorAnswer(trueup.Reasonf(trueup.EUNAUTHORIZED, reason, "x"))
		if !strings.Contains(string(doc), fmt.Sprintf("| %d | %d |", code, status)) {
			t.Errorf("reason %s maps to %d %d, which admin.json's code table does not list", reason, status, code)
		}
	}
}
