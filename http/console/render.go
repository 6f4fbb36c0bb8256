package console

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/trueup/trueup"
)

// view is what every page template receives: the layout's parts and the
// page's own data in .Data.
type view struct {
	// Title is the page's title (the page's "title" template wins).
	Title   string
	Session *Session
	// CSRF is the session's CSRF token, for the hidden "csrf" field of a
	// form ({{template "csrf" .}}).
	CSRF  string
	Flash string
	// Error is shown in the error area, above the page.
	Error string
	Nav   []menuItem
	Path  string
	Data  any
}

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return ""
	},
	"hasPrefix": strings.HasPrefix,
}

// render writes page name with data and status 200.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	h.renderStatus(w, r, http.StatusOK, name, view{Data: data})
}

// renderError writes page name with data again, with err's message in the
// error area and err's status: a form sent back with what to fix. An
// internal error is logged and shown as a generic message.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, name string, data any, err error) {
	h.renderStatus(w, r, h.statusOf(r, err), name, view{Data: data, Error: h.message(r, w, err)})
}

// renderStatus writes page name with v completed by the session, its CSRF
// token, its flash (then forgotten) and the navigation.
func (h *Handler) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := h.pages[name]
	if !ok {
		h.Logger.Error("console: no page template", "page", name)
		http.Error(w, "internal error: the page is missing", http.StatusInternalServerError)
		return
	}
	v.Path = r.URL.Path
	if s := sessionOf(r); s != nil {
		v.Session, v.CSRF = s, s.CSRFToken
		if s.Flash != "" {
			v.Flash = s.Flash
			if err := h.Operators.ClearFlash(r.Context(), s.Session); err != nil {
				h.Logger.Warn("console: clear flash", "err", err)
			}
		}
		for _, m := range h.menu {
			if s.Can(m.Need) {
				v.Nav = append(v.Nav, m)
			}
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.Logger.Error("console: render", "page", name, "err", err)
		http.Error(w, "internal error: the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail writes an error page for err with its status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	h.renderStatus(w, r, h.statusOf(r, err), "error", view{Title: http.StatusText(h.statusOf(r, err)), Error: h.message(r, w, err)})
}

// redirect sends the browser to path with 303, with flash shown on the
// next page.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, path, flash string) {
	if s := sessionOf(r); s != nil && flash != "" {
		if err := h.Operators.SetFlash(r.Context(), s.Session, flash); err != nil {
			h.Logger.Warn("console: set flash", "err", err)
		}
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// statusOf returns the HTTP status of err's kind.
func (h *Handler) statusOf(r *http.Request, err error) int {
	switch trueup.ErrorKind(err) {
	case trueup.EINVALID:
		return http.StatusBadRequest
	case trueup.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case trueup.EFORBIDDEN:
		return http.StatusForbidden
	case trueup.ENOTFOUND:
		return http.StatusNotFound
	case trueup.ECONFLICT, trueup.ENOTREADY:
		return http.StatusConflict
	case trueup.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case trueup.EMETHOD:
		return http.StatusMethodNotAllowed
	case trueup.ETIMEOUT:
		return http.StatusRequestTimeout
	case trueup.ERATELIMIT:
		return http.StatusTooManyRequests
	case trueup.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// message returns err's user-facing message; an internal error is logged
// with the trace id, which the message gives.
func (h *Handler) message(r *http.Request, w http.ResponseWriter, err error) string {
	var e *trueup.Error
	if errors.As(err, &e) {
		return e.Message
	}
	trace := w.Header().Get("x-traceid")
	h.Logger.Error("console", "trace_id", trace, "method", r.Method, "path", r.URL.Path, "err", err)
	return "Something went wrong on the server and nothing was changed. Try again; if it goes on, give the operator this trace id: " + trace
}
