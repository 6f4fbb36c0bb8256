package cases_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/storetest"
)

// engines open a fresh store of each engine (PostgreSQL only when
// TRUEUP_TEST_POSTGRES_URL is set).
var engines = storetest.Engines()

// recorder keeps the events it is given.
type recorder struct {
	mu     sync.Mutex
	events []trueup.Event
}

func (r *recorder) Record(_ context.Context, e trueup.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

// take returns the events recorded since the last call, as "type subject
// actor" lines, sorted.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if strings.HasPrefix(e.Type, "batch.") {
			continue // the batch's outcome, recorded with its case events
		}
		out = append(out, fmt.Sprintf("%s %v %s", e.Type, e.Data["carrierOrderId"], e.Actor))
	}
	r.events = nil
	slices.Sort(out)
	return out
}

// fixture is a store with a carrier, a service with a settable clock and
// a recorder.
type fixture struct {
	db      *sqlstore.DB
	svc     *cases.Service
	rec     *recorder
	clock   *clock.Settable
	carrier trueup.Carrier
	n       int
}

const cycle = "2025-09"

func newFixture(t *testing.T, open func(testing.TB) *sqlstore.DB) *fixture {
	t.Helper()
	db := open(t)
	c := trueup.Carrier{ID: "car_cases", Name: "Cases", UserID: "1", TimeZone: "UTC", CreatedAt: time.Now().UTC()}
	if err := db.CreateCarrier(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, rec: &recorder{}, clock: clock.At(time.Date(2025, 10, 6, 9, 0, 0, 0, time.UTC)), carrier: c}
	db.Clock = f.clock
	f.svc = cases.New(db, nil)
	f.svc.Clock, f.svc.Events = f.clock, f.rec
	return f
}

// batch runs a succeeded batch showing ds and records its case events.
func (f *fixture) batch(t *testing.T, ds ...trueup.Discrepancy) trueup.BatchNo {
	t.Helper()
	ctx := context.Background()
	f.n++
	no := trueup.BatchNo(fmt.Sprintf("20251006_%d", f.n))
	err := f.db.CreateBatch(ctx, batch.CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: f.carrier.ID, Cycle: cycle, FileName: "s.csv", Format: "csv", FileSize: 1, CreatedAt: f.clock.Now()},
		File:  bytes.NewReader([]byte("x")), JobKind: "test", JobArgs: "{}",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.StartBatch(ctx, no, 1); err != nil {
		t.Fatal(err)
	}
	w := f.db.NewDiscrepancyWriter(no, 1)
	defer w.Close()
	var counts trueup.DiffCounts
	for _, d := range ds {
		counts.Add(d.DiffType)
		if err := w.Write(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.db.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: counts}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordBatchEvents(ctx, no); err != nil {
		t.Fatal(err)
	}
	return no
}

func diff(id string, typ trueup.DiffType, kd, carrier string) trueup.Discrepancy {
	return trueup.Discrepancy{CarrierOrderID: id, DiffType: typ, DiffReason: "r", BillingCycle: cycle, KdSaleTotal: decimal.RequireFromString(kd), CarrierSaleToKd: carrier}
}

func (f *fixture) find(t *testing.T, order string) cases.Case {
	t.Helper()
	list, err := f.svc.List(context.Background(), cases.ListParams{CarrierID: f.carrier.ID, Cycle: cycle})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.CarrierOrderID == order {
			return c
		}
	}
	t.Fatalf("no case of %s", order)
	return cases.Case{}
}

func TestEventsAndAging(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng.Open)
			ctx := trueup.WithActor(context.Background(), "operator:ann")
			f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"))
			if got, want := f.rec.take(), []string{"case.opened A system", "case.opened B system"}; !slices.Equal(got, want) {
				t.Errorf("events of batch 1 = %q, want %q", got, want)
			}
			// Aging: within the SLA (5 days) kind 1 is expected.
			f.clock.Advance(4 * 24 * time.Hour)
			a := f.find(t, "A")
			if a.AgeDays != 4 || a.Overdue || a.Flag != cases.FlagExpected {
				t.Errorf("A after 4 days = age %d overdue %t flag %q; want 4, false, expected", a.AgeDays, a.Overdue, a.Flag)
			}
			if b := f.find(t, "B"); !b.Amount.Equal(decimal.RequireFromString("2.50")) || b.Flag != "" {
				t.Errorf("B amount %s flag %q; want the difference 2.50, no flag", b.Amount, b.Flag)
			}
			f.clock.Advance(2 * 24 * time.Hour)
			a = f.find(t, "A")
			if a.AgeDays != 6 || !a.Overdue || a.Flag != cases.FlagMissing {
				t.Errorf("A after 6 days = age %d overdue %t flag %q; want 6, true, missing", a.AgeDays, a.Overdue, a.Flag)
			}
			if err := f.svc.SetSLA(ctx, f.carrier.ID, 10); err != nil {
				t.Fatal(err)
			}
			if a = f.find(t, "A"); a.Overdue || a.Flag != cases.FlagExpected {
				t.Errorf("A under a 10-day SLA: overdue %t flag %q", a.Overdue, a.Flag)
			}
			f.rec.take()

			// Batch 2 fixes B and shows A: B resolved; batch 3 brings B back.
			f.batch(t, diff("A", 1, "10.00", ""))
			if got, want := f.rec.take(), []string{"case.resolved B system"}; !slices.Equal(got, want) {
				t.Errorf("events of batch 2 = %q, want %q", got, want)
			}
			f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "13.00"))
			if got, want := f.rec.take(), []string{"case.reopened B system"}; !slices.Equal(got, want) {
				t.Errorf("events of batch 3 = %q, want %q", got, want)
			}

			// Actions record who and what.
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: a.ID, Action: cases.Void, Note: "test order"}); err != nil {
				t.Fatal(err)
			}
			if got, want := f.rec.take(), []string{"case.action A operator:ann", "case.resolved A operator:ann"}; !slices.Equal(got, want) {
				t.Errorf("events of void = %q, want %q", got, want)
			}
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: a.ID, Action: cases.Comment}); trueup.ErrorKind(err) != trueup.EINVALID {
				t.Errorf("comment without a note: %v, want invalid", err)
			}
			in := cases.CycleInput{CarrierID: f.carrier.ID, Cycle: cycle}
			if _, err := f.svc.Close(ctx, in); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: f.find(t, "B").ID, Action: cases.WriteOff, Note: "x"}); trueup.ErrorKind(err) != trueup.ECONFLICT {
				t.Errorf("write-off in a closed cycle: %v, want conflict", err)
			}
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: f.find(t, "B").ID, Action: cases.Comment, Note: "asked the carrier"}); err != nil {
				t.Errorf("comment in a closed cycle: %v", err)
			}
			if _, err := f.svc.Reopen(ctx, in); err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range f.rec.events {
				types = append(types, e.Type+" "+e.Subject)
			}
			want := []string{"case.action " + string(f.find(t, "B").ID), "cycle.closed car_cases/2025-09", "cycle.reopened car_cases/2025-09"}
			slices.Sort(types)
			if !slices.Equal(types, want) {
				t.Errorf("events = %q, want %q", types, want)
			}
		})
	}
}

// TestListFilters checks the assignee and overdue filters: overdue keeps
// the open cases past the SLA, never a resolved one.
func TestListFilters(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng.Open)
			ctx := trueup.WithActor(context.Background(), "operator:ann")
			f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"))
			f.clock.Advance(6 * 24 * time.Hour) // past the 5-day SLA
			f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"), diff("C", 4, "10.00", "11.00"))
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: f.find(t, "B").ID, Action: cases.Assign, Assignee: "bob"}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Act(ctx, cases.ActInput{ID: f.find(t, "A").ID, Action: cases.WriteOff, Note: "lost"}); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				p    cases.ListParams
				want []string
			}{
				{"every case", cases.ListParams{}, []string{"A", "B", "C"}},
				{"assignee bob", cases.ListParams{Assignee: "bob"}, []string{"B"}},
				{"assignee nobody", cases.ListParams{Assignee: "eve"}, nil},
				{"overdue: open and past the SLA", cases.ListParams{Overdue: true}, []string{"B"}},
				{"overdue of kind 4", cases.ListParams{Overdue: true, DiffType: 4}, []string{"B"}},
				{"overdue of kind 1 (resolved)", cases.ListParams{Overdue: true, DiffType: 1}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tc.p.CarrierID, tc.p.Cycle = f.carrier.ID, cycle
					list, err := f.svc.List(context.Background(), tc.p)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, c := range list {
						got = append(got, c.CarrierOrderID)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("got %q, want %q", got, tc.want)
					}
				})
			}
			_, err := f.svc.List(context.Background(), cases.ListParams{CarrierID: f.carrier.ID, Overdue: true, State: cases.StateResolved})
			if trueup.ErrorKind(err) != trueup.EINVALID {
				t.Errorf("overdue and resolved: %v, want invalid", err)
			}
		})
	}
}
