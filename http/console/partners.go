package console

import (
	"net/http"
	"strings"
)

// shownSecret is a secret shown once on the answer to the form that made
// it (never in a redirect, a flash or a log), drawn by the "secret"
// template of _partners.html: selectable text with a copy button.
type shownSecret struct {
	// ID is the element id of the text, unique on the page.
	ID    string
	Label string
	Value string
}

// formText returns a posted field, trimmed.
func formText(r *http.Request, name string) string {
	return strings.TrimSpace(r.PostFormValue(name))
}

// formBool reports whether a checkbox was ticked.
func formBool(r *http.Request, name string) bool {
	v := r.PostFormValue(name)
	return v == "on" || v == "true" || v == "1"
}

func init() {
	funcs["secretOf"] = func(id, label, value string) shownSecret { return shownSecret{ID: id, Label: label, Value: value} }
}

func init() {
	funcs["limits"] = func() []int { return []int{20, 100, maxPackageEvents} }
}
