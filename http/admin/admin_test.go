package admin

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes checks that the admin fragment of the OpenAPI
// document (../openapi/admin.json) documents every route registered in
// admin.go and cases.go, and nothing else.
func TestOpenAPICoversRoutes(t *testing.T) {
	b, err := os.ReadFile("../openapi/admin.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("admin.json: %v", err)
	}
	registered := map[string]bool{}
	for _, name := range []string{"admin.go", "cases.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "handle" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			method, path, _ := strings.Cut(pattern, " ")
			registered[strings.ToLower(method)+" "+path] = true
			if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
				t.Errorf("route %q is served but admin.json does not document it", pattern)
			}
			return true
		})
	}
	if len(registered) < 20 {
		t.Fatalf("found %d routes in admin.go; the test no longer reads them", len(registered))
	}
	for path, item := range doc.Paths {
		for method := range item {
			if !registered[method+" "+path] {
				t.Errorf("admin.json documents %s %s, which admin.go does not register", strings.ToUpper(method), path)
			}
		}
	}
}

func TestDecodeCursor(t *testing.T) {
	tests := []struct {
		name    string
		cursor  string
		attempt int
		want    int64
		ok      bool
	}{
		{"round trip", encodeCursor(2, 41), 2, 41, true},
		{"other attempt", encodeCursor(1, 41), 2, 0, false},
		{"not base64", "***", 1, 0, false},
		{"negative", encodeCursor(1, -1), 1, 0, false},
		{"garbage", "bm90LWEtY3Vyc29y", 1, 0, false},
	}
	for _, tt := range tests {
		got, err := decodeCursor(tt.cursor, "b1", tt.attempt)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: decodeCursor = %d, %v; want %d, ok %v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}
