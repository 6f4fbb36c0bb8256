package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/sqlstore"
)

func runCases(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"CasesAcrossBatches", testCasesAcrossBatches},
		{"CasesConcurrentFinish", testCasesConcurrentFinish},
		{"CasesActions", testCasesActions},
		{"CycleCloseReopen", testCycleCloseReopen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// casesCycle is the cycle of the cases tests' batches.
const casesCycle = "2025-09"

// queueBatch stores a queued batch of carrier c uploaded at created and
// starts it under attempt 1.
func queueBatch(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, no trueup.BatchNo, created time.Time) {
	tb.Helper()
	ctx := context.Background()
	err := db.CreateBatch(ctx, batch.CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: c, Cycle: casesCycle, FileName: "s.csv", Format: "csv", FileSize: 1, CreatedAt: created},
		File:  bytes.NewReader([]byte("x")), JobKind: "cases.test", JobArgs: "{}",
	})
	if err != nil {
		tb.Fatalf("CreateBatch: %v", err)
	}
	if err := db.StartBatch(ctx, no, 1); err != nil {
		tb.Fatalf("StartBatch: %v", err)
	}
	tb.Cleanup(func() {})
}

// writeDiscrepancies stores ds as the discrepancies of attempt 1 of no.
func writeDiscrepancies(tb testing.TB, db *sqlstore.DB, no trueup.BatchNo, ds []trueup.Discrepancy) trueup.DiffCounts {
	tb.Helper()
	ctx := context.Background()
	w := db.NewDiscrepancyWriter(no, 1)
	defer w.Close()
	var counts trueup.DiffCounts
	for _, d := range ds {
		counts.Add(d.DiffType)
		if err := w.Write(ctx, d); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	return counts
}

// finish finishes attempt 1 of no in state.
func finish(db *sqlstore.DB, no trueup.BatchNo, state trueup.BatchState, counts trueup.DiffCounts) error {
	p := batch.FinishBatchParams{No: no, Attempt: 1, State: state, Counts: counts}
	if state == trueup.BatchFailed {
		p.Failure = "1 row error(s)"
	}
	return db.FinishBatch(context.Background(), p)
}

// runCaseBatch uploads, checks and finishes a batch with ds in state.
func runCaseBatch(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, no trueup.BatchNo, created time.Time, state trueup.BatchState, ds ...trueup.Discrepancy) {
	tb.Helper()
	queueBatch(tb, db, c, no, created)
	counts := writeDiscrepancies(tb, db, no, ds)
	if err := finish(db, no, state, counts); err != nil {
		tb.Fatalf("FinishBatch %s: %v", no, err)
	}
}

// caseDiff is a discrepancy of kind typ of order id, with amount as the
// carrier's carrierSaleToKd.
func caseDiff(id string, typ trueup.DiffType, amount string) trueup.Discrepancy {
	d := discrepancy(id, typ)
	d.CarrierSaleToKd = amount
	return d
}

// caseLine is a case as the tests compare it.
type caseLine struct {
	Order      string
	Type       trueup.DiffType
	State      cases.State
	Resolution string
	FixedBy    trueup.BatchNo
	Amount     string
}

func (l caseLine) String() string {
	return fmt.Sprintf("%s/%d %s %s %s %s", l.Order, l.Type, l.State, l.Resolution, l.FixedBy, l.Amount)
}

// caseLines returns the cases of carrier c's test cycle, sorted.
func caseLines(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID) []string {
	tb.Helper()
	var out []string
	err := db.EachCycleCase(context.Background(), c, casesCycle, func(k cases.Case) error {
		l := caseLine{Order: k.CarrierOrderID, Type: k.DiffType, State: k.State, FixedBy: k.FixedBy, Amount: k.CarrierSaleToKd}
		if k.Resolution != nil {
			l.Resolution = *k.Resolution
		}
		out = append(out, l.String())
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func changesOf(tb testing.TB, db *sqlstore.DB, no trueup.BatchNo) []string {
	tb.Helper()
	var out []string
	err := db.CaseChanges(context.Background(), no, func(_ trueup.CarrierID, c cases.Change) error {
		out = append(out, fmt.Sprintf("%s/%d %s", c.CarrierOrderID, c.DiffType, c.Change))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func testCasesAcrossBatches(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Cases Mobile")
	t0 := time.Date(2025, 10, 2, 8, 0, 0, 0, time.UTC)
	steps := []struct {
		no      trueup.BatchNo
		state   trueup.BatchState
		ds      []trueup.Discrepancy
		want    []string
		changes []string
	}{
		{"20251002_1", trueup.BatchSucceeded,
			[]trueup.Discrepancy{caseDiff("A", 1, ""), caseDiff("B", 4, "9.00"), caseDiff("C", 3, "12.50")},
			[]string{"A/1 open   ", "B/4 open   9.00", "C/3 open   12.50"},
			[]string{"A/1 opened", "B/4 opened", "C/3 opened"}},
		// B takes the latest values; A and C are fixed; D opens.
		{"20251002_2", trueup.BatchSucceeded,
			[]trueup.Discrepancy{caseDiff("B", 4, "9.50"), caseDiff("D", 2, "3.00")},
			[]string{"A/1 resolved fixed 20251002_2 ", "B/4 open   9.50", "C/3 resolved fixed 20251002_2 12.50", "D/2 open   3.00"},
			[]string{"A/1 resolved", "C/3 resolved", "D/2 opened"}},
		// A failed batch changes nothing.
		{"20251002_3", trueup.BatchFailed,
			[]trueup.Discrepancy{caseDiff("X", 1, "")},
			[]string{"A/1 resolved fixed 20251002_2 ", "B/4 open   9.50", "C/3 resolved fixed 20251002_2 12.50", "D/2 open   3.00"},
			nil},
		// A comes back: reopened; B and D are fixed.
		{"20251002_4", trueup.BatchSucceeded,
			[]trueup.Discrepancy{caseDiff("A", 1, ""), caseDiff("C", 3, "12.50")},
			[]string{"A/1 open   ", "B/4 resolved fixed 20251002_4 9.50", "C/3 open   12.50", "D/2 resolved fixed 20251002_4 3.00"},
			[]string{"A/1 reopened", "B/4 resolved", "C/3 reopened", "D/2 resolved"}},
	}
	for i, s := range steps {
		runCaseBatch(t, db, c.ID, s.no, t0.Add(time.Duration(i)*time.Minute), s.state, s.ds...)
		if got := caseLines(t, db, c.ID); !slices.Equal(got, s.want) {
			t.Errorf("after %s (%s):\n got %q\nwant %q", s.no, s.state, got, s.want)
		}
		if got := changesOf(t, db, s.no); !slices.Equal(got, s.changes) {
			t.Errorf("changes of %s = %q, want %q", s.no, got, s.changes)
		}
	}
	st, err := db.CycleState(context.Background(), c.ID, casesCycle)
	if err != nil || st.AppliedBatch != "20251002_4" || st.AppliedCount != 3 {
		t.Errorf("CycleState = %+v, %v; want batch 20251002_4 applied, 3 applied", st, err)
	}
	// The history of A: fixed by batch 2, reopened by batch 4.
	list, err := db.Cases(context.Background(), cases.ListParams{CarrierID: c.ID, Cycle: casesCycle, DiffType: 1, Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("Cases kind 1 = %v, %v", list, err)
	}
	hist, err := db.CaseHistory(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range hist {
		got = append(got, e.Action+" "+string(e.BatchNo))
	}
	if want := []string{"fixed 20251002_2", "reopened 20251002_4"}; !slices.Equal(got, want) {
		t.Errorf("history of A = %q, want %q", got, want)
	}
	// Keyset pages and filters.
	var ids []cases.ID
	for after := int64(0); ; {
		page, err := db.Cases(context.Background(), cases.ListParams{CarrierID: c.ID, After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, k := range page {
			ids = append(ids, k.ID)
		}
		fmt.Sscan(string(page[len(page)-1].ID), &after)
	}
	if len(ids) != 4 {
		t.Errorf("pages walked %d cases, want 4", len(ids))
	}
	open, _ := db.Cases(context.Background(), cases.ListParams{CarrierID: c.ID, State: cases.StateOpen, Limit: 10})
	if len(open) != 2 {
		t.Errorf("open cases = %d, want 2", len(open))
	}
}

// testCasesConcurrentFinish finishes two batches of one cycle at once,
// many times, and checks the cases are those of finishing them one after
// the other in upload order; and so when the newer finishes first.
func testCasesConcurrentFinish(t *testing.T, db *sqlstore.DB) {
	t0 := time.Date(2025, 10, 3, 8, 0, 0, 0, time.UTC)
	older := []trueup.Discrepancy{caseDiff("A", 1, ""), caseDiff("B", 4, "1.00"), caseDiff("C", 2, "2.00")}
	newer := []trueup.Discrepancy{caseDiff("B", 4, "1.50"), caseDiff("D", 3, "4.00")}
	ref := MustCarrier(t, db, "Serial")
	runCaseBatch(t, db, ref.ID, "20251003_r1", t0, trueup.BatchSucceeded, older...)
	runCaseBatch(t, db, ref.ID, "20251003_r2", t0.Add(time.Minute), trueup.BatchSucceeded, newer...)
	want := caseLines(t, db, ref.ID)
	for i := range want {
		want[i] = normaliseBatch(want[i])
	}
	run := func(name string, order func(a, b func() error) error) {
		c := MustCarrier(t, db, name)
		a, b := trueup.BatchNo("20251003_"+name+"a"), trueup.BatchNo("20251003_"+name+"b")
		queueBatch(t, db, c.ID, a, t0)
		queueBatch(t, db, c.ID, b, t0.Add(time.Minute))
		ca, cb := writeDiscrepancies(t, db, a, older), writeDiscrepancies(t, db, b, newer)
		if err := order(func() error { return finish(db, a, trueup.BatchSucceeded, ca) }, func() error { return finish(db, b, trueup.BatchSucceeded, cb) }); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := caseLines(t, db, c.ID)
		for i := range got {
			got[i] = normaliseBatch(got[i])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, want)
		}
		if st, _ := db.CycleState(context.Background(), c.ID, casesCycle); st.AppliedBatch != b {
			t.Errorf("%s: applied batch %s, want the newer %s", name, st.AppliedBatch, b)
		}
	}
	run("newerfirst", func(a, b func() error) error {
		if err := b(); err != nil {
			return err
		}
		return a()
	})
	for i := range 6 {
		run(fmt.Sprintf("together%d", i), func(a, b func() error) error {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			start := make(chan struct{})
			for k, fn := range []func() error{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[k] = fn()
				}()
			}
			close(start)
			wg.Wait()
			if errs[0] != nil {
				return errs[0]
			}
			return errs[1]
		})
	}
}

// normaliseBatch drops the run's batch names from a case line, keeping
// whether the older (1) or newer (2) batch fixed it.
func normaliseBatch(s string) string {
	for _, suffix := range []string{"r1", "r2"} {
		s = replaceBatch(s, suffix)
	}
	return s
}

func replaceBatch(s, _ string) string {
	out := []byte(s)
	// Batch numbers of these tests end in r1/r2 (reference) or a/b.
	for i := 0; i+9 <= len(out); i++ {
		if string(out[i:i+9]) == "20251003_" {
			j := i + 9
			for j < len(out) && out[j] != ' ' {
				j++
			}
			last := out[j-1]
			tag := "older"
			if last == '2' || last == 'b' {
				tag = "newer"
			}
			return string(out[:i]) + tag + string(out[j:])
		}
	}
	return string(out)
}

func testCasesActions(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Acting")
	t0 := time.Date(2025, 10, 4, 8, 0, 0, 0, time.UTC)
	runCaseBatch(t, db, c.ID, "20251004_1", t0, trueup.BatchSucceeded, caseDiff("A", 4, "1.00"), caseDiff("B", 2, "2.00"))
	list, _ := db.Cases(ctx, cases.ListParams{CarrierID: c.ID, Limit: 10})
	if len(list) != 2 {
		t.Fatalf("cases = %d", len(list))
	}
	// Case ids follow the insert order, which the engine's plan decides:
	// find A by its order id.
	a := list[0]
	if a.CarrierOrderID != "A" {
		a = list[1]
	}
	now := t0.Add(time.Hour)
	got, err := db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: cases.Assign, Actor: "operator:ann", Assignee: "bob", Now: now})
	if err != nil || got.Assignee != "bob" || got.State != cases.StateOpen {
		t.Fatalf("assign = %+v, %v", got, err)
	}
	got, err = db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: cases.AcceptCarrier, Actor: "operator:bob", Note: "carrier is right", Now: now})
	if err != nil || got.State != cases.StateResolved || got.Resolution == nil || *got.Resolution != "accept-carrier" || got.Note != "carrier is right" || got.ResolvedBy != "operator:bob" {
		t.Fatalf("accept-carrier = %+v, %v", got, err)
	}
	if _, err := db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: cases.Void, Actor: "operator:bob", Note: "again", Now: now}); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("void of a resolved case: err = %v, want conflict", err)
	}
	if _, err := db.ActOnCase(ctx, cases.ActParams{ID: "999999", Action: cases.Comment, Note: "x", Now: now}); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("unknown case: err = %v, want not found", err)
	}
	// A later batch still showing A keeps the operator's resolution and
	// takes the latest values; B, gone, is fixed.
	runCaseBatch(t, db, c.ID, "20251004_2", t0.Add(time.Minute), trueup.BatchSucceeded, caseDiff("A", 4, "1.10"))
	want := []string{"A/4 resolved accept-carrier  1.10", "B/2 resolved fixed 20251004_2 2.00"}
	if got := caseLines(t, db, c.ID); !slices.Equal(got, want) {
		t.Errorf("after batch 2:\n got %q\nwant %q", got, want)
	}
	hist, _ := db.CaseHistory(ctx, a.ID)
	var acts []string
	for _, e := range hist {
		acts = append(acts, fmt.Sprintf("%s %s %s %s", e.Action, e.Actor, e.Note, e.Detail))
	}
	if want := []string{"assign operator:ann  bob", "accept-carrier operator:bob carrier is right "}; !slices.Equal(acts, want) {
		t.Errorf("history = %q, want %q", acts, want)
	}
	if n, err := db.CaseSLA(ctx, c.ID); err != nil || n != cases.DefaultSLADays {
		t.Errorf("default SLA = %d, %v", n, err)
	}
	if err := db.SetCaseSLA(ctx, c.ID, 9); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCaseSLA(ctx, c.ID, 7); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.CaseSLA(ctx, c.ID); n != 7 {
		t.Errorf("SLA = %d, want 7", n)
	}
}

func testCycleCloseReopen(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Closing")
	t0 := time.Date(2025, 10, 5, 8, 0, 0, 0, time.UTC)
	if closed, err := db.CycleClosed(ctx, c.ID, casesCycle); err != nil || closed {
		t.Fatalf("CycleClosed of a new cycle = %v, %v", closed, err)
	}
	runCaseBatch(t, db, c.ID, "20251005_1", t0, trueup.BatchSucceeded, caseDiff("A", 1, ""))
	// A batch accepted before the close and finishing after it leaves
	// the closed cycle's cases alone.
	queueBatch(t, db, c.ID, "20251005_2", t0.Add(time.Minute))
	if err := db.CloseCycle(ctx, cases.CloseParams{CarrierID: c.ID, Cycle: casesCycle, Actor: "operator:ann", Now: t0, Summary: "{}"}); err != nil {
		t.Fatal(err)
	}
	if err := db.CloseCycle(ctx, cases.CloseParams{CarrierID: c.ID, Cycle: casesCycle, Actor: "operator:ann", Now: t0}); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("second close: err = %v, want conflict", err)
	}
	if closed, _ := db.CycleClosed(ctx, c.ID, casesCycle); !closed {
		t.Error("CycleClosed = false after close")
	}
	if err := finish(db, "20251005_2", trueup.BatchSucceeded, writeDiscrepancies(t, db, "20251005_2", nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := caseLines(t, db, c.ID), []string{"A/1 open   "}; !slices.Equal(got, want) {
		t.Errorf("closed cycle's cases = %q, want %q", got, want)
	}
	st, _ := db.CycleState(ctx, c.ID, casesCycle)
	if st.ClosedAt == nil || st.ClosedBy != "operator:ann" || st.ClosedSummary != "{}" {
		t.Errorf("CycleState = %+v", st)
	}
	// The store refuses an action on a case of the closed cycle by
	// itself (under the cycle's lock), whatever its caller checked
	// before; a comment is taken.
	var a cases.Case
	if err := db.EachCycleCase(ctx, c.ID, casesCycle, func(cc cases.Case) error { a = cc; return nil }); err != nil || a.ID == "" {
		t.Fatalf("EachCycleCase: %v, %+v", err, a)
	}
	for _, act := range []cases.Action{cases.WriteOff, cases.Assign} {
		_, err := db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: act, Actor: "operator:ann", Note: "late", Assignee: "bob", Now: t0})
		if trueup.ErrorKind(err) != trueup.ECONFLICT || !strings.Contains(err.Error(), "closed") {
			t.Errorf("%s on a closed cycle's case: err = %v, want a conflict naming the close", act, err)
		}
	}
	if _, err := db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: cases.Comment, Actor: "operator:ann", Note: "seen", Now: t0}); err != nil {
		t.Errorf("comment on a closed cycle's case: %v", err)
	}
	if err := db.ReopenCycle(ctx, c.ID, casesCycle); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ActOnCase(ctx, cases.ActParams{ID: a.ID, Action: cases.WriteOff, Actor: "operator:ann", Note: "after reopen", Now: t0}); err != nil || got.State != cases.StateResolved {
		t.Errorf("write-off after reopen: %+v, %v", got, err)
	}
	if err := db.ReopenCycle(ctx, c.ID, casesCycle); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("second reopen: err = %v, want conflict", err)
	}
	if closed, _ := db.CycleClosed(ctx, c.ID, casesCycle); closed {
		t.Error("CycleClosed = true after reopen")
	}
}
