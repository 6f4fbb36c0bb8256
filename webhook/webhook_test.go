package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/webhook"
)

// TestSign checks the signature against the Standard Webhooks
// specification's example, and Verify against it.
func TestSign(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	ts := time.Unix(1614265330, 0)
	got, err := webhook.Sign(secret, id, ts, []byte(body))
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,bm90LXRoaXM= "+want)
	tests := []struct {
		name string
		edit func(h http.Header) ([]byte, time.Time)
		want error
	}{
		{"valid, second signature", func(http.Header) ([]byte, time.Time) { return []byte(body), ts.Add(time.Minute) }, nil},
		{"body changed", func(http.Header) ([]byte, time.Time) { return []byte(body + " "), ts }, webhook.ErrSignature},
		{"too old", func(http.Header) ([]byte, time.Time) { return []byte(body), ts.Add(10 * time.Minute) }, webhook.ErrTimestamp},
		{"id changed", func(h http.Header) ([]byte, time.Time) { h.Set("webhook-id", "msg_other"); return []byte(body), ts }, webhook.ErrSignature},
		{"no signature", func(h http.Header) ([]byte, time.Time) { h.Del("webhook-signature"); return []byte(body), ts }, webhook.ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hh := h.Clone()
			b, now := tt.edit(hh)
			if err := webhook.Verify(secret, hh, b, now, 5*time.Minute); err != tt.want {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestSchedule checks the retry schedule: 30 s doubling to 4 h, for a day.
func TestSchedule(t *testing.T) {
	s := &webhook.Service{}
	var total time.Duration
	for n := 1; n < s.MaxAttempts(); n++ {
		total += s.Backoff(n)
	}
	if s.Backoff(1) != 30*time.Second || s.Backoff(2) != time.Minute || s.Backoff(10) != 4*time.Hour || s.Backoff(40) != 4*time.Hour {
		t.Errorf("Backoff(1, 2, 10, 40) = %s %s %s %s", s.Backoff(1), s.Backoff(2), s.Backoff(10), s.Backoff(40))
	}
	if s.MaxAttempts() != 15 || total < 24*time.Hour || total > 25*time.Hour {
		t.Errorf("MaxAttempts = %d over %s; want 15 over a day", s.MaxAttempts(), total)
	}
}

// TestDeliverOutcomes posts to a real receiver for each way an attempt
// ends and checks the attempt logged.
func TestDeliverOutcomes(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := webhook.New(store, nil)
	svc.Clock = testclock.At(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	svc.Timeout, svc.MaxResponseBytes = 300*time.Millisecond, 1024
	svc.AllowPrivate = true // the receiver is on this host
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte(strings.Repeat("x", 1<<20)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // then the server notices the client leave
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	tests := []struct {
		path      string
		status    int
		state     string
		errSubstr string
	}{
		{"/ok", 204, webhook.StateSucceeded, ""},
		{"/redirect", 302, webhook.StatePending, "redirect not followed"},
		{"/big", 502, webhook.StatePending, "status 502: " + strings.Repeat("x", 200)},
		{"/slow", 0, webhook.StatePending, "no answer within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			sub, err := svc.Create(ctx, webhook.CreateParams{URL: srv.URL + tt.path, EventTypes: []string{trueup.EventBatchFailed}})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.Record(ctx, trueup.Event{Type: trueup.EventBatchFailed, CarrierID: "car_1", Subject: "b1"}); err != nil {
				t.Fatal(err)
			}
			list, err := svc.Deliveries(ctx, sub.ID, 1)
			if err != nil || len(list) != 1 {
				t.Fatalf("Deliveries = %v, %v", list, err)
			}
			args, _ := json.Marshal(map[string]string{"deliveryId": string(list[0].ID)})
			err = svc.Deliver(ctx, trueup.Job{Kind: webhook.JobKind, Args: string(args)})
			if (err == nil) != (tt.errSubstr == "") {
				t.Errorf("Deliver = %v", err)
			}
			d, err := svc.Delivery(ctx, list[0].ID)
			if err != nil || len(d.Log) != 1 {
				t.Fatalf("Delivery = %+v, %v", d, err)
			}
			a := d.Log[0]
			if d.State != tt.state || a.StatusCode != tt.status || !strings.Contains(a.Error, tt.errSubstr) || len(a.Error) > 300 {
				t.Errorf("delivery %s, attempt %+v; want %s, status %d, error with %q", d.State, a, tt.state, tt.status, tt.errSubstr)
			}
			// Deleted, the subscription gets nothing more.
			if _, err := svc.Delete(ctx, sub.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestType checks the webhook type of events: an adjustment's status is
// typed by its name.
func TestType(t *testing.T) {
	tests := []struct {
		e    trueup.Event
		want string
	}{
		{trueup.Event{Type: trueup.EventBatchSucceeded}, "batch.succeeded"},
		{trueup.Event{Type: trueup.EventAdjustmentStatus, Data: map[string]any{"status": 6, "statusName": "success"}}, "adjustment.success"},
		{trueup.Event{Type: trueup.EventAdjustmentStatus}, "adjustment.status"},
	}
	for _, tt := range tests {
		if got := webhook.Type(tt.e); got != tt.want {
			t.Errorf("Type(%+v) = %q, want %q", tt.e, got, tt.want)
		}
	}
}
