package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/statement"
)

// traceIDPattern matches the trace ids the server makes.
var traceIDPattern = regexp.MustCompile(`^[0-9a-f]{58}$`)

// TestE2EAuth checks the token endpoint and each rule of a carrier call's
// headers through the real server, in the order docs/decisions.md gives.
func TestE2EAuth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		clk := &clock.Settable{} // the real time until a test sets it
		s := startE2E(t, eng, ServeConfig{Clock: clk})
		acme := s.newCarrier(t, "Acme Mobile")
		other := s.newCarrier(t, "Other Telecom")
		ctx := context.Background()
		anon := client.New(s.base, client.WithHTTPClient(s.http))
		var badCredentials string // the msg of every credential failure

		t.Run("token", func(t *testing.T) {
			tok, err := anon.RequestToken(ctx, client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret})
			if err != nil {
				t.Fatal(err)
			}
			if len(tok.AccessToken) < 32 || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
				t.Errorf("token = %+v; want an access token, Bearer, 3600 s", tok)
			}
			// Each request gets a fresh token.
			again, err := anon.RequestToken(ctx, client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret})
			if err != nil || again.AccessToken == tok.AccessToken {
				t.Errorf("second token %q (%v); want another token", again.AccessToken, err)
			}
			bad := []struct {
				name   string
				req    client.TokenRequest
				status int
				code   int
			}{
				{"wrong secret", client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret + "x"}, 401, trueuphttp.CodeBadCredentials},
				{"another carrier's secret", client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: other.cred.ClientSecret}, 401, trueuphttp.CodeBadCredentials},
				{"unknown client", client.TokenRequest{GrantType: "client_credentials", ClientID: "cli_nobody", ClientSecret: acme.cred.ClientSecret}, 401, trueuphttp.CodeBadCredentials},
				{"wrong grant", client.TokenRequest{GrantType: "password", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret}, 400, trueuphttp.CodeInvalidParam},
				{"no grant", client.TokenRequest{ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret}, 400, trueuphttp.CodeInvalidParam},
				{"no secret", client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID)}, 400, trueuphttp.CodeInvalidParam},
			}
			var msgs []string
			for _, tt := range bad {
				_, err := anon.RequestToken(ctx, tt.req)
				e := wantAPIError(t, err, tt.status, tt.code)
				if tt.status == 401 {
					msgs = append(msgs, e.Msg)
				}
			}
			// Wrong secret and unknown client are told apart by nothing.
			badCredentials = msgs[0]
			for _, m := range msgs[1:] {
				if m != msgs[0] {
					t.Errorf("credential failures differ: %q vs %q", m, msgs[0])
				}
			}
		})

		tok, err := acme.api.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Each rule through WithHeader, on a read call and on the upload.
		rules := []struct {
			name   string
			edit   func(h http.Header)
			status int
			code   int
			words  []string
		}{
			{"no Authorization", func(h http.Header) { h.Del("Authorization") }, 401, trueuphttp.CodeUnauthorized, []string{"Authorization"}},
			{"Basic scheme", func(h http.Header) { h.Set("Authorization", "Basic "+tok) }, 401, trueuphttp.CodeUnauthorized, []string{"Bearer"}},
			{"Bearer without token", func(h http.Header) { h.Set("Authorization", "Bearer ") }, 401, trueuphttp.CodeUnauthorized, []string{"Bearer"}},
			{"unknown token", func(h http.Header) { h.Set("Authorization", "Bearer "+tok+"x") }, 401, trueuphttp.CodeTokenInvalid, []string{"token"}},
			{"X-Date 16 minutes old", func(h http.Header) {
				h.Set("X-Date", time.Now().UTC().Add(-16*time.Minute).Format(client.DateLayout))
			}, 401, trueuphttp.CodeDateWindow, []string{"15 minutes"}},
			{"X-Date malformed", func(h http.Header) { h.Set("X-Date", time.Now().UTC().Format("2006-01-02T15:04:05Z")) }, 400, trueuphttp.CodeInvalidDate, []string{"X-Date", "yyyyMMdd"}},
			{"X-Date with fraction", func(h http.Header) { h.Set("X-Date", time.Now().UTC().Format("20060102T150405.000Z")) }, 400, trueuphttp.CodeInvalidDate, []string{"X-Date"}},
			{"X-Date missing", func(h http.Header) { h.Del("X-Date") }, 400, trueuphttp.CodeInvalidDate, []string{"X-Date", "missing"}},
			{"X-User-Id missing", func(h http.Header) { h.Del("X-User-Id") }, 401, trueuphttp.CodeUserMissing, []string{"X-User-Id"}},
			{"another carrier's X-User-Id", func(h http.Header) { h.Set("X-User-Id", other.cred.UserID) }, 403, trueuphttp.CodeUserMismatch, []string{"X-User-Id", other.cred.UserID}},
			// The first failing check answers: a bad token beats a bad date.
			{"unknown token and malformed date", func(h http.Header) {
				h.Set("Authorization", "Bearer nope")
				h.Set("X-Date", "garbage")
			}, 401, trueuphttp.CodeTokenInvalid, nil},
			{"stale date and wrong user", func(h http.Header) {
				h.Set("X-Date", time.Now().UTC().Add(-time.Hour).Format(client.DateLayout))
				h.Set("X-User-Id", other.cred.UserID)
			}, 401, trueuphttp.CodeDateWindow, nil},
		}
		calls := []struct {
			name string
			do   func(ctx context.Context) error
		}{
			{"getList", func(ctx context.Context) error {
				_, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: "20250101_0000000000000000001"})
				return err
			}},
			{"verify", func(ctx context.Context) error {
				_, err := acme.api.Verify(ctx, client.VerifyParams{BillingCycle: lastCycle().String(), FileName: "s.csv",
					File: bytes.NewReader(csvStatement(t, gen.Spec{Orders: 3, Cycle: lastCycle()}))})
				return err
			}},
			{"template", func(ctx context.Context) error { _, err := acme.api.Template(ctx); return err }},
		}
		for _, rule := range rules {
			for _, call := range calls {
				t.Run(rule.name+"/"+call.name, func(t *testing.T) {
					wantAPIError(t, call.do(client.WithHeader(ctx, rule.edit)), rule.status, rule.code, rule.words...)
				})
			}
		}

		t.Run("X-Date boundaries", func(t *testing.T) {
			// Exactly 15 minutes old is accepted, a second more is not; one
			// second in the future is refused. The server's clock stands
			// still at a whole second while the calls are sent.
			at := func(d string) context.Context {
				return client.WithHeader(ctx, func(h http.Header) { h.Set("X-Date", d) })
			}
			now := time.Now().UTC().Truncate(time.Second)
			clk.Set(now)
			_, errOld := acme.api.Template(at(now.Add(-15 * time.Minute).Format(client.DateLayout)))
			_, errFuture := acme.api.Template(at(now.Add(time.Second).Format(client.DateLayout)))
			_, errOlder := acme.api.Template(at(now.Add(-15*time.Minute - time.Second).Format(client.DateLayout)))
			clk.Reset()
			if errOld != nil {
				t.Errorf("X-Date exactly 15 minutes old: %v; want accepted", errOld)
			}
			wantAPIError(t, errFuture, 401, trueuphttp.CodeDateWindow, "future")
			wantAPIError(t, errOlder, 401, trueuphttp.CodeDateWindow, "15 minutes")
		})
		t.Run("X-Date now and 14 minutes old are accepted", func(t *testing.T) {
			for _, age := range []time.Duration{0, 14 * time.Minute} {
				now := time.Now().UTC() // the server's clock can only be later
				_, err := acme.api.Template(client.WithHeader(ctx, func(h http.Header) { h.Set("X-Date", now.Add(-age).Format(client.DateLayout)) }))
				if err != nil {
					t.Errorf("X-Date %s old: %v", age, err)
				}
			}
		})
		t.Run("lower-case bearer", func(t *testing.T) {
			b, err := acme.api.Template(client.WithHeader(ctx, func(h http.Header) { h.Set("Authorization", "bearer "+tok) }))
			if err != nil || len(b) == 0 {
				t.Errorf("bearer scheme in lower case: %d bytes, %v; want accepted", len(b), err)
			}
		})
		t.Run("another carrier's batch", func(t *testing.T) {
			// other's credentials reach other's data only: acme's batch is
			// not found.
			no := verifyUpload(t, acme.api, lastCycle().String(), "s.csv", csvStatement(t, gen.Spec{Orders: 3, Cycle: lastCycle()}))
			_, err := other.api.Batch(ctx, no)
			wantAPIError(t, err, 404, trueuphttp.CodeNotFound, string(no))
		})

		t.Run("trace id", func(t *testing.T) {
			send := func(ctx context.Context, path string) *http.Response {
				req, _ := http.NewRequest(http.MethodGet, path, nil)
				resp, err := acme.api.Do(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}
			sent := "e2e-trace-" + strings.Repeat("7", 40)
			for _, id := range []string{sent, "1", strings.Repeat("~", 128)} {
				if got := send(client.WithTraceID(ctx, id), client.PathTemplate).Header.Get("x-traceid"); got != id {
					t.Errorf("x-traceid %q sent, %q answered", id, got)
				}
			}
			// On an error too, and through the typed client's error.
			_, err := acme.api.Batch(client.WithTraceID(ctx, sent), "nope")
			if e := wantAPIError(t, err, 404, trueuphttp.CodeNotFound); e.TraceID != sent {
				t.Errorf("error trace id %q, want %q", e.TraceID, sent)
			}
			seen := map[string]bool{}
			for _, c := range []struct {
				name string
				ctx  context.Context
			}{
				{"absent", ctx},
				{"absent again", ctx},
				{"with a space", client.WithTraceID(ctx, "has space")},
				{"too long", client.WithTraceID(ctx, strings.Repeat("a", 129))},
			} {
				got := send(c.ctx, client.PathTemplate).Header.Get("x-traceid")
				if !traceIDPattern.MatchString(got) {
					t.Errorf("%s: x-traceid %q, want 58 fresh hex characters", c.name, got)
				}
				if seen[got] {
					t.Errorf("%s: trace id %q made twice", c.name, got)
				}
				seen[got] = true
			}
		})

		t.Run("unknown path", func(t *testing.T) {
			for _, path := range []string{"/koodrive/ose/v1/reconciliation/nope", "/"} {
				resp, err := s.http.Get(s.base + path)
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Code int    `json:"code"`
					Msg  string `json:"msg"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != 404 || err != nil || body.Code != trueuphttp.CodeNotFound || !strings.Contains(body.Msg, "/docs") ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					t.Errorf("GET %s: HTTP %d %s, body %+v (%v); want a JSON 404 with code 40401 pointing to /docs", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
				}
				if !traceIDPattern.MatchString(resp.Header.Get("x-traceid")) {
					t.Errorf("GET %s: x-traceid %q", path, resp.Header.Get("x-traceid"))
				}
			}
		})

		t.Run("expired token", func(t *testing.T) {
			const ttl = 2 * time.Second
			short := startE2E(t, eng, ServeConfig{TokenTTL: ttl})
			c := short.newCarrier(t, "Short Lived Mobile")
			issued := time.Now()
			tok, err := c.api.RequestToken(ctx, client.TokenRequest{GrantType: "client_credentials", ClientID: string(c.cred.ClientID), ClientSecret: c.cred.ClientSecret})
			if err != nil || tok.ExpiresIn != 2 {
				t.Fatalf("token %+v, %v; want expires_in 2", tok, err)
			}
			withTok := client.WithHeader(ctx, func(h http.Header) { h.Set("Authorization", "Bearer "+tok.AccessToken) })
			if _, err := c.api.Template(withTok); err != nil && time.Since(issued) < ttl {
				t.Fatalf("a fresh token: %v", err)
			}
			time.Sleep(time.Until(issued.Add(ttl + 100*time.Millisecond)))
			_, err = c.api.Template(withTok)
			wantAPIError(t, err, 401, trueuphttp.CodeTokenExpired, "expired")
			// The typed client fetches a new token by itself.
			if _, err := c.api.Template(ctx); err != nil {
				t.Errorf("the client did not renew its token: %v", err)
			}
		})

		t.Run("operations endpoints", func(t *testing.T) {
			if h, err := anon.Healthz(ctx); err != nil || h.Status != "ok" {
				t.Errorf("healthz = %+v, %v", h, err)
			}
			if h, err := anon.Readyz(ctx); err != nil || h.Status != "ready" || h.Database != eng.name {
				t.Errorf("readyz = %+v, %v; want ready on %s", h, err, eng.name)
			}
			m, err := anon.Metrics(ctx)
			if err != nil || !bytes.Contains(m, []byte(`trueup_http_requests_total{route="GET /koodrive/ose/v1/reconciliation/template",status="401"}`)) {
				t.Errorf("metrics (%v) do not count the refused template calls:\n%.2000s", err, m)
			}
			doc, err := anon.OpenAPI(ctx)
			var api struct {
				Paths map[string]any `json:"paths"`
			}
			if err != nil || json.Unmarshal(doc, &api) != nil {
				t.Fatalf("openapi.json: %v", err)
			}
			for _, p := range []string{client.PathVerify, client.PathDiffList, client.PathToken, client.PathDiffExport, client.PathBatch, client.PathTemplate} {
				if _, ok := api.Paths[p]; !ok {
					t.Errorf("openapi.json has no path %s", p)
				}
			}
		})

		// Rotation and revocation last: they change acme's credentials.
		t.Run("rotate", func(t *testing.T) {
			var rotated auth.Credentials
			s.cliJSON(t, &rotated, "admin", "client", "rotate", string(acme.cred.ClientID))
			if rotated.ClientID != acme.cred.ClientID || rotated.ClientSecret == "" || rotated.ClientSecret == acme.cred.ClientSecret {
				t.Fatalf("rotate gave %+v", rotated)
			}
			_, err := acme.api.Template(client.WithHeader(ctx, func(h http.Header) { h.Set("Authorization", "Bearer "+tok) }))
			wantAPIError(t, err, 401, trueuphttp.CodeTokenInvalid)
			_, err = anon.RequestToken(ctx, client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret})
			wantAPIError(t, err, 401, trueuphttp.CodeBadCredentials)
			acme.cred = rotated
			acme.api = s.client(rotated)
			if _, err := acme.api.Template(ctx); err != nil {
				t.Fatalf("the rotated secret does not work: %v", err)
			}
		})
		t.Run("revoke", func(t *testing.T) {
			tok, err := acme.api.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// A second client of the same carrier outlives the revocation.
			var second auth.Credentials
			s.cliJSON(t, &second, "admin", "client", "create", "--carrier", string(acme.cred.CarrierID))
			secondAPI := s.client(second)
			if _, err := secondAPI.Template(ctx); err != nil {
				t.Fatal(err)
			}
			out := s.cli(t, "admin", "client", "revoke", string(acme.cred.ClientID))
			if !strings.Contains(out, string(acme.cred.ClientID)) {
				t.Errorf("revoke printed %q", out)
			}
			_, err = acme.api.Template(client.WithHeader(ctx, func(h http.Header) { h.Set("Authorization", "Bearer "+tok) }))
			wantAPIError(t, err, 401, trueuphttp.CodeTokenInvalid, "token")
			_, err = anon.RequestToken(ctx, client.TokenRequest{GrantType: "client_credentials", ClientID: string(acme.cred.ClientID), ClientSecret: acme.cred.ClientSecret})
			if e := wantAPIError(t, err, 401, trueuphttp.CodeBadCredentials); e.Msg != badCredentials {
				t.Errorf("a revoked client reads %q, a wrong secret %q: the difference leaks", e.Msg, badCredentials)
			}
			if _, err := secondAPI.Template(ctx); err != nil {
				t.Errorf("the carrier's other client stopped working: %v", err)
			}
		})
	})
}

// TestE2ETemplate downloads the import template, checks its sheets, and
// uploads it as it is: its example row is a valid statement row.
func TestE2ETemplate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Template Mobile")
		ctx := context.Background()
		data, err := c.api.Template(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the template does not open: %v", err)
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) < 2 || sheets[0] != statement.TemplateSheet {
			t.Fatalf("sheets = %q; want %s first and a second sheet", sheets, statement.TemplateSheet)
		}
		rows, err := f.GetRows(sheets[0])
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, col := range statement.Columns {
			names = append(names, col.Name)
		}
		if len(rows) < 1 || !stringsEqual(rows[0], names) {
			t.Fatalf("header row = %q, want %q", rows, names)
		}
		desc, err := f.GetRows(sheets[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(desc) != len(statement.Columns)+1 {
			t.Fatalf("the second sheet has %d rows, want a header and one row per column (%d)", len(desc), len(statement.Columns))
		}
		for i, col := range statement.Columns {
			row := desc[i+1]
			required := "no"
			if col.Required {
				required = "yes"
			}
			if len(row) < 4 || row[0] != col.Name || row[1] != required || row[3] == "" {
				t.Errorf("the second sheet's row %d = %q; want %s, %s and a meaning", i+2, row, col.Name, required)
			}
		}

		// Filled with nothing but its example, it is a statement of one row
		// the ledger lacks.
		no := verifyUpload(t, c.api, lastCycle().String(), "reconciliation-template.xlsx", data)
		st := waitSucceeded(t, c.api, no)
		if st.Batch.Counts != (trueup.DiffCounts{trueup.DiffMissingOnPlatform: 1}) || st.Batch.RowsRead != 1 {
			t.Fatalf("the template as a statement: counts %+v, rows %d; want one row, one type 2", st.Batch.Counts, st.Batch.RowsRead)
		}
		// On the wire, the counts are an object with every kind's number,
		// the seed's four first (a kind added later follows them).
		req, err := http.NewRequest("GET", client.PathBatch+"?batchNo="+string(no), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.api.Do(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := `"counts":{"1":0,"2":1,"3":0,"4":0`; err != nil || !strings.Contains(string(raw), want) {
			t.Errorf("batch status %s (%v) lacks %s", raw, err, want)
		}
		bills := walkPages(t, c.api, no, 10, 1)
		if len(bills) != 1 {
			t.Fatalf("%d bills", len(bills))
		}
		b := bills[0]
		ex := rows[1]
		if b.CarrierOrderID != ex[0] || b.CarrierUserID != ex[1] || b.CarrierOrderTime != ex[2] || b.SkuCode != ex[3] ||
			b.CarrierPackageID != ex[4] || b.CarrierActiveTime != ex[5] || b.CarrierEndTime != ex[6] || b.CarrierSale != ex[7] ||
			b.CarrierSaleToKd != ex[8] || b.Channel != ex[9] {
			t.Errorf("the example row came back as %+v; the template has %q", b, ex)
		}
	})
}

// TestE2EImportOrders loads the ledger through the CLI: an import, a
// re-import that upserts, and a file with bad rows that is refused whole;
// a statement checked over HTTP afterwards sees exactly the upserted
// ledger.
func TestE2EImportOrders(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Ledger Mobile")
		ctx := context.Background()
		cycle := lastCycle()
		carrier := string(c.cred.CarrierID)
		dir := t.TempDir()
		active := cycle.Start(time.UTC).Add(36 * time.Hour)
		end := active.AddDate(0, 1, 0)
		ordered := active.Add(-time.Hour)
		ft := trueup.FormatTime
		order := func(id, user, status, pkg, total string) map[string]string {
			return map[string]string{"carrierOrderId": id, "billingCycle": cycle.String(), "kdOrderId": "KD-" + id,
				"carrierUserId": user, "kdUserId": "KU-" + user, "userStatus": status, "skuCode": "1p500g", "skuPrice": "0.00125",
				"kdPackageId": pkg, "kdActiveTime": ft(active), "kdEndTime": ft(end), "kdOrderTime": ft(ordered),
				"kdSaleTotal": total, "channel": "2"}
		}
		writeOrders := func(name string, orders ...map[string]string) string {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			var header []string
			for _, col := range ledger.Columns {
				header = append(header, col.Name)
			}
			w.Write(header)
			for _, o := range orders {
				rec := make([]string, len(header))
				for i, h := range header {
					rec[i] = o[h]
				}
				w.Write(rec)
			}
			w.Flush()
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}
		count := func() int64 {
			n, err := s.store.CountOrders(ctx, c.cred.CarrierID, cycle.String())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		out := s.cli(t, "import", "orders", "--carrier", carrier, writeOrders("first.csv",
			order("O-1", "U-1", "", "P1", "10.00"), order("O-2", "U-2", "2", "P2", "20.00"), order("O-3", "U-1", "", "P3", "30.00")))
		if !strings.Contains(out, "imported 3 orders") || count() != 3 {
			t.Fatalf("first import: %q, %d orders stored; want 3", out, count())
		}
		// A re-import upserts: O-1 changes, O-4 is new.
		var res struct {
			Imported  int64            `json:"imported"`
			CarrierID trueup.CarrierID `json:"carrierId"`
		}
		// O-2 again without a userStatus keeps its user's status 2.
		s.cliJSON(t, &res, "import", "orders", "--carrier", carrier, writeOrders("second.csv",
			order("O-1", "U-1", "", "P1", "11.50"), order("O-2", "U-2", "", "P2", "20.00"), order("O-4", "U-4", "", "P4", "40.00")))
		if res.Imported != 3 || res.CarrierID != c.cred.CarrierID || count() != 4 {
			t.Fatalf("re-import: %+v, %d orders stored; want 3 imported, 4 stored", res, count())
		}
		// JSON Lines too, numbers as JSON numbers: O-4 gets an amount of 9
		// places and a price of 12.
		jsonl := filepath.Join(dir, "third.jsonl")
		line := fmt.Sprintf(`{"carrierOrderId":"O-4","billingCycle":%q,"kdOrderId":"KD-O-4","carrierUserId":"U-4","kdUserId":"KU-U-4",`+
			`"skuCode":"1p500g","skuPrice":0.000000000001,"kdPackageId":"P4","kdActiveTime":%q,"kdEndTime":%q,"kdOrderTime":%q,`+
			`"kdSaleTotal":40.123456789,"channel":2}`, cycle.String(), ft(active), ft(end), ft(ordered))
		if err := os.WriteFile(jsonl, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out := s.cli(t, "import", "orders", "--carrier", carrier, jsonl); !strings.Contains(out, "imported 1 orders") || count() != 4 {
			t.Fatalf("JSON Lines import: %q, %d stored", out, count())
		}

		// A file with bad rows stores nothing, its good rows neither.
		badRows := []map[string]string{
			order("O-5", "U-5", "", "P5", "50.00"), // row 2, good and new
			order("O-6", "U-6", "", "P6", "60.00"), // row 3
			order("O-7", "U-7", "", "P7", "abc"),   // row 4
			order("O-1", "U-1", "", "P1", "99.99"), // row 5, good: would change O-1
			order("O-8", "U-8", "", "P8", "80.00"), // row 6
			order("O-9", "U-9", "", "", "90.00"),   // row 7
			order("O-5", "U-5", "", "P5", "50.00"), // row 8, a repeat of row 2
		}
		badRows[1]["kdEndTime"] = "2025-13-01"
		badRows[4]["billingCycle"] = "2025-9"
		bad := writeOrders("bad.csv", badRows...)
		code, stdout, stderr := s.cliResult("import", "orders", "--carrier", carrier, bad)
		if code == 0 {
			t.Fatalf("a file with bad rows was imported: %s", stdout)
		}
		for _, want := range []string{"row 3\tkdEndTime\t\"2025-13-01\"", "row 4\tkdSaleTotal\t\"abc\"", "row 6\tbillingCycle\t\"2025-9\"", "row 7\tkdPackageId", "row 8\tcarrierOrderId\t\"O-5\""} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the refusal does not list %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "row 2\t") || strings.Contains(stdout, "row 5\t") {
			t.Errorf("good rows listed as bad:\n%s", stdout)
		}
		if !strings.Contains(stderr, "5 row error") || !strings.Contains(stderr, "nothing was imported") {
			t.Errorf("stderr %q does not say 5 row errors and nothing imported", stderr)
		}
		if n := count(); n != 4 {
			t.Errorf("after the refused file %d orders are stored, want 4", n)
		}
		// The same with --json.
		code, stdout, _ = s.cliResult("import", "orders", "--carrier", carrier, bad, "--json")
		var refusal struct {
			Imported   int               `json:"imported"`
			ErrorCount int               `json:"errorCount"`
			Errors     []trueup.RowError `json:"errors"`
		}
		if err := json.Unmarshal([]byte(stdout), &refusal); err != nil || code == 0 {
			t.Fatalf("--json refusal: exit %d, %v:\n%s", code, err, stdout)
		}
		if refusal.Imported != 0 || refusal.ErrorCount != 5 || len(refusal.Errors) != 5 ||
			refusal.Errors[0] != (trueup.RowError{Row: 3, Column: "kdEndTime", Value: "2025-13-01", Reason: refusal.Errors[0].Reason}) || refusal.Errors[0].Reason == "" {
			t.Errorf("--json refusal = %+v", refusal)
		}
		// An unknown carrier is refused before the file is read.
		if code, _, stderr := s.cliResult("import", "orders", "--carrier", "car_nobody", bad); code == 0 || !strings.Contains(stderr, "car_nobody") {
			t.Errorf("unknown carrier: exit %d, %q", code, stderr)
		}

		// The ledger is the upserted one: O-1 at 11.50, O-2's user in
		// status 2, O-4 at 40.123456789. A statement agreeing with it but for
		// O-2's package and O-4's amount gives two discrepancies; had the
		// refused file changed O-1, a third.
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(gen.StatementHeader)
		for _, r := range [][]string{
			{"O-1", "U-1", ft(ordered), "1p500g", "P1", ft(active), ft(end), "", "11.49", "2"}, // off by the tolerance exactly
			{"O-2", "U-2", ft(ordered), "1p500g", "P2-X", ft(active), ft(end), "", "20.00", "2"},
			{"O-3", "U-1", ft(ordered), "1p500g", "P3", ft(active), ft(end), "", "30.010", "2"}, // the same
			{"O-4", "U-4", ft(ordered), "1p500g", "P4", ft(active), ft(end), "", "40.00", "2"},
		} {
			w.Write(r)
		}
		w.Flush()
		no := verifyUpload(t, c.api, cycle.String(), "s.csv", b.Bytes())
		st := waitSucceeded(t, c.api, no)
		if st.Batch.Counts != (trueup.DiffCounts{trueup.DiffRights: 1, trueup.DiffAmount: 1}) {
			t.Fatalf("counts %+v, want one type 3 (O-2's package) and one type 4 (O-4's amount)", st.Batch.Counts)
		}
		for _, got := range walkPages(t, c.api, no, 100, 2) {
			switch got.CarrierOrderID {
			case "O-2":
				if got.Type() != trueup.DiffRights || got.UserStatus != "2" || got.KdOrderID != "KD-O-2" || got.SkuPrice.String() != "0.00125" || !got.KdSaleTotal.Equal(decimalOf(t, "", "20")) {
					t.Errorf("O-2's discrepancy = %+v; want type 3, userStatus 2, kdOrderId KD-O-2, skuPrice 0.00125, kdSaleTotal 20", got)
				}
			case "O-4":
				this, next := decimalOf(t, "thisMouthBilling", got.ThisMouthBilling), decimalOf(t, "nextMouthBilling", got.NextMouthBilling)
				if got.Type() != trueup.DiffAmount || got.UserStatus != "1" || got.SkuPrice.String() != "0.000000000001" || got.KdSaleTotal.String() != "40.123456789" ||
					!this.Add(next).Equal(got.KdSaleTotal) || decimalPlaces(got.ThisMouthBilling) != 9 || decimalPlaces(got.NextMouthBilling) != 9 ||
					!this.Equal(splitWant(got.KdSaleTotal, active, end, cycle, time.UTC)) || got.Channel != "2" {
					t.Errorf("O-4's discrepancy = %+v; want type 4, skuPrice 0.000000000001, kdSaleTotal 40.123456789 split in two 9-place parts", got)
				}
				if !strings.Contains(got.DiffReason, "40.00 ") || !strings.Contains(got.DiffReason, "40.123456789") {
					t.Errorf("O-4's diffReason %q does not show both amounts", got.DiffReason)
				}
			default:
				t.Errorf("unexpected discrepancy %+v", got)
			}
		}
	})
}
