package console

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

// Cookie names. The session cookie holds the session's token; the sign-in
// cookie holds the CSRF token of the sign-in form, before any session.
const (
	sessionCookie = "trueup_session"
	signInCookie  = "trueup_signin"
	// csrfField is the form field, and csrfHeader the header, that carry
	// the session's CSRF token.
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// Session is the signed-in operator of a request and its session.
type Session struct {
	operator.Session
	Operator operator.Operator
}

// Can reports whether the operator's role allows need.
func (s *Session) Can(need operator.Role) bool { return s != nil && s.Operator.Role.Allows(need) }

// CanSeeCarrier reports whether the operator may see carrier's data: staff
// see every carrier, a carrier user only its own.
func (s *Session) CanSeeCarrier(id trueup.CarrierID) bool {
	if s == nil {
		return false
	}
	if s.Operator.Role == operator.RoleCarrier {
		return s.Operator.CarrierID == id
	}
	return s.Operator.Role.Allows(operator.RoleViewer)
}

type sessionKey struct{}

// sessionOf returns the session of a request served by a page handler,
// nil on a public page.
func sessionOf(r *http.Request) *Session {
	s, _ := r.Context().Value(sessionKey{}).(*Session)
	return s
}

// safeMethod reports whether m changes nothing, so needs no CSRF token.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// requireRole serves fn to a signed-in operator whose role allows need,
// after checking the CSRF token of any state-changing request. Without a
// session, a GET goes to the sign-in page (and back after it) and anything
// else is refused with 401; a role too low is 403; a missing or wrong CSRF
// token is 403. The request's context carries the session and the
// operator as actor (trueup.WithActor), so that the services record who
// acted.
func (h *Handler) requireRole(need operator.Role, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := h.authenticate(r)
		if err != nil {
			if trueup.ErrorKind(err) == trueup.EUNAUTHORIZED && safeMethod(r.Method) {
				http.Redirect(w, r, Prefix+"login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, sess)
		ctx = trueup.WithActor(ctx, sess.Operator.Actor())
		r = r.WithContext(ctx)
		if !sess.Can(need) {
			h.fail(w, r, trueup.Errorf(trueup.EFORBIDDEN, "your role (%s) cannot open this page or do this; it needs the %s role. Ask an admin to change your role if you need it", sess.Operator.Role, need))
			return
		}
		if !safeMethod(r.Method) {
			if err := h.checkCSRF(w, r, sess); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		fn(w, r)
	})
}

// authenticate returns the session of the request's cookie.
func (h *Handler) authenticate(r *http.Request) (*Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, trueup.Reasonf(trueup.EUNAUTHORIZED, operator.ReasonSessionEnded, "you are not signed in; sign in at %slogin", Prefix)
	}
	s, o, err := h.Operators.Authenticate(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &Session{Session: s, Operator: o}, nil
}

var errCSRF = trueup.Errorf(trueup.EFORBIDDEN, "this form's security token is missing or out of date, so it was not applied; go back, reload the page and submit the form again")

// checkCSRF checks the session's CSRF token, sent in the X-CSRF-Token
// header (scripts) or the form field "csrf". A urlencoded body is limited
// to MaxFormBytes; a multipart body is parsed with MaxFormBytes in memory
// and the rest in temporary files (send the header to stream an upload
// instead).
func (h *Handler) checkCSRF(w http.ResponseWriter, r *http.Request, sess *Session) error {
	token := r.Header.Get(csrfHeader)
	if token == "" {
		var err error
		if token, err = h.formValue(w, r, csrfField); err != nil {
			return err
		}
	}
	if !operator.CheckCSRF(sess.Session, token) {
		return errCSRF
	}
	return nil
}

// formValue parses the request's form, within MaxFormBytes for a
// urlencoded body, and returns the named field.
func (h *Handler) formValue(w http.ResponseWriter, r *http.Request, name string) (string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	limit := h.MaxFormBytes
	switch {
	case ct == "multipart/form-data":
		// A form with a file (an upload without the page's script): the
		// body is bounded by the upload limit, the files go to disk.
		limit = h.maxUpload() + h.MaxFormBytes
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		err = r.ParseMultipartForm(h.MaxFormBytes)
	default:
		r.Body = http.MaxBytesReader(w, r.Body, h.MaxFormBytes)
		err = r.ParseForm()
	}
	if err != nil {
		if strings.Contains(err.Error(), "too large") {
			return "", trueup.Errorf(trueup.ETOOLARGE, "the form is larger than %d bytes; send less (split a large file)", limit)
		}
		return "", trueup.Errorf(trueup.EINVALID, "the form could not be read (%v); reload the page and submit it again", err)
	}
	return r.PostFormValue(name), nil
}

// secure reports whether cookies must be Secure for r.
func (h *Handler) secure(r *http.Request) bool { return r.TLS != nil || h.SecureCookies }

// setCookie sets a console cookie: HttpOnly, SameSite=Lax, Path=/console/,
// Secure under TLS. maxAge < 0 deletes it; 0 makes it last the browser's
// session.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}
