package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

// consoleScreen is a console page to photograph: its path, and what to
// do on it first (fill a form, click), if anything.
type consoleScreen struct {
	name     string
	path     string
	signedIn bool
	// setup runs on the loaded page before the screenshot.
	setup func(tb testing.TB, t *tab)
}

// consoleScreens are the pages of docs/console/. A new page adds its
// entry here.
var consoleScreens = []consoleScreen{
	{name: "login", path: "/console/login"},
	{name: "login-error", path: "/console/login", setup: func(tb testing.TB, t *tab) {
		t.do(tb, chromedp.SetValue(chromedp.CSS(`input[name="email"]`), "ana@example.com"),
			chromedp.SetValue(chromedp.CSS(`input[name="password"]`), "wrong password"))
		t.response(tb, chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type="submit"]`)))
	}},
	{name: "overview", path: "/console/", signedIn: true},
	{name: "operators", path: "/console/operators", signedIn: true},
	{name: "activity", path: "/console/activity", signedIn: true},
	{name: "batches", path: "/console/batches", signedIn: true},
	{name: "batch", path: "/console/batches", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.response(tb, chromedp.Click(chromedp.CSS(`table.batches a`)))
	}},
	{name: "batch-filtered", path: "/console/batches", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.response(tb, chromedp.Click(chromedp.CSS(`table.batches a`)))
		t.do(tb, chromedp.SetValue(chromedp.CSS("#f-kind"), "3"), chromedp.SetValue(chromedp.CSS("#f-sort"), "gap-desc"))
		t.response(tb, chromedp.Click(chromedp.CSS(`form[role="search"] button[type="submit"]`)))
	}},
	{name: "upload", path: "/console/upload", signedIn: true},
	{name: "imports", path: "/console/imports", signedIn: true},
	{name: "import-row-errors", path: "/console/imports", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.response(tb, chromedp.Click(chromedp.CSS(`table a[href^="/console/imports/imp_"]`)))
	}},
	{name: "operator-created", path: "/console/operators", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.do(tb, chromedp.SetValue(chromedp.CSS(`#new-email`), "ola@example.com"), chromedp.SetValue(chromedp.CSS(`#new-role`), "operator"))
		t.response(tb, chromedp.Click(chromedp.CSS(`form[action="/console/operators"] button[type="submit"]`)))
	}},
	{name: "cycles", path: "/console/cycles", signedIn: true},
	{name: "cycle", path: "/console/cycles", signedIn: true, setup: openScreenCycle},
	{name: "cases", path: "/console/cycles", signedIn: true, setup: func(tb testing.TB, t *tab) {
		openScreenCycle(tb, t)
		t.response(tb, chromedp.Click(chromedp.CSS(`main p.meta a[href^="/console/cases?"]`)))
	}},
	{name: "case", path: "/console/cycles", signedIn: true, setup: func(tb testing.TB, t *tab) {
		openScreenCycle(tb, t)
		t.response(tb, chromedp.Click(chromedp.CSS(`main p.meta a[href^="/console/cases?"]`)))
		t.response(tb, chromedp.Click(chromedp.CSS(`#cases tbody tr[id] a`)))
	}},
	{name: "audit", path: "/console/audit", signedIn: true},
	{name: "audit-verified", path: "/console/audit", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.response(tb, chromedp.Click(chromedp.CSS(`#verify`)))
	}},
	{name: "webhooks", path: "/console/webhooks", signedIn: true},
	{name: "webhook-created", path: "/console/webhooks", signedIn: true, setup: func(tb testing.TB, t *tab) {
		t.do(tb, chromedp.SetValue(chromedp.CSS(`#wh-url`), "https://hooks.example.com/trueup"))
		t.response(tb, chromedp.Click(chromedp.CSS(`form[action="/console/webhooks"] button[type="submit"]`)))
	}},
}

// openScreenCycle opens, from the cycles page, the first cycle listed.
func openScreenCycle(tb testing.TB, t *tab) {
	tb.Helper()
	t.response(tb, chromedp.Click(chromedp.CSS(`ul.cycles a`)))
}

// screenSizes are the widths photographed: a desktop and a phone.
var screenSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"desktop", 1280, 800, false},
	{"phone", 390, 844, true},
}

// TestConsoleScreens writes a screenshot of every console page, at
// desktop and phone widths, to docs/console/NAME-SIZE.png. It runs only
// with TRUEUP_SCREENSHOTS=1:
//
//	TRUEUP_SCREENSHOTS=1 go test -count=1 -run TestConsoleScreens ./cmd/trueup
func TestConsoleScreens(t *testing.T) {
	dir := screensDir()
	if dir == "" {
		t.Skip("set TRUEUP_SCREENSHOTS=1 to write the console's screenshots to docs/console/")
	}
	b := newBrowser(t)
	srv := startE2E(t, e2eEngines[0], ServeConfig{})
	admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
	srv.newOperator(t, "vic@example.com", operator.RoleViewer)
	screensData(t, srv)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sc := range consoleScreens {
		for _, size := range screenSizes {
			t.Run(sc.name+"-"+size.name, func(t *testing.T) {
				tab := b.tab(t, srv)
				var opts []chromedp.EmulateViewportOption
				if size.mobile {
					opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait)
				}
				tab.do(t, chromedp.EmulateViewport(size.width, size.height, opts...))
				if sc.signedIn {
					if st := tab.signIn(t, admin.Email, admin.Password); st != http.StatusOK {
						t.Fatalf("sign in: status %d", st)
					}
				}
				tab.open(t, sc.path)
				if sc.setup != nil {
					sc.setup(t, tab)
				}
				tab.screenshot(t, sc.name+"-"+size.name)
			})
		}
	}
}

// screensData gives the screenshots something to show: two carriers, one
// with a checked statement of the demo's kind.
func screensData(tb testing.TB, srv *e2eServer) {
	tb.Helper()
	ctx := context.Background()
	acme := srv.newCarrier(tb, "Acme Mobile")
	srv.newCarrier(tb, "Beta Telecom")
	cycle := trueup.CycleOf(time.Now().UTC()).Prev()
	spec := demoSpec(cycle)
	spec.Orders = 500
	if err := importDemoLedger(ctx, srv.main, acme.cred.CarrierID, spec); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := spec.WriteCSV(&buf); err != nil {
		tb.Fatal(err)
	}
	no := verifyUpload(tb, acme.api, cycle.String(), "statement-"+cycle.String()+".csv", buf.Bytes())
	waitBatchDone(tb, acme.api, no)
	batchScreensData(tb, srv, acme.cred.CarrierID, cycle)
}

// TestConsolePages opens every page of consoleScreens at phone width and
// checks what the layout promises: nothing wider than the screen (tables
// scroll inside their box), and a label on every control. Layout does not
// depend on the engine: SQLite only.
func TestConsolePages(t *testing.T) {
	b := newBrowser(t)
	srv := startE2E(t, e2eEngines[0], ServeConfig{})
	admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
	srv.newOperator(t, "vic@example.com", operator.RoleViewer)
	screensData(t, srv)
	signedIn := b.tab(t, srv)
	signedIn.do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if st := signedIn.signIn(t, admin.Email, admin.Password); st != http.StatusOK {
		t.Fatalf("sign in: status %d", st)
	}
	signedOut := b.tab(t, srv)
	signedOut.do(t, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, sc := range consoleScreens {
		t.Run(sc.name, func(t *testing.T) {
			tab := signedOut
			if sc.signedIn {
				tab = signedIn
			}
			tab.open(t, sc.path)
			if sc.setup != nil {
				sc.setup(t, tab)
			}
			if width := evaluate[int](t, tab, `document.documentElement.scrollWidth`); width > 390 {
				t.Errorf("%s is %d px wide on a 390 px phone; put wide content in a <div class=\"scroll\">", sc.path, width)
			}
			unlabelled := evaluate[[]string](t, tab, `Array.from(document.querySelectorAll("input, select, textarea"))
				.filter(e => e.type !== "hidden" && e.labels.length === 0 && !e.getAttribute("aria-label"))
				.map(e => e.outerHTML)`)
			for _, e := range unlabelled {
				t.Errorf("%s: control without a label: %s", sc.path, e)
			}
		})
	}
}
