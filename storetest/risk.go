package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlstore"
)

// runRisk runs the risk list storage tests.
func runRisk(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"RiskClients", testRiskClients},
		{"RiskQuotaLease", testRiskQuotaLease},
		{"RiskRateLease", testRiskRateLease},
		{"RiskLeaseConcurrent", testRiskLeaseConcurrent},
		{"RiskImportAndQuery", testRiskImportAndQuery},
		{"RiskImportReplaceAndRollback", testRiskImportReplaceAndRollback},
		{"RiskImportRebuildIndex", testRiskImportRebuildIndex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// RiskClient returns an API client for tests; quota and rate 0 are
// unlimited.
func RiskClient(name string, quota, rate int64) risk.Client {
	return risk.Client{
		ID: risk.ClientID(trueup.NewID("rk_")), Name: name, SecretHash: trueup.HashSecret("secret-" + name),
		APIs: []risk.API{risk.APIMultipleOrder}, TimeZone: "UTC", WindowDays: 90, Quota: quota, Rate: rate,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
}

// MustRiskClient stores a client made by RiskClient and returns it.
func MustRiskClient(tb testing.TB, rs *sqlstore.RiskStore, name string, quota, rate int64) risk.Client {
	tb.Helper()
	c := RiskClient(name, quota, rate)
	if err := rs.CreateRiskClient(context.Background(), c); err != nil {
		tb.Fatalf("create risk client: %v", err)
	}
	return c
}

func testRiskClients(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	c := RiskClient("Acme Risk", 100, 5)
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c.ExpiresAt = &exp
	if err := rs.CreateRiskClient(ctx, c); err != nil {
		t.Fatalf("CreateRiskClient: %v", err)
	}
	got, err := rs.RiskClient(ctx, c.ID)
	if err != nil {
		t.Fatalf("RiskClient: %v", err)
	}
	if got.Name != c.Name || got.SecretHash != c.SecretHash || !slices.Equal(got.APIs, c.APIs) || got.TimeZone != "UTC" ||
		got.WindowDays != 90 || got.Quota != 100 || got.QuotaUsed != 0 || got.Rate != 5 || !got.CreatedAt.Equal(c.CreatedAt) ||
		got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RotatedAt != nil || got.RevokedAt != nil {
		t.Errorf("RiskClient = %+v, want %+v", got, c)
	}
	dup := RiskClient("Acme Risk", 0, 0)
	if err := rs.CreateRiskClient(ctx, dup); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("duplicate name: err = %v, want conflict", err)
	}
	if _, err := rs.RiskClient(ctx, "rk_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("RiskClient(missing) err = %v, want not found", err)
	}

	none := []risk.API{}
	zone, window, quota, rate := "Asia/Kolkata", 30, int64(7), int64(0)
	if err := rs.UpdateRiskClient(ctx, risk.ClientUpdate{ID: c.ID, APIs: &none, TimeZone: &zone, WindowDays: &window, Quota: &quota, Rate: &rate, NoExpiry: true}); err != nil {
		t.Fatalf("UpdateRiskClient: %v", err)
	}
	got, _ = rs.RiskClient(ctx, c.ID)
	if len(got.APIs) != 0 || got.TimeZone != zone || got.WindowDays != 30 || got.Quota != 7 || got.Rate != 0 || got.ExpiresAt != nil {
		t.Errorf("after update: %+v", got)
	}
	if err := rs.UpdateRiskClient(ctx, risk.ClientUpdate{ID: c.ID, ExpiresAt: &exp}); err != nil {
		t.Fatalf("UpdateRiskClient(expiry): %v", err)
	}
	if got, _ = rs.RiskClient(ctx, c.ID); got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.Quota != 7 {
		t.Errorf("after expiry update: %+v", got)
	}

	if err := rs.RotateRiskClient(ctx, c.ID, "newhash"); err != nil {
		t.Fatalf("RotateRiskClient: %v", err)
	}
	if got, _ = rs.RiskClient(ctx, c.ID); got.SecretHash != "newhash" || got.RotatedAt == nil {
		t.Errorf("after rotate: %+v", got)
	}
	if err := rs.RevokeRiskClient(ctx, c.ID); err != nil {
		t.Fatalf("RevokeRiskClient: %v", err)
	}
	if got, _ = rs.RiskClient(ctx, c.ID); got.RevokedAt == nil {
		t.Errorf("not revoked: %+v", got)
	}
	for name, err := range map[string]error{
		"rotate revoked": rs.RotateRiskClient(ctx, c.ID, "x"),
		"revoke revoked": rs.RevokeRiskClient(ctx, c.ID),
		"update revoked": rs.UpdateRiskClient(ctx, risk.ClientUpdate{ID: c.ID, Quota: &quota}),
		"revoke missing": rs.RevokeRiskClient(ctx, "rk_missing"),
	} {
		if trueup.ErrorKind(err) != trueup.ENOTFOUND {
			t.Errorf("%s: err = %v, want not found", name, err)
		}
	}
	// Created a millisecond after c at least, so the list's order is
	// known however fast the test runs.
	other := RiskClient("Beta Risk", 0, 0)
	other.CreatedAt = c.CreatedAt.Add(time.Millisecond)
	if err := rs.CreateRiskClient(ctx, other); err != nil {
		t.Fatalf("CreateRiskClient: %v", err)
	}
	list, err := rs.RiskClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != c.ID || list[1].ID != other.ID {
		t.Errorf("RiskClients = %+v, %v; want %s then %s", list, err, c.ID, other.ID)
	}
}

func testRiskQuotaLease(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	c := MustRiskClient(t, rs, "quota", 5, 0)
	for i, tc := range []struct{ want, granted, used int64 }{{3, 3, 3}, {3, 2, 5}, {1, 0, 5}, {0, 0, 5}} {
		got, used, err := rs.LeaseRiskQuota(ctx, c.ID, tc.want)
		if err != nil || got != tc.granted || used != tc.used {
			t.Errorf("lease %d: LeaseRiskQuota(%d) = %d, %d, %v; want %d, %d", i, tc.want, got, used, err, tc.granted, tc.used)
		}
	}
	if got, _ := rs.RiskClient(ctx, c.ID); got.QuotaUsed != 5 {
		t.Errorf("quota_used = %d, want 5", got.QuotaUsed)
	}
	free := MustRiskClient(t, rs, "unlimited", 0, 0)
	for range 2 {
		if got, _, err := rs.LeaseRiskQuota(ctx, free.ID, 1000); err != nil || got != 1000 {
			t.Errorf("unlimited: LeaseRiskQuota = %d, %v; want 1000", got, err)
		}
	}
	if got, _ := rs.RiskClient(ctx, free.ID); got.QuotaUsed != 2000 {
		t.Errorf("unlimited quota_used = %d, want 2000 (usage is counted)", got.QuotaUsed)
	}
	if _, _, err := rs.LeaseRiskQuota(ctx, "rk_missing", 1); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("missing client: err = %v, want not found", err)
	}
}

func testRiskRateLease(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	c := MustRiskClient(t, rs, "rate", 0, 3)
	for i, tc := range []struct{ window, want, granted int64 }{
		{100, 2, 2}, {100, 2, 1}, {100, 1, 0}, // the window's 3 calls
		{101, 5, 3}, // a new second starts a new count
		{100, 1, 0}, // an older second is over
		{102, 1, 1},
	} {
		got, err := rs.LeaseRiskRate(ctx, c.ID, tc.window, tc.want)
		if err != nil || got != tc.granted {
			t.Errorf("lease %d: LeaseRiskRate(window %d, %d) = %d, %v; want %d", i, tc.window, tc.want, got, err, tc.granted)
		}
	}
	free := MustRiskClient(t, rs, "no rate", 0, 0)
	if got, err := rs.LeaseRiskRate(ctx, free.ID, 100, 50); err != nil || got != 50 {
		t.Errorf("unlimited: LeaseRiskRate = %d, %v; want 50", got, err)
	}
}

// testRiskLeaseConcurrent leases one call at a time from many goroutines
// (connections): exactly the quota and the rate are granted.
func testRiskLeaseConcurrent(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	c := MustRiskClient(t, rs, "busy", 17, 9)
	var mu sync.Mutex
	var quota, rate int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				q, _, err := rs.LeaseRiskQuota(ctx, c.ID, 1)
				if err != nil {
					t.Errorf("LeaseRiskQuota: %v", err)
					return
				}
				r, err := rs.LeaseRiskRate(ctx, c.ID, 500, 1)
				if err != nil {
					t.Errorf("LeaseRiskRate: %v", err)
					return
				}
				mu.Lock()
				quota, rate = quota+q, rate+r
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if quota != 17 || rate != 9 {
		t.Errorf("granted quota %d, rate %d; want 17 and 9", quota, rate)
	}
}

// RiskRecord returns a record of number on day (YYYY-MM-DD).
func RiskRecord(number, day string, source risk.Source, cid string, duration int64, level risk.Level) risk.Record {
	d, ok := risk.ParseDay(day)
	if !ok {
		panic(fmt.Sprintf("bad day %q", day))
	}
	r := risk.Record{Mobile: risk.HashMobile(number), Day: d, Source: source, CID: cid, Level: level}
	if duration >= 0 {
		r.Duration, r.HasDuration = duration, true
	}
	return r
}

// MustImportRisk imports records in one transaction and returns how many
// were written.
func MustImportRisk(tb testing.TB, rs *sqlstore.RiskStore, o risk.ImportOptions, recs ...risk.Record) int64 {
	tb.Helper()
	ctx := context.Background()
	imp, err := rs.BeginRiskImport(ctx, o)
	if err != nil {
		tb.Fatalf("BeginRiskImport: %v", err)
	}
	defer imp.Rollback()
	for _, r := range recs {
		if err := imp.Add(ctx, r); err != nil {
			tb.Fatalf("Add: %v", err)
		}
	}
	n, err := imp.Commit(ctx)
	if err != nil {
		tb.Fatalf("Commit: %v", err)
	}
	return n
}

func recordsOf(tb testing.TB, rs *sqlstore.RiskStore, q risk.Query) []string {
	tb.Helper()
	recs, err := rs.RiskRecords(context.Background(), q)
	if err != nil {
		tb.Fatalf("RiskRecords(%s): %v", q, err)
	}
	out := []string{}
	for _, r := range recs {
		if r.Mobile != q.Mobile {
			tb.Errorf("record of %s in the answer for %s", r.Mobile, q.Mobile)
		}
		d := "-"
		if r.HasDuration {
			d = fmt.Sprint(r.Duration)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s %d", r.Day, r.Source, r.CID, d, r.Level))
	}
	return out
}

func day(s string) risk.Day {
	d, ok := risk.ParseDay(s)
	if !ok {
		panic(s)
	}
	return d
}

func testRiskImportAndQuery(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	const a, b = "915586685366", "915586685367"
	recs := []risk.Record{
		RiskRecord(a, "2022-10-03", risk.SourceSeat, "11323", 17, 5),
		RiskRecord(a, "2022-10-03", risk.SourceSeat, "11323", 11, 5),
		RiskRecord(a, "2022-07-06", risk.SourceSMS, "c'\"é", -1, 3),
		RiskRecord(a, "2022-07-05", risk.SourceVoice, "9", 0, 1),
		RiskRecord(b, "2022-10-01", risk.SourceVoice, "1", -1, 4),
	}
	// Enough of another number to take several full INSERT statements and a
	// partial one.
	for i := range 700 {
		recs = append(recs, RiskRecord("4479"+fmt.Sprint(1000000+i), "2022-01-01", risk.SourceSMS, fmt.Sprint(i), -1, 2))
	}
	if n := MustImportRisk(t, rs, risk.ImportOptions{}, recs...); n != int64(len(recs)) {
		t.Fatalf("imported %d, want %d", n, len(recs))
	}
	l, err := rs.RiskList(ctx)
	if err != nil || l.Version != 1 || l.Records != int64(len(recs)) {
		t.Errorf("RiskList = %+v, %v; want version 1, %d records", l, err, len(recs))
	}
	ma, mb := risk.HashMobile(a), risk.HashMobile(b)
	tests := []struct {
		name string
		q    risk.Query
		want []string
	}{
		{"window of 90 days up to 2022-10-03", risk.Query{Mobile: ma, From: day("2022-07-06"), To: day("2022-10-03")},
			[]string{"2022-10-03 seat 11323 17 5", "2022-10-03 seat 11323 11 5", "2022-07-06 sms c'\"é - 3"}},
		{"one day more", risk.Query{Mobile: ma, From: day("2022-07-05"), To: day("2022-10-03")},
			[]string{"2022-10-03 seat 11323 17 5", "2022-10-03 seat 11323 11 5", "2022-07-06 sms c'\"é - 3", "2022-07-05 voice 9 0 1"}},
		{"window ending the day before", risk.Query{Mobile: ma, From: day("2022-07-05"), To: day("2022-10-02")},
			[]string{"2022-07-06 sms c'\"é - 3", "2022-07-05 voice 9 0 1"}},
		{"seat only", risk.Query{Mobile: ma, From: day("2022-01-01"), To: day("2022-12-31"), Source: risk.SourceSeat},
			[]string{"2022-10-03 seat 11323 17 5", "2022-10-03 seat 11323 11 5"}},
		{"voice only", risk.Query{Mobile: ma, From: day("2022-01-01"), To: day("2022-12-31"), Source: risk.SourceVoice},
			[]string{"2022-07-05 voice 9 0 1"}},
		{"other number", risk.Query{Mobile: mb, From: day("2022-10-01"), To: day("2022-10-01")}, []string{"2022-10-01 voice 1 - 4"}},
		{"not on the list", risk.Query{Mobile: risk.HashMobile("1"), From: 0, To: day("2030-01-01")}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recordsOf(t, rs, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("RiskRecords(%s) =\n%q\nwant\n%q", tt.q, got, tt.want)
			}
		})
	}
	n := 0
	if err := rs.EachRiskMobile(ctx, func(risk.MD5) error { n++; return nil }); err != nil || n != len(recs) {
		t.Errorf("EachRiskMobile saw %d numbers, %v; want %d", n, err, len(recs))
	}
	// A second import adds to the list.
	MustImportRisk(t, rs, risk.ImportOptions{}, RiskRecord(b, "2022-10-02", risk.SourceSMS, "2", -1, 5))
	if got := recordsOf(t, rs, risk.Query{Mobile: mb, From: day("2022-10-01"), To: day("2022-10-02")}); len(got) != 2 {
		t.Errorf("after a second import: %q, want 2 records", got)
	}
	if l, _ := rs.RiskList(ctx); l.Version != 2 || l.Records != int64(len(recs))+1 {
		t.Errorf("RiskList after the second import = %+v", l)
	}
}

func testRiskImportReplaceAndRollback(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	MustImportRisk(t, rs, risk.ImportOptions{}, RiskRecord("911", "2022-10-01", risk.SourceSMS, "1", -1, 5), RiskRecord("912", "2022-10-01", risk.SourceSMS, "1", -1, 5))

	// A rolled-back import leaves the list as it was.
	imp, err := rs.BeginRiskImport(ctx, risk.ImportOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := imp.Add(ctx, RiskRecord(fmt.Sprint(913+i), "2022-10-01", risk.SourceSMS, "1", -1, 5)); err != nil {
			t.Fatal(err)
		}
	}
	imp.Rollback()
	imp.Rollback() // twice is fine
	q := risk.Query{Mobile: risk.HashMobile("911"), From: 0, To: day("2030-01-01")}
	if got := recordsOf(t, rs, q); len(got) != 1 {
		t.Errorf("after rollback: %q, want the record kept", got)
	}
	if l, _ := rs.RiskList(ctx); l.Version != 1 || l.Records != 2 {
		t.Errorf("RiskList after rollback = %+v, want version 1, 2 records", l)
	}

	// Replace makes the import the whole list.
	MustImportRisk(t, rs, risk.ImportOptions{Replace: true}, RiskRecord("999", "2022-10-01", risk.SourceSeat, "1", 5, 5))
	if got := recordsOf(t, rs, q); len(got) != 0 {
		t.Errorf("after replace: %q, want the old record gone", got)
	}
	if got := recordsOf(t, rs, risk.Query{Mobile: risk.HashMobile("999"), From: 0, To: day("2030-01-01")}); len(got) != 1 {
		t.Errorf("after replace: %q, want the new record", got)
	}
	if l, _ := rs.RiskList(ctx); l.Version != 2 || l.Records != 1 {
		t.Errorf("RiskList after replace = %+v, want version 2, 1 record", l)
	}
	// A finished import refuses more.
	imp, err = rs.BeginRiskImport(ctx, risk.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, RiskRecord("1", "2022-10-01", risk.SourceSMS, "1", -1, 5)); err == nil {
		t.Error("Add after Commit succeeded")
	}
}

// testRiskImportRebuildIndex imports with the index dropped and rebuilt:
// the records are found, and the index is back.
func testRiskImportRebuildIndex(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	rs := db.RiskStore()
	defer rs.Close()
	var recs []risk.Record
	for i := range 600 {
		recs = append(recs, RiskRecord(fmt.Sprint(447900000000+i), "2022-10-01", risk.SourceVoice, "c", -1, 4))
	}
	MustImportRisk(t, rs, risk.ImportOptions{RebuildIndex: true}, recs...)
	if got := recordsOf(t, rs, risk.Query{Mobile: risk.HashMobile("447900000599"), From: 0, To: day("2030-01-01")}); len(got) != 1 {
		t.Errorf("after a rebuilt import: %q, want 1 record", got)
	}
	if ok, err := db.Dialect().IndexExists(ctx, db.SQL(), "risk_records_mobile_day"); err != nil || !ok {
		t.Errorf("index risk_records_mobile_day: %v, %v; want it present", ok, err)
	}
	// A failed rebuilt import keeps the index too.
	imp, err := rs.BeginRiskImport(ctx, risk.ImportOptions{RebuildIndex: true})
	if err != nil {
		t.Fatal(err)
	}
	imp.Add(ctx, recs[0])
	imp.Rollback()
	if ok, err := db.Dialect().IndexExists(ctx, db.SQL(), "risk_records_mobile_day"); err != nil || !ok {
		t.Errorf("index after a rolled-back rebuilt import: %v, %v; want it present", ok, err)
	}
}
