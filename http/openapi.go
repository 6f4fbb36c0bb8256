package http

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
)

//go:embed openapi.json
var openAPIBase []byte

// openAPIParts holds one OpenAPI fragment per API surface (buyer, risk,
// ...): objects with "paths", "components", "tags" and "x-error-codes"
// merged into the base document.
//
//go:embed openapi
var openAPIParts embed.FS

// openAPI is the whole document served at /openapi.json.
var openAPI = mustMergeOpenAPI(openAPIBase, openAPIParts)

//go:embed docs.html
var docsPage []byte

// mergeOpenAPI merges the fragments (in name order) into base. A path or
// component defined twice is an error.
func mergeOpenAPI(base []byte, parts fs.FS) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	names, err := fs.Glob(parts, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := fs.ReadFile(parts, name)
		if err != nil {
			return nil, err
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := mergeKeys(doc, part, "paths", name); err != nil {
			return nil, err
		}
		if comps, ok := part["components"].(map[string]any); ok {
			dst, _ := doc["components"].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				doc["components"] = dst
			}
			for section := range comps {
				if err := mergeKeys(dst, comps, section, name); err != nil {
					return nil, err
				}
			}
		}
		for _, list := range []string{"tags", "x-error-codes"} {
			if items, ok := part[list].([]any); ok {
				cur, _ := doc[list].([]any)
				doc[list] = append(cur, items...)
			}
		}
	}
	describeKinds(doc)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// describeKinds writes the discrepancy kinds of trueup.Kinds into doc: a
// property per kind in the DiffCounts schema, all required, and the enum
// and description of every schema's diffType property (a string or an
// integer, as the schema says). The document lists no kind of its own.
func describeKinds(doc map[string]any) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	var phrases []string
	for _, k := range trueup.Kinds {
		phrases = append(phrases, fmt.Sprintf("`%d` %s (%s)", k.Type, k.Label, k.Detail))
	}
	if counts, ok := schemas["DiffCounts"].(map[string]any); ok {
		props := map[string]any{}
		required := []any{}
		for _, k := range trueup.Kinds {
			props[k.Type.Key()] = map[string]any{"type": "integer", "description": sentence(k.Label)}
			required = append(required, k.Type.Key())
		}
		counts["properties"], counts["required"] = props, required
	}
	for _, s := range schemas {
		schema, _ := s.(map[string]any)
		props, _ := schema["properties"].(map[string]any)
		dt, ok := props["diffType"].(map[string]any)
		if !ok {
			continue
		}
		enum := []any{}
		for _, k := range trueup.Kinds {
			if dt["type"] == "integer" {
				enum = append(enum, int(k.Type))
			} else {
				enum = append(enum, k.Type.Key())
			}
		}
		dt["enum"] = enum
		written := "a digit written as a string"
		if dt["type"] == "integer" {
			written = "a number"
		}
		dt["description"] = "Discrepancy kind, " + written + ": " + strings.Join(phrases, "; ") + "."
	}
	fillCountsExamples(doc)
}

// fillCountsExamples gives every example's counts object (a "counts" value
// keyed by kind numbers) a zero count for each kind of trueup.Kinds it
// lacks, so that the examples keep the DiffCounts schema, which requires
// them all, when a kind is added.
func fillCountsExamples(v any) {
	switch v := v.(type) {
	case map[string]any:
		for key, child := range v {
			if counts, ok := child.(map[string]any); ok && key == "counts" && kindKeyed(counts) {
				for _, k := range trueup.Kinds {
					if _, ok := counts[k.Type.Key()]; !ok {
						counts[k.Type.Key()] = 0
					}
				}
				continue
			}
			fillCountsExamples(child)
		}
	case []any:
		for _, child := range v {
			fillCountsExamples(child)
		}
	}
}

// kindKeyed reports whether m is a non-empty object of numbers keyed by
// kind numbers, as an example of DiffCounts is.
func kindKeyed(m map[string]any) bool {
	for key, n := range m {
		t, err := strconv.Atoi(key)
		if _, isNum := n.(float64); err != nil || !isNum {
			return false
		}
		if _, ok := trueup.KindOf(trueup.DiffType(t)); !ok {
			return false
		}
	}
	return len(m) > 0
}

// sentence returns phrase with a capital first letter and a full stop.
func sentence(phrase string) string {
	if phrase == "" {
		return ""
	}
	return strings.ToUpper(phrase[:1]) + phrase[1:] + "."
}

func mergeKeys(dst, src map[string]any, key, from string) error {
	in, ok := src[key].(map[string]any)
	if !ok {
		return nil
	}
	out, _ := dst[key].(map[string]any)
	if out == nil {
		out = map[string]any{}
		dst[key] = out
	}
	for k, v := range in {
		if _, dup := out[k]; dup {
			return fmt.Errorf("%s: %s %q is already defined", from, key, k)
		}
		out[k] = v
	}
	return nil
}

func mustMergeOpenAPI(base []byte, parts fs.FS) []byte {
	b, err := mergeOpenAPI(base, parts)
	if err != nil {
		panic(fmt.Sprintf("openapi: %v", err))
	}
	return b
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(docsPage)
}
