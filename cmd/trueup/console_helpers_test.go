package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/trueup/trueup/operator"
)

// The console's browser tests drive Debian's headless chromium with
// chromedp against the real server (startE2E). A test function starts one
// browser (newBrowser) and gives each subtest a tab of its own, in a
// fresh browser context: its own cookies, so its own session.

// browserTimeout bounds one step of a browser test.
const browserTimeout = 30 * time.Second

// chromiumPath returns the chromium to drive. Without one the test is
// skipped, except in CI (CI set), where it fails: CI must run the browser
// tests (.ci/run installs chromium).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("chromium is not installed, and CI is set: the browser tests must run in CI; install it with apt-get install chromium")
	}
	tb.Skip("chromium is not installed: skipping the console's browser tests (apt-get install chromium to run them; in CI they fail instead)")
	return ""
}

// browser is a headless chromium started for one test function.
type browser struct {
	ctx context.Context
}

// newBrowser starts a headless chromium with a fresh profile folder; it
// stops when the test ends.
func newBrowser(tb testing.TB) *browser {
	tb.Helper()
	path := chromiumPath(tb)
	dir, err := os.MkdirTemp("", "trueup-chromium-")
	if err != nil {
		tb.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's children may still write in the folder for a moment.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first call starts the browser, bound to the context it is given:
	// ctx itself, not a context with a deadline.
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium %s: %v", path, err)
	}
	return &browser{ctx: ctx}
}

// tab is a page of the browser in a browser context of its own, on one
// server.
type tab struct {
	ctx  context.Context
	base string
}

// tab opens a tab with fresh cookies on srv; it closes when tb ends.
func (b *browser) tab(tb testing.TB, srv *e2eServer) *tab {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	tb.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("open tab: %v", err)
	}
	return &tab{ctx: ctx, base: srv.base}
}

// signedIn opens a tab on srv signed in as email; a sign-in that does not
// lead to a page (status 200) fails the test.
func (b *browser) signedIn(tb testing.TB, srv *e2eServer, email, password string) *tab {
	tb.Helper()
	t := b.tab(tb, srv)
	if st := t.signIn(tb, email, password); st != http.StatusOK {
		tb.Fatalf("sign in as %s: status %d, want 200", email, st)
	}
	return t
}

// do runs steps within browserTimeout; an error fails the test.
func (t *tab) do(tb testing.TB, steps ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.Fatalf("browser: %v", err)
	}
}

// response runs steps that load a page (a navigation, a click on a
// submit button) and returns the status of the page's response.
func (t *tab) response(tb testing.TB, steps ...chromedp.Action[chromedp.Void]) int {
	tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, browserTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.Fatalf("browser: %v", err)
	}
	return int(resp.Status)
}

// open loads the console path (like "/console/operators") and returns the
// final response's status.
func (t *tab) open(tb testing.TB, path string) int {
	tb.Helper()
	return t.response(tb, chromedp.Navigate(t.base+path))
}

// submit clicks sel (a submit button or a link), answering yes to the
// confirmation a data-confirm button asks, and returns the status of the
// page it loads.
func (t *tab) submit(tb testing.TB, sel string) int {
	tb.Helper()
	t.eval(tb, `window.confirm = () => true`)
	return t.response(tb, chromedp.Click(chromedp.CSS(sel)))
}

// run runs action a in t's page within browserTimeout and returns its
// result; an error fails the test, saying what was being done.
//
// A query that found its element just before the browser replaced the
// page's document (chromedp fetches the new one when told, a moment after
// the load) reads a node id that no longer exists: such an action runs
// again, and finds the element in the new document.
func run[T any](tb testing.TB, t *tab, what string, a chromedp.Action[T]) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, browserTimeout)
	defer cancel()
	for {
		v, err := chromedp.Run(ctx, a)
		if err != nil && strings.Contains(err.Error(), "No node with given id found") && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			tb.Fatalf("browser: %s: %v", what, err)
		}
		return v
	}
}

// evaluate returns the value of the JavaScript expression js in t's page.
func evaluate[T any](tb testing.TB, t *tab, js string) T {
	tb.Helper()
	return run(tb, t, js, chromedp.Evaluate[T](js))
}

// eval runs a JavaScript statement in the page.
func (t *tab) eval(tb testing.TB, js string) {
	tb.Helper()
	evaluate[bool](tb, t, js+"; true")
}

// text returns the visible text of the first element sel matches.
func (t *tab) text(tb testing.TB, sel string) string {
	tb.Helper()
	return strings.TrimSpace(run(tb, t, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// html returns the outer HTML of the first element sel matches.
func (t *tab) html(tb testing.TB, sel string) string {
	tb.Helper()
	return run(tb, t, "HTML of "+sel, chromedp.OuterHTML(chromedp.CSS(sel)))
}

// value returns the value property of the first input sel matches.
func (t *tab) value(tb testing.TB, sel string) string {
	tb.Helper()
	return run(tb, t, "value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// has reports whether an element matches sel now.
func (t *tab) has(tb testing.TB, sel string) bool {
	tb.Helper()
	return evaluate[bool](tb, t, `document.querySelector(`+jsString(sel)+`) !== null`)
}

// nodes returns how many elements sel matches.
func (t *tab) nodes(tb testing.TB, sel string) int {
	tb.Helper()
	return evaluate[int](tb, t, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// attr returns the attribute name of the first element sel matches.
func (t *tab) attr(tb testing.TB, sel, name string) string {
	tb.Helper()
	return evaluate[string](tb, t, `document.querySelector(`+jsString(sel)+`).getAttribute(`+jsString(name)+`)`)
}

// focused returns the name (or else the id) of the focused element.
func (t *tab) focused(tb testing.TB) string {
	tb.Helper()
	return evaluate[string](tb, t, `document.activeElement ? (document.activeElement.name || document.activeElement.id || document.activeElement.tagName) : ""`)
}

// location returns the tab's URL path and query.
func (t *tab) location(tb testing.TB) string {
	tb.Helper()
	return strings.TrimPrefix(run(tb, t, "location", chromedp.Location()), t.base)
}

// screensDir is where screenshots go: docs/console with
// TRUEUP_SCREENSHOTS=1, or the folder TRUEUP_CONSOLE_SCREENS names; ""
// when neither is set.
func screensDir() string {
	if dir := os.Getenv("TRUEUP_CONSOLE_SCREENS"); dir != "" {
		return dir
	}
	if os.Getenv("TRUEUP_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "console")
	}
	return ""
}

// screenshot saves a full screenshot of the page as NAME.png in
// screensDir, when there is one.
func (t *tab) screenshot(tb testing.TB, name string) {
	tb.Helper()
	dir := screensDir()
	if dir == "" {
		return
	}
	png := run(tb, t, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.Fatalf("save screenshot %s: %v", name, err)
	}
}

// signIn fills the sign-in form (from the sign-in page) and returns the status of the page it leads to.
func (t *tab) signIn(tb testing.TB, email, password string) int {
	tb.Helper()
	if st := t.open(tb, "/console/login"); st != http.StatusOK {
		tb.Fatalf("GET /console/login: status %d", st)
	}
	t.do(tb,
		chromedp.WaitVisible(chromedp.CSS(`input[name="email"]`)),
		// SetValue, not SendKeys: typing is one protocol round trip a key.
		chromedp.SetValue(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SetValue(chromedp.CSS(`input[name="password"]`), password),
	)
	return t.response(tb, chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
}

// cookie returns the value of the tab's cookie name (HttpOnly ones too),
// or "".
func (t *tab) cookie(tb testing.TB, name string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, browserTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{t.base + "/console/"}})
	if err != nil {
		tb.Fatalf("browser: cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// fetch posts form to path from the page with the browser's cookies, as a
// script of the page would, and returns the response's status.
func (t *tab) fetch(tb testing.TB, path string, form url.Values) int {
	tb.Helper()
	js := `fetch(` + jsString(path) + `, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: ` +
		jsString(form.Encode()) + `, redirect: "manual"}).then(r => r.status)`
	return run(tb, t, "fetch "+path, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "<", `\u003c`)
	return `"` + r.Replace(s) + `"`
}

// newOperator creates a console operator through the CLI, as an admin on
// the server's host would, and returns it with its generated password.
func (s *e2eServer) newOperator(tb testing.TB, email string, role operator.Role, extra ...string) operator.Created {
	tb.Helper()
	var c operator.Created
	s.cliJSON(tb, &c, append([]string{"admin", "operator", "create", "--email", email, "--role", string(role)}, extra...)...)
	if c.OperatorID == "" || c.Password == "" || c.Email != email {
		tb.Fatalf("admin operator create --json gave %+v", c)
	}
	return c
}

// consoleHTTP is a plain HTTP client of the console with its own cookies:
// for what a browser will not send, like a form without its token.
type consoleHTTP struct {
	base string
	hc   *http.Client
}

// newConsoleHTTP returns a client of srv's console that follows no
// redirects.
func newConsoleHTTP(tb testing.TB, srv *e2eServer) *consoleHTTP {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: srv.http.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &consoleHTTP{base: srv.base, hc: hc}
}

// setCookie gives the client a console cookie (one taken from a tab).
func (c *consoleHTTP) setCookie(tb testing.TB, name, value string) {
	tb.Helper()
	u, _ := url.Parse(c.base + "/console/")
	c.hc.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/console/"}})
}

// get returns the status and body of GET path.
func (c *consoleHTTP) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	resp, err := c.hc.Get(c.base + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	return readAll(tb, resp)
}

// post posts form to path and returns the status and body.
func (c *consoleHTTP) post(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	resp, err := c.hc.PostForm(c.base+path, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	return readAll(tb, resp)
}

// send sends an empty request of method to path and returns the response,
// its body read.
func (c *consoleHTTP) send(tb testing.TB, method, path string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	_, body := readAll(tb, resp)
	return resp, body
}

// readAll reads and closes resp's body and returns the status and body.
func readAll(tb testing.TB, resp *http.Response) (int, string) {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs the client in with the sign-in form's token and returns
// the session's CSRF token (read from the overview).
func (c *consoleHTTP) signIn(tb testing.TB, email, password string) string {
	tb.Helper()
	_, body := c.get(tb, "/console/login")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		tb.Fatalf("no csrf field in the sign-in page:\n%s", body)
	}
	st, body := c.post(tb, "/console/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	if st != http.StatusSeeOther {
		tb.Fatalf("sign in as %s: status %d, want 303\n%s", email, st, body)
	}
	_, body = c.get(tb, "/console/")
	if m = csrfInput.FindStringSubmatch(body); m == nil {
		tb.Fatalf("no csrf field in the overview:\n%s", body)
	}
	return m[1]
}
