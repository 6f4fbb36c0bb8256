package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
)

// The fuzz targets of this file send their inputs through the real server
// (Main over SQLite), as a hostile client would, and hold every answer to
// the same rule: a client's mistake is never a 5xx, and an error answer is
// the error body of its API (a non-zero code and a message saying what is
// wrong). Each target builds one server and the partners it needs, shared
// by every input. Seed corpora are under testdata/fuzz/FuzzXxx.

// fuzzServer is a server on a fresh SQLite database.
type fuzzServer struct {
	*e2eServer
}

// startFuzz serves a fresh SQLite database until the fuzz target ends.
func startFuzz(tb testing.TB) *fuzzServer {
	tb.Helper()
	return &fuzzServer{startE2E(tb, e2eEngines[0], ServeConfig{})}
}

// send sends method path with header and body, and returns the status and
// the body of the answer. It reports false for an input the HTTP client
// itself refuses to send (a header value with a line break).
func (s *fuzzServer) send(tb testing.TB, method, path string, header http.Header, body []byte) (int, []byte, bool) {
	tb.Helper()
	// An answer takes milliseconds here; one still pending after 10 s is a
	// request the server holds, itself a finding.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, false
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := s.http.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "invalid header") {
			return 0, nil, false
		}
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return resp.StatusCode, b, true
}

// wantCodeMsg fails the test when status is a 5xx, or an error status whose
// body is not {"code": non-zero, "msg": "..."} (the carrier and admin APIs'
// error body).
func wantCodeMsg(tb testing.TB, what string, status int, body []byte) {
	tb.Helper()
	if status >= 500 {
		tb.Fatalf("%s: HTTP %d %s; a client's input must never be a 5xx", what, status, body)
	}
	if status < 400 {
		return
	}
	var e struct {
		Code *int    `json:"code"`
		Msg  *string `json:"msg"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == nil || *e.Code == 0 || e.Msg == nil || strings.TrimSpace(*e.Msg) == "" {
		tb.Fatalf("%s: HTTP %d body %q is not an error body with a code and a msg (%v)", what, status, body, err)
	}
}

// fuzzCarrier is a server with a carrier and a token of its.
type fuzzCarrier struct {
	*fuzzServer
	carrier *e2eCarrier
	token   string
}

func startFuzzCarrier(tb testing.TB) *fuzzCarrier {
	tb.Helper()
	s := startFuzz(tb)
	c := s.newCarrier(tb, "Fuzz Mobile")
	s.cli(tb, "admin", "carrier", "whitelist", string(c.cred.CarrierID))
	tok, err := c.api.Token(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzCarrier{fuzzServer: s, carrier: c, token: tok}
}

// headers are a carrier call's authentication headers with X-Date now.
func (c *fuzzCarrier) headers() http.Header {
	return http.Header{
		"Authorization": {"Bearer " + c.token},
		"X-Date":        {time.Now().UTC().Format(auth.DateLayout)},
		"X-User-Id":     {c.carrier.cred.UserID},
		"Content-Type":  {"application/json"},
	}
}

// FuzzNotifyBody posts arbitrary bodies to notifyPackageExpire (seed 001).
func FuzzNotifyBody(f *testing.F) {
	for _, b := range []string{
		`{"carrierUserId" : "189642158555241211", "type" : 1, "packageId" : "14"}`,
		`{"carrierUserId": "u1", "type": 2, "packageId": "14"}`,
		`{"carrierUserId": "u1", "type": 3, "packageId": "14"}`,
		`{"carrierUserId": "", "type": 1}`,
		`{"carrierUserId": 5, "type": "1", "packageId": null}`,
		`{"carrierUserId": "u1", "type": 1, "packageId": "14", "extra": true}`,
		`[1,2,3]`,
		`{"carrierUserId": "u\ud800", "type": 1, "packageId": "14"}`,
		"{\"carrierUserId\": \"\xff\xfe\", \"type\": 1, \"packageId\": \"14\"}",
		`{"type": 1e400}`,
		`{`,
		``,
	} {
		f.Add([]byte(b))
	}
	c := startFuzzCarrier(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		status, got, _ := c.send(t, http.MethodPost, client.PathNotifyPackageExpire, c.headers(), body)
		wantCodeMsg(t, "notify", status, got)
	})
}

// FuzzCarrierHeaders sends arbitrary X-Date and X-User-Id headers (and an
// arbitrary batchNo) to the batch status of the carrier API.
func FuzzCarrierHeaders(f *testing.F) {
	now := time.Now().UTC()
	f.Add(now.Format(auth.DateLayout), "", "1465526652212121")
	f.Add("20251027T114746Z", "u1", "")
	f.Add(now.Add(-16*time.Minute).Format(auth.DateLayout), "", "x")
	f.Add(now.Add(time.Hour).Format(auth.DateLayout), "", "20251021_1801572310432403201")
	f.Add("2025-10-27T11:47:46Z", "' OR 1=1 --", "'; DROP TABLE batches; --")
	f.Add("20251327T250000Z", strings.Repeat("7", 4096), "\x00")
	f.Add("", "\xff", "%zz")
	c := startFuzzCarrier(f)
	f.Fuzz(func(t *testing.T, xdate, userID, batchNo string) {
		h := c.headers()
		h.Set("X-Date", xdate)
		if userID != "" {
			h.Set("X-User-Id", userID)
		}
		status, got, ok := c.send(t, http.MethodGet, client.PathBatch+"?batchNo="+url.QueryEscape(batchNo), h, nil)
		if !ok {
			return
		}
		wantCodeMsg(t, "batch status", status, got)
	})
}

// FuzzDiffListCursor asks for the discrepancy list of a finished batch with
// arbitrary pageCursor and pageSize values: a mangled cursor is a 400
// naming pageCursor, never a page of another batch or a 5xx.
func FuzzDiffListCursor(f *testing.F) {
	c := startFuzzCarrier(f)
	spec := gen.Spec{Orders: 12, Cycle: lastCycle(), Seed: 3, MissingEvery: 3, AmountEvery: 4}
	seedLedger(f, c.store, c.carrier.cred.CarrierID, spec)
	no := verifyUpload(f, c.carrier.api, spec.Cycle.String(), "s.csv", csvStatement(f, spec))
	waitSucceeded(f, c.carrier.api, no)
	first, err := c.carrier.api.DiffList(context.Background(), client.DiffListParams{BatchNo: no, PageSize: 2})
	if err != nil || first.NextPageCursor == "" {
		f.Fatalf("first page: %+v, %v", first, err)
	}
	cur := first.NextPageCursor
	f.Add(cur, "2")
	// The same cursor with a padding bit of its last character set.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	f.Add(cur[:len(cur)-1]+string(alphabet[strings.IndexByte(alphabet, cur[len(cur)-1])^1]), "2")
	f.Add(cur, "")
	f.Add(cur[:len(cur)-1], "5")
	f.Add(cur+"A", "5")
	f.Add(strings.Repeat("A", len(cur)), "1000")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAA", "0")
	f.Add("!!!", "1001")
	f.Add("", "-1")
	f.Add("bm90LWEtY3Vyc29y", "1.5")
	f.Fuzz(func(t *testing.T, cursor, size string) {
		q := url.Values{"batchNo": {string(no)}, "pageCursor": {cursor}, "pageSize": {size}}
		status, got, _ := c.send(t, http.MethodGet, client.PathDiffList+"?"+q.Encode(), c.headers(), nil)
		wantCodeMsg(t, "getList", status, got)
		// Cursors are decoded strictly: a cursor differing from the issued
		// one even in base64's unused low bits is refused.
		if status == http.StatusOK && cursor != "" && cursor != cur {
			t.Fatalf("cursor %q (not the one issued, %q) was accepted: %s", cursor, cur, got)
		}
		if status != http.StatusOK && status != http.StatusBadRequest {
			t.Fatalf("getList answered %d %s; want 200 or 400", status, got)
		}
	})
}

// FuzzAdjustmentBody posts arbitrary launch bodies and modes to the buyer
// API (seed 002).
func FuzzAdjustmentBody(f *testing.F) {
	for _, b := range []struct{ body, op, recon string }{
		{`[{"transaction_id": "t1", "change_reason": "Suspected Fraud"}]`, "", ""},
		{`[{"transaction_id": "t1"}, {"transaction_id": "t2"}]`, "LIVE_RECONCILIATION", "1"},
		{`[{"transaction_id": "t2"}]`, "LIVE_RECONCILIATION", "2"},
		{`[]`, "", ""},
		{`[{"transaction_id": 7}]`, "", ""},
		{`[{"change_reason": "x"}]`, "", ""},
		{`{"transaction_id": "t1"}`, "", ""},
		{`[{"transaction_id": "t1"}] trailing`, "", ""},
		{`[{"transaction_id": "' OR 1=1 --"}]`, "LIVE_RECONCILIATION", "9"},
		{`[1, "a", null]`, "SOMETHING", ""},
		{"[{\"transaction_id\": \"\xff\"}]", "", ""},
		{``, "", ""},
	} {
		f.Add([]byte(b.body), b.op, b.recon)
	}
	s := startFuzz(f)
	var cred buyer.Credentials
	s.cliJSON(f, &cred, "admin", "buyer", "create", "--name", "Fuzz Panels")
	dir := f.TempDir()
	path := dir + "/t.csv"
	if err := os.WriteFile(path, []byte("transaction_id,survey_id,status\nt1,1108416,21\nt2,1108416,21\nt3,2002,33\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	s.cli(f, "import", "transactions", "--buyer", string(cred.BuyerID), path)
	paths := []string{"/buyers/v2/adjustments", "/buyers/v2/adjustments/surveys/1108416"}
	f.Fuzz(func(t *testing.T, body []byte, op, recon string) {
		q := url.Values{}
		if op != "" {
			q.Set("operationType", op)
		}
		if recon != "" {
			q.Set("reconStatus", recon)
		}
		h := http.Header{"Access-Token": {cred.AccessToken}, "Content-Type": {"application/json"}}
		status, got, _ := s.send(t, http.MethodPost, paths[len(body)%2]+"?"+q.Encode(), h, body)
		if status >= 500 {
			t.Fatalf("launch: HTTP %d %s; a client's input must never be a 5xx", status, got)
		}
		if status < 400 {
			return
		}
		var e struct {
			Code *int    `json:"ps_api_response_code"`
			Msg  *string `json:"ps_api_response_message"`
		}
		if err := json.Unmarshal(got, &e); err != nil || e.Code == nil || e.Msg == nil || strings.TrimSpace(*e.Msg) == "" {
			t.Fatalf("launch: HTTP %d body %q is not the buyer error body (%v)", status, got, err)
		}
	})
}

// FuzzRiskCheckBody posts arbitrary bodies to the multiple-order check
// (seed 003).
func FuzzRiskCheckBody(f *testing.F) {
	for _, b := range []string{
		`{"mobile_no": "29c1ebf81909046ca6adcf8200e71190"}`,
		`{"mobile_no": "29C1EBF81909046CA6ADCF8200E71190", "source": "seat", "date": "2022-10-03"}`,
		`{"mobile_no": "29c1ebf81909046ca6adcf8200e71190", "source": "fax"}`,
		`{"mobile_no": "29c1ebf81909046ca6adcf8200e71190", "date": "2022-02-30"}`,
		`{"mobile_no": "915586685366"}`,
		`{"mobile_no": 915586685366}`,
		`{"source": "sms"}`,
		`{"mobile_no": null, "date": ["x"]}`,
		`{"mobile_no": "' OR 1=1 --"}`,
		`[]`,
		`not json`,
		``,
	} {
		f.Add([]byte(b))
	}
	s := startFuzz(f)
	var v riskClientView
	s.cliJSON(f, &v, "admin", "riskclient", "create", "--name", "Fuzz Risk")
	h := http.Header{"X-Df-Api-Id": {string(v.ID)}, "X-Df-Api-Secret": {v.APISecret}, "Content-Type": {"application/json"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		status, got, _ := s.send(t, http.MethodPost, "/check/multiple_order/o1", h, body)
		if status >= 500 {
			t.Fatalf("check: HTTP %d %s; a client's input must never be a 5xx", status, got)
		}
		var e struct {
			Status    string `json:"status"`
			Reason    string `json:"reason"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(got, &e); err != nil || e.Status == "" || e.RequestID == "" {
			t.Fatalf("check: HTTP %d body %q is not the risk API's body (%v)", status, got, err)
		}
		if status >= 400 && (e.Status == "OK" || e.Reason == "") {
			t.Fatalf("check: HTTP %d with status %q and reason %q; an error names its status and reason", status, e.Status, e.Reason)
		}
	})
}

// adminBodyRoutes are the admin API's routes that read a JSON body; an id
// in braces is replaced by one made when the target starts.
var adminBodyRoutes = []struct{ method, path string }{
	{http.MethodPost, "carriers"},
	{http.MethodPatch, "carriers/{carrier}"},
	{http.MethodPost, "carriers/{carrier}/clients"},
	{http.MethodPost, "buyers"},
	{http.MethodPatch, "buyers/{buyer}"},
	{http.MethodPost, "risk-clients"},
	{http.MethodPatch, "risk-clients/{risk}"},
	{http.MethodPost, "webhooks"},
}

// FuzzAdminBody sends arbitrary JSON bodies to every admin route that reads
// one; route picks the route (modulo their count).
func FuzzAdminBody(f *testing.F) {
	for _, b := range []struct {
		route uint8
		body  string
	}{
		{0, `{"name": "Acme Mobile", "whitelisted": true, "timezone": "Asia/Shanghai"}`},
		{0, `{"name": "", "timezone": "Mars/Olympus"}`},
		{0, `{"name": "<script>alert(1)</script>", "whitelisted": "yes"}`},
		{1, `{"whitelisted": false, "timezone": "UTC"}`},
		{1, `{"timezone": null}`},
		{2, `{}`},
		{3, `{"name": "Beta Panels", "rejectCap": 70}`},
		{3, `{"name": "B", "rejectCap": 150}`},
		{4, `{"rejectCap": null}`},
		{4, `{"rejectCap": -1e400}`},
		{5, `{"name": "Risk Co", "quota": 10, "rate": 5, "apis": ["multiple_order"], "expires": "2030-01-01"}`},
		{5, `{"name": "R", "quota": -1, "apis": ["nope"], "expires": "yesterday"}`},
		{6, `{"rate": 9223372036854775808}`},
		{6, `{"window": "30"}`},
		{7, `{"url": "https://example.com/hooks", "eventTypes": ["batch.succeeded", "adjustment.success"], "carrierId": ""}`},
		{7, `{"url": "javascript:alert(1)", "eventTypes": ["batch.exploded"], "carrierId": "car_nobody"}`},
		{7, `{"url": "https://user:pw@example.com/", "eventTypes": []}`},
		{0, `{"name": "a"} {"name": "b"}`},
		{0, `[`},
		{0, ``},
	} {
		f.Add(b.route, []byte(b.body))
	}
	s := startFuzz(f)
	var k struct{ Key string }
	s.cliJSON(f, &k, "admin", "apikey", "create", "--name", "fuzz")
	var cred auth.Credentials
	s.cliJSON(f, &cred, "admin", "carrier", "create", "--name", "Fuzz Mobile")
	var b buyer.Credentials
	s.cliJSON(f, &b, "admin", "buyer", "create", "--name", "Fuzz Panels")
	var r riskClientView
	s.cliJSON(f, &r, "admin", "riskclient", "create", "--name", "Fuzz Risk")
	ids := strings.NewReplacer("{carrier}", string(cred.CarrierID), "{buyer}", string(b.BuyerID), "{risk}", string(r.ID))
	h := http.Header{"Authorization": {"Bearer " + k.Key}, "Content-Type": {"application/json"}}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := adminBodyRoutes[int(route)%len(adminBodyRoutes)]
		status, got, _ := s.send(t, rt.method, client.PathAdmin+ids.Replace(rt.path), h, body)
		wantCodeMsg(t, rt.method+" "+rt.path, status, got)
	})
}
