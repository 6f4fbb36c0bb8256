package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
)

// The browser tests of the partner pages drive Debian's headless chromium
// through chromedp against the real server, on each engine. They skip when
// chromium is not installed (.ci/run installs it).

// partnerBrowser starts a headless chromium for the test and returns its
// context; each person then gets a tab of its own cookie jar (tab).
func partnerBrowser(tb testing.TB) context.Context {
	tb.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		tb.Skip("no chromium on the PATH; install it (apt-get install chromium) to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab opens a tab with its own cookies, signed in as email.
func (w *partnerWorld) tab(tb testing.TB, browser context.Context, email, password string) context.Context {
	tb.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	tb.Cleanup(func() { cancelTime(); cancel() })
	cpMust(tb, "sign in "+email, chromedp.Do(ctx,
		chromedp.Navigate(w.base+"/console/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".who")),
	))
	return ctx
}

func cpMust(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// text returns the text of the first element sel matches.
func cpText(tb testing.TB, ctx context.Context, sel string) string {
	tb.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	cpMust(tb, "text of "+sel, err)
	return s
}

// pageStatus is the HTTP status of the page the tab shows.
func cpPageStatus(tb testing.TB, ctx context.Context) int {
	tb.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation")[0].responseStatus`))
	cpMust(tb, "read the page's status", err)
	return n
}

// open navigates to a console path and returns the HTTP status.
func cpOpen(tb testing.TB, ctx context.Context, base, path string) int {
	tb.Helper()
	cpMust(tb, "open "+path, chromedp.Do(ctx, chromedp.Navigate(base+path)))
	return cpPageStatus(tb, ctx)
}

// clickAndLoad clicks sel and waits for the page it loads, whose status
// it returns. A data-confirm question is answered yes.
func cpClickAndLoad(tb testing.TB, ctx context.Context, sel string) int {
	tb.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; window.trueupOld = true; true`))
	cpMust(tb, "mark the page", err)
	cpMust(tb, "click "+sel, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))))
	// The old page's scripts end with it: ask each new one until it is the
	// loaded next page.
	for deadline := time.Now().Add(30 * time.Second); ; {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.trueupOld === undefined && document.readyState === "complete"`))
		if err == nil && done {
			return cpPageStatus(tb, ctx)
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no page loaded after clicking %s (%v)", sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitStatus waits until the adjustment page shows want, reloading it as
// the page does itself while the process moves.
func cpWaitStatus(tb testing.TB, ctx context.Context, base, id, want string) string {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := cpText(tb, ctx, "#status-text")
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("adjustment %s: status %q, want %q", id, got, want)
		}
		time.Sleep(300 * time.Millisecond)
		cpOpen(tb, ctx, base, "/console/adjustments/"+id)
	}
}

// partnerScreensDir is where the partner pages' screenshots go: docs/console
// with TRUEUP_SCREENSHOTS=1 (as TestConsoleScreens), or the directory
// TRUEUP_CONSOLE_SCREENS names; empty when neither is set.
func partnerScreensDir() string {
	if dir := os.Getenv("TRUEUP_CONSOLE_SCREENS"); dir != "" {
		return dir
	}
	if os.Getenv("TRUEUP_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "console")
	}
	return ""
}

// cpScreen saves a screenshot of the current page as NAME.png in
// partnerScreensDir, when there is one.
func cpScreen(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	dir := partnerScreensDir()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	cpMust(tb, "screenshot "+name, err)
	cpMust(tb, "save "+name, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// TestConsolePartnersBrowser: an operator launches two adjustments from a
// file, confirms one (it ends Success) and cancels the other (Declined);
// an admin rotates a carrier's secret (the old one stops working against
// the carrier API); a viewer's action is refused by the server (403); a
// carrier user cannot open another carrier's batch (404); the risk look-up
// finds a seeded record and the number is not in the server's log.
func TestConsolePartnersBrowser(t *testing.T) {
	browser := partnerBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		w := startPartners(t, eng)
		tc := w.twoCarriers(t)
		w.importRiskList(t)
		dir := t.TempDir()

		// A buyer with transactions on survey 1108416.
		var acme buyer.Credentials
		w.cliJSON(t, &acme, "admin", "buyer", "create", "--name", "Acme Research", "--reject-cap", "70")
		tx := filepath.Join(dir, "tx.csv")
		writeFile(t, tx, "transaction_id,survey_id,status\nt1,1108416,21\nt2,1108416,21\nt3,1108416,21\nt4,1108416,18\nt5,1108416,21\n")
		w.cli(t, "import", "transactions", "--buyer", string(acme.BuyerID), tx)
		list := filepath.Join(dir, "list.csv")
		writeFile(t, list, "transaction_id,change_reason\nt1,Suspected Fraud\nt9,Ghost Completes\n")

		// Each person signs in in a tab of its own, opened in the subtest
		// that needs it and closed after: one tab at a time is in front.
		passwords := map[string]string{
			"admin@example.com":    w.newOperator(t, "admin@example.com", "admin", ""),
			"operator@example.com": w.newOperator(t, "operator@example.com", "operator", ""),
			"viewer@example.com":   w.newOperator(t, "viewer@example.com", "viewer", ""),
			"second@alpha.example": w.newOperator(t, "second@alpha.example", "carrier", tc.a.cred.CarrierID),
		}
		as := func(t *testing.T, email string) context.Context { return w.tab(t, browser, email, passwords[email]) }

		var op context.Context
		launch := func(t *testing.T) string {
			t.Helper()
			if got := cpOpen(t, op, w.base, "/console/adjustments?buyer="+string(acme.BuyerID)); got != http.StatusOK {
				t.Fatalf("adjustments page: HTTP %d", got)
			}
			cpMust(t, "fill the launch form", chromedp.Do(op,
				chromedp.Click(chromedp.CSS(`input[name=mode][value=live-reject]`)),
				chromedp.SendKeys(chromedp.CSS("#launch-survey"), "1108416"),
				chromedp.SetUploadFiles(chromedp.CSS("#launch-file"), []string{list}),
			))
			if got := cpClickAndLoad(t, op, "#launch-submit"); got != http.StatusOK {
				t.Fatalf("launch: HTTP %d: %s", got, cpText(t, op, "main"))
			}
			loc, err := chromedp.Run(op, chromedp.Location())
			cpMust(t, "location", err)
			id := loc[strings.LastIndex(loc, "/")+1:]
			if st := cpText(t, op, "#status-text"); !strings.Contains(st, "1 Pending") {
				t.Fatalf("launched process %s: status %q, want Pending", id, st)
			}
			// The summary before deciding: per survey, eligible and unknown.
			if s := cpText(t, op, "#per-survey"); !strings.Contains(s, "1108416") {
				t.Errorf("per-survey summary lacks the survey: %q", s)
			}
			// t9 names no transaction of the buyer: the summary counts it.
			unknown, err := chromedp.Run(op, chromedp.Evaluate[string](`[...document.querySelectorAll("table.summary th")].find(th => th.textContent === "unknown").nextElementSibling.textContent`))
			cpMust(t, "read the summary", err)
			if unknown != "1" {
				t.Errorf("summary unknown = %q, want 1", unknown)
			}
			return id
		}

		t.Run("confirm one adjustment, cancel another", func(t *testing.T) {
			op = as(t, "operator@example.com")
			first := launch(t)
			cpScreen(t, op, "adjustment-pending")
			if got := cpClickAndLoad(t, op, "#confirm-adjustment"); got != http.StatusOK {
				t.Fatalf("confirm: HTTP %d", got)
			}
			cpWaitStatus(t, op, w.base, first, "6 Success")
			cpScreen(t, op, "adjustment-success")
			second := launch(t)
			if got := cpClickAndLoad(t, op, "#cancel-adjustment"); got != http.StatusOK {
				t.Fatalf("cancel: HTTP %d", got)
			}
			cpWaitStatus(t, op, w.base, second, "2 Declined")
			// The buyer's list shows both, and the data changed once.
			cpOpen(t, op, w.base, "/console/adjustments?buyer="+string(acme.BuyerID))
			cpScreen(t, op, "adjustments")
			if l := cpText(t, op, "main table"); !strings.Contains(l, first) || !strings.Contains(l, second) {
				t.Errorf("the list lacks a process: %q", l)
			}
			var a struct {
				Status  int
				Summary struct{ LiveReconciled int64 }
			}
			w.cliJSON(t, &a, "adjustments", "show", first)
			if a.Status != 6 || a.Summary.LiveReconciled != 1 {
				t.Errorf("confirmed process = %+v, want Success with 1 change", a)
			}
		})

		t.Run("rotate a secret", func(t *testing.T) {
			admin := as(t, "admin@example.com")
			old := tc.a.cred
			path := fmt.Sprintf("/console/carriers/%s", old.CarrierID)
			if got := cpOpen(t, admin, w.base, path); got != http.StatusOK {
				t.Fatalf("carrier page: HTTP %d", got)
			}
			cpScreen(t, admin, "carrier")
			if got := cpClickAndLoad(t, admin, "#rotate-"+string(old.ClientID)); got != http.StatusOK {
				t.Fatalf("rotate: HTTP %d", got)
			}
			secret, err := chromedp.Run(admin, chromedp.Value(chromedp.CSS("#new-client-secret")))
			cpMust(t, "read the secret", err)
			if secret == "" || secret == old.ClientSecret {
				t.Fatalf("rotated secret %q", secret)
			}
			if _, err := chromedp.Run(admin, chromedp.WaitVisible(chromedp.CSS(`button[data-copy="new-client-secret"]`))); err != nil {
				t.Errorf("no copy button: %v", err)
			}
			cpScreen(t, admin, "carrier-secret")
			ctx := context.Background()
			if _, err := w.client(old).Token(ctx); err == nil {
				t.Errorf("the old secret still gets a token from the carrier API")
			}
			fresh := auth.Credentials{CarrierID: old.CarrierID, UserID: old.UserID, ClientID: old.ClientID, ClientSecret: secret}
			if _, err := w.client(fresh).Token(ctx); err != nil {
				t.Errorf("the new secret does not work: %v", err)
			}
			// Reloaded, the page shows the secret no more.
			cpOpen(t, admin, w.base, path)
			if html, _ := chromedp.Run(admin, chromedp.OuterHTML(chromedp.CSS("main"))); strings.Contains(html, secret) {
				t.Errorf("the secret is shown again")
			}
		})

		t.Run("a viewer is refused an action", func(t *testing.T) {
			viewer := as(t, "viewer@example.com")
			path := fmt.Sprintf("/console/carriers/%s", tc.b.cred.CarrierID)
			if got := cpOpen(t, viewer, w.base, path); got != http.StatusOK {
				t.Fatalf("viewer reads the carrier page: HTTP %d", got)
			}
			if n, _ := chromedp.Run(viewer, chromedp.Evaluate[int](`document.querySelectorAll("form[action$='/rotate']").length`)); n != 0 {
				t.Errorf("the viewer is offered %d rotate buttons", n)
			}
			// The server refuses the post itself, with the session's token.
			status, err := chromedp.Run(viewer, chromedp.Evaluate[int](fmt.Sprintf(`fetch(%q, {method: "POST", headers: {"X-CSRF-Token": document.querySelector("input[name=csrf]").value}}).then(r => r.status)`,
				path+"/clients/"+string(tc.b.cred.ClientID)+"/rotate"), chromedp.EvalAwaitPromise))
			cpMust(t, "viewer's post", err)
			if status != http.StatusForbidden {
				t.Errorf("viewer's rotate: HTTP %d, want 403", status)
			}
			if _, err := w.client(tc.b.cred).Token(context.Background()); err != nil {
				t.Errorf("the refused rotation changed the secret: %v", err)
			}
			if got := cpOpen(t, viewer, w.base, "/console/api-keys"); got != http.StatusForbidden {
				t.Errorf("viewer opens the API keys: HTTP %d, want 403", got)
			}
			if got := cpOpen(t, viewer, w.base, "/console/adjustments/"+strings.Repeat("0", 8)+"-0000-4000-8000-000000000000"); got != http.StatusNotFound {
				t.Errorf("unknown adjustment: HTTP %d, want 404", got)
			}
		})

		t.Run("a carrier user cannot open another carrier's batch", func(t *testing.T) {
			carrier := as(t, "second@alpha.example")
			if got := cpOpen(t, carrier, w.base, "/console/batches/"+string(tc.batchB)); got != http.StatusNotFound {
				t.Errorf("carrier user opens another carrier's batch: HTTP %d, want 404", got)
			}
			if body := cpText(t, carrier, "body"); strings.Contains(body, "Beta Telecom") || strings.Contains(body, "beta-secret-statement") {
				t.Errorf("the not-found page shows the other carrier: %q", body)
			}
			if got := cpOpen(t, carrier, w.base, "/console/packages?carrier="+string(tc.b.cred.CarrierID)); got != http.StatusNotFound {
				t.Errorf("carrier user opens another carrier's package events: HTTP %d, want 404", got)
			}
			if got := cpOpen(t, carrier, w.base, "/console/portal"); got != http.StatusOK {
				t.Fatalf("portal: HTTP %d", got)
			}
			cpScreen(t, carrier, "portal")
			nav := cpText(t, carrier, "header nav")
			for _, hidden := range []string{"Carriers", "Buyers", "Adjustments", "Risk", "API keys", "Operators"} {
				if strings.Contains(nav, hidden) {
					t.Errorf("a carrier user's navigation offers %s", hidden)
				}
			}
			if p := cpText(t, carrier, "main"); strings.Contains(p, "Beta Telecom") || !strings.Contains(p, "Alpha Mobile") {
				t.Errorf("portal shows the wrong carriers: %q", p)
			}
		})

		t.Run("risk look-up finds a seeded record", func(t *testing.T) {
			op := as(t, "operator@example.com")
			cpOpen(t, op, w.base, "/console/risk-lookup")
			cpMust(t, "type the number", chromedp.Do(op, chromedp.SendKeys(chromedp.CSS("#lookup-mobile"), riskNumberPlain)))
			if got := cpClickAndLoad(t, op, "main form button[type=submit]"); got != http.StatusOK {
				t.Fatalf("look-up: HTTP %d", got)
			}
			if got := cpText(t, op, "#risk-records"); !strings.Contains(got, "11323") || !strings.Contains(got, "5 blacklist") {
				t.Errorf("records: %q", got)
			}
			cpScreen(t, op, "risk-lookup")
			if html, _ := chromedp.Run(op, chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, riskNumberPlain) {
				t.Errorf("the page repeats the number")
			}
			if strings.Contains(w.log.String(), riskNumberPlain) {
				t.Errorf("the server's log holds the mobile number")
			}
		})

		t.Run("phone width", func(t *testing.T) {
			admin := as(t, "admin@example.com")
			cpMust(t, "phone viewport", chromedp.Do(admin, chromedp.EmulateViewport(390, 844)))
			for _, s := range partnerScreens(tc.a.cred.CarrierID) {
				if s.as != "admin@example.com" {
					continue
				}
				cpOpen(t, admin, w.base, s.path)
				// Wide tables scroll in their box; the page itself does not.
				wide, err := chromedp.Run(admin, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
				cpMust(t, "measure "+s.path, err)
				if wide {
					culprits, _ := chromedp.Run(admin, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".scroll")).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className)`))
					t.Errorf("%s is wider than a 390 px phone: %v", s.path, culprits)
				}
			}
			cpScreen(t, admin, "packages-phone")
		})

		t.Run("screens", func(t *testing.T) {
			if partnerScreensDir() == "" {
				t.Skip("set TRUEUP_SCREENSHOTS=1 to save the partner pages' screenshots to docs/console/")
			}
			for _, s := range partnerScreens(tc.a.cred.CarrierID) {
				t.Run(s.name, func(t *testing.T) {
					ctx := as(t, s.as)
					cpOpen(t, ctx, w.base, s.path)
					cpScreen(t, ctx, s.name)
				})
			}
		})
	})
}

// partnerScreen is a page of the partner screenshots.
type partnerScreen struct{ name, path, as string }

// partnerScreens are the partner pages whose screenshots go to
// docs/console/ (with those the tests above take on the way).
func partnerScreens(carrier trueup.CarrierID) []partnerScreen {
	return []partnerScreen{
		{"carriers", "/console/carriers", "admin@example.com"},
		{"carrier", "/console/carriers/" + string(carrier), "admin@example.com"},
		{"adjustments", "/console/adjustments", "admin@example.com"},
		{"risk-lookup", "/console/risk-lookup", "admin@example.com"},
		{"buyers", "/console/buyers", "admin@example.com"},
		{"risk-clients", "/console/risk-clients", "admin@example.com"},
		{"api-keys", "/console/api-keys", "admin@example.com"},
		{"packages", "/console/packages?carrier=" + string(carrier), "admin@example.com"},
		{"portal-carrier", "/console/portal", "second@alpha.example"},
	}
}
