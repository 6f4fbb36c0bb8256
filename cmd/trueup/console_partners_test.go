package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/operator"
)

// The partner pages of the console (carriers, buyers, adjustments, risk
// clients and look-up, API keys, package events, the carrier portal) are
// tested here through the real server over HTTP, on each engine; the
// browser tests of console_partners_browser_test.go drive the same pages
// in chromium.

// partnerLog is a server log the test reads.
type partnerLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *partnerLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *partnerLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// partnerWorld is a server whose log the test keeps, with the people of
// the partner scenarios.
type partnerWorld struct {
	*e2eServer
	log *partnerLog
}

// startPartners serves a fresh database of eng, logging at debug level
// into a buffer.
func startPartners(tb testing.TB, eng e2eEngine) *partnerWorld {
	tb.Helper()
	store, dbArgs := eng.open(tb)
	log := &partnerLog{}
	m := &Main{Logger: slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if err := m.Open(context.Background(), store, ServeConfig{Addr: "127.0.0.1:0", JobLease: 5 * time.Second}); err != nil {
		store.Close()
		tb.Fatalf("open server: %v", err)
	}
	hc := e2eHTTPClient()
	tb.Cleanup(func() {
		hc.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return &partnerWorld{e2eServer: &e2eServer{store: store, dbArgs: dbArgs, main: m, base: "http://" + m.Server.Addr(), http: hc}, log: log}
}

// newOperator creates a console operator through the CLI (of a carrier,
// when carrier is not empty) and returns its password.
func (w *partnerWorld) newOperator(tb testing.TB, email, role string, carrier trueup.CarrierID) string {
	tb.Helper()
	var extra []string
	if carrier != "" {
		extra = []string{"--carrier", string(carrier)}
	}
	return w.e2eServer.newOperator(tb, email, operator.Role(role), extra...).Password
}

// partnerClient is a browser-like HTTP client signed in to the console.
type partnerClient struct {
	base string
	http *http.Client
}

// signIn signs email in through the sign-in form.
func (w *partnerWorld) signIn(tb testing.TB, email, password string) *partnerClient {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &partnerClient{base: w.base, http: &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}}
	tb.Cleanup(c.http.CloseIdleConnections)
	_, page := c.get(tb, "/console/login")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("the sign-in page has no csrf field:\n%s", page)
	}
	status, body := c.postForm(tb, "/console/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {password}})
	if status != http.StatusOK || !strings.Contains(body, email) {
		tb.Fatalf("sign in %s: HTTP %d\n%s", email, status, body)
	}
	return c
}

// get fetches a console path and returns its status and body.
func (c *partnerClient) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postForm posts a form and follows the redirect, like a browser.
func (c *partnerClient) postForm(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// csrf returns the session's CSRF token, read from a page.
func (c *partnerClient) csrf(tb testing.TB) string {
	tb.Helper()
	_, page := c.get(tb, "/console/")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("the overview has no csrf field:\n%s", page)
	}
	return m[1]
}

// act posts form with the session's CSRF token.
func (c *partnerClient) act(tb testing.TB, path string, form url.Values) (int, string) {
	tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf(tb))
	return c.postForm(tb, path, form)
}

// twoCarriers provisions carriers A and B, each with a carrier user, and a
// succeeded batch of B's.
type partnerCarriers struct {
	a, b       *e2eCarrier
	batchB     trueup.BatchNo
	userA      *partnerClient
	userAEmail string
}

func (w *partnerWorld) twoCarriers(tb testing.TB) partnerCarriers {
	tb.Helper()
	var tc partnerCarriers
	tc.a, tc.b = w.newCarrier(tb, "Alpha Mobile"), w.newCarrier(tb, "Beta Telecom")
	spec := gen.Spec{Orders: 4, Cycle: lastCycle(), Seed: 3}
	seedLedger(tb, w.store, tc.b.cred.CarrierID, spec)
	tc.batchB = verifyUpload(tb, tc.b.api, lastCycle().String(), "beta-secret-statement.csv", csvStatement(tb, spec))
	waitSucceeded(tb, tc.b.api, tc.batchB)
	// A package notice each: A's of user CU000000001, B's of CU000000000.
	seedLedger(tb, w.store, tc.a.cred.CarrierID, gen.Spec{Orders: 4, Cycle: lastCycle(), Seed: 4})
	for _, n := range []struct {
		c         *e2eCarrier
		user, pkg string
	}{{tc.a, "CU000000001", "1003"}, {tc.b, "CU000000000", "1000"}} {
		w.cli(tb, "admin", "carrier", "whitelist", string(n.c.cred.CarrierID))
		notifyOK(tb, context.Background(), n.c.api, n.user, 1, n.pkg)
	}
	tc.userAEmail = "ops@alpha.example"
	tc.userA = w.signIn(tb, tc.userAEmail, w.newOperator(tb, tc.userAEmail, "carrier", tc.a.cred.CarrierID))
	return tc
}

// TestConsoleCarrierScoping signs a carrier user in and reaches for the
// other carrier's things: its batch, its package events, its carrier page;
// each is not found (404, not 403), and no page shows the other carrier.
func TestConsoleCarrierScoping(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		w := startPartners(t, eng)
		tc := w.twoCarriers(t)
		a, b := tc.a.cred.CarrierID, tc.b.cred.CarrierID
		for _, tt := range []struct {
			path string
			want int
		}{
			{"/console/batches/" + string(tc.batchB), http.StatusNotFound},
			{"/console/batches/" + string(tc.batchB) + "/discrepancies", http.StatusNotFound},
			{"/console/batches/" + string(tc.batchB) + "/export?format=csv", http.StatusNotFound},
			{"/console/packages?carrier=" + string(b), http.StatusNotFound},
			{"/console/carriers/" + string(b), http.StatusForbidden},
			{"/console/carriers", http.StatusForbidden},
			{"/console/adjustments", http.StatusForbidden},
			{"/console/risk-lookup", http.StatusForbidden},
			{"/console/api-keys", http.StatusForbidden},
			{"/console/packages?carrier=" + string(a), http.StatusOK},
			{"/console/portal", http.StatusOK},
			{"/console/", http.StatusOK},
		} {
			status, body := tc.userA.get(t, tt.path)
			if status != tt.want {
				t.Errorf("carrier user GET %s: HTTP %d, want %d", tt.path, status, tt.want)
			}
			// Only what the user typed (the ids in the path) may come back.
			for _, leak := range []string{"Beta Telecom", "beta-secret-statement", tc.b.cred.UserID} {
				if strings.Contains(body, leak) {
					t.Errorf("carrier user GET %s shows %q of the other carrier", tt.path, leak)
				}
			}
		}
		// Package events: the user's own carrier's, by user too.
		_, events := tc.userA.get(t, "/console/packages")
		if !strings.Contains(events, "CU000000001") || strings.Contains(events, "CU000000000") {
			t.Errorf("carrier A's package events: want CU000000001's only\n%s", events)
		}
		if _, events := tc.userA.get(t, "/console/packages?carrier="+string(a)+"&user=CU000000002"); strings.Contains(events, "CU000000001") {
			t.Errorf("the user filter keeps another user's events")
		}
		// The portal shows the user's own carrier and the template.
		_, portal := tc.userA.get(t, "/console/portal")
		if !strings.Contains(portal, "Alpha Mobile") || !strings.Contains(portal, "/console/template.xlsx") {
			t.Errorf("the portal lacks the carrier or the template:\n%s", portal)
		}
		status, tmpl := tc.userA.get(t, "/console/template.xlsx")
		if status != http.StatusOK || !strings.HasPrefix(tmpl, "PK") {
			t.Errorf("template.xlsx: HTTP %d, %d bytes, want an xlsx (zip) file", status, len(tmpl))
		}
		if status, csv := tc.userA.get(t, "/console/template.csv"); status != http.StatusOK || !strings.HasPrefix(csv, "carrierOrderId,carrierUserId") {
			t.Errorf("template.csv: HTTP %d %q", status, csv)
		}
		// The carrier's own batch is reachable once the batch pages are
		// there; without them every batch path is not found alike.
		if status, body := tc.userA.get(t, "/console/batches/"+string(tc.batchB)); status == http.StatusNotFound && strings.Contains(body, "Beta") {
			t.Errorf("the not-found page names the other carrier")
		}
	})
}

// TestConsolePartnerRoles checks the roles on the server: a viewer reads
// the partner pages but every action is refused with 403 and changes
// nothing; an operator acts on adjustments but cannot manage partners.
func TestConsolePartnerRoles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		w := startPartners(t, eng)
		c := w.newCarrier(t, "Gamma Net")
		viewer := w.signIn(t, "viewer@example.com", w.newOperator(t, "viewer@example.com", "viewer", ""))
		op := w.signIn(t, "operator@example.com", w.newOperator(t, "operator@example.com", "operator", ""))
		clients := []trueup.Client{{ID: c.cred.ClientID}}
		carrierPath := "/console/carriers/" + string(c.cred.CarrierID)
		for _, path := range []string{"/console/carriers", carrierPath, "/console/buyers", "/console/risk-clients", "/console/adjustments", "/console/packages"} {
			if status, _ := viewer.get(t, path); status != http.StatusOK {
				t.Errorf("viewer GET %s: HTTP %d, want 200", path, status)
			}
		}
		for _, tt := range []struct {
			who  *partnerClient
			name string
			path string
			form url.Values
		}{
			{viewer, "viewer", carrierPath + "/clients/" + string(clients[0].ID) + "/rotate", nil},
			{viewer, "viewer", carrierPath + "/clients", nil},
			{viewer, "viewer", "/console/carriers", url.Values{"name": {"Sneaky"}}},
			{viewer, "viewer", "/console/adjustments/00000000-0000-4000-8000-000000000000/confirm", nil},
			{viewer, "viewer", "/console/risk-lookup", url.Values{"mobile": {"915586685366"}}},
			{viewer, "viewer", "/console/api-keys", url.Values{"name": {"sneaky"}}},
			{op, "operator", carrierPath + "/clients/" + string(clients[0].ID) + "/rotate", nil},
			{op, "operator", "/console/risk-clients", url.Values{"name": {"sneaky"}}},
			{op, "operator", "/console/buyers", url.Values{"name": {"sneaky"}}},
		} {
			status, body := tt.who.act(t, tt.path, tt.form)
			if status != http.StatusForbidden || !strings.Contains(body, "needs the") {
				t.Errorf("%s POST %s: HTTP %d, want 403 saying which role it needs", tt.name, tt.path, status)
			}
		}
		// An operator's launch without buyers, or with a bad file, says how
		// to fix it.
		if status, page := op.act(t, "/console/adjustments", url.Values{"mode": {"accept"}}); status != http.StatusBadRequest || !strings.Contains(page, "Buyers page") {
			t.Errorf("launch without buyers: HTTP %d", status)
		}
		// Nothing changed: the old secret still works.
		if _, err := w.client(c.cred).Token(context.Background()); err != nil {
			t.Errorf("the refused rotation changed the secret: %v", err)
		}
		// Without the CSRF token, even an admin's form is refused.
		admin := w.signIn(t, "admin@example.com", w.newOperator(t, "admin@example.com", "admin", ""))
		if status, _ := admin.postForm(t, carrierPath+"/clients", url.Values{}); status != http.StatusForbidden {
			t.Errorf("a form without its CSRF token: HTTP %d, want 403", status)
		}
	})
}

// TestConsolePartnerAdmin drives the admin's partner forms over HTTP:
// carrier create with a carrier user, settings, client rotate and revoke,
// buyer cap, risk client, API key; each secret is shown once.
func TestConsolePartnerAdmin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		w := startPartners(t, eng)
		admin := w.signIn(t, "admin@example.com", w.newOperator(t, "admin@example.com", "admin", ""))
		status, body := admin.act(t, "/console/carriers", url.Values{"name": {"Delta Mobile"}, "timeZone": {"Asia/Kolkata"}, "whitelisted": {"on"}, "userEmail": {"Portal@Delta.example"}})
		secret := regexp.MustCompile(`id="new-client-secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
		clientID := regexp.MustCompile(`id="new-client-id" readonly value="([^"]+)"`).FindStringSubmatch(body)
		password := regexp.MustCompile(`id="new-user-password" readonly value="([^"]+)"`).FindStringSubmatch(body)
		if status != http.StatusOK || secret == nil || clientID == nil || password == nil {
			t.Fatalf("create carrier: HTTP %d; want the client secret and the user's password shown\n%s", status, body)
		}
		var carriers []trueup.Carrier
		w.cliJSON(t, &carriers, "admin", "carrier", "list")
		if len(carriers) != 1 || carriers[0].TimeZone != "Asia/Kolkata" || !carriers[0].Whitelisted {
			t.Fatalf("carriers = %+v", carriers)
		}
		cred := auth.Credentials{CarrierID: carriers[0].ID, UserID: carriers[0].UserID, ClientID: trueup.ClientID(clientID[1]), ClientSecret: secret[1]}
		if _, err := w.client(cred).Token(context.Background()); err != nil {
			t.Fatalf("the shown secret does not work: %v", err)
		}
		// The carrier user signs in with the password shown.
		portal := w.signIn(t, "portal@delta.example", password[1])
		if _, page := portal.get(t, "/console/portal"); !strings.Contains(page, "Delta Mobile") {
			t.Errorf("the new carrier user's portal lacks its carrier")
		}
		// The carrier page shows no secret again.
		path := "/console/carriers/" + string(cred.CarrierID)
		if _, page := admin.get(t, path); strings.Contains(page, secret[1]) || strings.Contains(page, password[1]) {
			t.Errorf("the carrier page shows a secret again")
		}
		// Settings: a bad time zone says how to fix it.
		if status, page := admin.act(t, path, url.Values{"timeZone": {"Mars/Olympus"}}); status != http.StatusBadRequest || !strings.Contains(page, "Mars/Olympus") {
			t.Errorf("bad time zone: HTTP %d", status)
		}
		if status, page := admin.act(t, path, url.Values{"timeZone": {"UTC"}}); status != http.StatusOK || !strings.Contains(page, "not whitelisted, time zone UTC") {
			t.Errorf("save settings: HTTP %d\n%s", status, page)
		}
		// Revoke: the client stops working.
		if status, _ := admin.act(t, path+"/clients/"+clientID[1]+"/revoke", nil); status != http.StatusOK {
			t.Errorf("revoke: HTTP %d", status)
		}
		if _, err := w.client(cred).Token(context.Background()); err == nil {
			t.Errorf("a revoked client still gets a token")
		}
		// Another carrier's client through this carrier's path is not found.
		other := w.newCarrier(t, "Epsilon")
		if status, _ := admin.act(t, path+"/clients/"+string(other.cred.ClientID)+"/rotate", nil); status != http.StatusNotFound {
			t.Errorf("rotate another carrier's client: HTTP %d, want 404", status)
		}

		// Buyers: create with a cap, shown token; a bad cap says how.
		status, page := admin.act(t, "/console/buyers", url.Values{"name": {"Acme Research"}, "rejectCap": {"12.5"}})
		if status != http.StatusOK || !strings.Contains(page, `id="new-buyer-token"`) || !strings.Contains(page, `value="12.5"`) {
			t.Fatalf("create buyer: HTTP %d\n%s", status, page)
		}
		var buyers []buyer.Buyer
		w.cliJSON(t, &buyers, "admin", "buyer", "list")
		if status, page := admin.act(t, "/console/buyers/"+string(buyers[0].ID)+"/cap", url.Values{"rejectCap": {"120"}}); status != http.StatusBadRequest || !strings.Contains(page, "from 0 to 100") {
			t.Errorf("bad cap: HTTP %d", status)
		}
		if status, page := admin.act(t, "/console/buyers/"+string(buyers[0].ID)+"/cap", url.Values{"rejectCap": {""}}); status != http.StatusOK || !strings.Contains(page, "no reject cap") {
			t.Errorf("remove cap: HTTP %d", status)
		}

		// A list file with a bad row launches nothing and lists the row.
		var list bytes.Buffer
		mw := multipart.NewWriter(&list)
		mw.WriteField("csrf", admin.csrf(t))
		mw.WriteField("buyer", string(buyers[0].ID))
		mw.WriteField("mode", "accept")
		fw, _ := mw.CreateFormFile("file", "list.csv")
		io.WriteString(fw, "transaction_id,change_reason\nt1,Suspected Fraud\n,Ghost Completes\n")
		mw.Close()
		resp, err := admin.http.Post(w.base+"/console/adjustments", mw.FormDataContentType(), &list)
		if err != nil {
			t.Fatal(err)
		}
		page2, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page2), `id="row-errors"`) || !strings.Contains(string(page2), "required value is empty") {
			t.Errorf("launch with a bad row: HTTP %d\n%s", resp.StatusCode, page2)
		}

		// Risk clients: create with quota, rate and expiry; update; rotate; revoke.
		status, page = admin.act(t, "/console/risk-clients", url.Values{"name": {"Risk Co"}, "quota": {"100"}, "rate": {"5"}, "expiresAt": {"2099-12-31T18:30"}, "windowDays": {"90"}, "timeZone": {"UTC"}})
		apiID := regexp.MustCompile(`id="new-api-id" readonly value="([^"]+)"`).FindStringSubmatch(page)
		if status != http.StatusOK || apiID == nil || !strings.Contains(page, `id="new-api-secret"`) {
			t.Fatalf("create risk client: HTTP %d\n%s", status, page)
		}
		if status, page := admin.act(t, "/console/risk-clients/"+apiID[1], url.Values{"quota": {"7"}, "rate": {"2"}, "expiresAt": {"tomorrow"}}); status != http.StatusBadRequest || !strings.Contains(page, "2026-12-31T18:30") {
			t.Errorf("bad expiry: HTTP %d", status)
		}
		if status, page := admin.act(t, "/console/risk-clients/"+apiID[1], url.Values{"quota": {"7"}, "rate": {"2"}, "expiresAt": {""}}); status != http.StatusOK || !strings.Contains(page, "saved") {
			t.Errorf("update risk client: HTTP %d", status)
		}
		if status, page := admin.act(t, "/console/risk-clients/"+apiID[1]+"/rotate", nil); status != http.StatusOK || !strings.Contains(page, `id="new-api-secret"`) {
			t.Errorf("rotate risk client: HTTP %d", status)
		}
		if status, page := admin.act(t, "/console/risk-clients/"+apiID[1]+"/revoke", nil); status != http.StatusOK || !strings.Contains(page, "revoked") {
			t.Errorf("revoke risk client: HTTP %d", status)
		}

		// Admin API keys: create (shown once, works), revoke (stops working).
		status, page = admin.act(t, "/console/api-keys", url.Values{"name": {"billing-sync"}})
		key := regexp.MustCompile(`id="new-api-key" readonly value="([^"]+)"`).FindStringSubmatch(page)
		if status != http.StatusOK || key == nil {
			t.Fatalf("create key: HTTP %d\n%s", status, page)
		}
		adminGet := func() int {
			req, _ := http.NewRequest("GET", w.base+"/admin/v1/carriers", nil)
			req.Header.Set("Authorization", "Bearer "+key[1])
			resp, err := w.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := adminGet(); got != http.StatusOK {
			t.Errorf("the new key: HTTP %d", got)
		}
		keyID := regexp.MustCompile(`action="/console/api-keys/([^/"]+)/revoke"`).FindStringSubmatch(page)
		if keyID == nil {
			t.Fatalf("no revoke form")
		}
		admin.act(t, "/console/api-keys/"+keyID[1]+"/revoke", nil)
		if got := adminGet(); got != http.StatusUnauthorized {
			t.Errorf("the revoked key: HTTP %d, want 401", got)
		}
	})
}

// riskNumberPlain is the number the look-up tests type; it must never
// reach the server's log.
const riskNumberPlain = "915586685366"

// importRiskList imports riskList (e2e_risk_test.go) through the CLI.
func (w *partnerWorld) importRiskList(tb testing.TB) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "risk.csv")
	if err := os.WriteFile(path, []byte(riskList), 0o600); err != nil {
		tb.Fatal(err)
	}
	w.cli(tb, "import", "risk", path)
}

// TestConsoleRiskLookup types a number on the look-up page: the matching
// records are shown with the number's MD5, never the number, and the
// number is in no log line; a bad number says how to fix it.
func TestConsoleRiskLookup(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		w := startPartners(t, eng)
		w.importRiskList(t)
		op := w.signIn(t, "operator@example.com", w.newOperator(t, "operator@example.com", "operator", ""))
		status, page := op.act(t, "/console/risk-lookup", url.Values{"mobile": {"+91 5586-685366"}})
		if status != http.StatusOK || !strings.Contains(page, "5 record(s)") || !strings.Contains(page, "29c1ebf81909046ca6adcf8200e71189") ||
			!strings.Contains(page, "11323") || !strings.Contains(page, "5 blacklist") {
			t.Fatalf("look-up: HTTP %d\n%s", status, page)
		}
		status, page = op.act(t, "/console/risk-lookup", url.Values{"mobile": {riskNumberPlain}, "source": {"seat"}, "from": {"2022-10-01"}, "to": {"2022-10-03"}})
		if status != http.StatusOK || !strings.Contains(page, "2 record(s)") || strings.Contains(page, riskNumberPlain) {
			t.Errorf("look-up by source and days: HTTP %d\n%s", status, page)
		}
		if status, page := op.act(t, "/console/risk-lookup", url.Values{"mobile": {"12ab"}}); status != http.StatusBadRequest || !strings.Contains(page, "country code") || strings.Contains(page, "12ab") {
			t.Errorf("bad number: HTTP %d", status)
		}
		if status, page := op.act(t, "/console/risk-lookup", url.Values{"mobile": {"15550001111"}}); status != http.StatusOK || !strings.Contains(page, "not on the list") {
			t.Errorf("unknown number: HTTP %d", status)
		}
		if strings.Contains(w.log.String(), riskNumberPlain) || strings.Contains(w.log.String(), "5586-685366") {
			t.Errorf("the server's log holds the mobile number:\n%s", w.log.String())
		}
		if !strings.Contains(w.log.String(), "/console/risk-lookup") {
			t.Errorf("the log has no line of the look-up (is the log captured?)")
		}
	})
}
