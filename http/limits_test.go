package http

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestStalledBodiesCutOff(t *testing.T) {
	const limit = 300 * time.Millisecond
	ts := startServer(t, Config{Limits: Limits{BodyTimeout: limit, UploadIdleTimeout: limit, UploadMinRate: 1 << 20}})
	addr := ts.srv.Addr()
	multipartHead := func(length int) string {
		return "POST /koodrive/ose/v1/reconciliation/data/verify HTTP/1.1\r\nHost: x\r\n" + ts.carrierHeaders() +
			"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: " + fmt.Sprint(length) + "\r\n\r\n"
	}
	partHead := "--b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"s.csv\"\r\n\r\n"
	tests := []struct {
		name   string
		head   string
		chunks []string
		pause  time.Duration
	}{
		{"token form declared and never sent", "POST /koodrive/oauth2/v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n", []string{"grant_type=client"}, 0},
		{"notice JSON declared and never sent", "POST /koodrive/ose/v1/carrier/users/notifyPackageExpire HTTP/1.1\r\nHost: x\r\n" + ts.carrierHeaders() + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n", []string{`{"carrierUserId":`}, 0},
		{"upload that stalls", multipartHead(1 << 20), []string{partHead, "a,b,c\r\n"}, 0},
		{"upload that trickles under the minimum rate", multipartHead(1 << 20), []string{partHead, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, limit / 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := sendRaw(t, addr, tt.head, tt.chunks, tt.pause, 10*limit)
			if err != nil {
				t.Fatalf("no answer %v after the client stalled: %v", a.after, err)
			}
			if a.status != http.StatusRequestTimeout || a.body.Code != CodeBodyTimeout {
				t.Errorf("answer %d %+v, want 408 with code %d", a.status, a.body, CodeBodyTimeout)
			}
			if a.body.Msg == "" {
				t.Error("408 without a message")
			}
			t.Logf("408 %v after the client's last byte (limit %v)", a.after, limit)
		})
	}
}

// TestRefusedBodyNotAwaited checks that a request refused before its body
// is read is answered at once and its connection closed, instead of the
// server waiting for a body that never comes.
func TestRefusedBodyNotAwaited(t *testing.T) {
	ts := startServer(t, Config{Limits: Limits{BodyTimeout: time.Minute, UploadIdleTimeout: time.Minute}})
	tests := []struct {
		name   string
		head   string
		status int
	}{
		{"upload without a token", "POST /koodrive/ose/v1/reconciliation/data/verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n", http.StatusUnauthorized},
		{"notice without a token", "POST /koodrive/ose/v1/carrier/users/notifyPackageExpire HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", http.StatusUnauthorized},
		{"unknown path", "POST /no/such/path HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := sendRaw(t, ts.srv.Addr(), tt.head, nil, 0, 5*time.Second)
			if err != nil {
				t.Fatalf("no answer after %v: %v", a.after, err)
			}
			if a.status != tt.status || !a.closed {
				t.Errorf("answer %d (connection closed: %v) after %v, want %d and the connection closed", a.status, a.closed, a.after, tt.status)
			}
		})
	}
}

func TestUploadSlots(t *testing.T) {
	ts := startServer(t, Config{Limits: Limits{MaxUploads: 1, UploadIdleTimeout: time.Minute}})
	addr := ts.srv.Addr()
	head := "POST /koodrive/ose/v1/reconciliation/data/verify HTTP/1.1\r\nHost: x\r\n" + ts.carrierHeaders() +
		"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"s.csv\"\r\n\r\n"
	// The first upload takes the only slot and stalls.
	hold, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if _, err := io.WriteString(hold, head); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ts.srv.uploadsInFlight() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("the first upload never took its slot")
		}
		time.Sleep(time.Millisecond) // polls for the server's state
	}
	a, err := sendRaw(t, addr, head, nil, 0, 5*time.Second)
	if err != nil {
		t.Fatalf("second upload: no answer: %v", err)
	}
	if a.status != http.StatusServiceUnavailable || a.body.Code != CodeBusy || a.header.Get("Retry-After") == "" {
		t.Errorf("second upload: %d %+v Retry-After %q, want 503 with code %d and Retry-After", a.status, a.body, a.header.Get("Retry-After"), CodeBusy)
	}
}

func TestTokenRateLimit(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		ids    []string // client_id of each call; the last is refused
	}{
		{"per client_id", Limits{TokenRate: 0.001, TokenBurst: 3, TokenAddrRate: 1000, TokenAddrBurst: 1000}, []string{"cli_a", "cli_a", "cli_b", "cli_a", "cli_a"}},
		{"per address", Limits{TokenRate: 1000, TokenBurst: 1000, TokenAddrRate: 0.001, TokenAddrBurst: 3}, []string{"cli_a", "cli_b", "cli_c", "cli_d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, Config{Limits: tt.limits})
			for i, id := range tt.ids {
				resp, err := http.PostForm("http://"+ts.srv.Addr()+"/koodrive/oauth2/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {"wrong"}})
				if err != nil {
					t.Fatal(err)
				}
				var body ErrorBody
				json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				last := i == len(tt.ids)-1
				if limited := resp.StatusCode == http.StatusTooManyRequests; limited != last {
					t.Fatalf("call %d (%s): %d %+v; want 429 only for the last", i+1, id, resp.StatusCode, body)
				}
				if last && (body.Code != CodeRateLimited || resp.Header.Get("Retry-After") == "" || body.Msg == "") {
					t.Errorf("429 body %+v, Retry-After %q; want code %d, a message and Retry-After", body, resp.Header.Get("Retry-After"), CodeRateLimited)
				}
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts := startServer(t, Config{})
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
	}
	for _, path := range []string{"/healthz", "/metrics", "/docs", "/openapi.json", "/no/such/path", "/koodrive/ose/v1/reconciliation/template"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get("http://" + ts.srv.Addr() + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for k, v := range want {
				if got := resp.Header.Get(k); !strings.Contains(got, v) {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Strict-Transport-Security = %q over plain HTTP, want none", got)
			}
		})
	}
}

func TestRateLimiterRefills(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	l := newRateLimiter(2, 3) // 3 at once, then 2 a second
	l.now = func() time.Time { return now }
	steps := []struct {
		advance time.Duration
		key     string
		wait    time.Duration // 0: allowed
	}{
		{0, "a", 0}, {0, "a", 0}, {0, "a", 0},
		{0, "a", 500 * time.Millisecond},
		{0, "b", 0}, // another key has its own bucket
		{250 * time.Millisecond, "a", 250 * time.Millisecond},
		{250 * time.Millisecond, "a", 0},
		{0, "a", 500 * time.Millisecond},
		{time.Hour, "a", 0}, // refilled to the burst, no more
		{0, "a", 0}, {0, "a", 0},
		{0, "a", 500 * time.Millisecond},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := l.allow(st.key); got != st.wait {
			t.Errorf("step %d (%s after %v): wait %v, want %v", i, st.key, st.advance, got, st.wait)
		}
	}
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets kept, want 1 (b refilled and was dropped)", n)
	}
}
