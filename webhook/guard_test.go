package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/storetest"
	"github.com/trueup/trueup/webhook"
)

// engines open a fresh store of each engine (PostgreSQL only when
// TRUEUP_TEST_POSTGRES_URL is set).
var engines = storetest.Engines()

// TestCheckDialAddress checks which addresses a delivery may connect to.
func TestCheckDialAddress(t *testing.T) {
	tests := []struct {
		addr string
		kind string // "" when allowed
	}{
		{"127.0.0.1:80", "loopback"},
		{"127.9.9.9:443", "loopback"},
		{"[::1]:80", "loopback"},
		{"[::ffff:127.0.0.1]:80", "loopback"},
		{"10.1.2.3:80", "private"},
		{"172.16.0.1:80", "private"},
		{"192.168.1.10:80", "private"},
		{"[fd00::1]:80", "private"},
		{"169.254.169.254:80", "link-local"},
		{"[fe80::1]:80", "link-local"},
		{"0.0.0.0:80", "unspecified"},
		{"[::]:80", "unspecified"},
		{"8.8.8.8:443", ""},
		{"172.32.0.1:443", ""},
		{"[2001:4860:4860::8888]:443", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := webhook.CheckDialAddress("tcp", tt.addr, nil)
			var blocked *webhook.BlockedAddressError
			switch {
			case tt.kind == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.kind != "" && (!errors.As(err, &blocked) || blocked.Kind != tt.kind):
				t.Errorf("= %v, want refused as %s", err, tt.kind)
			case tt.kind != "" && !strings.Contains(err.Error(), "--webhook-allow-private"):
				t.Errorf("message %q does not name --webhook-allow-private", err)
			}
		})
	}
}

// receiver is a local webhook receiver counting what it gets.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []http.Header
	body [][]byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got, r.body = append(r.got, req.Header.Clone()), append(r.body, b)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// deliverOnce records an event for sub's carrier and runs its delivery,
// returning the delivery after the attempt.
func deliverOnce(t *testing.T, svc *webhook.Service, sub webhook.SubscriptionID, subject string) webhook.Delivery {
	t.Helper()
	ctx := context.Background()
	if err := svc.Record(ctx, trueup.Event{Type: trueup.EventBatchFailed, Subject: subject}); err != nil {
		t.Fatal(err)
	}
	list, err := svc.Deliveries(ctx, sub, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("Deliveries = %v, %v", list, err)
	}
	args, _ := json.Marshal(map[string]string{"deliveryId": string(list[0].ID)})
	svc.Deliver(ctx, trueup.Job{Kind: webhook.JobKind, Args: string(args)})
	d, err := svc.Delivery(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDeliveryRefusesPrivateAddresses checks that, unless allowed, a
// delivery does not reach a receiver on this host, by address or by a
// name resolving to it, and logs why; allowed, it does.
func TestDeliveryRefusesPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	rcv := newReceiver(t)
	u, _ := url.Parse(rcv.srv.URL)
	for _, tt := range []struct {
		name, url string
		allow     bool
	}{
		{"loopback address", rcv.srv.URL + "/a", false},
		{"name of a loopback address", "http://localhost:" + u.Port() + "/b", false},
		{"allowed", rcv.srv.URL + "/c", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			svc := webhook.New(store, nil)
			svc.Timeout, svc.AllowPrivate = 2*time.Second, tt.allow
			sub, err := svc.Create(ctx, webhook.CreateParams{URL: tt.url, EventTypes: []string{trueup.EventBatchFailed}})
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Delete(ctx, sub.ID)
			rcv.mu.Lock()
			before := len(rcv.got)
			rcv.mu.Unlock()
			d := deliverOnce(t, svc, sub.ID, tt.name)
			rcv.mu.Lock()
			reached := len(rcv.got) > before
			rcv.mu.Unlock()
			if tt.allow {
				if d.State != webhook.StateSucceeded || !reached {
					t.Errorf("allowed delivery %+v, reached %t", d, reached)
				}
				return
			}
			if reached || d.State != webhook.StatePending || len(d.Log) != 1 || !strings.Contains(d.Log[0].Error, "loopback") ||
				!strings.Contains(d.Log[0].Error, "--webhook-allow-private") {
				t.Errorf("delivery to %s = %+v (reached %t); want refused, logged as loopback", tt.url, d, reached)
			}
		})
	}
}

// TestCreateChecks checks on each engine that a bad URL is refused naming
// the url, and the cap on a carrier's live subscriptions.
func TestCreateChecks(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			store := eng.Open(t)
			for i, id := range []trueup.CarrierID{"car_a", "car_b"} {
				if err := store.CreateCarrier(ctx, trueup.Carrier{ID: id, Name: []string{"Alpha", "Beta"}[i], UserID: fmt.Sprint(i + 1), TimeZone: "UTC", CreatedAt: time.Now().UTC()}); err != nil {
					t.Fatal(err)
				}
			}
			svc := webhook.New(store, nil)
			svc.MaxSubscriptions = 2
			types := []string{trueup.EventBatchSucceeded}
			for _, tt := range []struct{ url, word string }{
				{"", "url is required"},
				{"ftp://example.com/x", "not an http or https URL"},
				{"https://", "has no host"},
				{"https://:443/x", "has no host"},
				{"example.com/hooks", "not an http or https URL"},
				{"https://user:pw@example.com/", "user or password"},
				{"http://exa mple.com/", "not a URL"},
			} {
				_, err := svc.Create(ctx, webhook.CreateParams{URL: tt.url, EventTypes: types})
				if trueup.ErrorKind(err) != trueup.EINVALID || !strings.Contains(err.Error(), "url") || !strings.Contains(err.Error(), tt.word) {
					t.Errorf("create %q: %v; want invalid, naming url, saying %q", tt.url, err, tt.word)
				}
			}
			create := func(carrier trueup.CarrierID) (webhook.Created, error) {
				return svc.Create(ctx, webhook.CreateParams{CarrierID: carrier, URL: "https://example.com/hooks", EventTypes: types})
			}
			var first webhook.Created
			for i := range 2 {
				c, err := create("car_a")
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = c
				}
			}
			if _, err := create("car_a"); trueup.ErrorKind(err) != trueup.ECONFLICT || !strings.Contains(err.Error(), "--webhook-max-subscriptions") ||
				!strings.Contains(err.Error(), "car_a") {
				t.Errorf("third subscription of car_a: %v; want a conflict naming the carrier and --webhook-max-subscriptions", err)
			}
			if _, err := create("car_b"); err != nil {
				t.Errorf("another carrier: %v", err)
			}
			if _, err := create(""); err != nil {
				t.Errorf("the operators: %v", err)
			}
			if _, err := svc.Delete(ctx, first.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := create("car_a"); err != nil {
				t.Errorf("after a delete: %v", err)
			}
		})
	}
}

// TestRotate checks on each engine that a rotated subscription signs with
// both secrets during the grace, then with the new one only, and that a
// deleted or unknown one is refused.
func TestRotate(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			store := eng.Open(t)
			clk := testclock.At(time.Now().UTC().Truncate(time.Second))
			svc := webhook.New(store, nil)
			svc.Clock, svc.AllowPrivate, svc.RotationGrace = clk, true, time.Hour
			rcv := newReceiver(t)
			c, err := svc.Create(ctx, webhook.CreateParams{URL: rcv.srv.URL, EventTypes: []string{trueup.EventBatchFailed}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := svc.Rotate(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Secret == c.Secret || !strings.HasPrefix(r.Secret, webhook.SecretPrefix) || r.PreviousSecretUntil == nil ||
				!r.PreviousSecretUntil.Equal(clk.Now().Add(time.Hour)) {
				t.Fatalf("rotated = %+v; want a new secret, the old one until in an hour", r)
			}
			if got, err := svc.Subscription(ctx, c.ID); err != nil || got.Secret != r.Secret || got.PreviousSecret != c.Secret {
				t.Fatalf("stored after rotation = %+v, %v", got, err)
			}
			check := func(n int, wantSigs int, oldOK bool) {
				t.Helper()
				rcv.mu.Lock()
				h, body := rcv.got[n], rcv.body[n]
				rcv.mu.Unlock()
				if sigs := strings.Fields(h.Get("webhook-signature")); len(sigs) != wantSigs {
					t.Errorf("message %d has %d signatures, want %d", n, len(sigs), wantSigs)
				}
				if err := webhook.Verify(r.Secret, h, body, clk.Now(), time.Minute); err != nil {
					t.Errorf("message %d under the new secret: %v", n, err)
				}
				if err := webhook.Verify(c.Secret, h, body, clk.Now(), time.Minute); (err == nil) != oldOK {
					t.Errorf("message %d under the old secret: %v, want valid %t", n, err, oldOK)
				}
			}
			if d := deliverOnce(t, svc, c.ID, "during"); d.State != webhook.StateSucceeded {
				t.Fatalf("delivery during the grace: %+v", d)
			}
			check(0, 2, true)
			clk.Advance(time.Hour + time.Second)
			if d := deliverOnce(t, svc, c.ID, "after"); d.State != webhook.StateSucceeded {
				t.Fatalf("delivery after the grace: %+v", d)
			}
			check(1, 1, false)
			if _, err := svc.Rotate(ctx, "whs_nobody"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
				t.Errorf("rotate unknown: %v, want not found", err)
			}
			if _, err := svc.Delete(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Rotate(ctx, c.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
				t.Errorf("rotate deleted: %v, want conflict", err)
			}
		})
	}
}
