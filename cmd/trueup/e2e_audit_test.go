package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/webhook"
)

// receiver is a webhook receiving server: it verifies each message's
// signature the Standard Webhooks way and answers the status of its
// script, 200 once the script is used up.
type receiver struct {
	srv *httptest.Server
	now func() time.Time // the server's clock

	mu      sync.Mutex
	secret  string
	script  []int // statuses to answer, in turn
	got     []received
	badSigs int
}

// received is one message as the receiver read it.
type received struct {
	id      string
	payload webhook.Payload
}

func newReceiver(tb testing.TB, now func() time.Time) *receiver {
	tb.Helper()
	r := &receiver{now: now}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhook.Verify(r.secret, req.Header, body, r.now(), 5*time.Minute); err != nil {
			r.badSigs++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), payload: p})
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		w.WriteHeader(status)
		io.WriteString(w, "receiver says hello")
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) messages() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// pollUntil calls cond until it returns true, failing the test after 60 s.
func pollUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EAuditAndWebhooks takes an upload through the real server: the
// audit chain holds its entries with their actors and verifies, tampering
// in SQL is named by `trueup audit verify`; a webhook subscription gets
// batch.succeeded, signed, retried after 500s with backoff on the settable
// clock, logged with its codes, and redelivered on request.
func TestE2EAuditAndWebhooks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		clk := clock.At(time.Now().UTC().Truncate(time.Second))
		s := startE2E(t, eng, ServeConfig{Clock: clk, MaxUploadBytes: 1 << 20, WebhookAllowPrivate: true})
		var k struct{ KeyID, Key string }
		s.cliJSON(t, &k, "admin", "apikey", "create", "--name", "ops", "--json")
		adminAPI := client.NewAdminClient(s.base, k.Key, s.http)
		var cred auth.Credentials
		s.cliJSON(t, &cred, "admin", "carrier", "create", "--name", "Hooked Mobile", "--json")
		api := client.New(s.base, client.WithHTTPClient(s.http), client.WithClock(clk.Now),
			client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))

		rcv := newReceiver(t, clk.Now)
		rcv.script = []int{http.StatusInternalServerError, http.StatusInternalServerError}
		sub, err := adminAPI.CreateWebhook(ctx, client.WebhookParams{CarrierID: string(cred.CarrierID), URL: rcv.srv.URL + "/hooks", EventTypes: []string{trueup.EventBatchSucceeded}})
		if err != nil || !strings.HasPrefix(sub.Secret, webhook.SecretPrefix) {
			t.Fatalf("CreateWebhook = %+v, %v", sub, err)
		}
		rcv.mu.Lock()
		rcv.secret = sub.Secret
		rcv.mu.Unlock()
		if _, err := adminAPI.CreateWebhook(ctx, client.WebhookParams{URL: "mailto:ops@example.com", EventTypes: []string{trueup.EventBatchSucceeded}}); err == nil {
			t.Errorf("a mailto: URL was accepted")
		} else {
			wantAPIError(t, err, http.StatusBadRequest, 40001, "http")
		}

		spec := gen.Spec{Orders: 30, Cycle: trueup.CycleOf(clk.Now()).Prev(), Seed: 3, MissingEvery: 7, AmountEvery: 5}
		seedLedger(t, s.store, cred.CarrierID, spec)
		var stmt bytes.Buffer
		if err := spec.WriteCSV(&stmt); err != nil {
			t.Fatal(err)
		}
		no := verifyUpload(t, api, spec.Cycle.String(), "statement.csv", stmt.Bytes())
		waitSucceeded(t, api, no)

		t.Run("audit entries", func(t *testing.T) {
			// The outcome is appended just after the batch's state
			// commits: the status can be read a moment before.
			var page client.AuditPage
			pollUntil(t, "the batch.succeeded entry", func() bool {
				var err error
				if page, err = adminAPI.AuditEntries(ctx, 0, 0); err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Entries {
					if e.Type == trueup.EventBatchSucceeded {
						return true
					}
				}
				return false
			})
			byType := map[string]client.AuditEntry{}
			for i, e := range page.Entries {
				if e.Seq != int64(i+1) {
					t.Errorf("entry %d has seq %d", i+1, e.Seq)
				}
				byType[e.Type] = e
			}
			for _, want := range []struct {
				typ, actor, subject string
			}{
				{trueup.EventAPIKeyCreated, "cli", k.KeyID},
				{trueup.EventPartnerChanged, "cli", string(cred.CarrierID)},
				{trueup.EventCredentialIssued, "cli", string(cred.ClientID)},
				{trueup.EventWebhookChanged, "apikey:" + k.KeyID, sub.ID},
				{trueup.EventBatchUploaded, "client:" + string(cred.ClientID), string(no)},
				{trueup.EventBatchSucceeded, "system", string(no)},
			} {
				e, ok := byType[want.typ]
				if !ok {
					t.Errorf("no %s entry in %+v", want.typ, page.Entries)
					continue
				}
				if e.Actor != want.actor || e.Subject != want.subject {
					t.Errorf("%s entry: actor %q subject %q, want %q %q", want.typ, e.Actor, e.Subject, want.actor, want.subject)
				}
			}
			if e := byType[trueup.EventBatchSucceeded]; e.CarrierID != string(cred.CarrierID) || !strings.Contains(string(e.Data), `"batchNo":"`+string(no)+`"`) {
				t.Errorf("batch.succeeded entry = %+v", e)
			}
			// Keyset paging: two at a time, the same entries.
			var paged []client.AuditEntry
			after := int64(0)
			for range 100 {
				p, err := adminAPI.AuditEntries(ctx, after, 2)
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, p.Entries...)
				if p.Next == nil {
					break
				}
				after = *p.Next
			}
			if len(paged) < len(page.Entries) {
				t.Errorf("paging by 2 read %d entries, want at least %d", len(paged), len(page.Entries))
			}
		})

		var delivery client.WebhookDelivery
		deliveries := func(t *testing.T) []client.WebhookDelivery {
			t.Helper()
			list, err := adminAPI.WebhookDeliveries(ctx, sub.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		t.Run("webhook retried", func(t *testing.T) {
			// Each 500 makes the delivery wait 30 s, then 60 s, on the
			// server's clock: the test moves the clock past each wait.
			for attempt, wait := range []time.Duration{0, time.Minute, 2 * time.Minute} {
				clk.Advance(wait)
				pollUntil(t, "delivery attempt", func() bool {
					list := deliveries(t)
					return len(list) == 1 && list[0].Attempts == attempt+1
				})
			}
			pollUntil(t, "delivery succeeded", func() bool { return deliveries(t)[0].State == webhook.StateSucceeded })
			delivery = deliveries(t)[0]
			var codes []int
			for _, a := range delivery.Log {
				codes = append(codes, a.StatusCode)
			}
			if len(codes) != 3 || codes[0] != 500 || codes[1] != 500 || codes[2] != 200 || delivery.LastStatus != 200 {
				t.Errorf("attempt codes %v, last %d; want 500, 500, 200", codes, delivery.LastStatus)
			}
			if e := delivery.Log[0].Error; !strings.Contains(e, "status 500") || !strings.Contains(e, "receiver says hello") {
				t.Errorf("first attempt's error %q; want the status and the body's start", e)
			}
			got := rcv.messages()
			if len(got) != 3 || rcv.badSigs != 0 {
				t.Fatalf("receiver got %d verified messages and %d bad signatures; want 3 and 0", len(got), rcv.badSigs)
			}
			for _, m := range got {
				if m.id != delivery.ID || m.payload.Type != trueup.EventBatchSucceeded || m.payload.Data["batchNo"] != string(no) || m.payload.Data["carrierId"] != string(cred.CarrierID) {
					t.Errorf("message %s = %+v; want batch.succeeded of %s with webhook-id %s", m.id, m.payload, no, delivery.ID)
				}
			}
		})

		t.Run("redeliver", func(t *testing.T) {
			d, err := adminAPI.RedeliverWebhook(ctx, delivery.ID)
			// Pending, unless a worker was quicker than the answer.
			if err != nil || (d.State != webhook.StatePending && d.Attempts != 4) {
				t.Fatalf("RedeliverWebhook = %+v, %v", d, err)
			}
			pollUntil(t, "redelivery", func() bool {
				d := deliveries(t)[0]
				return d.State == webhook.StateSucceeded && d.Attempts == 4
			})
			if got := rcv.messages(); len(got) != 4 || got[3].id != delivery.ID {
				t.Errorf("receiver got %d messages; want a 4th with webhook-id %s", len(got), delivery.ID)
			}
			_, err = adminAPI.RedeliverWebhook(ctx, "msg_nobody")
			wantAPIError(t, err, http.StatusNotFound, 40401, "msg_nobody")
			var list []webhook.Delivery
			s.cliJSON(t, &list, "webhooks", "deliveries", sub.ID, "--json")
			if len(list) != 1 || len(list[0].Log) != 4 || list[0].Log[3].StatusCode != 200 {
				t.Errorf("webhooks deliveries --json = %+v", list)
			}
			if d, err := adminAPI.WebhookDelivery(ctx, delivery.ID); err != nil || d.ID != delivery.ID || len(d.Log) != 4 {
				t.Errorf("WebhookDelivery = %+v, %v", d, err)
			}
		})

		t.Run("subscriptions", func(t *testing.T) {
			all, err := adminAPI.Webhooks(ctx)
			if err != nil || len(all) != 1 || all[0].ID != sub.ID || all[0].Secret != "" {
				t.Fatalf("Webhooks = %+v, %v; want the one subscription, its secret not shown again", all, err)
			}
			if got, err := adminAPI.Webhook(ctx, sub.ID); err != nil || got.URL != sub.URL {
				t.Errorf("Webhook = %+v, %v", got, err)
			}
			if _, err := adminAPI.Webhook(ctx, "wh_nobody"); err == nil {
				t.Errorf("Webhook of an unknown id: no error")
			}
			if _, err := adminAPI.DeleteWebhook(ctx, sub.ID); err != nil {
				t.Fatalf("DeleteWebhook: %v", err)
			}
			if list, err := adminAPI.WebhookDeliveries(ctx, sub.ID, 0); err != nil || len(list) != 1 {
				t.Errorf("deliveries of a deleted subscription = %d, %v; want still listed", len(list), err)
			}
			if out := s.cli(t, "webhooks", "list"); !strings.Contains(out, sub.ID) || !strings.Contains(out, rcv.srv.URL) {
				t.Errorf("webhooks list:\n%s", out)
			}
		})

		t.Run("admin actions", func(t *testing.T) {
			// Each admin API change is recorded with its key as the actor
			// (the batch's cases may still be appending theirs: entries are
			// picked by actor after a mark).
			before, err := adminAPI.AuditEntries(ctx, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			mark := before.Entries[len(before.Entries)-1].Seq
			on := true
			if _, err := adminAPI.UpdateCarrier(ctx, string(cred.CarrierID), client.CarrierUpdate{Whitelisted: &on}); err != nil {
				t.Fatal(err)
			}
			extra, err := adminAPI.CreateClient(ctx, string(cred.CarrierID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := adminAPI.RevokeClient(ctx, extra.ClientID); err != nil {
				t.Fatal(err)
			}
			if _, err := adminAPI.CreateBuyer(ctx, client.BuyerParams{Name: "Panel Co"}); err != nil {
				t.Fatal(err)
			}
			var last []client.AuditEntry
			pollUntil(t, "the admin actions' entries", func() bool {
				p, err := adminAPI.AuditEntries(ctx, mark, 1000)
				if err != nil {
					t.Fatal(err)
				}
				last = last[:0]
				for _, e := range p.Entries {
					if e.Actor == "apikey:"+k.KeyID {
						last = append(last, e)
					}
				}
				return len(last) >= 4
			})
			if len(last) != 4 {
				t.Fatalf("entries by the key after %d: %+v; want 4", mark, last)
			}
			want := []struct{ typ, subject, data string }{
				{trueup.EventPartnerChanged, string(cred.CarrierID), `"whitelisted":true`},
				{trueup.EventCredentialIssued, extra.ClientID, `"client.created"`},
				{trueup.EventCredentialRevoked, extra.ClientID, `"client.revoked"`},
				{trueup.EventPartnerChanged, "", `"name":"Panel Co"`},
			}
			for i, w := range want {
				e := last[i]
				if e.Type != w.typ || (w.subject != "" && e.Subject != w.subject) || !strings.Contains(string(e.Data), w.data) {
					t.Errorf("entry %d = %s %s %s by %s; want %s %s with %s by apikey:%s", e.Seq, e.Type, e.Subject, e.Data, e.Actor, w.typ, w.subject, w.data, k.KeyID)
				}
			}
		})

		t.Run("verify and tamper", func(t *testing.T) {
			rep, err := adminAPI.VerifyAudit(ctx)
			if err != nil || !rep.Intact || rep.Entries < 6 {
				t.Fatalf("VerifyAudit = %+v, %v; want intact", rep, err)
			}
			if out := s.cli(t, "audit", "verify"); !strings.Contains(out, "audit chain intact") {
				t.Errorf("audit verify: %s", out)
			}
			var seq int64
			if err := s.store.SQL().QueryRowContext(ctx, `SELECT seq FROM audit_entries WHERE type = 'batch.uploaded'`).Scan(&seq); err != nil {
				t.Fatal(err)
			}
			if _, err := s.store.SQL().ExecContext(ctx, `UPDATE audit_entries SET actor = 'operator:mallory' WHERE type = 'batch.uploaded'`); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := s.cliResult("audit", "verify")
			if code != 1 || !strings.Contains(stderr, "entry "+strconv.FormatInt(seq, 10)) || !strings.Contains(stderr, "changed") {
				t.Errorf("audit verify after tampering: exit %d, stderr %q; want 1 naming entry %d as changed", code, stderr, seq)
			}
			rep, err = adminAPI.VerifyAudit(ctx)
			if err != nil || rep.Intact || rep.Break == nil || rep.Break.Seq != seq || rep.Break.Problem != "changed" {
				t.Errorf("VerifyAudit after tampering = %+v, %v; want entry %d changed", rep, err, seq)
			}
		})
	})
}

// TestE2EAdjustmentWebhooks subscribes the operators (no carrier) to
// adjustment statuses and takes two processes through the CLI and the
// admin API: each status subscribed to is posted, signed, and recorded in
// the audit chain with its actor.
func TestE2EAdjustmentWebhooks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		// The real clock: the CLI's commands queue deliveries due at
		// the real time.
		s := startE2E(t, eng, ServeConfig{WebhookAllowPrivate: true})
		var k struct{ KeyID, Key string }
		s.cliJSON(t, &k, "admin", "apikey", "create", "--name", "ops", "--json")
		adminAPI := client.NewAdminClient(s.base, k.Key, s.http)
		rcv := newReceiver(t, time.Now)
		var sub webhook.Created
		s.cliJSON(t, &sub, "webhooks", "create", "--url", rcv.srv.URL, "--events", "adjustment.pending,adjustment.declined,adjustment.success", "--json")
		if sub.CarrierID != "" || len(sub.EventTypes) != 3 {
			t.Fatalf("webhooks create = %+v", sub)
		}
		rcv.mu.Lock()
		rcv.secret = sub.Secret
		rcv.mu.Unlock()

		b, err := adminAPI.CreateBuyer(ctx, client.BuyerParams{Name: "Panel Co"})
		if err != nil {
			t.Fatal(err)
		}
		tx := `{"transaction_id":"t1","survey_id":1108416,"status":21}` + "\n"
		im, err := adminAPI.ImportTransactions(ctx, b.BuyerID, client.ImportBody{Body: strings.NewReader(tx), ContentType: "application/x-ndjson"})
		if err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "the import", func() bool {
			got, err := adminAPI.Import(ctx, im.ImportID)
			return err == nil && got.State == client.ImportSucceeded
		})
		listPath := filepath.Join(t.TempDir(), "list.csv")
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
		if _, err := adminAPI.CancelAdjustment(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := launch()
		if _, err := adminAPI.ConfirmAdjustment(ctx, second); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "four adjustment webhooks", func() bool { return len(rcv.messages()) >= 4 })
		got := map[string]int{}
		for _, m := range rcv.messages() {
			got[m.payload.Data["adjustmentId"].(string)+" "+m.payload.Type]++
		}
		for _, want := range []string{first + " adjustment.pending", first + " adjustment.declined", second + " adjustment.pending", second + " adjustment.success"} {
			if got[want] != 1 {
				t.Errorf("received %v; want one %s", got, want)
			}
		}
		if len(got) != 4 || rcv.badSigs != 0 {
			t.Errorf("received %v with %d bad signatures; want the four statuses subscribed to, signed", got, rcv.badSigs)
		}
		// The chain holds every status, with who moved it.
		page, err := adminAPI.AuditEntries(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		actors := map[string]string{}
		for _, e := range page.Entries {
			if e.Type == trueup.EventAdjustmentStatus {
				var d struct{ StatusName string }
				json.Unmarshal(e.Data, &d)
				actors[e.Subject+" "+d.StatusName] = e.Actor
			}
		}
		for key, want := range map[string]string{first + " pending": "cli", first + " declined": "apikey:" + k.KeyID,
			second + " in_flight": "apikey:" + k.KeyID, second + " success": "system"} {
			if actors[key] != want {
				t.Errorf("audit actor of %s = %q, want %q (all: %v)", key, actors[key], want, actors)
			}
		}
	})
}
