package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	trueuphttp "github.com/trueup/trueup/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/lifecycle"
)

// lifecycleSpec is the ledger of the lifecycle tests: users CU000000000
// (orders 0-2, packages 1000-1002) and CU000000001 (orders 3-5, packages
// 1003-1005); the statement leaves out orders 1, 3 and 5.
func lifecycleSpec() gen.Spec {
	return gen.Spec{Orders: 6, Cycle: lastCycle(), Seed: 11, MissingEvery: 2}
}

// newLifecycleCarrier provisions a carrier on m's store and returns it with a client
// holding its credentials.
func newLifecycleCarrier(tb testing.TB, m *Main, name string, whitelisted bool) (trueup.Carrier, *client.Client) {
	tb.Helper()
	ctx := context.Background()
	cred, err := auth.New(m.Store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: name, Whitelisted: whitelisted})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := m.Store.Carrier(ctx, cred.CarrierID)
	if err != nil {
		tb.Fatal(err)
	}
	cl := client.New("http://"+m.Server.Addr(), client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))
	return c, cl
}

// notifyOK sends a notice through the typed client and fails the test unless
// it succeeds with seed 001's body.
func notifyOK(tb testing.TB, ctx context.Context, cl *client.Client, user string, typ int, pkg string) {
	tb.Helper()
	res, err := cl.NotifyPackageExpire(ctx, client.NotifyPackageExpireParams{CarrierUserID: user, Type: typ, PackageID: pkg})
	if err != nil {
		tb.Fatalf("notify %s/%s type %d: %v", user, pkg, typ, err)
	}
	if res != (client.Result{Code: 0, Msg: "Success."}) {
		tb.Fatalf("notifyOK answer = %+v, want {0 Success.}", res)
	}
}

// notifyRefused sends a notice that must fail and returns the *client.Error.
func notifyRefused(tb testing.TB, ctx context.Context, cl *client.Client, user string, typ int, pkg string) *client.Error {
	tb.Helper()
	_, err := cl.NotifyPackageExpire(ctx, client.NotifyPackageExpireParams{CarrierUserID: user, Type: typ, PackageID: pkg})
	var ce *client.Error
	if !errors.As(err, &ce) {
		tb.Fatalf("notify %s/%s type %d: err = %v, want a refusal", user, pkg, typ, err)
	}
	return ce
}

// postNoticeBody sends body as it is to the notice endpoint and returns the
// answer's status, code and message.
func postNoticeBody(tb testing.TB, cl *client.Client, body io.Reader) (int, int, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, client.PathNotifyPackageExpire, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if err := client.CheckResponse(resp); err != nil {
		var ce *client.Error
		if !errors.As(err, &ce) {
			tb.Fatal(err)
		}
		return ce.Status, ce.Code, ce.Msg
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, 0, string(b)
}

func TestLifecycleNotifyFields(t *testing.T) {
	s := startE2E(t, e2eEngines[0], ServeConfig{Workers: 1})
	store, m := s.store, s.main
	c, cl := newLifecycleCarrier(t, m, "Fields Mobile", true)
	seedLedger(t, store, c.ID, lifecycleSpec())

	long := strings.Repeat("9", lifecycle.MaxIDLength+1)
	tests := []struct {
		name   string
		body   string
		status int
		code   int
		want   []string // parts of the message
	}{
		{"ok", `{"carrierUserId": "CU000000000", "type": 1, "packageId": "1000"}`, 200, 0, []string{`"code":0`, `"msg":"Success."`}},
		{"ok, fields in another order", `{"packageId": "1001", "type": 2, "carrierUserId": "CU000000000"}`, 200, 0, nil},
		{"user id as a number", `{"carrierUserId": 189642158555241211, "type": 1, "packageId": "1000"}`, 400, 40001,
			[]string{"field carrierUserId must be a string, got a number (189642158555241211)", `in quotes ("189642158555241211")`}},
		{"package id as a number", `{"carrierUserId": "CU000000000", "type": 1, "packageId": 14}`, 400, 40001, []string{"field packageId must be a string, got a number (14)"}},
		{"package id as an object", `{"carrierUserId": "CU000000000", "type": 1, "packageId": {"id": "14"}}`, 400, 40001, []string{"field packageId must be a string, got an object"}},
		{"user id null", `{"carrierUserId": null, "type": 1, "packageId": "1000"}`, 400, 40001, []string{"field carrierUserId must be a string, got null"}},
		{"type as a string", `{"carrierUserId": "CU000000000", "type": "1", "packageId": "1000"}`, 400, 40001,
			[]string{`field type must be an integer, got a string ("1")`, "use 1 (package expired) or 2 (entered the reservation period)"}},
		{"type fraction", `{"carrierUserId": "CU000000000", "type": 1.5, "packageId": "1000"}`, 400, 40001, []string{"field type must be an integer, got a number (1.5)"}},
		{"type exponent", `{"carrierUserId": "CU000000000", "type": 1e0, "packageId": "1000"}`, 400, 40001, []string{"field type must be an integer"}},
		{"type boolean", `{"carrierUserId": "CU000000000", "type": true, "packageId": "1000"}`, 400, 40001, []string{"field type must be an integer, got a boolean"}},
		{"type null", `{"carrierUserId": "CU000000000", "type": null, "packageId": "1000"}`, 400, 40001, []string{"field type must be an integer, got null"}},
		{"type 3", `{"carrierUserId": "CU000000000", "type": 3, "packageId": "1000"}`, 400, 40001,
			[]string{"field type is 3, which is not a notice type", "use 1 (package expired) or 2 (entered the reservation period)"}},
		{"type 0", `{"carrierUserId": "CU000000000", "type": 0, "packageId": "1000"}`, 400, 40001, []string{"field type is 0"}},
		{"type -1", `{"carrierUserId": "CU000000000", "type": -1, "packageId": "1000"}`, 400, 40001, []string{"field type is -1"}},
		{"type huge", `{"carrierUserId": "CU000000000", "type": 99999999999999999999, "packageId": "1000"}`, 400, 40001, []string{"field type is 99999999999999999999, which is not a notice type"}},
		{"user id missing", `{"type": 1, "packageId": "1000"}`, 400, 40001, []string{"field carrierUserId is missing"}},
		{"type missing", `{"carrierUserId": "CU000000000", "packageId": "1000"}`, 400, 40001, []string{"field type is missing"}},
		{"package id missing", `{"carrierUserId": "CU000000000", "type": 1}`, 400, 40001, []string{"field packageId is missing"}},
		{"empty object", `{}`, 400, 40001, []string{"field carrierUserId is missing"}},
		{"user id empty", `{"carrierUserId": "", "type": 1, "packageId": "1000"}`, 400, 40001, []string{"field carrierUserId is empty"}},
		{"user id blank", `{"carrierUserId": "   ", "type": 1, "packageId": "1000"}`, 400, 40001, []string{"field carrierUserId is blank"}},
		{"package id empty", `{"carrierUserId": "CU000000000", "type": 1, "packageId": ""}`, 400, 40001, []string{"field packageId is empty"}},
		{"package id control character", `{"carrierUserId": "CU000000000", "type": 1, "packageId": "10\u000100"}`, 400, 40001, []string{"field packageId contains a control character"}},
		{"user id too long", `{"carrierUserId": "` + long + `", "type": 1, "packageId": "1000"}`, 400, 40001, []string{"field carrierUserId is 129 bytes long, over the limit of 128"}},
		{"unknown field", `{"carrierUserId": "CU000000000", "type": 1, "packageId": "1000", "userId": "x"}`, 400, 40001,
			[]string{`field "userId" is not known`, "send only carrierUserId, type and packageId"}},
		{"field name in another case", `{"CarrierUserId": "CU000000000", "type": 1, "packageId": "1000"}`, 400, 40001,
			[]string{`field "CarrierUserId" is not known; field names are case-sensitive: send "carrierUserId"`}},
		{"field twice", `{"carrierUserId": "CU000000000", "type": 1, "type": 2, "packageId": "1000"}`, 400, 40001, []string{"field type appears twice"}},
		{"empty body", ``, 400, 40001, []string{"the request body is empty"}},
		{"malformed JSON", `{"carrierUserId": "CU000000000", "type": }`, 400, 40001, []string{"the request body is not valid JSON (at byte"}},
		{"cut JSON", `{"carrierUserId": "CU000000000", "type": 1`, 400, 40001, []string{"the request body ends inside the JSON object"}},
		{"not JSON", `carrierUserId=CU000000000&type=1`, 400, 40001, []string{"the request body is not valid JSON"}},
		{"array", `[{"carrierUserId": "CU000000000", "type": 1, "packageId": "1000"}]`, 400, 40001, []string{"the request body is a JSON array, not an object"}},
		{"two objects", `{"carrierUserId": "CU000000000", "type": 1, "packageId": "1000"} {}`, 400, 40001, []string{"the request body has more after the JSON object"}},
		{"body over the limit", `{"carrierUserId": "` + strings.Repeat("a", 2<<20) + `", "type": 1, "packageId": "1000"}`, 413, 41301, []string{"request body is over the limit of 1048576 bytes"}},
		{"unknown user", `{"carrierUserId": "CU999999999", "type": 1, "packageId": "1000"}`, 404, 40401, []string{`carrier user "CU999999999" is not in your ledger`}},
		{"package of the user's other orders", `{"carrierUserId": "CU000000000", "type": 1, "packageId": "1003"}`, 404, 40401,
			[]string{`carrier user "CU000000000" has no order with package "1003" in your ledger`, "kdPackageId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := postNoticeBody(t, cl, strings.NewReader(tt.body))
			if status != tt.status || code != tt.code {
				t.Fatalf("status %d, code %d (%s); want %d, %d", status, code, msg, tt.status, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("msg %q does not contain %q", msg, w)
				}
			}
		})
	}
	events, err := store.PackageEvents(context.Background(), lifecycle.EventFilter{CarrierID: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Errorf("%d events recorded, want 2 (the two good notices only): %+v", len(events), events)
	}
}

func TestLifecycleWhitelist(t *testing.T) {
	s := startE2E(t, e2eEngines[0], ServeConfig{Workers: 1})
	store, m := s.store, s.main
	c, cl := newLifecycleCarrier(t, m, "Whitelist Mobile", false)
	seedLedger(t, store, c.ID, lifecycleSpec())
	ctx := context.Background()

	e := notifyRefused(t, ctx, cl, "CU000000000", 1, "1000")
	if e.Status != http.StatusForbidden || e.Code != trueuphttp.CodeNotWhitelisted || !strings.Contains(e.Msg, "not whitelisted for the package notice API") {
		t.Errorf("not whitelisted: %+v, want 403, code 40302 saying the carrier is not whitelisted", e)
	}
	// The whitelist answers before the body is read.
	if status, code, _ := postNoticeBody(t, cl, strings.NewReader(`nonsense`)); status != http.StatusForbidden || code != trueuphttp.CodeNotWhitelisted {
		t.Errorf("bad body of a carrier not whitelisted: %d, %d; want 403, 40302", status, code)
	}
	// Authentication answers before the whitelist.
	noAuth := client.WithHeader(ctx, func(h http.Header) { h.Del("Authorization") })
	if e := notifyRefused(t, noAuth, cl, "CU000000000", 1, "1000"); e.Status != http.StatusUnauthorized || e.Code != trueuphttp.CodeUnauthorized {
		t.Errorf("no Authorization: %+v, want 401, 40101", e)
	}

	s.cli(t, "admin", "carrier", "whitelist", string(c.ID))
	notifyOK(t, ctx, cl, "CU000000000", 1, "1000")

	s.cli(t, "admin", "carrier", "unwhitelist", string(c.ID))
	if e := notifyRefused(t, ctx, cl, "CU000000000", 2, "1000"); e.Status != http.StatusForbidden || e.Code != trueuphttp.CodeNotWhitelisted {
		t.Errorf("after unwhitelist: %+v, want 403, 40302", e)
	}
	list, err := store.PackageEvents(ctx, lifecycle.EventFilter{CarrierID: c.ID})
	if err != nil || len(list) != 1 || list[0].Type != lifecycle.Expired {
		t.Errorf("events = %+v, %v; want the one notice sent while whitelisted", list, err)
	}
}

// TestLifecycleFlow runs both types, repeats, a move back, tenant isolation
// and the events command on each engine.
func TestLifecycleFlow(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{Workers: 1})
		store, m := s.store, s.main
		a, clA := newLifecycleCarrier(t, m, "Alpha Mobile", true)
		b, clB := newLifecycleCarrier(t, m, "Beta Mobile", true)
		seedLedger(t, store, a.ID, lifecycleSpec())
		bOrder := lifecycleSpec().Order(0)
		bOrder.CarrierOrderID, bOrder.CarrierUserID, bOrder.KdPackageID = "B1", "B-USER", "1000"
		seedLedgerOrders(t, store, b.ID, bOrder)
		ctx := context.Background()
		traced := func(id string) context.Context { return client.WithTraceID(ctx, id) }

		notifyOK(t, traced("trace-1"), clA, "CU000000000", client.PackageReservation, "1000")
		notifyOK(t, traced("trace-2"), clA, "CU000000000", client.PackageReservation, "1000") // repeat: no event
		notifyOK(t, traced("trace-3"), clA, "CU000000000", client.PackageExpired, "1000")
		notifyOK(t, traced("trace-4"), clA, "CU000000000", client.PackageExpired, "1000") // repeat: no event
		notifyOK(t, traced("trace-5"), clA, "CU000000000", client.PackageReservation, "1000")
		notifyOK(t, traced("trace-6"), clA, "CU000000001", client.PackageExpired, "1004")

		// Beta cannot touch Alpha's users, and learns nothing about them:
		// the answer is the one for a user nobody has.
		known := notifyRefused(t, ctx, clB, "CU000000000", client.PackageExpired, "1000")
		unknown := notifyRefused(t, ctx, clB, "CU000000009", client.PackageExpired, "1000")
		if known.Status != http.StatusNotFound || known.Code != trueuphttp.CodeNotFound ||
			known.Status != unknown.Status || known.Code != unknown.Code ||
			strings.ReplaceAll(known.Msg, "CU000000000", "X") != strings.ReplaceAll(unknown.Msg, "CU000000009", "X") {
			t.Errorf("another carrier's user: %+v; unknown user: %+v; want the same 404, 40401", known, unknown)
		}
		notifyOK(t, ctx, clB, "B-USER", client.PackageExpired, "1000")
		// Alpha cannot touch Beta's user either.
		if e := notifyRefused(t, ctx, clA, "B-USER", client.PackageReservation, "1000"); e.Status != http.StatusNotFound || e.Code != trueuphttp.CodeNotFound {
			t.Errorf("Alpha notifying Beta's user: %+v, want 404, 40401", e)
		}

		var events []lifecycle.Event
		s.cliJSON(t, &events, "events", "--carrier", string(a.ID))
		want := []struct {
			user, pkg, trace   string
			typ, prev          lifecycle.Type
			status, prevStatus string
		}{ // newest first
			{"CU000000001", "1004", "trace-6", lifecycle.Expired, 0, "3", "1"},
			{"CU000000000", "1000", "trace-5", lifecycle.Reservation, lifecycle.Expired, "2", "3"},
			{"CU000000000", "1000", "trace-3", lifecycle.Expired, lifecycle.Reservation, "3", "2"},
			{"CU000000000", "1000", "trace-1", lifecycle.Reservation, 0, "2", "1"},
		}
		if len(events) != len(want) {
			t.Fatalf("trueup events listed %d events, want %d: %+v", len(events), len(want), events)
		}
		for i, w := range want {
			e := events[i]
			if e.CarrierID != a.ID || e.CarrierUserID != w.user || e.PackageID != w.pkg || e.TraceID != w.trace || e.Type != w.typ ||
				e.PreviousType != w.prev || e.UserStatus != w.status || e.PreviousUserStatus != w.prevStatus || e.CreatedAt.IsZero() {
				t.Errorf("event %d = %+v, want %+v", i, e, w)
			}
		}
		var mine []lifecycle.Event
		s.cliJSON(t, &mine, "events", "--carrier", string(a.ID), "--user", "CU000000001")
		if len(mine) != 1 || mine[0].PackageID != "1004" {
			t.Errorf("events --user CU000000001 = %+v, want the one event of 1004", mine)
		}
		var others []lifecycle.Event
		s.cliJSON(t, &others, "events", "--carrier", string(b.ID))
		if len(others) != 1 || others[0].CarrierUserID != "B-USER" {
			t.Errorf("Beta's events = %+v, want its one event", others)
		}
		text := s.cli(t, "events", "--carrier", string(a.ID), "--limit", "1")
		if lines := strings.Split(strings.TrimSpace(text), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "PACKAGE STATE") ||
			!strings.Contains(lines[1], "CU000000001") || !strings.Contains(lines[1], "none -> expired") || !strings.Contains(lines[1], "1 -> 3") {
			t.Errorf("events --limit 1 text =\n%s", text)
		}
	})
}

// TestLifecycleReconciliation checks that a statement checked after a
// notice reports the user's new status in the discrepancy list, and that a
// batch checked before keeps the status it was checked with.
func TestLifecycleReconciliation(t *testing.T) {
	s := startE2E(t, e2eEngines[0], ServeConfig{Workers: 1})
	store, m := s.store, s.main
	c, cl := newLifecycleCarrier(t, m, "Recon Mobile", true)
	spec := lifecycleSpec()
	seedLedger(t, store, c.ID, spec)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	statuses := func(no trueup.BatchNo) map[string]string {
		t.Helper()
		if s, err := cl.WaitBatch(ctx, no, 20*time.Millisecond); err != nil || s.Batch.State != trueup.BatchSucceeded {
			t.Fatalf("batch %s: %+v, %v", no, s.Batch, err)
		}
		bills, err := cl.ListAll(ctx, no, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, b := range bills {
			got[b.KdOrderID] = b.UserStatus
		}
		return got
	}
	check := func(when string, got, want map[string]string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: userStatus by kdOrderId = %v, want %v", when, got, want)
		}
	}
	verify := func() trueup.BatchNo {
		t.Helper()
		var buf bytes.Buffer
		if err := spec.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		no, err := cl.Verify(ctx, client.VerifyParams{BillingCycle: spec.Cycle.String(), FileName: "statement.csv", File: &buf})
		if err != nil {
			t.Fatal(err)
		}
		return no
	}

	// Orders 1, 3 and 5 are missing from the statement: user CU000000000
	// owns order 1, CU000000001 orders 3 and 5.
	before := verify()
	check("before any notice", statuses(before), map[string]string{"KD000000000001": "1", "KD000000000003": "1", "KD000000000005": "1"})

	notifyOK(t, ctx, cl, "CU000000000", client.PackageExpired, "1000")
	notifyOK(t, ctx, cl, "CU000000001", client.PackageReservation, "1003")
	after := verify()
	check("after the notices", statuses(after), map[string]string{"KD000000000001": "3", "KD000000000003": "2", "KD000000000005": "2"})
	check("the earlier batch", statuses(before), map[string]string{"KD000000000001": "1", "KD000000000003": "1", "KD000000000005": "1"})

	// Moving back is seen too.
	notifyOK(t, ctx, cl, "CU000000000", client.PackageReservation, "1000")
	check("after a move back", statuses(verify()), map[string]string{"KD000000000001": "2", "KD000000000003": "2", "KD000000000005": "2"})
}
