package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/http/admin"
)

// adminServer is a server with an admin API key made through the CLI.
type adminServer struct {
	*e2eServer
	keyID string
	api   *client.AdminClient
}

// startAdmin serves a fresh database of eng with imports up to 1 MiB and
// returns it with an admin client holding a new key.
func startAdmin(t *testing.T, eng e2eEngine) *adminServer {
	t.Helper()
	s := startE2E(t, eng, ServeConfig{MaxUploadBytes: 1 << 20})
	var k struct{ KeyID, Key string }
	s.cliJSON(t, &k, "admin", "apikey", "create", "--name", "ops", "--json")
	if !strings.HasPrefix(k.KeyID, "key_") || !strings.HasPrefix(k.Key, "tuk_") || len(k.Key) != 47 {
		t.Fatalf("admin apikey create --json = %+v; want a keyId and a 256-bit key", k)
	}
	return &adminServer{e2eServer: s, keyID: k.KeyID, api: client.NewAdminClient(s.base, k.Key, s.http)}
}

// waitImport waits until the import is no longer running.
func (s *adminServer) waitImport(t *testing.T, im client.Import) client.Import {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := s.api.WaitImport(ctx, im.ImportID, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("wait for import %s: %v", im.ImportID, err)
	}
	return got
}

func TestAdminAuth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		ctx := context.Background()
		if _, err := s.api.Carriers(ctx); err != nil {
			t.Fatalf("Carriers with a valid key: %v", err)
		}
		none := client.NewAdminClient(s.base, "", s.http)
		_, err := none.Carriers(ctx)
		wantAPIError(t, err, 401, admin.CodeUnauthorized, "Authorization", "Bearer")
		wrong := client.NewAdminClient(s.base, "tuk_not-a-key", s.http)
		_, err = wrong.Carriers(ctx)
		wantAPIError(t, err, 401, admin.CodeKeyInvalid, "not valid")
		// A path that does not exist still asks for a key first.
		_, err = none.Import(ctx, "imp_x")
		wantAPIError(t, err, 401, admin.CodeUnauthorized)

		var other struct{ KeyID, Key string }
		s.cliJSON(t, &other, "admin", "apikey", "create", "--name", "temp", "--json")
		second := client.NewAdminClient(s.base, other.Key, s.http)
		if _, err := second.Carriers(ctx); err != nil {
			t.Fatalf("second key: %v", err)
		}
		var revoked struct {
			KeyID     string
			RevokedAt *time.Time
		}
		s.cliJSON(t, &revoked, "admin", "apikey", "revoke", other.KeyID, "--json")
		if revoked.KeyID != other.KeyID || revoked.RevokedAt == nil {
			t.Fatalf("admin apikey revoke --json = %+v", revoked)
		}
		_, err = second.Carriers(ctx)
		wantAPIError(t, err, 401, admin.CodeKeyInvalid, "revoked")
		var keys []struct {
			KeyID     string
			Name      string
			RevokedAt *time.Time
		}
		s.cliJSON(t, &keys, "admin", "apikey", "list", "--json")
		if len(keys) != 2 || keys[0].KeyID != s.keyID || keys[0].RevokedAt != nil || keys[1].RevokedAt == nil {
			t.Errorf("admin apikey list --json = %+v", keys)
		}
		if code, _, stderr := s.cliResult("admin", "apikey", "revoke", "key_missing"); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("revoke of an unknown key: exit %d, %s", code, stderr)
		}
		if code, _, _ := s.cliResult("admin", "apikey", "create"); code != 2 {
			t.Errorf("create without --name: exit %d, want 2 (a usage error)", code)
		}
	})
}

// rawAdmin sends a request with the key and returns the status and body.
func (s *adminServer) rawAdmin(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.api.Key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestAdminBadRequests(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		cred, err := s.api.CreateCarrier(context.Background(), client.CarrierParams{Name: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		car := "/admin/v1/carriers/" + cred.CarrierID
		tests := []struct {
			name, method, path, ctype, body string
			status, code                    int
			words                           []string
		}{
			{"bad JSON", "POST", "/admin/v1/carriers", "application/json", `{"name":`, 400, admin.CodeInvalidParam, []string{"JSON"}},
			{"not JSON", "POST", "/admin/v1/carriers", "application/json", `name=x`, 400, admin.CodeInvalidParam, []string{"JSON"}},
			{"unknown field", "POST", "/admin/v1/carriers", "application/json", `{"name":"B","colour":1}`, 400, admin.CodeInvalidParam, []string{"colour"}},
			{"wrong type", "PATCH", car, "application/json", `{"whitelisted":"yes"}`, 400, admin.CodeInvalidParam, []string{"whitelisted", "boolean"}},
			{"trailing data", "POST", "/admin/v1/carriers", "application/json", `{"name":"B"} {}`, 400, admin.CodeInvalidParam, []string{"after"}},
			{"missing name", "POST", "/admin/v1/carriers", "application/json", `{}`, 400, admin.CodeInvalidParam, []string{"name"}},
			{"duplicate name", "POST", "/admin/v1/carriers", "application/json", `{"name":"Acme"}`, 409, admin.CodeConflict, []string{"Acme"}},
			{"bad zone", "PATCH", car, "application/json", `{"timeZone":"Mars/Base"}`, 400, admin.CodeInvalidParam, []string{"Mars/Base"}},
			{"empty patch", "PATCH", car, "application/json", `{}`, 400, admin.CodeInvalidParam, []string{"whitelisted"}},
			{"unknown carrier", "GET", "/admin/v1/carriers/car_missing", "", "", 404, admin.CodeNotFound, []string{"car_missing"}},
			{"unknown client", "POST", "/admin/v1/clients/cli_missing/rotate", "", "", 404, admin.CodeNotFound, []string{"cli_missing"}},
			{"unknown buyer", "POST", "/admin/v1/buyers/buy_missing/rotate", "", "", 404, admin.CodeNotFound, nil},
			{"bad cap", "POST", "/admin/v1/buyers", "application/json", `{"name":"B","rejectCap":"lots"}`, 400, admin.CodeInvalidParam, []string{"rejectCap"}},
			{"unknown risk client", "GET", "/admin/v1/risk-clients/nope", "", "", 404, admin.CodeNotFound, nil},
			{"bad expiry", "POST", "/admin/v1/risk-clients", "application/json", `{"name":"R","expiresAt":"soon"}`, 400, admin.CodeInvalidParam, []string{"expiresAt"}},
			{"unknown batch", "GET", "/admin/v1/batches/20250101_1", "", "", 404, admin.CodeNotFound, nil},
			{"bad page size", "GET", "/admin/v1/batches?limit=0", "", "", 400, admin.CodeInvalidParam, []string{"limit"}},
			{"bad adjustment id", "GET", "/admin/v1/adjustments/xyz", "", "", 400, admin.CodeInvalidParam, []string{"UUID"}},
			{"unknown adjustment", "POST", "/admin/v1/adjustments/0b8f9a5e-2c1d-4e3f-9a8b-7c6d5e4f3a2b/confirm", "", "", 404, admin.CodeNotFound, nil},
			{"unknown import", "GET", "/admin/v1/imports/imp_missing", "", "", 404, admin.CodeNotFound, []string{"imp_missing"}},
			{"import without carrier", "POST", "/admin/v1/imports/orders", "text/csv", "a\n", 400, admin.CodeInvalidParam, []string{"carrierId"}},
			{"import of unknown carrier", "POST", "/admin/v1/imports/orders?carrierId=car_missing", "text/csv", "a\n", 404, admin.CodeNotFound, nil},
			{"import of another type", "POST", "/admin/v1/imports/orders?carrierId=" + cred.CarrierID, "application/pdf", "%PDF", 400, admin.CodeInvalidParam, []string{"Content-Type"}},
			{"import with a wrong header", "POST", "/admin/v1/imports/orders?carrierId=" + cred.CarrierID, "text/csv", "id,price\n1,2\n", 400, admin.CodeInvalidParam, []string{"carrierOrderId"}},
			{"multipart without file", "POST", "/admin/v1/imports/risk", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XX--\r\n", 400, admin.CodeInvalidParam, []string{"file"}},
			{"multipart cut short", "POST", "/admin/v1/imports/risk", "multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\n\r\nmobile_no", 400, admin.CodeInvalidParam, nil},
			{"bad replace", "POST", "/admin/v1/imports/risk?replace=maybe", "text/csv", "a\n", 400, admin.CodeInvalidParam, []string{"replace"}},
			{"unknown path", "GET", "/admin/v1/nothing", "", "", 404, admin.CodeNotFound, nil},
			{"wrong method", "DELETE", "/admin/v1/carriers", "", "", 405, admin.CodeMethod, []string{"GET or POST"}},
		}
		for _, tt := range tests {
			status, body := s.rawAdmin(t, tt.method, tt.path, tt.ctype, tt.body)
			var e struct {
				Code int
				Msg  string
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || status != tt.status || e.Code != tt.code {
				t.Errorf("%s: HTTP %d %s; want HTTP %d code %d", tt.name, status, body, tt.status, tt.code)
				continue
			}
			for _, w := range tt.words {
				if !strings.Contains(e.Msg, w) {
					t.Errorf("%s: msg %q does not mention %q", tt.name, e.Msg, w)
				}
			}
		}
		// An oversized body is refused with nothing written.
		big := strings.Repeat("x", 2<<20)
		status, body := s.rawAdmin(t, "POST", "/admin/v1/imports/risk", "text/csv", big)
		if status != 413 || !strings.Contains(body, `"code":41301`) {
			t.Errorf("oversized import: HTTP %d %s; want 413", status, body)
		}
		status, body = s.rawAdmin(t, "POST", "/admin/v1/carriers", "application/json", `{"name":"`+big+`"}`)
		if status != 413 {
			t.Errorf("oversized JSON body: HTTP %d %.200s; want 413", status, body)
		}
		if list, err := s.api.Imports(context.Background(), 0); err != nil || len(list) != 0 {
			t.Errorf("imports after refused bodies = %+v, %v; want none", list, err)
		}
		if list, err := s.api.Carriers(context.Background()); err != nil || len(list) != 1 {
			t.Errorf("carriers after refused bodies = %d, %v; want 1", len(list), err)
		}
	})
}

func TestAdminCarriersAndBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		ctx := context.Background()
		cred, err := s.api.CreateCarrier(ctx, client.CarrierParams{Name: "Acme Mobile", TimeZone: "Asia/Shanghai"})
		if err != nil || cred.ClientSecret == "" || cred.UserID == "" {
			t.Fatalf("CreateCarrier = %+v, %v", cred, err)
		}
		on, zone := true, "UTC"
		c, err := s.api.UpdateCarrier(ctx, cred.CarrierID, client.CarrierUpdate{Whitelisted: &on, TimeZone: &zone})
		if err != nil || !c.Whitelisted || c.TimeZone != "UTC" {
			t.Fatalf("UpdateCarrier = %+v, %v", c, err)
		}
		second, err := s.api.CreateClient(ctx, cred.CarrierID)
		if err != nil || second.ClientSecret == "" || second.ClientID == cred.ClientID {
			t.Fatalf("CreateClient = %+v, %v", second, err)
		}
		rotated, err := s.api.RotateClient(ctx, second.ClientID)
		if err != nil || rotated.ClientSecret == second.ClientSecret {
			t.Fatalf("RotateClient = %+v, %v", rotated, err)
		}
		if _, err := s.api.RevokeClient(ctx, second.ClientID); err != nil {
			t.Fatalf("RevokeClient: %v", err)
		}
		clients, err := s.api.Clients(ctx, cred.CarrierID)
		if err != nil || len(clients) != 2 || clients[0].RevokedAt != nil || clients[1].RevokedAt == nil {
			t.Fatalf("Clients = %+v, %v", clients, err)
		}
		old := s.client(auth.Credentials{CarrierID: trueup.CarrierID(cred.CarrierID), UserID: cred.UserID, ClientID: trueup.ClientID(second.ClientID), ClientSecret: rotated.ClientSecret})
		if _, err := old.Token(ctx); err == nil {
			t.Error("a revoked client still gets tokens")
		}

		// The ledger comes in through the admin API; a statement checked
		// against it is read back through the admin API.
		spec := gen.Spec{Orders: 120, Cycle: lastCycle(), Seed: 5, MissingEvery: 9, ExtraEvery: 11, RightsEvery: 13, AmountEvery: 7}
		var ledgerCSV, stmt bytes.Buffer
		if err := spec.WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		im, err := s.api.ImportOrders(ctx, cred.CarrierID, client.ImportBody{Body: bytes.NewReader(ledgerCSV.Bytes()), ContentType: "text/csv"})
		if err != nil || im.State != client.ImportRunning || im.Kind != "orders" || im.Target != cred.CarrierID {
			t.Fatalf("ImportOrders = %+v, %v", im, err)
		}
		if done := s.waitImport(t, im); done.State != client.ImportSucceeded || done.Imported != 120 || done.RowsRead != 120 || done.FinishedAt == nil {
			t.Fatalf("import = %+v; want succeeded with 120 orders", done)
		}
		if err := spec.WriteCSV(&stmt); err != nil {
			t.Fatal(err)
		}
		api := s.client(auth.Credentials{CarrierID: trueup.CarrierID(cred.CarrierID), UserID: cred.UserID, ClientID: trueup.ClientID(cred.ClientID), ClientSecret: cred.ClientSecret})
		no := verifyUpload(t, api, spec.Cycle.String(), "statement.csv", stmt.Bytes())
		waitSucceeded(t, api, no)
		batches, err := s.api.Batches(ctx, "", 0)
		if err != nil || len(batches) != 1 || batches[0].No != no {
			t.Fatalf("Batches = %+v, %v", batches, err)
		}
		st, err := s.api.Batch(ctx, string(no))
		want := spec.Expected()
		if err != nil || st.Batch.Counts != want || st.RowErrors == nil {
			t.Fatalf("Batch = %+v, %v; want counts %+v", st, err, want)
		}
		// On the wire, the counts are an object with every kind's number,
		// the seed's four first (a kind added later follows them).
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.api.BaseURL+client.PathAdmin+"batches/"+string(no), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+s.api.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		wantJSON := fmt.Sprintf(`"counts":{"1":%d,"2":%d,"3":%d,"4":%d`, want[trueup.DiffMissingOnCarrier], want[trueup.DiffMissingOnPlatform], want[trueup.DiffRights], want[trueup.DiffAmount])
		if err != nil || !strings.Contains(string(raw), wantJSON) {
			t.Errorf("admin batch %s (%v) lacks %s", raw, err, wantJSON)
		}
		var all []trueup.Discrepancy
		cursor := ""
		for pages := 0; ; pages++ {
			page, err := s.api.Discrepancies(ctx, string(no), 7, cursor)
			if err != nil || page.Total != want.Total() || pages > 100 {
				t.Fatalf("Discrepancies page %d = %+v, %v", pages, page.Total, err)
			}
			all = append(all, page.Discrepancies...)
			if cursor = page.NextPageCursor; cursor == "" {
				break
			}
		}
		seen := map[string]bool{}
		for _, d := range all {
			key := d.CarrierOrderID + "/" + d.KdOrderID + "/" + d.DiffReason
			if seen[key] {
				t.Errorf("discrepancy %s appears twice across pages", key)
			}
			seen[key] = true
		}
		if int64(len(all)) != want.Total() {
			t.Errorf("walked %d discrepancies, want %d", len(all), want.Total())
		}
		_, err = s.api.Discrepancies(ctx, string(no), 7, "bm90LWEtY3Vyc29y")
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "pageCursor")
		csv, err := s.api.Export(ctx, string(no), client.ExportCSV)
		if err != nil || bytes.Count(csv, []byte("\n")) != int(want.Total())+1 {
			t.Errorf("Export csv: %d lines, %v; want %d", bytes.Count(csv, []byte("\n")), err, want.Total()+1)
		}
		xlsx, err := s.api.Export(ctx, string(no), client.ExportXLSX)
		if err != nil || !bytes.HasPrefix(xlsx, []byte("PK")) {
			t.Errorf("Export xlsx: %d bytes, %v", len(xlsx), err)
		}
		if events, err := s.api.PackageEvents(ctx, cred.CarrierID, "", 0); err != nil || events == nil || len(events) != 0 {
			t.Errorf("PackageEvents before any notice = %+v, %v; want an empty list", events, err)
		}
		o := spec.Order(0)
		if _, err := api.NotifyPackageExpire(ctx, client.NotifyPackageExpireParams{CarrierUserID: o.CarrierUserID, Type: 1, PackageID: o.KdPackageID}); err != nil {
			t.Fatalf("NotifyPackageExpire: %v", err)
		}
		events, err := s.api.PackageEvents(ctx, cred.CarrierID, o.CarrierUserID, 10)
		if err != nil || len(events) != 1 || events[0].PackageID != o.KdPackageID || events[0].Type != 1 || events[0].CarrierID != cred.CarrierID {
			t.Errorf("PackageEvents = %+v, %v; want the one notice", events, err)
		}
		_, err = s.api.PackageEvents(ctx, "car_missing", "", 0)
		wantAPIError(t, err, 404, admin.CodeNotFound)

		// Bad rows: the import fails with every row named, nothing stored.
		bad := "carrierOrderId,billingCycle,kdOrderId,carrierUserId,kdUserId,skuCode,kdPackageId,kdActiveTime,kdEndTime,kdOrderTime,kdSaleTotal\n" +
			"N1," + spec.Cycle.String() + ",K1,U1,KU1,SKU,P1,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,1.00\n" +
			"N2," + spec.Cycle.String() + ",K2,U2,KU2,SKU,P2,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,lots\n" +
			"N3,2025-13,K3,U3,KU3,SKU,P3,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z,2025-01-01T00:00:00Z,1.00\n"
		im, err = s.api.ImportOrders(ctx, cred.CarrierID, client.ImportBody{Body: strings.NewReader(bad), FileName: "orders.csv"})
		if err != nil {
			t.Fatalf("ImportOrders (multipart): %v", err)
		}
		done := s.waitImport(t, im)
		if done.State != client.ImportFailed || done.ErrorCount != 2 || len(done.RowErrors) != 2 || done.Imported != 0 || done.FileName != "orders.csv" ||
			done.RowErrors[0].Row != 3 || done.RowErrors[0].Column != "kdSaleTotal" || done.RowErrors[1].Row != 4 || !strings.Contains(done.Reason, "2 row error") {
			t.Fatalf("import of bad rows = %+v", done)
		}
		// The CLI reports the same row errors for the same file.
		badPath := filepath.Join(t.TempDir(), "orders.csv")
		if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, _ := s.cliResult("import", "orders", "--carrier", cred.CarrierID, "--json", badPath)
		var cli struct {
			ErrorCount int
			Errors     []trueup.RowError
		}
		if err := json.Unmarshal([]byte(out), &cli); code != 1 || err != nil || cli.ErrorCount != done.ErrorCount || !reflect.DeepEqual(cli.Errors, done.RowErrors) {
			t.Errorf("CLI import of the same file: exit %d, %+v (%v); the admin API reported %+v", code, cli, err, done.RowErrors)
		}
		if n, err := s.store.CountOrders(ctx, trueup.CarrierID(cred.CarrierID), spec.Cycle.String()); err != nil || n != 120 {
			t.Errorf("orders after the refused import = %d, %v; want 120", n, err)
		}
		list, err := s.api.Imports(ctx, 0)
		if err != nil || len(list) != 2 || list[0].ImportID != im.ImportID {
			t.Errorf("Imports = %+v, %v", list, err)
		}
	})
}

func TestAdminBuyersRiskAndAdjustments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		ctx := context.Background()
		b, err := s.api.CreateBuyer(ctx, client.BuyerParams{Name: "Acme Research", RejectCap: "70"})
		if err != nil || b.AccessToken == "" || b.RejectCap == nil || b.RejectCap.String() != "70" {
			t.Fatalf("CreateBuyer = %+v, %v", b, err)
		}
		if got, err := s.api.SetRejectCap(ctx, b.BuyerID, ""); err != nil || got.RejectCap != nil {
			t.Fatalf("SetRejectCap(none) = %+v, %v", got, err)
		}
		rot, err := s.api.RotateBuyer(ctx, b.BuyerID)
		if err != nil || rot.AccessToken == "" || rot.AccessToken == b.AccessToken {
			t.Fatalf("RotateBuyer = %+v, %v", rot, err)
		}
		if list, err := s.api.Buyers(ctx); err != nil || len(list) != 1 || list[0].AccessToken != "" {
			t.Fatalf("Buyers = %+v, %v", list, err)
		}
		tx := `{"transaction_id":"t1","survey_id":1108416,"status":21}` + "\n" + `{"transaction_id":"t2","survey_id":1108416,"status":21}` + "\n"
		im, err := s.api.ImportTransactions(ctx, b.BuyerID, client.ImportBody{Body: strings.NewReader(tx), ContentType: "application/x-ndjson"})
		if err != nil {
			t.Fatalf("ImportTransactions: %v", err)
		}
		if done := s.waitImport(t, im); done.State != client.ImportSucceeded || done.Imported != 2 {
			t.Fatalf("transactions import = %+v", done)
		}
		badTx := `{"transaction_id":"t3","survey_id":"x","status":21}` + "\n"
		im, err = s.api.ImportTransactions(ctx, b.BuyerID, client.ImportBody{Body: strings.NewReader(badTx), FileName: "tx.jsonl"})
		if err != nil {
			t.Fatalf("ImportTransactions: %v", err)
		}
		if done := s.waitImport(t, im); done.State != client.ImportFailed || done.ErrorCount != 1 || done.RowErrors[0].Column != "survey_id" {
			t.Fatalf("bad transactions import = %+v", done)
		}

		// Adjustments launched by an operator are shown, cancelled and
		// confirmed through the admin API.
		dir := t.TempDir()
		listPath := filepath.Join(dir, "list.csv")
		if err := os.WriteFile(listPath, []byte("transaction_id,change_reason\nt1,Ghost Completes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		launch := func() string {
			var a struct {
				ID string `json:"adjustment_id"`
			}
			s.cliJSON(t, &a, "adjustments", "launch", "--buyer", b.BuyerID, "--survey", "1108416", "--json", listPath)
			return a.ID
		}
		first := launch()
		got, err := s.api.Adjustment(ctx, first)
		if err != nil || got.AdjustmentID != first || got.Status != 1 || got.StatusDescription != "Pending" || got.Items != 1 {
			t.Fatalf("Adjustment = %+v, %v", got, err)
		}
		if got, err = s.api.CancelAdjustment(ctx, first); err != nil || got.Status != 2 {
			t.Fatalf("CancelAdjustment = %+v, %v", got, err)
		}
		_, err = s.api.ConfirmAdjustment(ctx, first)
		wantAPIError(t, err, 409, admin.CodeConflict)
		second := launch()
		if got, err = s.api.ConfirmAdjustment(ctx, second); err != nil || got.Status == 1 || got.Status == 2 {
			t.Fatalf("ConfirmAdjustment = %+v, %v; want it past Pending", got, err)
		}

		// Risk clients and the risk list.
		quota := int64(100)
		rc, err := s.api.CreateRiskClient(ctx, client.RiskClientParams{Name: "Lender", Quota: &quota})
		if err != nil || rc.APISecret == "" || rc.State != "active" || rc.Quota != 100 {
			t.Fatalf("CreateRiskClient = %+v, %v", rc, err)
		}
		rate := int64(5)
		exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		up, err := s.api.UpdateRiskClient(ctx, rc.APIID, client.RiskClientParams{Rate: &rate, ExpiresAt: &exp})
		if err != nil || up.Rate != 5 || up.Quota != 100 || up.ExpiresAt == nil || !up.ExpiresAt.Equal(exp) || up.APISecret != "" {
			t.Fatalf("UpdateRiskClient = %+v, %v", up, err)
		}
		if up, err = s.api.UpdateRiskClient(ctx, rc.APIID, client.RiskClientParams{NoExpiry: true}); err != nil || up.ExpiresAt != nil {
			t.Fatalf("UpdateRiskClient(no expiry) = %+v, %v", up, err)
		}
		rot2, err := s.api.RotateRiskClient(ctx, rc.APIID)
		if err != nil || rot2.APISecret == "" || rot2.APISecret == rc.APISecret {
			t.Fatalf("RotateRiskClient = %+v, %v", rot2, err)
		}
		if _, err := s.api.RevokeRiskClient(ctx, rc.APIID); err != nil {
			t.Fatalf("RevokeRiskClient: %v", err)
		}
		if got, err := s.api.RiskClient(ctx, rc.APIID); err != nil || got.State != "revoked" {
			t.Fatalf("RiskClient after revoke = %+v, %v", got, err)
		}
		if list, err := s.api.RiskClients(ctx); err != nil || len(list) != 1 {
			t.Fatalf("RiskClients = %+v, %v", list, err)
		}
		records := "mobile_no,day,source,cid,duration,level\n915586685366,2026-01-05,seat,c1,30,5\n915586685367,2026-01-06,sms,c2,,4\n"
		im, err = s.api.ImportRisk(ctx, false, client.ImportBody{Body: strings.NewReader(records), ContentType: "text/csv"})
		if err != nil {
			t.Fatalf("ImportRisk: %v", err)
		}
		if done := s.waitImport(t, im); done.State != client.ImportSucceeded || done.Imported != 2 || done.Kind != "risk" {
			t.Fatalf("risk import = %+v", done)
		}
		badRecords := "mobile_no,day,source,cid,duration,level\n915586685366,2026-01-05,fax,c1,30,5\n915586685366,2026-02-30,seat,c1,30,9\n"
		im, err = s.api.ImportRisk(ctx, true, client.ImportBody{Body: strings.NewReader(badRecords), ContentType: "text/csv"})
		if err != nil {
			t.Fatalf("ImportRisk: %v", err)
		}
		if done := s.waitImport(t, im); done.State != client.ImportFailed || done.ErrorCount < 2 || done.RowErrors[0].Row != 2 {
			t.Fatalf("bad risk import = %+v", done)
		}
		if st, err := s.store.RiskStore().RiskList(ctx); err != nil || st.Records != 2 {
			t.Errorf("risk list after the refused replace = %+v, %v; want the 2 records kept", st, err)
		}
	})
}
