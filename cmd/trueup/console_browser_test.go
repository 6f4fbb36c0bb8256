package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/trueup/trueup/operator"
)

// TestConsoleSignIn signs in with a wrong password (refused, with what to
// do), then the right one, then signs out: the session is gone from the
// server, not only from the browser.
func TestConsoleSignIn(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		tab := b.tab(t, srv)

		if st := tab.open(t, "/console/operators"); st != http.StatusOK || !strings.HasPrefix(tab.location(t), "/console/login?next=") {
			t.Fatalf("signed out, /console/operators: status %d at %s, want the sign-in page", st, tab.location(t))
		}
		if st := tab.signIn(t, admin.Email, "not-the-password"); st != http.StatusUnauthorized {
			t.Errorf("wrong password: status %d, want 401", st)
		}
		if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "wrong") || !strings.Contains(msg, "sign in again") {
			t.Errorf("wrong password: message %q does not say what to do", msg)
		}
		// The right password, with the keyboard only: Tab to the email
		// field, type, Tab, type, Enter.
		tab.open(t, "/console/login")
		tab.eval(t, `document.activeElement && document.activeElement.blur()`)
		for i := 0; i < 6 && tab.focused(t) != "email"; i++ {
			tab.do(t, chromedp.KeyEvent(kb.Tab))
		}
		if f := tab.focused(t); f != "email" {
			t.Fatalf("6 Tabs from the top of the sign-in page do not reach the email field (focus on %q)", f)
		}
		tab.do(t, chromedp.KeyEvent(admin.Email), chromedp.KeyEvent(kb.Tab))
		if f := tab.focused(t); f != "password" {
			t.Fatalf("Tab after the email field goes to %q, want the password", f)
		}
		tab.do(t, chromedp.KeyEvent(admin.Password))
		if st := tab.response(t, chromedp.KeyEvent(kb.Enter)); st != http.StatusOK {
			t.Fatalf("right password: status %d, want 200", st)
		}
		if loc, h1 := tab.location(t), tab.text(t, "h1"); loc != "/console/" || h1 != "Overview" {
			t.Errorf("after sign-in: at %s with %q, want /console/ and Overview", loc, h1)
		}
		token := tab.cookie(t, "trueup_session")
		if len(token) != 43 {
			t.Fatalf("session cookie %q, want a 43-character token", token)
		}

		if st := tab.response(t, chromedp.Click(chromedp.CSS(`form.signout button`))); st != http.StatusOK {
			t.Errorf("sign out: status %d", st)
		}
		if loc := tab.location(t); loc != "/console/login?signedout" {
			t.Errorf("after sign-out at %s, want /console/login?signedout", loc)
		}
		if got := tab.text(t, "main .flash"); got != "You are signed out." {
			t.Errorf("after sign-out: %q", got)
		}
		if c := tab.cookie(t, "trueup_session"); c != "" {
			t.Errorf("session cookie still set after sign-out: %q", c)
		}
		// The old token, replayed, opens nothing: the server forgot it.
		raw := newConsoleHTTP(t, srv)
		raw.setCookie(t, "trueup_session", token)
		if st, _ := raw.get(t, "/console/"); st != http.StatusSeeOther {
			t.Errorf("replayed session after sign-out: status %d, want 303 to the sign-in page", st)
		}
	})
}

// TestConsoleViewerRefused checks the roles on the server: a viewer does
// not see the operators page, and its POST to create an operator, sent
// with a valid CSRF token from its own page, is refused with 403. An
// admin creates an operator through the form; its password, shown once,
// signs in.
func TestConsoleViewerRefused(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		viewer := srv.newOperator(t, "vic@example.com", operator.RoleViewer)

		t.Run("viewer", func(t *testing.T) {
			tab := b.signedIn(t, srv, viewer.Email, viewer.Password)
			if tab.has(t, `nav a[href="/console/operators"]`) {
				t.Errorf("a viewer's navigation links to the operators page")
			}
			if st := tab.open(t, "/console/operators"); st != http.StatusForbidden {
				t.Errorf("viewer GET /console/operators: status %d, want 403", st)
			}
			if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "viewer") || !strings.Contains(msg, "admin") {
				t.Errorf("refusal %q does not name the role and what to ask", msg)
			}
			tab.open(t, "/console/")
			csrf := tab.value(t, `form.signout input[name="csrf"]`)
			st := tab.fetch(t, "/console/operators", url.Values{"csrf": {csrf}, "email": {"mallory@example.com"}, "role": {"admin"}})
			if st != http.StatusForbidden {
				t.Errorf("viewer POST /console/operators with its CSRF token: status %d, want 403", st)
			}
			if out := srv.cli(t, "admin", "operator", "list"); strings.Contains(out, "mallory@") {
				t.Errorf("the viewer's POST created an operator:\n%s", out)
			}
		})

		t.Run("admin creates an operator", func(t *testing.T) {
			tab := b.signedIn(t, srv, admin.Email, admin.Password)
			tab.open(t, "/console/operators")
			tab.do(t,
				chromedp.SetValue(chromedp.CSS(`#new-email`), "ola@example.com"),
				chromedp.SetValue(chromedp.CSS(`#new-role`), "operator"),
			)
			if st := tab.response(t, chromedp.Click(chromedp.CSS(`form[action="/console/operators"] button[type="submit"]`))); st != http.StatusOK {
				t.Fatalf("create: status %d: %s", st, tab.text(t, "main"))
			}
			pw := tab.value(t, "#new-password")
			if len(pw) != 22 {
				t.Fatalf("generated password %q, want 22 characters", pw)
			}
			if st := tab.open(t, "/console/operators"); st != http.StatusOK || tab.has(t, "#new-password") {
				t.Errorf("the password is shown again on the next visit")
			}
			other := b.tab(t, srv)
			if st := other.signIn(t, "ola@example.com", pw); st != http.StatusOK || other.text(t, ".who .role") != "operator" {
				t.Errorf("the new operator cannot sign in with the password shown: status %d", st)
			}
			// A malformed email is refused with what to fix, and kept in
			// the form.
			tab.do(t, chromedp.SetValue(chromedp.CSS(`#new-email`), "not-an-email"))
			tab.eval(t, `document.querySelector("form[action='/console/operators']").noValidate = true`) // the server's check, not the browser's
			if st := tab.response(t, chromedp.Click(chromedp.CSS(`form[action="/console/operators"] button[type="submit"]`))); st != http.StatusBadRequest {
				t.Errorf("bad email: status %d, want 400", st)
			}
			if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "ana@example.com") {
				t.Errorf("bad email: message %q does not show a valid one", msg)
			}
		})
	})
}

// TestConsoleOperatorAdmin changes a role, gives a new password and
// disables an operator as an admin: a role change applies to the
// operator's running session, a new password or a disable ends it, and an
// admin cannot disable itself.
func TestConsoleOperatorAdmin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		viewer := srv.newOperator(t, "vic@example.com", operator.RoleViewer)
		vc := newConsoleHTTP(t, srv)
		vc.signIn(t, viewer.Email, viewer.Password)
		ac := newConsoleHTTP(t, srv)
		token := ac.signIn(t, admin.Email, admin.Password)
		base := "/console/operators/" + string(viewer.OperatorID)

		if st, body := ac.post(t, base+"/role", url.Values{"csrf": {token}, "role": {"carrier"}, "carrierId": {"car_nope"}}); st != http.StatusBadRequest || !strings.Contains(body, "carrier list") {
			t.Errorf("role carrier of an unknown carrier: status %d, want 400 saying where to find carrier ids", st)
		}
		if st, _ := ac.post(t, base+"/role", url.Values{"csrf": {token}, "role": {"admin"}}); st != http.StatusSeeOther {
			t.Fatalf("change role: status %d, want 303", st)
		}
		if _, body := ac.get(t, "/console/operators"); !strings.Contains(body, "vic@example.com is now admin.") {
			t.Errorf("no flash after the role change")
		}
		if st, _ := vc.get(t, "/console/operators"); st != http.StatusOK {
			t.Errorf("the new admin's running session: /console/operators status %d, want 200", st)
		}
		st, body := ac.post(t, base+"/password", url.Values{"csrf": {token}})
		m := regexp.MustCompile(`id="new-password" readonly value="([^"]+)"`).FindStringSubmatch(body)
		if st != http.StatusOK || m == nil {
			t.Fatalf("new password: status %d, no password shown\n%s", st, body)
		}
		if st, _ := vc.get(t, "/console/"); st != http.StatusSeeOther {
			t.Errorf("session after a new password: status %d, want 303 to the sign-in page", st)
		}
		vc.signIn(t, viewer.Email, m[1])
		if st, _ := ac.post(t, base+"/disable", url.Values{"csrf": {token}}); st != http.StatusSeeOther {
			t.Fatalf("disable: status %d, want 303", st)
		}
		if st, _ := vc.get(t, "/console/"); st != http.StatusSeeOther {
			t.Errorf("a disabled operator's session: status %d, want 303 to the sign-in page", st)
		}
		if st, body := ac.post(t, "/console/operators/"+string(admin.OperatorID)+"/disable", url.Values{"csrf": {token}}); st != http.StatusForbidden || !strings.Contains(body, "another admin") {
			t.Errorf("an admin disabling itself: status %d, want 403 saying to ask another admin", st)
		}
		if out := srv.cli(t, "admin", "operator", "list"); !strings.Contains(out, "disabled") {
			t.Errorf("admin operator list does not show the disable:\n%s", out)
		}
	})
}

// TestConsoleCarrierUser signs in a carrier user: the overview shows its
// own carrier and no other, and the staff pages answer 403.
func TestConsoleCarrierUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		own := srv.newCarrier(t, "Own Mobile")
		srv.newCarrier(t, "Other Telecom")
		user := srv.newOperator(t, "kd@own.example", operator.RoleCarrier, "--carrier", string(own.cred.CarrierID))
		c := newConsoleHTTP(t, srv)
		c.signIn(t, user.Email, user.Password)
		st, body := c.get(t, "/console/")
		if st != http.StatusOK || !strings.Contains(body, "Own Mobile") || strings.Contains(body, "Other Telecom") {
			t.Errorf("carrier user's overview: status %d; want its own carrier only\n%s", st, body)
		}
		if st, _ := c.get(t, "/console/operators"); st != http.StatusForbidden {
			t.Errorf("carrier user GET /console/operators: status %d, want 403", st)
		}
		if code, _, stderr := srv.cliResult("admin", "operator", "create", "--email", "x@own.example", "--role", "carrier"); code != 1 || !strings.Contains(stderr, "carrier list") {
			t.Errorf("a carrier user without --carrier: exit %d, %q; want 1 and where to find the carrier id", code, stderr)
		}
	})
}

// TestConsoleWrongMethod sends requests with a method the path does not
// take: a GET on a form's POST-only address, a POST or a PUT on a page.
// Each answers 405 with an Allow header naming the methods it takes and
// the console's error page, signed in or not; a path that is no page
// stays 404. Routing does not depend on the engine: SQLite only.
func TestConsoleWrongMethod(t *testing.T) {
	srv := startE2E(t, e2eEngines[0], ServeConfig{})
	admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
	signedIn := newConsoleHTTP(t, srv)
	signedIn.signIn(t, admin.Email, admin.Password)
	tests := []struct {
		method, path, allow string
	}{
		{"GET", "/console/logout", "POST"},
		{"GET", "/console/operators/" + string(admin.OperatorID) + "/disable", "POST"},
		{"GET", "/console/audit/verify", "POST"},
		{"GET", "/console/cases/case_x/actions", "POST"},
		{"GET", "/console/cycles/car_x/2026-01/close", "POST"},
		{"DELETE", "/console/webhooks/wh_x/delete", "POST"},
		{"POST", "/console/activity", "GET, HEAD"},
		{"PUT", "/console/operators", "GET, HEAD, POST"},
	}
	for _, c := range []*consoleHTTP{signedIn, newConsoleHTTP(t, srv)} {
		for _, tt := range tests {
			resp, body := c.send(t, tt.method, tt.path)
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tt.allow ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "takes ") {
				t.Errorf("%s %s: %d, Allow %q, %s; want 405, Allow %q and the error page\n%.300s", tt.method, tt.path, resp.StatusCode,
					resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), tt.allow, body)
			}
		}
		for _, method := range []string{"GET", "POST"} {
			if resp, _ := c.send(t, method, "/console/no-such-page"); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Allow") != "" {
				t.Errorf("%s /console/no-such-page: %d, Allow %q; want 404 without Allow", method, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
	// The form's own method still works.
	if st, _ := signedIn.post(t, "/console/logout", url.Values{"csrf": {"wrong"}}); st != http.StatusForbidden {
		t.Errorf("POST /console/logout with a wrong token: %d, want 403", st)
	}
}

// TestConsoleCSRF posts the console's forms with the browser's session
// cookie but without their CSRF token (or with a wrong one), as another
// site would: each is refused with 403 and a message, and nothing is
// applied. The same form with its token passes.
func TestConsoleCSRF(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		tab := b.signedIn(t, srv, admin.Email, admin.Password)
		raw := newConsoleHTTP(t, srv)
		raw.setCookie(t, "trueup_session", tab.cookie(t, "trueup_session"))
		create := url.Values{"email": {"eve@example.com"}, "role": {"admin"}}
		tests := []struct {
			name, path string
			form       url.Values
		}{
			{"create without token", "/console/operators", create},
			{"create with a wrong token", "/console/operators", withField(create, "csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")},
			{"disable without token", "/console/operators/" + string(admin.OperatorID) + "/disable", url.Values{}},
			{"sign out without token", "/console/logout", url.Values{}},
		}
		for _, tt := range tests {
			st, body := raw.post(t, tt.path, tt.form)
			if st != http.StatusForbidden || !strings.Contains(body, "security token is missing or out of date") {
				t.Errorf("%s: status %d, want 403 with the reason\n%s", tt.name, st, body)
			}
		}
		if out := srv.cli(t, "admin", "operator", "list"); strings.Contains(out, "eve@") || strings.Contains(out, "disabled") {
			t.Errorf("a form without its token was applied:\n%s", out)
		}
		if st, _ := raw.get(t, "/console/"); st != http.StatusOK {
			t.Errorf("the session ended on a sign-out without token: status %d", st)
		}
		// The sign-in form has a token too (against signing a browser in
		// to another account).
		anon := newConsoleHTTP(t, srv)
		if st, _ := anon.post(t, "/console/login", url.Values{"email": {admin.Email}, "password": {admin.Password}}); st != http.StatusForbidden {
			t.Errorf("sign-in without token: status %d, want 403", st)
		}
		// With the token of the session's page, the same form passes.
		tab.open(t, "/console/operators")
		token := tab.value(t, `form[action="/console/operators"] input[name="csrf"]`)
		if st, body := raw.post(t, "/console/operators", withField(create, "csrf", token)); st != http.StatusOK {
			t.Errorf("create with the token: status %d\n%s", st, body)
		}
	})
}

// withField returns a copy of v with name set to value.
func withField(v url.Values, name, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(name, value)
	return out
}

// TestConsoleLockout fails to sign in until the account locks: then even
// the right password is refused, with when to retry, until an admin
// enables the account again.
func TestConsoleLockout(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{Console: ConsoleConfig{SlowAfter: -1, MaxFailures: 3, Lockout: time.Hour}})
		op := srv.newOperator(t, "olga@example.com", operator.RoleOperator)
		tab := b.tab(t, srv)
		for i := 1; i <= 3; i++ {
			if st := tab.signIn(t, op.Email, "wrong password "+string(rune('0'+i))); st != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i, st)
			}
		}
		if st := tab.signIn(t, op.Email, op.Password); st != http.StatusForbidden {
			t.Errorf("right password on a locked account: status %d, want 403", st)
		}
		if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "locked") || !strings.Contains(msg, "until") || !strings.Contains(msg, "admin") {
			t.Errorf("lockout message %q does not say until when and what to do", msg)
		}
		if out := srv.cli(t, "admin", "operator", "list"); !strings.Contains(out, "locked until") {
			t.Errorf("admin operator list does not show the lockout:\n%s", out)
		}
		srv.cli(t, "admin", "operator", "enable", string(op.OperatorID))
		if st := tab.signIn(t, op.Email, op.Password); st != http.StatusOK {
			t.Errorf("after enable: status %d, want 200", st)
		}
	})
}

var demoPassword = regexp.MustCompile(`password: (\S+)`)

// TestConsoleDemo runs README's first command's demo set-up: it prints a
// console admin's email and password, which sign in.
func TestConsoleDemo(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{})
		for run := 1; run <= 2; run++ { // a second start gives a fresh password
			var out bytes.Buffer
			if err := runDemo(context.Background(), srv.main, Env{Stdout: &out}); err != nil {
				t.Fatalf("demo: %v", err)
			}
			m := demoPassword.FindStringSubmatch(out.String())
			if m == nil || !strings.Contains(out.String(), srv.base+"/console/") || !strings.Contains(out.String(), demoOperator) {
				t.Fatalf("demo output names no console, email or password:\n%s", out.String())
			}
			c := newConsoleHTTP(t, srv)
			c.signIn(t, demoOperator, m[1])
			if st, body := c.get(t, "/console/operators"); st != http.StatusOK || !strings.Contains(body, demoOperator) {
				t.Errorf("run %d: the demo admin cannot open the operators page: status %d", run, st)
			}
		}
	})
}
