package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
)

// fake is a stand-in server that records the headers of carrier calls and
// answers from a table of handlers; it knows nothing of trueup's logic.
type fake struct {
	t      testing.TB
	mu     sync.Mutex
	tokens int           // tokens issued
	seen   []http.Header // headers of carrier calls
	routes map[string]http.HandlerFunc
}

func newFake(t testing.TB) (*fake, *client.Client) {
	t.Helper()
	f := &fake{t: t, routes: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	now := time.Date(2025, 11, 3, 7, 1, 40, 0, time.UTC)
	c := client.New(srv.URL,
		client.WithCredentials("cli_1", "s3cret"),
		client.WithUserID("100200300400"),
		client.WithClock(func() time.Time { return now }))
	return f, c
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == client.PathToken {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != "cli_1" || r.PostForm.Get("client_secret") != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":40105,"msg":"bad credentials"}`)
			return
		}
		f.mu.Lock()
		f.tokens++
		n := f.tokens
		f.mu.Unlock()
		fmt.Fprintf(w, `{"access_token":"tok%d","token_type":"Bearer","expires_in":3600}`, n)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, r.Header.Clone())
	h := f.routes[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	if h == nil {
		http.NotFound(w, r)
		return
	}
	h(w, r)
}

func (f *fake) handle(pattern string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[pattern] = h
}

func (f *fake) last() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

func TestHeadersAndTokenCache(t *testing.T) {
	f, c := newFake(t)
	f.handle("GET "+client.PathBatch, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"code":0,"msg":"Success.","batch":{"batchNo":%q,"state":"succeeded"},"rowErrors":[]}`, r.URL.Query().Get("batchNo"))
	})
	ctx := client.WithTraceID(context.Background(), "trace-1")
	for range 2 {
		s, err := c.Batch(ctx, "20251021_1")
		if err != nil {
			t.Fatalf("Batch: %v", err)
		}
		if s.Batch.No != "20251021_1" || s.Batch.State != trueup.BatchSucceeded {
			t.Errorf("Batch = %+v, want batch 20251021_1 succeeded", s.Batch)
		}
	}
	if f.tokens != 1 {
		t.Errorf("tokens issued = %d, want 1 (cached)", f.tokens)
	}
	want := map[string]string{"Authorization": "Bearer tok1", "X-Date": "20251103T070140Z", "X-User-Id": "100200300400", "X-Traceid": "trace-1"}
	h := f.last()
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestHeaderOverrides(t *testing.T) {
	f, c := newFake(t)
	f.handle("GET "+client.PathTemplate, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "PK") })

	ctx := client.WithHeader(context.Background(), func(h http.Header) { h.Del("X-Date") })
	ctx = client.WithHeader(ctx, func(h http.Header) { h.Set("X-User-Id", "someone-else") })
	if _, err := c.Template(ctx); err != nil {
		t.Fatalf("Template: %v", err)
	}
	if h := f.last(); h.Get("X-Date") != "" || h.Get("X-User-Id") != "someone-else" {
		t.Errorf("edited headers: X-Date %q, X-User-Id %q; want none and someone-else", h.Get("X-Date"), h.Get("X-User-Id"))
	}

	req, err := http.NewRequest(http.MethodGet, client.PathTemplate, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Date", "20200101T000000Z")
	req.Header["Authorization"] = []string{""}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	resp.Body.Close()
	if h := f.last(); h.Get("X-Date") != "20200101T000000Z" || h.Get("Authorization") != "" || h.Get("X-User-Id") != "100200300400" {
		t.Errorf("Do headers = %v; want the request's X-Date and empty Authorization kept, X-User-Id added", h)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   client.Error
	}{
		{"coded", http.StatusConflict, `{"code":42501,"msg":"batch is still processing"}`,
			client.Error{Status: 409, Code: 42501, Msg: "batch is still processing", TraceID: "t-9"}},
		{"quoted code", http.StatusBadRequest, `{"code":"40001","msg":"pageSize"}`,
			client.Error{Status: 400, Code: 40001, Msg: "pageSize", TraceID: "t-9"}},
		{"plain text", http.StatusNotFound, "404 page not found\n",
			client.Error{Status: 404, Msg: "404 page not found", TraceID: "t-9"}},
		{"non-zero code on 200", http.StatusOK, `{"code":40302,"msg":"not whitelisted"}`,
			client.Error{Status: 200, Code: 40302, Msg: "not whitelisted", TraceID: "t-9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFake(t)
			f.handle("GET "+client.PathDiffList, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-traceid", "t-9")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := c.DiffList(context.Background(), client.DiffListParams{BatchNo: "b1"})
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("DiffList error = %v, want *client.Error", err)
			}
			if *e != tt.want {
				t.Errorf("error = %+v, want %+v", *e, tt.want)
			}
		})
	}
}

func TestRefusedTokenIsDropped(t *testing.T) {
	f, c := newFake(t)
	fail := true
	f.handle("GET "+client.PathBatch, func(w http.ResponseWriter, r *http.Request) {
		if fail {
			fail = false
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":40103,"msg":"access token expired"}`)
			return
		}
		io.WriteString(w, `{"code":0,"msg":"Success.","batch":{},"rowErrors":[]}`)
	})
	if _, err := c.Batch(context.Background(), "b"); err == nil {
		t.Fatal("first Batch succeeded, want the 401")
	}
	if _, err := c.Batch(context.Background(), "b"); err != nil {
		t.Fatalf("second Batch: %v", err)
	}
	if got := f.last().Get("Authorization"); got != "Bearer tok2" {
		t.Errorf("Authorization after a refused token = %q, want Bearer tok2", got)
	}
}

func TestListAllExactDecimals(t *testing.T) {
	f, c := newFake(t)
	pages := map[string]string{
		"":   `{"diffList":[{"kdOrderId":"1","diffType":"4","skuPrice":0.00012,"kdSaleTotal":12345678901234567.89,"thisMouthBilling":"3"}],"total":3,"nextPageCursor":"c1","code":0,"msg":"Success."}`,
		"c1": `{"diffList":[{"kdOrderId":"2","skuPrice":1e-7,"kdSaleTotal":0}],"total":3,"nextPageCursor":"c2","code":0,"msg":"Success."}`,
		"c2": `{"diffList":[{"kdOrderId":"3","skuPrice":10,"kdSaleTotal":0.1}],"total":3,"code":0,"msg":"Success."}`,
	}
	f.handle("GET "+client.PathDiffList, func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Get("pageSize"); got != "1" {
			t.Errorf("pageSize = %q, want 1", got)
		}
		io.WriteString(w, pages[r.URL.Query().Get("pageCursor")])
	})
	bills, err := c.ListAll(context.Background(), "b", 1)
	if err != nil {
		t.Fatalf("ListAll: %v", err)
	}
	var got []string
	for _, b := range bills {
		got = append(got, b.KdOrderID+":"+b.SkuPrice.String()+":"+b.KdSaleTotal.String())
	}
	want := "1:0.00012:12345678901234567.89 2:0.0000001:0 3:10:0.1"
	if strings.Join(got, " ") != want {
		t.Errorf("bills = %s, want %s", strings.Join(got, " "), want)
	}
	if bills[0].ThisMouthBilling != "3" || bills[0].Type() != trueup.DiffAmount {
		t.Errorf("first bill = %+v, want thisMouthBilling 3 and type 4", bills[0])
	}
}

func TestListAllRepeatedCursor(t *testing.T) {
	f, c := newFake(t)
	f.handle("GET "+client.PathDiffList, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"diffList":[],"total":0,"nextPageCursor":"same","code":0,"msg":"Success."}`)
	})
	if _, err := c.ListAll(context.Background(), "b", 0); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("ListAll error = %v, want one about a repeated cursor", err)
	}
}

func TestVerify(t *testing.T) {
	f, c := newFake(t)
	f.handle("POST "+client.PathVerify, func(w http.ResponseWriter, r *http.Request) {
		file, hdr, err := r.FormFile("data")
		if err != nil {
			t.Errorf("form file data: %v", err)
			return
		}
		b, _ := io.ReadAll(file)
		if hdr.Filename != "sept.csv" || string(b) != "carrierOrderId\n1\n" || r.FormValue("billingCycle") != "2025-09" {
			t.Errorf("upload = %q %q cycle %q", hdr.Filename, b, r.FormValue("billingCycle"))
		}
		io.WriteString(w, `{"code":0,"msg":"Success.","batchNo":"20251103_1465526652212121"}`)
	})
	no, err := c.Verify(context.Background(), client.VerifyParams{BillingCycle: "2025-09", FileName: "sept.csv", File: strings.NewReader("carrierOrderId\n1\n")})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if no != "20251103_1465526652212121" {
		t.Errorf("batchNo = %q", no)
	}
}

func TestNoCredentials(t *testing.T) {
	c := client.New("http://127.0.0.1:1")
	if _, err := c.Template(context.Background()); err == nil || !strings.Contains(err.Error(), "ClientID") {
		t.Errorf("Template without credentials: %v, want an error naming ClientID", err)
	}
}
