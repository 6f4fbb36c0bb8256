package http

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
)

// pendingRoutes are documented operations whose handlers are announced but
// not registered yet. A pending route may be registered or not; every other
// documented operation must be.
var pendingRoutes = map[string]bool{}

// openAPIDoc is the part of the OpenAPI document the tests read.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	ErrorCodes []struct {
		Code   int    `json:"code"`
		Status int    `json:"status"`
		Kind   string `json:"kind"`
	} `json:"x-error-codes"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Type        string            `json:"type"`
	Description string            `json:"description"`
	Required    []string          `json:"required"`
	Properties  map[string]schema `json:"properties"`
	Enum        []any             `json:"enum"`
}

func loadOpenAPI(t testing.TB) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

func TestOpenAPIVersion(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Paths) == 0 {
		t.Error("openapi.json documents no paths")
	}
}

// registeredRoutes returns the patterns passed as string literals to
// handle or Handle calls (s.handle, s.mux.Handle) in the package's non-test
// Go files.
func registeredRoutes(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "handle" && sel.Sel.Name != "handleUpload" && sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: pattern %s: %v", fset.Position(lit.Pos()), lit.Value, err)
			}
			routes = append(routes, v)
			return true
		})
	}
	if len(routes) == 0 {
		t.Fatal("no route registrations found in the package's Go files")
	}
	return routes
}

// operation turns a ServeMux pattern into the OpenAPI method and path:
// "GET /a/{id}" becomes "get", "/a/{id}"; "{$}" and "..." of wildcards are
// dropped.
func operation(t testing.TB, pattern string) (method, path string) {
	t.Helper()
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		t.Fatalf("route %q has no method or is not a path; register routes as \"METHOD /path\"", pattern)
	}
	path = strings.TrimSuffix(path, "{$}")
	path = strings.ReplaceAll(path, "...}", "}")
	return strings.ToLower(method), path
}

func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	registered := map[string]bool{}
	for _, r := range registeredRoutes(t) {
		if r == "/" || r == "/check/" || r == "/check" {
			continue // the JSON 404 for unknown paths
		}
		method, path := operation(t, r)
		registered[strings.ToUpper(method)+" "+path] = true
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("route %q is served but openapi.json has no %s operation under paths[%q]", r, method, path)
		}
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	for path, item := range doc.Paths {
		if strings.HasPrefix(path, "/admin/v1/") {
			continue // served by package http/admin, whose tests check them
		}
		for method := range item {
			if !slices.Contains(methods, method) {
				continue
			}
			key := strings.ToUpper(method) + " " + path
			if !registered[key] && !pendingRoutes[key] {
				t.Errorf("openapi.json documents %s, which the server does not register", key)
			}
		}
	}
}

// errorCodes returns the Code* constants of the carrier API's error table
// (error.go) with their values.
func errorCodes(t testing.TB) map[string]int {
	t.Helper()
	files, err := filepath.Glob("error.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	codes := map[string]int{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						continue
					}
					n, err := strconv.Atoi(lit.Value)
					if err != nil {
						t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
					}
					codes[id.Name] = n
				}
			}
		}
	}
	if len(codes) == 0 {
		t.Fatal("no Code constants found in error.go")
	}
	return codes
}

func TestOpenAPIErrorCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[int]int{} // code -> index in x-error-codes
	for i, e := range doc.ErrorCodes {
		documented[e.Code] = i
		if e.Code == CodeOK {
			continue
		}
		if want, ok := errorStatus[e.Kind]; !ok {
			t.Errorf("x-error-codes: code %d has kind %q, which errorStatus does not map", e.Code, e.Kind)
		} else if e.Status != want {
			t.Errorf("x-error-codes: code %d (kind %s) documents status %d; errorStatus maps it to %d", e.Code, e.Kind, e.Status, want)
		}
	}
	table := doc.Components.Schemas["ErrorBody"].Description
	for name, code := range errorCodes(t) {
		if _, ok := documented[code]; !ok {
			t.Errorf("%s = %d is missing from x-error-codes", name, code)
		}
		if !strings.Contains(table, "| "+strconv.Itoa(code)+" |") {
			t.Errorf("%s = %d is missing from the ErrorBody code table", name, code)
		}
	}
}

// jsonFields returns the JSON names of the exported fields of v's type, in
// order.
func jsonFields(v any) []string {
	var names []string
	rt := reflect.TypeOf(v)
	if rt.Kind() != reflect.Struct { // a type with its own JSON object, as trueup.DiffCounts
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			panic(err)
		}
		return slices.Sorted(maps.Keys(obj))
	}
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadOpenAPI(t)
	tests := []struct {
		schema string
		value  any
	}{
		{"DiffBill", DiffBill{}},
		{"DiffList", DiffList{}},
		{"BatchStatus", BatchStatus{}},
		{"ErrorBody", ErrorBody{}},
		{"Result", success{}},
		{"Batch", trueup.Batch{}},
		{"DiffCounts", trueup.DiffCounts{}},
		{"RowError", trueup.RowError{}},
		{"Token", auth.IssuedToken{}},
		{"BuyerError", BuyerErrorBody{}},
		{"BuyerAdjustment", BuyerAdjustment{}},
		{"BuyerAdjustmentRef", BuyerAdjustmentRef{}},
		{"AdjustmentSummary", buyer.Summary{}},
		{"AdjustmentSurveySummary", buyer.SurveySummary{}},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			s, ok := doc.Components.Schemas[tt.schema]
			if !ok {
				t.Fatalf("components.schemas has no %s", tt.schema)
			}
			got := make([]string, 0, len(s.Properties))
			for name := range s.Properties {
				got = append(got, name)
			}
			want := jsonFields(tt.value)
			slices.Sort(got)
			sorted := slices.Sorted(slices.Values(want))
			if !slices.Equal(got, sorted) {
				t.Errorf("schema %s properties = %v, want the JSON fields of %T: %v", tt.schema, got, tt.value, sorted)
			}
			for _, r := range s.Required {
				if _, ok := s.Properties[r]; !ok {
					t.Errorf("schema %s requires %q, which it does not define", tt.schema, r)
				}
			}
		})
	}

	bill := doc.Components.Schemas["DiffBill"]
	if want := jsonFields(DiffBill{}); !slices.Equal(bill.Required, want) {
		t.Errorf("DiffBill required = %v, want every field in seed order %v", bill.Required, want)
	}
	for name, typ := range map[string]string{"skuPrice": "number", "kdSaleTotal": "number", "diffType": "string", "thisMouthBilling": "string", "nextMouthBilling": "string"} {
		if got := bill.Properties[name].Type; got != typ {
			t.Errorf("DiffBill.%s type = %q, want %q", name, got, typ)
		}
	}
}

// TestOpenAPIRefs checks that every $ref points into the document.
func TestOpenAPIRefs(t *testing.T) {
	var root any
	dec := json.NewDecoder(bytes.NewReader(openAPI))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(root, ref) {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(root)
}

func resolves(root any, ref string) bool {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	cur := root
	for _, part := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestDocsPageSelfContained checks that the docs page loads nothing from
// another host: the machines it runs on may have no internet access.
func TestDocsPageSelfContained(t *testing.T) {
	page, err := os.ReadFile("docs.html")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, docsPage) {
		t.Fatal("docs.html differs from the embedded page")
	}
	for _, s := range []string{"://", "@import", "//cdn"} {
		if i := bytes.Index(page, []byte(s)); i >= 0 {
			t.Errorf("docs.html contains %q at byte %d; keep the page self-contained", s, i)
		}
	}
	if !bytes.Contains(page, []byte("openapi.json")) {
		t.Error("docs.html does not load openapi.json")
	}
}

// TestOpenAPIExamples checks every example of a request or response body
// against its schema: types, required fields, enums, patterns, and no field
// the schema does not define (so a misspelt seed field name fails).
func TestOpenAPIExamples(t *testing.T) {
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(openAPI))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	n := 0
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if sch, ok := v["schema"].(map[string]any); ok {
				if ex, ok := v["example"]; ok {
					n++
					checkExample(t, root, where+"/example", sch, ex)
				}
				if exs, ok := v["examples"].(map[string]any); ok {
					for name, e := range exs {
						if e, ok := e.(map[string]any); ok {
							if val, ok := e["value"]; ok {
								n++
								checkExample(t, root, where+"/examples/"+name, sch, val)
							}
						}
					}
				}
			}
			for k, e := range v {
				walk(where+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(where+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("#", root["paths"])
	if schemas, ok := root["components"].(map[string]any)["schemas"].(map[string]any); ok {
		for name, sch := range schemas {
			exs, _ := sch.(map[string]any)["examples"].([]any)
			for i, ex := range exs {
				n++
				checkExample(t, root, "#/components/schemas/"+name+"/examples/"+strconv.Itoa(i), sch.(map[string]any), ex)
			}
		}
	}
	if n == 0 {
		t.Error("openapi.json has no examples")
	}
}

// checkExample reports where v does not match the schema sch.
func checkExample(t *testing.T, root any, where string, sch map[string]any, v any) {
	t.Helper()
	for i := 0; i < 10; i++ {
		ref, ok := sch["$ref"].(string)
		if !ok {
			break
		}
		if !resolves(root, ref) {
			t.Errorf("%s: $ref %q does not resolve", where, ref)
			return
		}
		cur := root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		sch = cur.(map[string]any)
	}
	if c, ok := sch["const"]; ok && !jsonEqual(c, v) {
		t.Errorf("%s: %v is not the schema's const %v", where, v, c)
	}
	if enum, ok := sch["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return jsonEqual(e, v) }) {
		t.Errorf("%s: %v is not one of %v", where, v, enum)
	}
	typ, _ := sch["type"].(string)
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			t.Errorf("%s: %v is not a string", where, v)
			return
		}
		if p, ok := sch["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(s) {
			t.Errorf("%s: %q does not match %s", where, s, p)
		}
	case "integer", "number":
		num, ok := v.(json.Number)
		if !ok {
			t.Errorf("%s: %v is not a number", where, v)
			return
		}
		if _, err := num.Int64(); typ == "integer" && err != nil {
			t.Errorf("%s: %v is not an integer", where, v)
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %v is not an array", where, v)
			return
		}
		if is, ok := sch["items"].(map[string]any); ok {
			for i, e := range items {
				checkExample(t, root, where+"/"+strconv.Itoa(i), is, e)
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %v is not an object", where, v)
			return
		}
		props, _ := sch["properties"].(map[string]any)
		req, _ := sch["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				t.Errorf("%s: required field %q is missing", where, r)
			}
		}
		if props == nil {
			return
		}
		for k, e := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s: field %q is not in the schema", where, k)
				continue
			}
			checkExample(t, root, where+"/"+k, ps, e)
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestOpenAPIKinds checks that the document lists every kind of
// trueup.Kinds, and no other: the DiffCounts properties (all required) and
// the enum of each diffType property.
func TestOpenAPIKinds(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range trueup.Kinds {
		keys = append(keys, k.Type.Key())
	}
	counts := doc.Components.Schemas["DiffCounts"]
	if got := slices.Sorted(maps.Keys(counts.Properties)); !slices.Equal(got, slices.Sorted(slices.Values(keys))) || !slices.Equal(counts.Required, keys) {
		t.Errorf("DiffCounts properties %v, required %v; want %v", got, counts.Required, keys)
	}
	found := 0
	for name, s := range doc.Components.Schemas {
		raw, ok := s.Properties["diffType"]
		if !ok {
			continue
		}
		found++
		var dt struct {
			Type string            `json:"type"`
			Enum []json.RawMessage `json:"enum"`
		}
		if err := json.Unmarshal(raw, &dt); err != nil {
			t.Fatalf("%s.diffType: %v", name, err)
		}
		var got []string
		for _, e := range dt.Enum {
			got = append(got, strings.Trim(string(e), `"`))
		}
		if !slices.Equal(got, keys) {
			t.Errorf("%s.diffType enum = %v, want %v", name, got, keys)
		}
	}
	if found < 2 {
		t.Errorf("%d schemas have a diffType property, want the carrier's DiffBill and the admin API's discrepancy", found)
	}
}
