package reconcile_test

import (
	"strings"
	"testing"

	"github.com/trueup/trueup/reconcile"
	"github.com/trueup/trueup/statement"
)

// TestColumnsMatchStatement keeps the columns ParseRow reads in step with
// the statement template's.
func TestColumnsMatchStatement(t *testing.T) {
	empty := map[string]string{}
	for k := range cells(nil) {
		empty[k] = ""
	}
	_, errs := reconcile.ParseRow(2, getter(empty), reconcile.Options{})
	required := map[string]bool{}
	for _, e := range errs {
		required[e.Column] = true
	}
	var names []string
	for _, c := range statement.Columns {
		names = append(names, c.Name)
		if _, ok := empty[c.Name]; !ok {
			t.Errorf("statement column %s is not read by ParseRow", c.Name)
		}
		if required[c.Name] != c.Required {
			t.Errorf("statement column %s: required %v, ParseRow requires it: %v", c.Name, c.Required, required[c.Name])
		}
	}
	if len(names) != len(empty) {
		t.Errorf("statement.Columns has %d columns %v, ParseRow reads %d", len(names), names, len(empty))
	}
}

func TestParseRowCallsGetWithCanonicalNames(t *testing.T) {
	var asked []string
	reconcile.ParseRow(2, func(c string) string { asked = append(asked, c); return "" }, reconcile.Options{})
	var want []string
	for _, c := range statement.Columns {
		want = append(want, c.Name)
	}
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("ParseRow asked for %v, want %v", asked, want)
	}
}
