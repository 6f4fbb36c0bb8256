package console

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) signInRoutes() {
	h.mux.HandleFunc("GET "+Prefix+"login", h.loginForm)
	h.mux.HandleFunc("POST "+Prefix+"login", h.login)
	h.page("POST "+Prefix+"logout", operator.RoleCarrier, h.logout)
}

// loginData is the sign-in page's data.
type loginData struct {
	Token, Next, Email string
	SignedOut          bool
}

// signInToken returns the sign-in form's CSRF token: the sign-in cookie's,
// or a fresh one set in the cookie. Before a session exists, the form's
// token is checked against this cookie (a double-submit token), so that
// another site cannot sign a browser in to an account of its choosing.
func (h *Handler) signInToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	t := trueup.NewSecret()
	h.setCookie(w, r, signInCookie, t, 0)
	return t
}

// safeNext returns next when it is a console path, else the overview.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, Prefix+"login") {
		return Prefix
	}
	return next
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := h.authenticate(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d := loginData{Token: h.signInToken(w, r), Next: safeNext(r.URL.Query().Get("next")), SignedOut: r.URL.Query().Has("signedout")}
	h.renderStatus(w, r, http.StatusOK, "login", view{Data: d})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	token, err := h.formValue(w, r, csrfField)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := loginData{Token: h.signInToken(w, r), Next: safeNext(r.PostFormValue("next")), Email: strings.TrimSpace(r.PostFormValue("email"))}
	c, cerr := r.Cookie(signInCookie)
	if cerr != nil || token == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) != 1 {
		h.renderStatus(w, r, http.StatusForbidden, "login", view{Data: d,
			Error: "the sign-in form's security token is missing or out of date (are cookies blocked?); the form was reloaded: sign in again"})
		return
	}
	in, err := h.Operators.SignIn(r.Context(), operator.SignInParams{Email: d.Email, Password: r.PostFormValue("password")})
	if err != nil {
		h.renderStatus(w, r, h.statusOf(r, err), "login", view{Data: d, Error: h.message(r, w, err)})
		return
	}
	h.setCookie(w, r, sessionCookie, in.Token, int(h.Operators.SessionTTL.Seconds()))
	h.setCookie(w, r, signInCookie, "", -1)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := h.Operators.SignOut(r.Context(), c.Value); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Prefix+"login?signedout", http.StatusSeeOther)
}
