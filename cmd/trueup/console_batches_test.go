package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/operator"
)

// consoleUser is a browser-like client of the console: a cookie jar and
// the session's CSRF token.
type consoleUser struct {
	tb   testing.TB
	base string
	hc   *http.Client
	csrf string
}

var (
	nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	rowRE  = regexp.MustCompile(`<tbody class="disc">`)
)

// newConsoleOperator creates an operator of role with the CLI and signs
// it in to the console.
func newConsoleOperator(tb testing.TB, s *e2eServer, email, role string, more ...string) *consoleUser {
	tb.Helper()
	op := s.newOperator(tb, email, operator.Role(role), more...)
	jar, _ := cookiejar.New(nil)
	u := &consoleUser{tb: tb, base: s.base, hc: &http.Client{Jar: jar, Timeout: 60 * time.Second, Transport: s.http.Transport}}
	_, page := u.get("/console/login")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("sign-in page has no token:\n%s", page)
	}
	resp, err := u.hc.PostForm(s.base+"/console/login", url.Values{"csrf": {m[1]}, "email": {email}, "password": {op.Password}, "next": {"/console/batches"}})
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/console/batches" {
		tb.Fatalf("sign in: %d at %s:\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	u.csrf = html.UnescapeString(csrfInput.FindStringSubmatch(string(body))[1])
	return u
}

// get fetches a console page and returns its status and body.
func (u *consoleUser) get(path string) (int, string) {
	u.tb.Helper()
	resp, err := u.hc.Get(u.base + path)
	if err != nil {
		u.tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		u.tb.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// mustGet fetches a page that must answer 200.
func (u *consoleUser) mustGet(path string) string {
	u.tb.Helper()
	status, body := u.get(path)
	if status != 200 {
		u.tb.Fatalf("GET %s: %d\n%s", path, status, body)
	}
	return body
}

// upload posts a multipart form with a file as the page's script does
// (token in the header, JSON answer) or, script false, as a plain form
// (token in the form, redirect).
func (u *consoleUser) upload(path string, fields map[string]string, name string, data []byte, script bool) (*http.Response, string) {
	u.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if !script {
		mw.WriteField("csrf", u.csrf)
	}
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", u.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if script {
		req.Header.Set("X-CSRF-Token", u.csrf)
	}
	resp, err := u.hc.Do(req)
	if err != nil {
		u.tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// progressEvents reads a progress stream to its end and returns the
// "progress" events' data.
func (u *consoleUser) progressEvents(path string) []map[string]any {
	u.tb.Helper()
	resp, err := u.hc.Get(u.base + path)
	if err != nil {
		u.tb.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		u.tb.Fatalf("GET %s: %d %s", path, resp.StatusCode, ct)
	}
	var out []map[string]any
	var event string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == "progress":
			var e map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e); err != nil {
				u.tb.Fatal(err)
			}
			out = append(out, e)
		case strings.HasPrefix(line, "data: ") && event == "done":
			return out
		}
	}
	u.tb.Fatalf("stream %s ended without done: %v", path, sc.Err())
	return nil
}

// TestConsoleBatches drives the batch pages over HTTP as a browser
// without scripts would, and as the pages' script does for uploads and
// progress: upload, follow the check to succeeded, filter, search, sort,
// page, export and read the file back, and an import with row errors.
func TestConsoleBatches(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Acme")
		spec := e2eSpec(5)
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		want := spec.Expected()
		ops := newConsoleOperator(t, s, "ops@example.com", "operator")

		// Upload as the script does, then follow the progress stream.
		var stmt bytes.Buffer
		if err := spec.WriteCSV(&stmt); err != nil {
			t.Fatal(err)
		}
		resp, body := ops.upload("/console/upload", map[string]string{"carrier": string(c.cred.CarrierID), "cycle": spec.Cycle.String()}, "statement.csv", stmt.Bytes(), true)
		var answer struct{ Location, Error string }
		if err := json.Unmarshal([]byte(body), &answer); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(answer.Location, "/console/batches/") {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		no := strings.TrimPrefix(answer.Location, "/console/batches/")
		events := ops.progressEvents("/console/batches/progress?no=" + no)
		if last := events[len(events)-1]; last["state"] != "succeeded" || last["final"] != true || last["discrepancies"] != float64(want.Total()) {
			t.Fatalf("last progress event = %v, want succeeded with %d discrepancies", last, want.Total())
		}
		page := ops.mustGet(answer.Location)
		for _, w := range []string{"succeeded", "<svg class=\"chart\"", "Discrepancies by kind", fmt.Sprintf("%d in all", want.Total())} {
			if !strings.Contains(page, w) {
				t.Errorf("batch page lacks %q", w)
			}
		}
		if n := len(rowRE.FindAllString(page, -1)); n != 50 {
			t.Errorf("first page shows %d discrepancies, want 50", n)
		}

		// Every order walks every discrepancy once.
		for _, sort := range []string{"", "gap-desc", "gap-asc"} {
			seen := map[string]bool{}
			next := answer.Location + "?sort=" + sort
			for pages := 0; next != ""; pages++ {
				if pages > 10 {
					t.Fatalf("sort %q: too many pages", sort)
				}
				p := ops.mustGet(html.UnescapeString(next))
				for _, m := range regexp.MustCompile(`<th scope="row" rowspan="2" class="num">(\d+)</th>`).FindAllStringSubmatch(p, -1) {
					if seen[m[1]] {
						t.Fatalf("sort %q: discrepancy %s shown twice", sort, m[1])
					}
					seen[m[1]] = true
				}
				next = ""
				if m := nextRE.FindStringSubmatch(p); m != nil {
					next = m[1]
				}
			}
			if int64(len(seen)) != want.Total() {
				t.Errorf("sort %q walked %d discrepancies, want %d", sort, len(seen), want.Total())
			}
		}

		// Filter by kind: only that kind, and its export has its rows.
		p := ops.mustGet(answer.Location + "?kind=4")
		if n := len(rowRE.FindAllString(p, -1)); int64(n) != min(50, want[trueup.DiffAmount]) {
			t.Errorf("kind 4 shows %d rows, want %d", n, min(50, want[trueup.DiffAmount]))
		}
		if strings.Contains(p, `class="kind kind-1"`) || strings.Contains(p, `class="kind kind-3"`) {
			t.Error("kind filter shows other kinds")
		}
		if !strings.Contains(p, "<mark>") {
			t.Error("amount discrepancies show no marked difference")
		}
		status, csvBody := ops.get(answer.Location + "/export?kind=4&format=csv")
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvBody, "\ufeff"))).ReadAll()
		if status != 200 || err != nil || int64(len(rows)-1) != want[trueup.DiffAmount] {
			t.Fatalf("kind 4 export: %d, %d rows, %v; want %d", status, len(rows)-1, err, want[trueup.DiffAmount])
		}

		// Search by a carrier order id: one discrepancy, exported as xlsx.
		var id string
		for k := range expectedDiffs(t, spec) {
			if k.typ == trueup.DiffMissingOnPlatform {
				id = k.id
				break
			}
		}
		p = ops.mustGet(answer.Location + "?q=" + url.QueryEscape(id))
		if n := len(rowRE.FindAllString(p, -1)); n != 1 || !strings.Contains(p, id) || !strings.Contains(p, "no record on the platform side") {
			t.Errorf("search %s shows %d rows", id, n)
		}
		status, xlsx := ops.get(answer.Location + "/export?format=xlsx&q=" + url.QueryEscape(id))
		f, err := excelize.OpenReader(strings.NewReader(xlsx))
		if status != 200 || err != nil {
			t.Fatalf("xlsx export: %d %v", status, err)
		}
		sheetRows, _ := f.GetRows(f.GetSheetName(0))
		if len(sheetRows) != 2 || !strings.Contains(strings.Join(sheetRows[1], ","), id) {
			t.Errorf("xlsx export of the search = %v", sheetRows)
		}

		// Mistakes say how to fix them.
		for _, tt := range []struct{ path, words string }{
			{"?kind=9", "choose one of 1 to 4"},
			{"?sort=size", "gap-desc"},
			{"?after=x.y", "first page"},
			{"/export?format=pdf", "csv or xlsx"},
		} {
			if status, p := ops.get(answer.Location + tt.path); status != 400 || !strings.Contains(p, tt.words) {
				t.Errorf("%s: %d, want 400 saying %q", tt.path, status, tt.words)
			}
		}
		if status, _ := ops.get("/console/batches/20250101_404"); status != 404 {
			t.Errorf("unknown batch: %d, want 404", status)
		}

		// The list shows the batch; a viewer cannot upload.
		if list := ops.mustGet("/console/batches"); !strings.Contains(list, no) {
			t.Error("batch list lacks the batch")
		}
		viewer := newConsoleOperator(t, s, "viewer@example.com", "viewer")
		resp, body = viewer.upload("/console/upload", map[string]string{"carrier": string(c.cred.CarrierID), "cycle": spec.Cycle.String()}, "statement.csv", stmt.Bytes(), true)
		if resp.StatusCode != 403 {
			t.Errorf("viewer upload: %d %s, want 403", resp.StatusCode, body)
		}

		// An import with a bad row, sent as a plain form: refused with its
		// row errors shown.
		var ledgerCSV bytes.Buffer
		if err := (gen.Spec{Orders: 3, Cycle: spec.Cycle, Seed: 1}).WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		ledgerCSV.WriteString("BAD-1," + spec.Cycle.String() + ",k,u,u,sku,not-a-price,p,x,x,x,x,c\n")
		resp, body = ops.upload("/console/imports/orders", map[string]string{"carrier": string(c.cred.CarrierID)}, "orders.csv", ledgerCSV.Bytes(), false)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/console/imports/imp_") {
			t.Fatalf("import: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
		}
		impPath := resp.Request.URL.Path
		if events := ops.progressEvents(impPath + "/progress"); len(events) == 0 || events[len(events)-1]["state"] != "failed" || events[len(events)-1]["final"] != true {
			t.Errorf("import progress events = %v, want the last failed and final", events)
		}
		p = ops.mustGet(impPath)
		if !strings.Contains(p, "failed") || !strings.Contains(p, `class="row-errors"`) || !strings.Contains(p, "not-a-price") {
			t.Errorf("import page does not show the row errors:\n%s", p)
		}

		// The activity page: the batch with its counts and money at stake
		// (every amount discrepancy differs by more than the tolerance),
		// the job queue and the import.
		act := ops.mustGet("/console/activity")
		for _, w := range []string{no, "Job queue", "Recent imports", strings.TrimPrefix(impPath, "/console/imports/"), "Money at stake"} {
			if !strings.Contains(act, w) {
				t.Errorf("activity page lacks %q", w)
			}
		}
		if m := regexp.MustCompile(`money at stake in the batches shown: ([0-9.]+)`).FindStringSubmatch(act); m == nil || m[1] == "0.00" {
			t.Errorf("activity page's money at stake = %v, want more than zero", m)
		}

		// A user of another carrier finds none of this carrier's batch;
		// its own carrier's upload works.
		other := s.newCarrier(t, "Other")
		cu := newConsoleOperator(t, s, "user@other.example", "carrier", "--carrier", string(other.cred.CarrierID))
		for _, path := range []string{answer.Location, answer.Location + "?kind=4", answer.Location + "/export?format=csv", "/console/batches/progress?no=" + no} {
			if status, p := cu.get(path); status != 404 || strings.Contains(p, string(c.cred.CarrierID)) {
				t.Errorf("carrier user of another carrier: GET %s = %d, want 404 without the carrier", path, status)
			}
		}
		if list := cu.mustGet("/console/batches"); strings.Contains(list, no) || strings.Contains(list, "Acme") {
			t.Error("batch list shows another carrier's batch to a carrier user")
		}
		resp, body = cu.upload("/console/upload", map[string]string{"carrier": string(c.cred.CarrierID), "cycle": spec.Cycle.String()}, "statement.csv", stmt.Bytes(), true)
		if resp.StatusCode != 404 {
			t.Errorf("carrier user uploading for another carrier: %d %s, want 404", resp.StatusCode, body)
		}
		resp, body = cu.upload("/console/upload", map[string]string{"carrier": string(other.cred.CarrierID), "cycle": spec.Cycle.String()}, "statement.csv", stmt.Bytes(), true)
		if resp.StatusCode != 200 || !strings.Contains(body, "/console/batches/") {
			t.Errorf("carrier user uploading for its carrier: %d %s", resp.StatusCode, body)
		}

		// A form without its token is refused.
		req, _ := http.NewRequest("POST", s.base+"/console/upload", strings.NewReader("carrier=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, err := ops.hc.Do(req); err != nil || resp.StatusCode != 403 {
			t.Errorf("upload without a token: %v %v, want 403", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}
	})
}

// batchScreensData adds what the batch pages' screenshots show beyond a
// checked batch: an import of orders refused for its bad rows.
func batchScreensData(tb testing.TB, s *e2eServer, carrier trueup.CarrierID, cycle trueup.Cycle) {
	tb.Helper()
	u := newConsoleOperator(tb, s, "importer@example.com", "operator")
	var orders bytes.Buffer
	if err := (gen.Spec{Orders: 3, Cycle: cycle, Seed: 1}).WriteLedgerCSV(&orders); err != nil {
		tb.Fatal(err)
	}
	orders.WriteString("BAD-1," + cycle.String() + ",k,u,u,sku,not-a-price,p,x,x,x,x,c\n")
	resp, body := u.upload("/console/imports/orders", map[string]string{"carrier": string(carrier)}, "orders.csv", orders.Bytes(), false)
	if resp.StatusCode != 200 {
		tb.Fatalf("import: %d\n%s", resp.StatusCode, body)
	}
	u.progressEvents(resp.Request.URL.Path + "/progress")
}

// TestConsoleUploadLimit checks that an upload over --max-upload-bytes is
// refused with 413 and says the limit, sent by the page's script or as a
// plain form.
func TestConsoleUploadLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{MaxUploadBytes: 4096})
		c := s.newCarrier(t, "Acme")
		ops := newConsoleOperator(t, s, "ops@example.com", "operator")
		big := bytes.Repeat([]byte("x"), 64<<10)
		for _, script := range []bool{true, false} {
			for _, path := range []string{"/console/upload", "/console/imports/orders"} {
				resp, body := ops.upload(path, map[string]string{"carrier": string(c.cred.CarrierID), "cycle": lastCycle().String()}, "big.csv", big, script)
				if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "4096") {
					t.Errorf("%s (script %v): %d, want 413 naming the limit\n%.300s", path, script, resp.StatusCode, body)
				}
			}
		}
	})
}

// TestConsoleProgressStreamLimit checks --console-progress-streams: with a
// limit of one, a second progress stream while the first is open answers
// 503 with Retry-After and the page's message, and a stream opens again
// once the first has gone.
func TestConsoleProgressStreamLimit(t *testing.T) {
	s := startE2E(t, e2eEngines[0], ServeConfig{Console: ConsoleConfig{ProgressStreams: 1}})
	c := s.newCarrier(t, "Acme")
	// A batch whose job no worker takes: it stays queued, so its stream
	// stays open.
	no := batch.NewBatchNo(time.Now())
	err := s.store.CreateBatch(context.Background(), batch.CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: c.cred.CarrierID, Cycle: lastCycle().String(), FileName: "s.csv", Format: "csv",
			FileSize: 1, CreatedAt: time.Now().UTC()},
		File: strings.NewReader("x"), JobKind: "test.never", JobArgs: "{}",
	})
	if err != nil {
		t.Fatal(err)
	}
	ops := newConsoleOperator(t, s, "ops@example.com", "operator")
	path := "/console/batches/progress?no=" + string(no)
	first, err := ops.hc.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %d, want 200", first.StatusCode)
	}
	// The stream has begun once its first event is read.
	if _, err := bufio.NewReader(first.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, "/console/batches/progress?no=" + string(no) + "&no=" + string(no)} {
		resp, err := ops.hc.Get(s.base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "1 progress streams already") {
			t.Errorf("GET %s past the limit: %d, Retry-After %q, want 503 saying the limit\n%.400s", p, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	// The first stream closed, its place is free again.
	first.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := ops.hc.Get(s.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first stream closed: %d, want 200", resp.StatusCode)
		}
	}
}
