package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/risk"
	"github.com/xuri/excelize/v2"
)

// The risk end-to-end tests go through the real server (Main on a fresh
// database, with a settable clock) and the typed risk client; keys are
// provisioned and lists imported through the CLI, as an operator would.

// riskClock is a settable clock, safe for concurrent use.
type riskClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *riskClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *riskClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// riskE2E is a server with a settable clock, and the request ids seen.
type riskE2E struct {
	*e2eServer
	clock *riskClock
	dir   string

	mu  sync.Mutex
	ids map[string]bool
}

// riskNoon is the clock's start: noon UTC on the day of seed 003's example.
var riskNoon = time.Date(2022, 10, 3, 12, 0, 0, 0, time.UTC)

func startRiskE2E(t *testing.T, eng e2eEngine) *riskE2E {
	t.Helper()
	clock := &riskClock{t: riskNoon}
	s := startE2E(t, eng, ServeConfig{Clock: clock})
	return &riskE2E{e2eServer: s, clock: clock, dir: t.TempDir(), ids: map[string]bool{}}
}

// newKey provisions an API key with `admin riskclient create` and args.
func (r *riskE2E) newKey(t *testing.T, name string, args ...string) riskClientView {
	t.Helper()
	var v riskClientView
	r.cliJSON(t, &v, append([]string{"admin", "riskclient", "create", "--name", name}, args...)...)
	if v.ID == "" || v.APISecret == "" {
		t.Fatalf("riskclient create gave no apiId or apiSecret: %+v", v)
	}
	return v
}

func (r *riskE2E) client(v riskClientView) *client.RiskClient {
	return client.NewRiskClient(r.base, string(v.ID), v.APISecret, r.http)
}

// importList writes content to a file named name and imports it with the
// CLI, failing the test unless it succeeds.
func (r *riskE2E) importList(t *testing.T, name, content string, args ...string) risk.ImportResult {
	t.Helper()
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	var res risk.ImportResult
	r.cliJSON(t, &res, append(append([]string{"import", "risk"}, args...), path)...)
	return res
}

var requestIDPattern = regexp.MustCompile(`^TID[0-9a-f]{32}$`)

// noteID fails the test unless id is a request id not seen before.
func (r *riskE2E) noteID(t *testing.T, id string) {
	t.Helper()
	if !requestIDPattern.MatchString(id) {
		t.Errorf("request_id %q is not TID and 32 hexadecimal digits", id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids[id] {
		t.Errorf("request_id %s answered twice", id)
	}
	r.ids[id] = true
}

// check calls the check and fails the test on an error.
func (r *riskE2E) check(t *testing.T, c *client.RiskClient, p client.CheckParams) client.CheckResult {
	t.Helper()
	res, err := c.CheckMultipleOrder(context.Background(), p)
	if err != nil {
		t.Fatalf("check %+v: %v", p, err)
	}
	r.noteID(t, res.RequestID)
	return res
}

// refused calls the check and fails the test unless it is refused with
// httpStatus and status, and a reason holding each of words.
func (r *riskE2E) refused(t *testing.T, c *client.RiskClient, p client.CheckParams, httpStatus int, status string, words ...string) *client.RiskError {
	t.Helper()
	_, err := c.CheckMultipleOrder(context.Background(), p)
	return r.wantRefusal(t, err, httpStatus, status, words...)
}

func (r *riskE2E) wantRefusal(t *testing.T, err error, httpStatus int, status string, words ...string) *client.RiskError {
	t.Helper()
	var e *client.RiskError
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want HTTP %d %s", err, httpStatus, status)
	}
	if e.HTTPStatus != httpStatus || e.Status != status {
		t.Errorf("got HTTP %d %s (%s), want HTTP %d %s", e.HTTPStatus, e.Status, e.Reason, httpStatus, status)
	}
	for _, w := range words {
		if !strings.Contains(e.Reason, w) {
			t.Errorf("%s reason %q does not hold %q", e.Status, e.Reason, w)
		}
	}
	r.noteID(t, e.RequestID)
	return e
}

// raw posts body with c's key and returns the HTTP status and the body.
func (r *riskE2E) raw(t *testing.T, c *client.RiskClient, method, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-DF-API-ID", c.APIID)
	req.Header.Set("X-DF-API-SECRET", c.APISecret)
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: body %q is not JSON", method, path, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	id, _ := m["request_id"].(string)
	r.noteID(t, id)
	return resp.StatusCode, m
}

// The seed's example numbers.
const (
	riskNumber  = "915586685366"
	riskNumber2 = "915586685367"
)

// riskList is a list around seed 003's example day, 2022-10-03: with a
// 90-day window its first day is 2022-07-06.
const riskList = `mobile_no,day,source,cid,duration,level
915586685366,2022-10-03,seat,11323,17,5
915586685366,2022-10-03,seat,11323,11,5
915586685366,2022-07-06,sms,c7,,3
915586685366,2022-07-05,voice,c8,,2
915586685366,2022-10-04,voice,c9,,4
29C1EBF81909046CA6ADCF8200E71190,2022-09-01,SMS,c10,,1
`

func TestRiskCheckE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		res := r.importList(t, "list.csv", riskList)
		if res.Imported != 6 || res.RecordsInTotal != 6 {
			t.Errorf("import = %+v, want 6 records", res)
		}
		c := r.client(r.newKey(t, "Risk Co"))
		m := client.HashMobile(riskNumber)

		t.Run("seed example", func(t *testing.T) {
			got := r.check(t, c, client.CheckParams{MobileNo: m, Source: "seat", Date: "2022-10-03"})
			want := client.CheckResult{RequestID: got.RequestID, Target: true, Count: 2, Data: []client.RiskHit{
				{Day: "2022-10-03", Source: "seat", CID: "11323", Duration: "17", Level: 5},
				{Day: "2022-10-03", Source: "seat", CID: "11323", Duration: "11", Level: 5},
			}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("check = %+v, want %+v", got, want)
			}
			// The body is the seed's, field for field, target a JSON boolean.
			status, body := r.raw(t, c, "POST", client.PathCheckMultipleOrder, "application/json", `{"mobile_no":"`+m+`","source":"seat","date":"2022-10-03"}`)
			delete(body, "request_id")
			var seed map[string]any
			json.Unmarshal([]byte(`{"status":"OK","result":{"target":true,"count":2,"data":[
				{"day":"2022-10-03","source":"seat","cid":"11323","duration":"17","level":5},
				{"day":"2022-10-03","source":"seat","cid":"11323","duration":"11","level":5}]}}`), &seed)
			if status != 200 || !reflect.DeepEqual(body, seed) {
				t.Errorf("HTTP %d %v, want the seed's example %v", status, body, seed)
			}
			status, body = r.raw(t, c, "POST", client.PathCheckMultipleOrder, "application/json", `{"mobile_no":"`+client.HashMobile("1")+`"}`)
			delete(body, "request_id")
			if want := map[string]any{"status": "OK", "result": map[string]any{"target": false}}; status != 200 || !reflect.DeepEqual(body, want) {
				t.Errorf("miss: HTTP %d %v, want %v", status, body, want)
			}
		})

		tests := []struct {
			name string
			p    client.CheckParams
			want []string // day source cid duration level
		}{
			{"whole window, newest first", client.CheckParams{MobileNo: m, Date: "2022-10-03"},
				[]string{"2022-10-03 seat 11323 17 5", "2022-10-03 seat 11323 11 5", "2022-07-06 sms c7 - 3"}},
			{"a day earlier reaches date-89", client.CheckParams{MobileNo: m, Date: "2022-10-02"}, []string{"2022-07-06 sms c7 - 3", "2022-07-05 voice c8 - 2"}},
			{"a day later drops the first day", client.CheckParams{MobileNo: m, Date: "2022-10-04", Source: "sms"}, nil},
			{"date-90 is outside", client.CheckParams{MobileNo: m, Date: "2022-10-03", Source: "voice"}, nil},
			{"a window holding only date-90", client.CheckParams{MobileNo: m, Date: "2022-07-05"}, []string{"2022-07-05 voice c8 - 2"}},
			{"records after date are not seen", client.CheckParams{MobileNo: m, Date: "2022-10-04", Source: "voice"}, []string{"2022-10-04 voice c9 - 4"}},
			{"default date is today (UTC key)", client.CheckParams{MobileNo: m, Source: "voice"}, nil},
			{"source filter", client.CheckParams{MobileNo: m, Date: "2022-10-03", Source: "sms"}, []string{"2022-07-06 sms c7 - 3"}},
			{"source in another case", client.CheckParams{MobileNo: m, Date: "2022-10-03", Source: "SMS"}, []string{"2022-07-06 sms c7 - 3"}},
			{"upper-case MD5 imported and asked", client.CheckParams{MobileNo: "29C1EBF81909046CA6ADCF8200E71190", Date: "2022-10-03"}, []string{"2022-09-01 sms c10 - 1"}},
			{"lower-case MD5 of an upper-case import", client.CheckParams{MobileNo: "29c1ebf81909046ca6adcf8200e71190", Date: "2022-10-03"}, []string{"2022-09-01 sms c10 - 1"}},
			{"not on the list", client.CheckParams{MobileNo: client.HashMobile(riskNumber2), Date: "2022-10-03"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got := r.check(t, c, tt.p)
				var rows []string
				for _, h := range got.Data {
					d := h.Duration
					if d == "" {
						d = "-"
					}
					rows = append(rows, fmt.Sprintf("%s %s %s %s %d", h.Day, h.Source, h.CID, d, h.Level))
				}
				if !reflect.DeepEqual(rows, tt.want) || got.Target != (len(tt.want) > 0) || got.Count != len(tt.want) {
					t.Errorf("check %+v = target %v count %d %q, want %q", tt.p, got.Target, got.Count, rows, tt.want)
				}
			})
		}

		t.Run("default date in the key's time zone", func(t *testing.T) {
			// 20:00 UTC on 2022-10-03 is 2022-10-04 in Kolkata: the record of
			// 2022-10-04 is in that key's window, not in a UTC key's.
			r.clock.Set(time.Date(2022, 10, 3, 20, 0, 0, 0, time.UTC))
			defer r.clock.Set(riskNoon)
			india := r.client(r.newKey(t, "Kolkata Co", "--timezone", "Asia/Kolkata", "--window", "30"))
			if got := r.check(t, india, client.CheckParams{MobileNo: m, Source: "voice"}); got.Count != 1 || got.Data[0].Day != "2022-10-04" {
				t.Errorf("Kolkata key: %+v, want the record of 2022-10-04", got)
			}
			if got := r.check(t, c, client.CheckParams{MobileNo: m, Source: "voice"}); got.Target {
				t.Errorf("UTC key: %+v, want no record (today is 2022-10-03)", got)
			}
			// A 30-day window does not reach 2022-07-06.
			if got := r.check(t, india, client.CheckParams{MobileNo: m, Source: "sms", Date: "2022-10-03"}); got.Target {
				t.Errorf("30-day window: %+v, want no record", got)
			}
		})

		t.Run("form body", func(t *testing.T) {
			status, body := r.raw(t, c, "POST", client.PathCheckMultipleOrder, "application/x-www-form-urlencoded", "mobile_no="+m+"&source=seat&date=2022-10-03")
			if res, _ := body["result"].(map[string]any); status != 200 || res["count"] != 2.0 {
				t.Errorf("form: HTTP %d %v, want 2 records", status, body)
			}
			// curl -d sends JSON with the form content type: the body decides.
			status, body = r.raw(t, c, "POST", client.PathCheckMultipleOrder, "application/x-www-form-urlencoded", `{"mobile_no":"`+m+`","date":"2022-10-03"}`)
			if res, _ := body["result"].(map[string]any); status != 200 || res["count"] != 3.0 {
				t.Errorf("JSON sent as a form: HTTP %d %v, want 3 records", status, body)
			}
		})

		t.Run("import while serving", func(t *testing.T) {
			m2 := client.HashMobile(riskNumber2)
			if got := r.check(t, c, client.CheckParams{MobileNo: m2, Date: "2022-10-03"}); got.Target {
				t.Fatalf("before the import: %+v", got)
			}
			r.importList(t, "more.jsonl", `{"mobile_no": 915586685367, "day": "2022-10-01", "source": "sms", "cid": "x\"y", "level": 4}`+"\n")
			r.clock.Set(r.clock.Now().Add(risk.FilterRecheck)) // the server reads the list version again
			got := r.check(t, c, client.CheckParams{MobileNo: m2, Date: "2022-10-03"})
			if want := []client.RiskHit{{Day: "2022-10-01", Source: "sms", CID: `x"y`, Level: 4}}; !reflect.DeepEqual(got.Data, want) {
				t.Errorf("after the import: %+v, want %+v", got, want)
			}
		})
	})
}

func TestRiskArgumentsE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		c := r.client(r.newKey(t, "Args Co"))
		m := client.HashMobile(riskNumber)
		tests := []struct {
			name, body string
			reason     string // "" for OK
		}{
			{"empty body", ``, "argument 'mobile_no': not found"},
			{"empty object", `{}`, "argument 'mobile_no': not found"},
			{"null", `{"mobile_no":null}`, "argument 'mobile_no': not found"},
			{"empty string", `{"mobile_no":""}`, "argument 'mobile_no': not found"},
			{"misspelt key", `{"mobile":"` + m + `"}`, "argument 'mobile_no': not found"},
			{"number", `{"mobile_no":915586685366}`, "argument 'mobile_no': is not a string"},
			{"plain number", `{"mobile_no":"915586685366"}`, "argument 'mobile_no': \"915586685366\" is not an MD5"},
			{"31 digits", `{"mobile_no":"` + m[:31] + `"}`, "argument 'mobile_no'"},
			{"33 digits", `{"mobile_no":"` + m + `0"}`, "argument 'mobile_no'"},
			{"not hex", `{"mobile_no":"` + m[:31] + `g"}`, "argument 'mobile_no'"},
			{"upper case", `{"mobile_no":"` + strings.ToUpper(m) + `"}`, ""},
			{"escaped JSON string", `{"mobile_no":"\u0032` + m[1:] + `"}`, ""},
			{"unknown field ignored", `{"mobile_no":"` + m + `","extra":[1,2]}`, ""},
			{"bad source", `{"mobile_no":"` + m + `","source":"fax"}`, "argument 'source': \"fax\" is not a source"},
			{"source not a string", `{"mobile_no":"` + m + `","source":1}`, "argument 'source': is not a string"},
			{"empty source is any", `{"mobile_no":"` + m + `","source":""}`, ""},
			{"bad date", `{"mobile_no":"` + m + `","date":"2022-13-01"}`, "argument 'date': \"2022-13-01\" is not a date"},
			{"not a leap day", `{"mobile_no":"` + m + `","date":"2022-02-29"}`, "argument 'date'"},
			{"leap day", `{"mobile_no":"` + m + `","date":"2024-02-29"}`, ""},
			{"date with time", `{"mobile_no":"` + m + `","date":"2022-10-03T00:00:00Z"}`, "argument 'date'"},
			{"date before 1970", `{"mobile_no":"` + m + `","date":"1969-12-31"}`, "argument 'date'"},
			{"date not a string", `{"mobile_no":"` + m + `","date":20221003}`, "argument 'date': is not a string"},
			{"not JSON", `mobile_no`, "request body: not a JSON object"},
			{"an array", `["` + m + `"]`, "request body: not a JSON object"},
			{"trailing garbage", `{"mobile_no":"` + m + `"}x`, "request body: not a JSON object"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := c.Post(context.Background(), client.PathCheckMultipleOrder, "application/json", []byte(tt.body))
				if tt.reason == "" {
					if err != nil {
						t.Errorf("body %s: %v, want OK", tt.body, err)
					}
					return
				}
				r.wantRefusal(t, err, 400, "INVALID_ARGUMENT", tt.reason)
			})
		}
		t.Run("body over the limit", func(t *testing.T) {
			_, err := c.Post(context.Background(), client.PathCheckMultipleOrder, "application/json", []byte(`{"mobile_no":"`+m+`","x":"`+strings.Repeat("a", 70<<10)+`"}`))
			r.wantRefusal(t, err, 400, "INVALID_ARGUMENT", "request body: longer than")
		})
	})
}

func TestRiskAuthE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		key := r.newKey(t, "Auth Co", "--expires", "2022-10-03T12:00:05Z")
		c := r.client(key)
		ok := client.CheckParams{MobileNo: client.HashMobile(riskNumber)}
		r.check(t, c, ok)

		t.Run("headers", func(t *testing.T) {
			for _, tt := range []struct {
				name, id, secret, reason string
			}{
				{"no API ID", "", key.APISecret, "header 'X-DF-API-ID': not found"},
				{"no secret", string(key.ID), "", "header 'X-DF-API-SECRET': not found"},
				{"neither", "", "", "header 'X-DF-API-ID': not found"},
				{"wrong secret", string(key.ID), key.APISecret + "x", "do not match an active API key"},
				{"unknown API ID", "rk_00000000000000000000", key.APISecret, "do not match an active API key"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					bad := client.NewRiskClient(r.base, tt.id, tt.secret, r.http)
					r.refused(t, bad, ok, 401, "UNAUTHORIZED", tt.reason)
				})
			}
			// Arguments are checked after the key: a bad body with a bad key is 401.
			bad := client.NewRiskClient(r.base, string(key.ID), "wrong", r.http)
			r.refused(t, bad, client.CheckParams{}, 401, "UNAUTHORIZED")
		})

		t.Run("key expires between two calls", func(t *testing.T) {
			r.clock.Set(riskNoon.Add(4 * time.Second))
			r.check(t, c, ok)
			r.clock.Set(riskNoon.Add(5 * time.Second))
			r.refused(t, c, ok, 401, "KEY_EXPIRED", string(key.ID), "2022-10-03T12:00:05.000Z")
			// An expired key with a wrong secret learns nothing of the expiry.
			r.refused(t, client.NewRiskClient(r.base, string(key.ID), "wrong", r.http), ok, 401, "UNAUTHORIZED")
			// Renewed, it works again.
			r.cli(t, "admin", "riskclient", "update", string(key.ID), "--expires", "never")
			r.eventually(t, func() error { _, err := c.CheckMultipleOrder(context.Background(), ok); return err })
			r.clock.Set(riskNoon)
		})

		t.Run("no permission", func(t *testing.T) {
			none := r.client(r.newKey(t, "No API Co", "--apis", ""))
			r.refused(t, none, ok, 403, "NO_PERMISSION", "multiple_order")
		})

		t.Run("rotate", func(t *testing.T) {
			k := r.newKey(t, "Rotate Co")
			old := r.client(k)
			r.check(t, old, ok)
			var rotated riskClientView
			r.cliJSON(t, &rotated, "admin", "riskclient", "rotate", string(k.ID))
			if rotated.ID != k.ID || rotated.APISecret == "" || rotated.APISecret == k.APISecret {
				t.Fatalf("rotate gave %+v", rotated)
			}
			r.check(t, r.client(rotated), ok) // the new secret works at once
			r.eventually(t, func() error {    // the old one stops within the client TTL
				_, err := old.CheckMultipleOrder(context.Background(), ok)
				var e *client.RiskError
				if errors.As(err, &e) && e.Status == "UNAUTHORIZED" {
					return nil
				}
				return fmt.Errorf("old secret still answers %v", err)
			})
		})

		t.Run("revoke", func(t *testing.T) {
			k := r.newKey(t, "Revoke Co")
			kc := r.client(k)
			r.check(t, kc, ok)
			r.cli(t, "admin", "riskclient", "revoke", string(k.ID))
			r.eventually(t, func() error {
				_, err := kc.CheckMultipleOrder(context.Background(), ok)
				var e *client.RiskError
				if errors.As(err, &e) && e.Status == "UNAUTHORIZED" {
					return nil
				}
				return fmt.Errorf("revoked key answers %v", err)
			})
			if code, _, stderr := r.cliResult("admin", "riskclient", "rotate", string(k.ID)); code != 1 || !strings.Contains(stderr, "not found or revoked") {
				t.Errorf("rotate a revoked key: exit %d %s", code, stderr)
			}
		})

		t.Run("not found", func(t *testing.T) {
			for _, tt := range []struct{ method, path string }{
				{"POST", "/check/multiple_order/o2"},
				{"POST", "/check/multiple_order/o1/"},
				{"POST", "/check/other"},
				{"POST", "/check/"},
				{"POST", "/check"},
				{"GET", client.PathCheckMultipleOrder},
				{"PUT", client.PathCheckMultipleOrder},
			} {
				status, body := r.raw(t, c, tt.method, tt.path, "application/json", `{}`)
				if status != 404 || body["status"] != "NOT_FOUND" || !strings.Contains(fmt.Sprint(body["reason"]), tt.path) {
					t.Errorf("%s %s: HTTP %d %v, want 404 NOT_FOUND naming the path", tt.method, tt.path, status, body)
				}
			}
		})
	})
}

// eventually retries fn for up to 3 s (a change made through the CLI
// reaches a running server within risk.DefaultClientTTL, 0.25 s).
func (r *riskE2E) eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRiskQuotaE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		k := r.newKey(t, "Quota Co", "--quota", "3")
		c := r.client(k)
		ok := client.CheckParams{MobileNo: client.HashMobile(riskNumber)}
		r.refused(t, c, client.CheckParams{MobileNo: "nope"}, 400, "INVALID_ARGUMENT") // not counted
		for range 3 {
			r.check(t, c, ok)
		}
		r.refused(t, c, ok, 403, "OUT_OF_QUOTA", "quota of 3 calls")
		r.refused(t, c, ok, 403, "OUT_OF_QUOTA")

		var shown riskClientView
		r.cliJSON(t, &shown, "admin", "riskclient", "show", string(k.ID))
		if shown.Quota != 3 || shown.QuotaUsed != 3 || shown.QuotaRemaining == nil || *shown.QuotaRemaining != 0 || shown.APISecret != "" || shown.State != "active" {
			t.Errorf("show = %+v, want quota 3, used 3, none left, no secret", shown)
		}
		// The quota holds across a restart: a fresh server refuses too.
		r2 := serveStore(t, r.store, r.dbArgs, ServeConfig{Clock: r.clock})
		r.refused(t, client.NewRiskClient(r2.base, string(k.ID), k.APISecret, r.http), ok, 403, "OUT_OF_QUOTA")

		r.cli(t, "admin", "riskclient", "update", string(k.ID), "--quota", "5")
		r.eventually(t, func() error { _, err := c.CheckMultipleOrder(context.Background(), ok); return err })
		r.check(t, c, ok)
		r.refused(t, c, ok, 403, "OUT_OF_QUOTA", "quota of 5 calls")
	})
}

func TestRiskRateE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		c := r.client(r.newKey(t, "Rate Co", "--rate", "5"))
		ok := client.CheckParams{MobileNo: client.HashMobile(riskNumber)}

		// A burst of 20 in one second: 5 answered, 15 refused.
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := c.CheckMultipleOrder(context.Background(), ok)
				status := "OK"
				var e *client.RiskError
				if errors.As(err, &e) {
					status = fmt.Sprintf("%d %s", e.HTTPStatus, e.Status)
					r.noteID(t, e.RequestID)
				} else if err != nil {
					status = err.Error()
				} else {
					r.noteID(t, res.RequestID)
				}
				mu.Lock()
				counts[status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if want := map[string]int{"OK": 5, "403 RATE_LIMIT_EXCEEDED": 15}; !reflect.DeepEqual(counts, want) {
			t.Errorf("burst of 20 at 5/s: %v, want %v", counts, want)
		}
		// The next second has 5 calls again; invalid calls count.
		r.clock.Set(riskNoon.Add(time.Second))
		for range 2 {
			r.refused(t, c, client.CheckParams{}, 400, "INVALID_ARGUMENT")
		}
		for range 3 {
			r.check(t, c, ok)
		}
		r.refused(t, c, ok, 403, "RATE_LIMIT_EXCEEDED", "5 calls per second")
	})
}

func TestRiskInternalErrorE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		r.importList(t, "list.csv", riskList)
		c := r.client(r.newKey(t, "Fault Co", "--quota", "2"))
		ok := client.CheckParams{MobileNo: client.HashMobile(riskNumber), Date: "2022-10-03"}
		db := r.store.SQL()
		if _, err := db.Exec(`ALTER TABLE risk_records RENAME TO risk_records_away`); err != nil {
			t.Fatal(err)
		}
		e := r.refused(t, c, ok, 500, "INTERNAL_ERROR", "request_id")
		if strings.Contains(e.Reason, "risk_records") {
			t.Errorf("internal reason %q shows the fault", e.Reason)
		}
		if _, err := db.Exec(`ALTER TABLE risk_records_away RENAME TO risk_records`); err != nil {
			t.Fatal(err)
		}
		// The failed call was not counted: the quota of 2 still allows 2.
		for range 2 {
			if res := r.check(t, c, ok); res.Count != 3 {
				t.Errorf("after the fault: %+v, want 3 records", res)
			}
		}
		r.refused(t, c, ok, 403, "OUT_OF_QUOTA")
	})
}

func TestRiskImportE2E(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		t.Parallel()
		r := startRiskE2E(t, eng)
		c := r.client(r.newKey(t, "Import Co"))
		ask := func(number string) client.CheckResult {
			return r.check(t, c, client.CheckParams{MobileNo: client.HashMobile(number), Date: "2022-10-03"})
		}

		t.Run("row errors store nothing", func(t *testing.T) {
			path := filepath.Join(r.dir, "bad.csv")
			os.WriteFile(path, []byte("mobile_no,day,source,cid,duration,level\n"+
				"915586685366,2022-10-03,seat,1,17,5\n"+
				"+91 5586,2022-13-01,fax,,x,9\n"+
				"915586685366,2022-10-03,seat,2,,5\n"), 0o644)
			code, stdout, stderr := r.cliResult("import", "risk", "--json", path)
			if code != 1 || !strings.Contains(stderr, "nothing was imported") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
			var out struct {
				Imported   int `json:"imported"`
				ErrorCount int `json:"errorCount"`
				Errors     []struct {
					Row    int64  `json:"row"`
					Column string `json:"column"`
					Value  string `json:"value"`
					Reason string `json:"reason"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("stdout %q: %v", stdout, err)
			}
			var cols []string
			for _, e := range out.Errors {
				cols = append(cols, fmt.Sprintf("%d %s", e.Row, e.Column))
			}
			want := []string{"3 mobile_no", "3 day", "3 source", "3 cid", "3 duration", "3 level", "4 duration"}
			if out.Imported != 0 || out.ErrorCount != 7 || !reflect.DeepEqual(cols, want) {
				t.Errorf("errors %v (%d), want %v", cols, out.ErrorCount, want)
			}
			r.clock.Set(r.clock.Now().Add(risk.FilterRecheck)) // the server reads the list version again
			if got := ask(riskNumber); got.Target {
				t.Errorf("a refused import stored %+v", got)
			}
		})

		t.Run("bad header", func(t *testing.T) {
			path := filepath.Join(r.dir, "header.csv")
			os.WriteFile(path, []byte("mobile_no,day,source,level,colour\n"), 0o644)
			if code, _, stderr := r.cliResult("import", "risk", path); code != 1 || !strings.Contains(stderr, `"colour" is not a risk record field`) {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
			os.WriteFile(path, []byte("mobile_no,day,source\n"), 0o644)
			if code, _, stderr := r.cliResult("import", "risk", path); code != 1 || !strings.Contains(stderr, "lacks required column(s) cid, level") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})

		t.Run("xlsx with number and date cells", func(t *testing.T) {
			f := excelize.NewFile()
			sheet := f.GetSheetName(0)
			f.SetSheetRow(sheet, "A1", &[]any{"Mobile No", "Day", "Source", "CID", "Duration", "Level"})
			f.SetSheetRow(sheet, "A2", &[]any{915586685366, time.Date(2022, 10, 3, 0, 0, 0, 0, time.UTC), "seat", 11323, 17, 5})
			f.SetSheetRow(sheet, "A3", &[]any{client.HashMobile(riskNumber2), "2022-10-02", "voice", "v1", nil, 2})
			path := filepath.Join(r.dir, "list.xlsx")
			if err := f.SaveAs(path); err != nil {
				t.Fatal(err)
			}
			var res risk.ImportResult
			r.cliJSON(t, &res, "import", "risk", path)
			if res.Imported != 2 {
				t.Errorf("xlsx import = %+v", res)
			}
			r.clock.Set(r.clock.Now().Add(risk.FilterRecheck)) // the server reads the list version again
			if got := ask(riskNumber); !reflect.DeepEqual(got.Data, []client.RiskHit{{Day: "2022-10-03", Source: "seat", CID: "11323", Duration: "17", Level: 5}}) {
				t.Errorf("after the xlsx import: %+v", got)
			}
			if got := ask(riskNumber2); got.Count != 1 || got.Data[0].Duration != "" {
				t.Errorf("voice record: %+v, want one without duration", got)
			}
		})

		t.Run("replace", func(t *testing.T) {
			res := r.importList(t, "new.csv", "mobile_no,day,source,cid,duration,level\n447911123456,2022-10-01,sms,n1,,5\n", "--replace")
			if !res.Replaced || res.RecordsInTotal != 1 || !res.IndexRebuilt {
				t.Errorf("replace = %+v", res)
			}
			r.clock.Set(r.clock.Now().Add(risk.FilterRecheck)) // the server reads the list version again
			if got := ask(riskNumber); got.Target {
				t.Errorf("replaced record still answered: %+v", got)
			}
			if got := ask("447911123456"); got.Count != 1 {
				t.Errorf("new list: %+v", got)
			}
		})
	})
}
