package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
)

// The browser tests of the partner pages use the console's harness
// (console_helpers_test.go): one browser, a tab of its own per person.

// adjustmentStatus waits until the adjustment page shows want, reloading it
// as the page does itself while the process moves, and returns the status
// text.
func (t *tab) adjustmentStatus(tb testing.TB, id, want string) string {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := t.text(tb, "#status-text")
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			tb.Fatalf("adjustment %s: status %q, want %q", id, got, want)
		}
		time.Sleep(300 * time.Millisecond)
		t.open(tb, "/console/adjustments/"+id)
	}
}

// TestConsolePartnersBrowser: an operator launches two adjustments from a
// file, confirms one (it ends Success) and cancels the other (Declined);
// an admin rotates a carrier's secret (the old one stops working against
// the carrier API); a viewer's action is refused by the server (403); a
// carrier user cannot open another carrier's batch (404); the risk look-up
// finds a seeded record and the number is not in the server's log.
func TestConsolePartnersBrowser(t *testing.T) {
	b := newBrowser(t)
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
		as := func(t *testing.T, email string) *tab { return b.signedIn(t, w.e2eServer, email, passwords[email]) }

		var op *tab
		launch := func(t *testing.T) string {
			t.Helper()
			if got := op.open(t, "/console/adjustments?buyer="+string(acme.BuyerID)); got != http.StatusOK {
				t.Fatalf("adjustments page: HTTP %d", got)
			}
			op.do(t,
				chromedp.Click(chromedp.CSS(`input[name=mode][value=live-reject]`)),
				chromedp.SendKeys(chromedp.CSS("#launch-survey"), "1108416"),
				chromedp.SetUploadFiles(chromedp.CSS("#launch-file"), []string{list}),
			)
			if got := op.submit(t, "#launch-submit"); got != http.StatusOK {
				t.Fatalf("launch: HTTP %d: %s", got, op.text(t, "main"))
			}
			loc := op.location(t)
			id := loc[strings.LastIndex(loc, "/")+1:]
			if st := op.text(t, "#status-text"); !strings.Contains(st, "1 Pending") {
				t.Fatalf("launched process %s: status %q, want Pending", id, st)
			}
			// The summary before deciding: per survey, eligible and unknown.
			if s := op.text(t, "#per-survey"); !strings.Contains(s, "1108416") {
				t.Errorf("per-survey summary lacks the survey: %q", s)
			}
			// t9 names no transaction of the buyer: the summary counts it.
			unknown := evaluate[string](t, op, `[...document.querySelectorAll("table.summary th")].find(th => th.textContent === "unknown").nextElementSibling.textContent`)
			if unknown != "1" {
				t.Errorf("summary unknown = %q, want 1", unknown)
			}
			return id
		}

		t.Run("confirm one adjustment, cancel another", func(t *testing.T) {
			op = as(t, "operator@example.com")
			first := launch(t)
			op.screenshot(t, "adjustment-pending")
			if got := op.submit(t, "#confirm-adjustment"); got != http.StatusOK {
				t.Fatalf("confirm: HTTP %d", got)
			}
			op.adjustmentStatus(t, first, "6 Success")
			op.screenshot(t, "adjustment-success")
			second := launch(t)
			if got := op.submit(t, "#cancel-adjustment"); got != http.StatusOK {
				t.Fatalf("cancel: HTTP %d", got)
			}
			op.adjustmentStatus(t, second, "2 Declined")
			// The buyer's list shows both, and the data changed once.
			op.open(t, "/console/adjustments?buyer="+string(acme.BuyerID))
			op.screenshot(t, "adjustments")
			if l := op.text(t, "main table"); !strings.Contains(l, first) || !strings.Contains(l, second) {
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
			if got := admin.open(t, path); got != http.StatusOK {
				t.Fatalf("carrier page: HTTP %d", got)
			}
			admin.screenshot(t, "carrier")
			if got := admin.submit(t, "#rotate-"+string(old.ClientID)); got != http.StatusOK {
				t.Fatalf("rotate: HTTP %d", got)
			}
			secret := admin.value(t, "#new-client-secret")
			if secret == "" || secret == old.ClientSecret {
				t.Fatalf("rotated secret %q", secret)
			}
			admin.do(t, chromedp.WaitVisible(chromedp.CSS(`button[data-copy="new-client-secret"]`)))
			admin.screenshot(t, "carrier-secret")
			ctx := context.Background()
			if _, err := w.client(old).Token(ctx); err == nil {
				t.Errorf("the old secret still gets a token from the carrier API")
			}
			fresh := auth.Credentials{CarrierID: old.CarrierID, UserID: old.UserID, ClientID: old.ClientID, ClientSecret: secret}
			if _, err := w.client(fresh).Token(ctx); err != nil {
				t.Errorf("the new secret does not work: %v", err)
			}
			// Reloaded, the page shows the secret no more.
			admin.open(t, path)
			if strings.Contains(admin.html(t, "main"), secret) {
				t.Errorf("the secret is shown again")
			}
		})

		t.Run("a viewer is refused an action", func(t *testing.T) {
			viewer := as(t, "viewer@example.com")
			path := fmt.Sprintf("/console/carriers/%s", tc.b.cred.CarrierID)
			if got := viewer.open(t, path); got != http.StatusOK {
				t.Fatalf("viewer reads the carrier page: HTTP %d", got)
			}
			if n := viewer.nodes(t, "form[action$='/rotate']"); n != 0 {
				t.Errorf("the viewer is offered %d rotate buttons", n)
			}
			// The server refuses the post itself, with the session's token.
			status := viewer.fetch(t, path+"/clients/"+string(tc.b.cred.ClientID)+"/rotate", url.Values{"csrf": {viewer.value(t, "input[name=csrf]")}})
			if status != http.StatusForbidden {
				t.Errorf("viewer's rotate: HTTP %d, want 403", status)
			}
			if _, err := w.client(tc.b.cred).Token(context.Background()); err != nil {
				t.Errorf("the refused rotation changed the secret: %v", err)
			}
			if got := viewer.open(t, "/console/api-keys"); got != http.StatusForbidden {
				t.Errorf("viewer opens the API keys: HTTP %d, want 403", got)
			}
			if got := viewer.open(t, "/console/adjustments/"+strings.Repeat("0", 8)+"-0000-4000-8000-000000000000"); got != http.StatusNotFound {
				t.Errorf("unknown adjustment: HTTP %d, want 404", got)
			}
		})

		t.Run("a carrier user cannot open another carrier's batch", func(t *testing.T) {
			carrier := as(t, "second@alpha.example")
			if got := carrier.open(t, "/console/batches/"+string(tc.batchB)); got != http.StatusNotFound {
				t.Errorf("carrier user opens another carrier's batch: HTTP %d, want 404", got)
			}
			if body := carrier.text(t, "body"); strings.Contains(body, "Beta Telecom") || strings.Contains(body, "beta-secret-statement") {
				t.Errorf("the not-found page shows the other carrier: %q", body)
			}
			if got := carrier.open(t, "/console/packages?carrier="+string(tc.b.cred.CarrierID)); got != http.StatusNotFound {
				t.Errorf("carrier user opens another carrier's package events: HTTP %d, want 404", got)
			}
			if got := carrier.open(t, "/console/portal"); got != http.StatusOK {
				t.Fatalf("portal: HTTP %d", got)
			}
			carrier.screenshot(t, "portal")
			nav := carrier.text(t, "header nav")
			for _, hidden := range []string{"Carriers", "Buyers", "Adjustments", "Risk", "API keys", "Operators"} {
				if strings.Contains(nav, hidden) {
					t.Errorf("a carrier user's navigation offers %s", hidden)
				}
			}
			if p := carrier.text(t, "main"); strings.Contains(p, "Beta Telecom") || !strings.Contains(p, "Alpha Mobile") {
				t.Errorf("portal shows the wrong carriers: %q", p)
			}
		})

		t.Run("risk look-up finds a seeded record", func(t *testing.T) {
			op := as(t, "operator@example.com")
			op.open(t, "/console/risk-lookup")
			op.do(t, chromedp.SendKeys(chromedp.CSS("#lookup-mobile"), riskNumberPlain))
			if got := op.submit(t, "main form button[type=submit]"); got != http.StatusOK {
				t.Fatalf("look-up: HTTP %d", got)
			}
			if got := op.text(t, "#risk-records"); !strings.Contains(got, "11323") || !strings.Contains(got, "5 blacklist") {
				t.Errorf("records: %q", got)
			}
			op.screenshot(t, "risk-lookup")
			if strings.Contains(op.html(t, "html"), riskNumberPlain) {
				t.Errorf("the page repeats the number")
			}
			if strings.Contains(w.log.String(), riskNumberPlain) {
				t.Errorf("the server's log holds the mobile number")
			}
		})

		t.Run("phone width", func(t *testing.T) {
			admin := as(t, "admin@example.com")
			admin.do(t, chromedp.EmulateViewport(390, 844))
			for _, s := range partnerScreens(tc.a.cred.CarrierID) {
				if s.as != "admin@example.com" {
					continue
				}
				admin.open(t, s.path)
				// Wide tables scroll in their box; the page itself does not.
				if evaluate[bool](t, admin, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
					culprits := evaluate[[]string](t, admin, `[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".scroll")).slice(0, 5).map(e => e.tagName + "#" + e.id + "." + e.className)`)
					t.Errorf("%s is wider than a 390 px phone: %v", s.path, culprits)
				}
			}
			admin.screenshot(t, "packages-phone")
		})

		t.Run("screens", func(t *testing.T) {
			if screensDir() == "" {
				t.Skip("set TRUEUP_SCREENSHOTS=1 to save the partner pages' screenshots to docs/console/")
			}
			for _, s := range partnerScreens(tc.a.cred.CarrierID) {
				t.Run(s.name, func(t *testing.T) {
					page := as(t, s.as)
					page.open(t, s.path)
					page.screenshot(t, s.name)
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
