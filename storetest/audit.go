package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlstore"
)

// runAudit runs the cases of the audit chain's storage.
func runAudit(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"AuditAppendAndList", testAuditAppendAndList},
		{"AuditConcurrentAppends", testAuditConcurrentAppends},
		{"AuditTampering", testAuditTampering},
		{"AuditRecordAllKeyed", testAuditRecordAllKeyed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// auditService returns an audit service over db at a fixed time.
func auditService(db *sqlstore.DB) *audit.Service {
	return &audit.Service{Store: db, Clock: testclock.At(time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC))}
}

// recordN appends n events to the chain.
func recordN(tb testing.TB, svc *audit.Service, n int) {
	tb.Helper()
	ctx := trueup.WithActor(context.Background(), "apikey:key_test")
	for i := range n {
		e := trueup.Event{Type: trueup.EventBatchUploaded, CarrierID: "car_1", Subject: fmt.Sprintf("b%d", i+1),
			Data: map[string]any{"z": i, "a": "first", "nested": map[string]any{"y": 1, "b": []int{2, 3}}}}
		if err := svc.Record(ctx, e); err != nil {
			tb.Fatalf("Record %d: %v", i+1, err)
		}
	}
}

func testAuditAppendAndList(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	svc := auditService(db)
	rep, err := svc.Verify(ctx)
	if err != nil || !rep.Intact || rep.Entries != 0 || rep.Head != (audit.Head{}) {
		t.Fatalf("Verify of an empty chain = %+v, %v; want intact with 0 entries", rep, err)
	}
	recordN(t, svc, 5)
	list, err := svc.List(ctx, 0, 3)
	if err != nil || len(list) != 3 {
		t.Fatalf("List(0, 3) = %d entries, %v; want 3", len(list), err)
	}
	e := list[0]
	if e.Seq != 1 || e.PrevHash != "" || e.Actor != "apikey:key_test" || e.Type != trueup.EventBatchUploaded || e.CarrierID != "car_1" || e.Subject != "b1" {
		t.Errorf("entry 1 = %+v", e)
	}
	if want := `{"a":"first","nested":{"b":[2,3],"y":1},"z":0}`; string(e.Data) != want {
		t.Errorf("entry 1 data = %s, want canonical %s", e.Data, want)
	}
	if !e.Time.Equal(time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)) {
		t.Errorf("entry 1 time = %s, want the clock's to the microsecond", e.Time)
	}
	if list[1].PrevHash != list[0].Hash || list[2].PrevHash != list[1].Hash {
		t.Errorf("entries do not link: %+v", list)
	}
	if got := audit.Hash(e); got != e.Hash {
		t.Errorf("stored hash %s, recomputed %s", e.Hash, got)
	}
	rest, err := svc.List(ctx, 3, 100)
	if err != nil || len(rest) != 2 || rest[0].Seq != 4 || rest[1].Seq != 5 {
		t.Fatalf("List(3, 100) = %+v, %v; want entries 4 and 5", rest, err)
	}
	if _, err := svc.List(ctx, 0, audit.MaxPage+1); trueup.ErrorKind(err) != trueup.EINVALID {
		t.Errorf("List over MaxPage: %v, want EINVALID", err)
	}
	rep, err = svc.Verify(ctx)
	if err != nil || !rep.Intact || rep.Entries != 5 || rep.Head.Seq != 5 || rep.Head.Hash != rest[1].Hash {
		t.Fatalf("Verify = %+v, %v; want intact, 5 entries, head at 5", rep, err)
	}
}

// testAuditConcurrentAppends appends from several goroutines at once: the
// head lock keeps the chain linear.
func testAuditConcurrentAppends(t *testing.T, db *sqlstore.DB) {
	svc := auditService(db)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recordN(t, svc, 10)
		}()
	}
	wg.Wait()
	rep, err := svc.Verify(context.Background())
	if err != nil || !rep.Intact || rep.Entries != 40 {
		t.Fatalf("Verify after concurrent appends = %+v, %v; want intact with 40 entries", rep, err)
	}
}

// testAuditTampering changes the stored chain directly in SQL and checks
// that Verify names the entry touched.
func testAuditTampering(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	exec := func(t *testing.T, query string, args ...any) {
		t.Helper()
		if _, err := db.SQL().ExecContext(ctx, rebind(db, query), args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	// forge returns a row for seq that chains after prev, as someone who
	// knows the algorithm would write it.
	forge := func(seq int64, prev string) audit.Entry {
		e := audit.Entry{Seq: seq, Time: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Actor: "cli", Type: trueup.EventAPIKeyCreated, Subject: "key_forged", Data: []byte("{}"), PrevHash: prev}
		e.Hash = audit.Hash(e)
		return e
	}
	insert := func(t *testing.T, e audit.Entry) {
		t.Helper()
		exec(t, `INSERT INTO audit_entries (seq, at, actor, type, carrier_id, subject, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, e.Time, string(e.Actor), e.Type, "", e.Subject, string(e.Data), e.PrevHash, e.Hash)
	}
	entry := func(t *testing.T, seq int64) audit.Entry {
		t.Helper()
		list, err := db.AuditEntries(ctx, audit.ListParams{After: seq - 1, Limit: 1})
		if err != nil || len(list) != 1 {
			t.Fatalf("entry %d: %v", seq, err)
		}
		return list[0]
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T)
		seq     int64
		problem string
	}{
		{"field changed", func(t *testing.T) { exec(t, `UPDATE audit_entries SET actor = ? WHERE seq = 3`, "operator:mallory") }, 3, audit.ProblemChanged},
		{"data changed", func(t *testing.T) { exec(t, `UPDATE audit_entries SET data = ? WHERE seq = 2`, `{"a":"second"}`) }, 2, audit.ProblemChanged},
		{"time changed", func(t *testing.T) {
			exec(t, `UPDATE audit_entries SET at = ? WHERE seq = 4`, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		}, 4, audit.ProblemChanged},
		{"entry removed", func(t *testing.T) { exec(t, `DELETE FROM audit_entries WHERE seq = 3`) }, 3, audit.ProblemRemoved},
		{"first entry removed", func(t *testing.T) { exec(t, `DELETE FROM audit_entries WHERE seq = 1`) }, 1, audit.ProblemRemoved},
		{"last entry removed", func(t *testing.T) { exec(t, `DELETE FROM audit_entries WHERE seq = 5`) }, 5, audit.ProblemRemoved},
		{"entry replaced with its hash recomputed", func(t *testing.T) {
			exec(t, `DELETE FROM audit_entries WHERE seq = 3`)
			insert(t, forge(3, entry(t, 2).Hash))
		}, 4, audit.ProblemRelinked},
		{"entry inserted after the head", func(t *testing.T) { insert(t, forge(6, entry(t, 5).Hash)) }, 6, audit.ProblemInserted},
		{"forged entry with a wrong link", func(t *testing.T) {
			exec(t, `DELETE FROM audit_entries WHERE seq = 5`)
			insert(t, forge(5, strings.Repeat("0", 64)))
		}, 5, audit.ProblemRelinked},
		{"last entry replaced and relinked", func(t *testing.T) {
			exec(t, `DELETE FROM audit_entries WHERE seq = 5`)
			insert(t, forge(5, entry(t, 4).Hash))
		}, 5, audit.ProblemHead},
		{"head removed", func(t *testing.T) { exec(t, `DELETE FROM audit_head`) }, 5, audit.ProblemHead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, `DELETE FROM audit_entries`)
			exec(t, `DELETE FROM audit_head`)
			exec(t, `INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '')`)
			svc := auditService(db)
			svc.VerifyPage = 2 // breaks fall on and across page boundaries
			recordN(t, svc, 5)
			if rep, err := svc.Verify(ctx); err != nil || !rep.Intact || rep.Entries != 5 {
				t.Fatalf("Verify before tampering = %+v, %v", rep, err)
			}
			tt.tamper(t)
			rep, err := svc.Verify(ctx)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rep.Intact || rep.Break == nil {
				t.Fatalf("Verify after tampering = %+v; want a break", rep)
			}
			if rep.Break.Seq != tt.seq || rep.Break.Problem != tt.problem {
				t.Errorf("break = %+v; want entry %d %s", rep.Break, tt.seq, tt.problem)
			}
			if !strings.Contains(rep.Break.Message, fmt.Sprintf("entry %d", tt.seq)) {
				t.Errorf("message %q does not name entry %d", rep.Break.Message, tt.seq)
			}
		})
	}
}

// testAuditRecordAllKeyed appends events many at a time, as the events job
// does: an event whose key is in the chain already, or earlier in the same
// call, is appended once, and a call that only repeats keys appends
// nothing; events without a key always append.
func testAuditRecordAllKeyed(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	svc := auditService(db)
	events := func(keys ...string) []trueup.Event {
		var out []trueup.Event
		for _, k := range keys {
			out = append(out, trueup.Event{Type: trueup.EventCaseOpened, CarrierID: "car_1", Subject: k, Key: k})
		}
		return out
	}
	calls := []struct {
		events []trueup.Event
		want   int64 // entries in the chain after the call
	}{
		{events("k1", "k2", "k1", "k3"), 3},
		{events("k2", "k3"), 3},
		{append(events("k3", "k4"), trueup.Event{Type: trueup.EventBatchUploaded, Subject: "unkeyed"}), 5},
		{[]trueup.Event{{Type: trueup.EventBatchUploaded, Subject: "unkeyed"}}, 6},
		{nil, 6},
	}
	for i, c := range calls {
		if err := svc.RecordAll(ctx, c.events); err != nil {
			t.Fatalf("call %d: RecordAll: %v", i, err)
		}
		rep, err := svc.Verify(ctx)
		if err != nil || !rep.Intact || rep.Entries != c.want {
			t.Fatalf("call %d: Verify = %+v, %v; want intact with %d entries", i, rep, err, c.want)
		}
	}
	list, err := svc.List(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, e := range list {
		subjects = append(subjects, e.Subject)
	}
	if got, want := strings.Join(subjects, ","), "k1,k2,k3,k4,unkeyed,unkeyed"; got != want {
		t.Errorf("chain subjects = %s, want %s", got, want)
	}
}
