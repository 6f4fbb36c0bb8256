package http

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/http/internal/codetest"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/risk"
)

// reasonFamilies names the API family whose table maps the reasons of each
// domain package. A package that declares reasons must be listed.
var reasonFamilies = map[string]string{
	"auth":      "carrier",
	"batch":     "carrier",
	"lifecycle": "carrier",
	"buyer":     "buyer",
	"risk":      "risk",
	"apikey":    "admin", // tested in package admin
	"operator":  "console",
}

// declaredReason is a trueup.Reason constant of a domain package.
type declaredReason struct {
	pkg, name string
	value     trueup.Reason
}

// domainFile is a parsed non-test Go file of a package outside http and
// cmd.
type domainFile struct {
	pkg  string // the package's directory, relative to the repository
	file *ast.File
}

// domainFiles parses the non-test Go files of the repository's packages
// outside http and cmd.
func domainFiles(t testing.TB, fset *token.FileSet) []domainFile {
	t.Helper()
	var dirs []string
	for _, pattern := range []string{filepath.Join("..", "*"), filepath.Join("..", "internal", "*")} {
		ds, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, ds...)
	}
	var out []domainFile
	for _, dir := range dirs {
		rel, _ := filepath.Rel("..", dir)
		if rel == "http" || rel == "cmd" || rel == "client" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			out = append(out, domainFile{filepath.ToSlash(rel), f})
		}
	}
	return out
}

// declaredReasons returns the trueup.Reason constants declared in the
// domain packages (domainFiles).
func declaredReasons(t testing.TB) []declaredReason {
	t.Helper()
	fset := token.NewFileSet()
	var out []declaredReason
	for _, df := range domainFiles(t, fset) {
		for _, d := range df.file.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				sel, ok := vs.Type.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Reason" {
					continue
				}
				for i, id := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: reason %s is not a string literal", fset.Position(id.Pos()), id.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, declaredReason{df.pkg, id.Name, trueup.Reason(v)})
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no trueup.Reason constants found")
	}
	return out
}

// TestDomainKnowsNoAPICodes checks that no package outside the APIs' edges
// writes a carrier or admin API code or a risk API status word: they
// belong in the APIs' tables.
func TestDomainKnowsNoAPICodes(t *testing.T) {
	words := map[string]bool{}
	for _, a := range riskErrors.reasons {
		words[a.word] = true
	}
	for _, a := range riskErrors.kinds {
		words[a.word] = true
	}
	words[RiskStatusInternalError] = true
	codes := map[string]bool{}
	for name, code := range errorCodes(t) {
		if code == CodeOK { // 0 is everywhere
			continue
		}
		if code < 10000 {
			t.Errorf("%s = %d is not a five-digit code", name, code)
		}
		codes[strconv.Itoa(code)] = true
	}
	fset := token.NewFileSet()
	for _, df := range domainFiles(t, fset) {
		ast.Inspect(df.file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok {
				return true
			}
			switch lit.Kind {
			case token.INT:
				if codes[lit.Value] {
					t.Errorf("%s: API code %s in package %s; map a kind or reason to it at the API's edge", fset.Position(lit.Pos()), lit.Value, df.pkg)
				}
			case token.STRING:
				if v, err := strconv.Unquote(lit.Value); err == nil && words[v] {
					t.Errorf("%s: risk status word %s in package %s; map a kind or reason to it in riskErrors", fset.Position(lit.Pos()), v, df.pkg)
				}
			}
			return true
		})
	}
}

// TestErrorTablesMapEveryReason checks that every reason a domain package
// declares is mapped by its API family's table to a code or status word
// the OpenAPI document lists.
func TestErrorTablesMapEveryReason(t *testing.T) {
	doc := loadOpenAPI(t)
	carrierDocumented := map[int]bool{}
	for _, e := range doc.ErrorCodes {
		carrierDocumented[e.Code] = true
	}
	text := string(openAPI)
	seen := map[trueup.Reason]string{}
	for _, r := range declaredReasons(t) {
		t.Run(r.pkg+"."+r.name, func(t *testing.T) {
			if other, dup := seen[r.value]; dup {
				t.Errorf("reason %q is declared by both %s and %s", r.value, other, r.pkg)
			}
			seen[r.value] = r.pkg
			switch reasonFamilies[r.pkg] {
			case "carrier":
				code, ok := carrierCodes.reasons[r.value]
				if !ok {
					t.Fatalf("carrierCodes has no code for %s.%s (%q)", r.pkg, r.name, r.value)
				}
				if !carrierDocumented[code] {
					t.Errorf("%s.%s maps to code %d, which x-error-codes does not list", r.pkg, r.name, code)
				}
			case "buyer":
				code, ok := buyerCodes.reasons[r.value]
				if !ok {
					t.Fatalf("buyerCodes has no code for %s.%s (%q)", r.pkg, r.name, r.value)
				}
				if !strings.Contains(text, fmt.Sprintf("| %d | 400 |", code)) {
					t.Errorf("%s.%s maps to code %d, which the buyer API's code table does not list", r.pkg, r.name, code)
				}
			case "risk":
				a, ok := riskErrors.reasons[r.value]
				if !ok {
					t.Fatalf("riskErrors has no status word for %s.%s (%q)", r.pkg, r.name, r.value)
				}
				if !strings.Contains(text, fmt.Sprintf("| %d | %s |", a.status, a.word)) {
					t.Errorf("%s.%s maps to %d %s, which the risk API's table does not list", r.pkg, r.name, a.status, a.word)
				}
			case "admin":
			case "console": // the console shows messages; its status is the kind's (console/render.go)
			default:
				t.Errorf("package %s declares reason %s, but no API family's table is said to map it (reasonFamilies)", r.pkg, r.name)
			}
		})
	}
}

// kinds is every error kind.
var kinds = []string{trueup.EINVALID, trueup.EUNAUTHORIZED, trueup.EFORBIDDEN, trueup.ENOTFOUND, trueup.ECONFLICT,
	trueup.ETOOLARGE, trueup.ENOTREADY, trueup.EMETHOD, trueup.ETIMEOUT, trueup.ERATELIMIT, trueup.EUNAVAILABLE, trueup.EINTERNAL}

func TestCarrierErrorTable(t *testing.T) {
	codetest.Check(t, "carrierError", carrierError, []codetest.Case{
		{Err: trueup.Reasonf(trueup.EINVALID, auth.ReasonDateFormat, "x"), Status: 400, Code: 40002},
		{Err: trueup.Reasonf(trueup.EINVALID, batch.ReasonBadFile, "x"), Status: 400, Code: 40003},
		{Err: trueup.Errorf(trueup.EUNAUTHORIZED, "x"), Status: 401, Code: 40101},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenInvalid, "x"), Status: 401, Code: 40102},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenExpired, "x"), Status: 401, Code: 40103},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonDateWindow, "x"), Status: 401, Code: 40104},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonBadCredentials, "x"), Status: 401, Code: 40105},
		{Err: trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonUserMissing, "x"), Status: 401, Code: 40106},
		{Err: trueup.Reasonf(trueup.EFORBIDDEN, auth.ReasonUserMismatch, "x"), Status: 403, Code: 40301},
		{Err: trueup.Reasonf(trueup.EFORBIDDEN, lifecycle.ReasonNotWhitelisted, "x"), Status: 403, Code: 40302},
		{Err: trueup.Reasonf(trueup.ECONFLICT, batch.ReasonFailed, "x"), Status: 409, Code: 42201},
		{Err: fmt.Errorf("wrapped: %w", trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenExpired, "x")), Status: 401, Code: 40103},
		// No reason, or one the carrier API does not know: the kind's code.
		{Err: trueup.Errorf(trueup.EINVALID, "x"), Status: 400, Code: 40001},
		{Err: trueup.Reasonf(trueup.EINVALID, buyer.ReasonSurveyID, "x"), Status: 400, Code: 40001},
		{Err: trueup.Reasonf(trueup.EFORBIDDEN, risk.ReasonOutOfQuota, "x"), Status: 403, Code: 40301},
		{Err: trueup.Reasonf(trueup.ENOTFOUND, "no_such_reason", "x"), Status: 404, Code: 40401},
		{Err: trueup.Errorf(trueup.EMETHOD, "x"), Status: 405, Code: 40501},
		{Err: trueup.Errorf(trueup.ETIMEOUT, "x"), Status: 408, Code: 40801},
		{Err: trueup.Errorf(trueup.ECONFLICT, "x"), Status: 409, Code: 40901},
		{Err: trueup.Errorf(trueup.ETOOLARGE, "x"), Status: 413, Code: 41301},
		{Err: trueup.Errorf(trueup.ENOTREADY, "x"), Status: 409, Code: 42501},
		{Err: trueup.Errorf(trueup.ERATELIMIT, "x"), Status: 429, Code: 42901},
		{Err: trueup.Errorf(trueup.EUNAVAILABLE, "x"), Status: 503, Code: 50301},
		{Err: trueup.Errorf(trueup.EINTERNAL, "x"), Status: 500, Code: 50001},
		{Err: trueup.Errorf("no_such_kind", "x"), Status: 500, Code: 50001},
		{Err: errors.New("disk full"), Status: 500, Code: 50001},
	})
	for _, k := range kinds {
		if _, ok := carrierCodes.kinds[k]; !ok {
			t.Errorf("carrierCodes has no code for kind %s", k)
		}
	}
}

func TestBuyerErrorTable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   int
		msg    string // "": the error's own
	}{
		{trueup.Reasonf(trueup.EINVALID, buyer.ReasonSurveyID, "x"), 400, 1001, ""},
		{trueup.Errorf(trueup.EINVALID, "x"), 400, 1002, ""},
		{trueup.Reasonf(trueup.EINVALID, buyer.ReasonEmptyList, "x"), 400, 1003, ""},
		{trueup.Reasonf(trueup.EINVALID, buyer.ReasonInvalidParam, "x"), 400, 1004, ""},
		{trueup.Errorf(trueup.ETOOLARGE, "x"), 413, 1005, ""},
		{trueup.NotFound("x"), 404, 1006, ""},
		{trueup.Reasonf(trueup.EINVALID, buyer.ReasonNothingKnown, "x"), 400, 1007, ""},
		{trueup.Errorf(trueup.ECONFLICT, "x"), 409, 1009, ""},
		{buyer.ErrNotAuthorized, 401, 9999, buyer.NotAuthorizedMessage},
		{trueup.Reasonf(trueup.EUNAUTHORIZED, auth.ReasonTokenInvalid, "x"), 401, 9999, buyer.NotAuthorizedMessage},
		{trueup.Errorf(trueup.EFORBIDDEN, "x"), 401, 9999, buyer.NotAuthorizedMessage},
		// A reason of another API falls back to the kind's code.
		{trueup.Reasonf(trueup.EINVALID, auth.ReasonDateFormat, "x"), 400, 1002, ""},
		{trueup.Reasonf(trueup.EINVALID, "no_such_reason", "x"), 400, 1002, ""},
		{trueup.Errorf(trueup.ETIMEOUT, "x"), 408, 1002, ""},
		// Kinds the buyer API has no code for answer 1500 with their status.
		{trueup.Errorf(trueup.ENOTREADY, "x"), 409, 1500, ""},
		{trueup.Errorf(trueup.ERATELIMIT, "x"), 429, 1500, ""},
		{trueup.Errorf(trueup.EUNAVAILABLE, "x"), 503, 1500, ""},
		{errors.New("disk full"), 500, 1500, trueup.ErrorMessage(errors.New(""))},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", trueup.ErrorKind(tt.err), trueup.ErrorReason(tt.err)), func(t *testing.T) {
			status, code, msg := buyerError(tt.err)
			want := tt.msg
			if want == "" {
				want = trueup.ErrorMessage(tt.err)
			}
			if status != tt.status || code != tt.code || msg != want {
				t.Errorf("buyerError = %d %d %q, want %d %d %q", status, code, msg, tt.status, tt.code, want)
			}
		})
	}
}

func TestRiskErrorTable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		word   string
		ok     bool
	}{
		{trueup.Errorf(trueup.EINVALID, "argument 'mobile_no': not found"), 400, "INVALID_ARGUMENT", true},
		{trueup.Errorf(trueup.EUNAUTHORIZED, "x"), 401, "UNAUTHORIZED", true},
		{trueup.Reasonf(trueup.EUNAUTHORIZED, risk.ReasonKeyExpired, "x"), 401, "KEY_EXPIRED", true},
		{trueup.Errorf(trueup.EFORBIDDEN, "x"), 403, "NO_PERMISSION", true},
		{trueup.Reasonf(trueup.EFORBIDDEN, risk.ReasonOutOfQuota, "x"), 403, "OUT_OF_QUOTA", true},
		{trueup.Errorf(trueup.ERATELIMIT, "x"), 403, "RATE_LIMIT_EXCEEDED", true},
		{trueup.NotFound("x"), 404, "NOT_FOUND", true},
		// A reason the risk API does not know falls back to the kind.
		{trueup.Reasonf(trueup.EFORBIDDEN, lifecycle.ReasonNotWhitelisted, "x"), 403, "NO_PERMISSION", true},
		{trueup.Reasonf(trueup.EUNAUTHORIZED, "no_such_reason", "x"), 401, "UNAUTHORIZED", true},
		// Kinds the seed has no word for are trueup's fault.
		{trueup.Errorf(trueup.ECONFLICT, "x"), 500, "INTERNAL_ERROR", false},
		{trueup.Errorf(trueup.EINTERNAL, "x"), 500, "INTERNAL_ERROR", false},
		{errors.New("disk full"), 500, "INTERNAL_ERROR", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", trueup.ErrorKind(tt.err), trueup.ErrorReason(tt.err)), func(t *testing.T) {
			a, ok := riskError(tt.err)
			if a.status != tt.status || a.word != tt.word || ok != tt.ok {
				t.Errorf("riskError = %d %s %v, want %d %s %v", a.status, a.word, ok, tt.status, tt.word, tt.ok)
			}
		})
	}
}
