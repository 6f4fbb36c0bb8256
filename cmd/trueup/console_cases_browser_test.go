package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/webhook"
)

// TestConsoleCases takes a cycle through the console on each engine: two
// batches of one cycle uploaded through the carrier API, the case queue
// filtered, a case resolved with a note by an operator and its history
// read, a viewer refused the same action, the cycle closed by an admin (an
// upload is then refused) and reopened, the export downloaded, and a
// carrier user of another carrier answered 404.
func TestConsoleCases(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{MaxUploadBytes: 1 << 20})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		op := srv.newOperator(t, "ola@example.com", operator.RoleOperator)
		viewer := srv.newOperator(t, "vic@example.com", operator.RoleViewer)
		c := srv.newCarrier(t, "Case Telecom")
		other := srv.newCarrier(t, "Other Telecom")
		outsider := srv.newOperator(t, "otto@example.com", operator.RoleCarrier, "--carrier", string(other.cred.CarrierID))
		cycle := lastCycle()
		spec := gen.Spec{Orders: 8, Cycle: cycle, Seed: 7}
		seedLedger(t, srv.store, c.cred.CarrierID, spec)
		carrierID, cyc := string(c.cred.CarrierID), cycle.String()
		id := func(i int) string { return spec.Order(i).CarrierOrderID }

		// Batch 1: order 0 missing (kind 1), order 1's share (4), order 2's
		// package (3). Batch 2 fixes order 2.
		b1 := waitSucceeded(t, c.api, verifyUpload(t, c.api, cyc, "b1.csv", casesStatement(t, spec, func(rows [][]string) [][]string {
			rows[2][genColPackage] = "X" + rows[2][genColPackage]
			rows[1][genColShare] = decimalOf(t, "share", rows[1][genColShare]).Add(decimal.RequireFromString("1.00")).StringFixed(2)
			return rows[1:]
		})))
		b2 := waitSucceeded(t, c.api, verifyUpload(t, c.api, cyc, "b2.csv", casesStatement(t, spec, func(rows [][]string) [][]string {
			rows[1][genColShare] = decimalOf(t, "share", rows[1][genColShare]).Add(decimal.RequireFromString("1.00")).StringFixed(2)
			return rows[1:]
		})))
		queue := "/console/cases?" + url.Values{"carrier": {carrierID}, "cycle": {cyc}}.Encode()

		tab := b.signedIn(t, srv, op.Email, op.Password)
		if st := tab.open(t, queue); st != http.StatusOK {
			t.Fatalf("GET %s: status %d", queue, st)
		}
		if n := tab.nodes(t, "#cases tbody tr[id]"); n != 3 {
			t.Fatalf("queue after two batches shows %d cases, want 3:\n%s", n, tab.text(t, "#cases"))
		}
		if txt := tab.text(t, "#cases"); !strings.Contains(txt, "expected") || !strings.Contains(txt, "fixed") {
			t.Errorf("queue does not flag the kind-1 case expected or the fixed one:\n%s", txt)
		}
		// Keyset paging: the page after the first case holds the other two.
		first := strings.TrimPrefix(tab.attr(t, "#cases tbody tr[id]", "id"), "case-")
		tab.open(t, queue+"&after="+first)
		if n := tab.nodes(t, "#cases tbody tr[id]"); n != 2 || !tab.has(t, `.pager a[href*="carrier="]`) {
			t.Errorf("after case %s: %d cases and no first-page link, want 2 and the link", first, n)
		}
		tab.open(t, queue)
		// Filters: open only, then open of kind 4.
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#f-state`), "open"))
		tab.response(t, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
		if n := tab.nodes(t, "#cases tbody tr[id]"); n != 2 {
			t.Errorf("state open shows %d cases, want 2", n)
		}
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#f-kind`), "4"))
		tab.response(t, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
		if n, txt := tab.nodes(t, "#cases tbody tr[id]"), tab.text(t, "#cases tbody"); n != 1 || !strings.Contains(txt, id(1)) {
			t.Fatalf("open kind 4 shows %d cases, want order %s's:\n%s", n, id(1), txt)
		}
		// A bad filter says what to write.
		if st := tab.open(t, "/console/cases?carrier="+carrierID+"&cycle=2025-13"); st != http.StatusBadRequest || !tab.has(t, "#page-error") {
			t.Errorf("bad cycle: status %d", st)
		} else if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "yyyy-mm") {
			t.Errorf("bad cycle: %q does not say how to write it", msg)
		}

		// Resolve order 1's case with a note; its history shows it.
		tab.open(t, queue+"&kind=4")
		tab.response(t, chromedp.Click(chromedp.CSS(`#cases tbody tr[id] a`)))
		casePath := tab.location(t)
		// Without a note: refused, saying what to add.
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#act-action`), "accept-carrier"))
		if st := tab.response(t, chromedp.Click(chromedp.CSS(`#act button[type="submit"]`))); st != http.StatusBadRequest {
			t.Errorf("accept-carrier without a note: status %d, want 400", st)
		}
		if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "note") {
			t.Errorf("refusal %q does not ask for a note", msg)
		}
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#act-action`), "accept-carrier"),
			chromedp.SetValue(chromedp.CSS(`#act-note`), "price change agreed with the carrier"))
		if st := tab.response(t, chromedp.Click(chromedp.CSS(`#act button[type="submit"]`))); st != http.StatusOK {
			t.Fatalf("accept-carrier: status %d: %s", st, tab.text(t, "main"))
		}
		if got := tab.text(t, "#case-state") + " " + tab.text(t, "#case-resolution"); got != "resolved accept-carrier" {
			t.Errorf("after accept-carrier the case is %q", got)
		}
		hist := tab.text(t, "#history")
		for _, want := range []string{"opened by batch " + string(b1.Batch.No), "accept-carrier", "operator:" + string(op.OperatorID), "price change agreed with the carrier"} {
			if !strings.Contains(hist, want) {
				t.Errorf("history lacks %q:\n%s", want, hist)
			}
		}
		// Order 2's case was fixed by batch 2.
		tab.open(t, queue+"&kind=3")
		tab.response(t, chromedp.Click(chromedp.CSS(`#cases tbody tr[id] a`)))
		if hist := tab.text(t, "#history"); !strings.Contains(hist, "fixed by batch "+string(b2.Batch.No)) {
			t.Errorf("order 2's history does not say fixed by batch %s:\n%s", b2.Batch.No, hist)
		}

		// A viewer sees the form disabled and is refused on the server.
		vtab := b.signedIn(t, srv, viewer.Email, viewer.Password)
		vtab.open(t, casePath)
		if !vtab.has(t, `#act fieldset[disabled]`) || !vtab.has(t, "#act-refused") {
			t.Errorf("a viewer's action form is not disabled")
		}
		csrf := vtab.value(t, `#act input[name="csrf"]`)
		if st := vtab.fetch(t, casePath+"/actions", url.Values{"csrf": {csrf}, "action": {"comment"}, "note": {"x"}}); st != http.StatusForbidden {
			t.Errorf("viewer POST %s/actions: status %d, want 403", casePath, st)
		}

		// A carrier user of another carrier finds nothing.
		otab := b.signedIn(t, srv, outsider.Email, outsider.Password)
		for _, p := range []string{casePath, "/console/cycles/" + carrierID + "/" + cyc, "/console/cases?carrier=" + carrierID} {
			if st := otab.open(t, p); st != http.StatusNotFound {
				t.Errorf("another carrier's user GET %s: status %d, want 404", p, st)
			}
		}

		// The carrier's own user reads the case, with no action form.
		own := srv.newOperator(t, "carla@example.com", operator.RoleCarrier, "--carrier", carrierID)
		ctab := b.signedIn(t, srv, own.Email, own.Password)
		if st := ctab.open(t, casePath); st != http.StatusOK || ctab.has(t, "#act") {
			t.Errorf("the carrier's user GET %s: status %d, action form %t; want 200 and none", casePath, st, ctab.has(t, "#act"))
		}

		// The admin closes the cycle: an upload is refused, until reopened.
		atab := b.signedIn(t, srv, admin.Email, admin.Password)
		cyclePath := "/console/cycles/" + carrierID + "/" + cyc
		if st := atab.open(t, cyclePath); st != http.StatusOK {
			t.Fatalf("GET %s: status %d", cyclePath, st)
		}
		if got := atab.text(t, "#orders-matched"); !strings.HasPrefix(got, "7 ") {
			t.Errorf("orders matched %q, want 7 of 8", got)
		}
		tab.open(t, cyclePath)
		if tab.has(t, "#close") || !tab.has(t, "#settle-total") {
			t.Errorf("an operator's cycle page: a close button, or no settlement")
		}
		if st := atab.submit(t, `#close`); st != http.StatusOK {
			t.Fatalf("close: status %d", st)
		}
		if got := atab.text(t, "#cycle-state"); !strings.Contains(got, "closed") {
			t.Errorf("after close: %q", got)
		}
		_, err := c.api.Verify(context.Background(), client.VerifyParams{BillingCycle: cyc, FileName: "late.csv",
			File: bytes.NewReader(casesStatement(t, spec, func(r [][]string) [][]string { return r }))})
		wantAPIError(t, err, 409, trueuphttp.CodeConflict, "closed", "reopen")
		// The export is there to download.
		raw := newConsoleHTTP(t, srv)
		raw.signIn(t, viewer.Email, viewer.Password)
		st, body := raw.get(t, cyclePath+"/export?format=csv")
		if st != http.StatusOK || !strings.Contains(body, id(0)) {
			t.Errorf("CSV export: status %d\n%s", st, body)
		}
		if st, _ := raw.get(t, cyclePath+"/export?format=pdf"); st != http.StatusBadRequest {
			t.Errorf("export as pdf: status %d, want 400", st)
		}
		if st := atab.submit(t, `#reopen`); st != http.StatusOK {
			t.Fatalf("reopen: status %d", st)
		}
		if got := atab.text(t, "#cycle-state"); !strings.Contains(got, "open") {
			t.Errorf("after reopen: %q", got)
		}
		waitSucceeded(t, c.api, verifyUpload(t, c.api, cyc, "b3.csv", casesStatement(t, spec, func(r [][]string) [][]string { return r })))
		if st := atab.open(t, "/console/audit"); st != http.StatusOK || !strings.Contains(atab.text(t, "#audit"), trueup.EventCycleClosed) {
			t.Errorf("audit page: status %d, no %s entry", st, trueup.EventCycleClosed)
		}
		atab.response(t, chromedp.Click(chromedp.CSS(`#verify`)))
		if got := atab.text(t, "#verify-result"); !strings.Contains(got, "intact") {
			t.Errorf("verify: %q", got)
		}
	})
}

// TestConsoleWebhooks creates a subscription through the console (its
// secret shown once, refused first for an ftp URL), receives a batch's
// delivery signed with that secret, and redelivers it from the
// subscription's page.
func TestConsoleWebhooks(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		srv := startE2E(t, eng, ServeConfig{MaxUploadBytes: 1 << 20, WebhookAllowPrivate: true})
		admin := srv.newOperator(t, "ana@example.com", operator.RoleAdmin)
		c := srv.newCarrier(t, "Hooked Mobile")
		rcv := newReceiver(t, time.Now)
		tab := b.signedIn(t, srv, admin.Email, admin.Password)
		tab.open(t, "/console/webhooks")
		tab.eval(t, `document.querySelector("form[action='/console/webhooks']").noValidate = true`)
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#wh-url`), "ftp://example.com/x"))
		if st := tab.response(t, chromedp.Click(chromedp.CSS(`form[action="/console/webhooks"] button[type="submit"]`))); st != http.StatusBadRequest {
			t.Errorf("ftp URL: status %d, want 400", st)
		}
		if msg := tab.text(t, "#page-error"); !strings.Contains(msg, "https://") {
			t.Errorf("refusal %q does not say what URL to give", msg)
		}
		tab.do(t, chromedp.SetValue(chromedp.CSS(`#wh-url`), rcv.srv.URL+"/hooks"),
			chromedp.SetValue(chromedp.CSS(`#wh-carrier`), string(c.cred.CarrierID)))
		if st := tab.response(t, chromedp.Click(chromedp.CSS(`form[action="/console/webhooks"] button[type="submit"]`))); st != http.StatusOK {
			t.Fatalf("create: status %d: %s", st, tab.text(t, "main"))
		}
		secret := tab.value(t, "#wh-secret")
		if !strings.HasPrefix(secret, webhook.SecretPrefix) {
			t.Fatalf("secret %q shown at creation", secret)
		}
		rcv.mu.Lock()
		rcv.secret = secret
		rcv.mu.Unlock()
		tab.open(t, "/console/webhooks")
		if tab.has(t, "#wh-secret") {
			t.Errorf("the secret is shown again")
		}
		tab.response(t, chromedp.Click(chromedp.CSS(`#webhooks tbody a`)))
		if got := tab.text(t, "#deliveries"); !strings.Contains(got, "No delivery yet") {
			t.Errorf("deliveries of a new subscription: %q", got)
		}
		subPath := tab.location(t)

		// A batch succeeds: batch.succeeded is delivered, signed.
		cycle := lastCycle()
		spec := gen.Spec{Orders: 3, Cycle: cycle, Seed: 3}
		seedLedger(t, srv.store, c.cred.CarrierID, spec)
		waitSucceeded(t, c.api, verifyUpload(t, c.api, cycle.String(), "s.csv", casesStatement(t, spec, func(r [][]string) [][]string { return r })))
		pollUntil(t, "the delivery", func() bool { return len(rcv.messages()) == 1 })
		sub := webhook.SubscriptionID(strings.TrimPrefix(subPath, "/console/webhooks/"))
		pollUntil(t, "the delivery succeeded", func() bool {
			list, err := srv.main.Webhooks.Deliveries(context.Background(), sub, 0)
			return err == nil && len(list) == 1 && list[0].State == webhook.StateSucceeded
		})
		tab.open(t, subPath)
		if got := tab.text(t, "#deliveries"); !strings.Contains(got, trueup.EventBatchSucceeded) || !strings.Contains(got, "200") {
			t.Errorf("deliveries: %q", got)
		}
		if st := tab.response(t, chromedp.Click(chromedp.CSS(`#deliveries form[action$="/redeliver"] button`))); st != http.StatusOK {
			t.Fatalf("redeliver: status %d", st)
		}
		if got := tab.text(t, ".flash"); !strings.Contains(got, "queued again") {
			t.Errorf("after redeliver: %q", got)
		}
		pollUntil(t, "the redelivery", func() bool { return len(rcv.messages()) == 2 })
		if m := rcv.messages(); m[0].id != m[1].id {
			t.Errorf("redelivery webhook-id %s, want the first's %s", m[1].id, m[0].id)
		}
	})
}
