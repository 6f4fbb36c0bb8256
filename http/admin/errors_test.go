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
)

func TestErrorTable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   int
	}{
		{trueup.Errorf(trueup.EINVALID, "x"), 400, 40001},
		{trueup.Errorf(trueup.EUNAUTHORIZED, "x"), 401, 40101},
		{trueup.Reasonf(trueup.EUNAUTHORIZED, apikey.ReasonKeyInvalid, "x"), 401, 40102},
		{fmt.Errorf("wrapped: %w", trueup.Reasonf(trueup.EUNAUTHORIZED, apikey.ReasonKeyInvalid, "x")), 401, 40102},
		{trueup.Errorf(trueup.EFORBIDDEN, "x"), 403, 40302},
		{trueup.NotFound("x"), 404, 40401},
		{trueup.Errorf(trueup.EMETHOD, "x"), 405, 40501},
		{trueup.Errorf(trueup.ETIMEOUT, "x"), 408, 40801},
		{trueup.Errorf(trueup.ECONFLICT, "x"), 409, 40901},
		{trueup.Errorf(trueup.ETOOLARGE, "x"), 413, 41301},
		{trueup.Errorf(trueup.ENOTREADY, "x"), 409, 42501},
		{trueup.Errorf(trueup.ERATELIMIT, "x"), 429, 42901},
		{trueup.Errorf(trueup.EUNAVAILABLE, "x"), 503, 50301},
		{trueup.Errorf(trueup.EINTERNAL, "x"), 500, 50001},
		// A reason the admin API does not tell apart answers its kind's code.
		{trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenExpired, "x"), 401, 40101},
		{trueup.Reasonf(trueup.EINVALID, "no_such_reason", "x"), 400, 40001},
		{trueup.Errorf("no_such_kind", "x"), 500, 50001},
		{errors.New("disk full"), 500, 50001},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", trueup.ErrorKind(tt.err), trueup.ErrorReason(tt.err)), func(t *testing.T) {
			status, code := errorAnswer(tt.err)
			if status != tt.status || code != tt.code {
				t.Errorf("errorAnswer = %d %d, want %d %d", status, code, tt.status, tt.code)
			}
		})
	}
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
