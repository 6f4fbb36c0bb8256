package cases_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/webhook"
)

// flaky records through r until left events are taken, then fails: a
// worker that dies part way through a batch's events.
type flaky struct {
	r    trueup.Recorder
	left int
}

var errCrash = errors.New("worker died")

func (f *flaky) Record(ctx context.Context, e trueup.Event) error {
	if f.left == 0 {
		return errCrash
	}
	f.left--
	return f.r.Record(ctx, e)
}

// TestDurableBatchEvents checks the outbox of a batch's events on each
// engine: FinishBatch enqueues the events job in its transaction; the job,
// run after a later batch of the cycle was applied (which moves the cases'
// change marks), still records the first batch's events; interrupted part
// way and run again, then run a third time, or run by two workers at once,
// it leaves each event exactly once in the audit chain (which verifies)
// and in a subscription's deliveries.
func TestDurableBatchEvents(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng.Open)
			ctx := context.Background()
			chain := audit.New(f.db)
			chain.Clock = f.clock
			hooks := webhook.New(f.db, nil)
			hooks.Clock = f.clock
			sub, err := hooks.Create(ctx, webhook.CreateParams{CarrierID: f.carrier.ID, URL: "https://example.com/hooks",
				EventTypes: []string{trueup.EventBatchSucceeded, trueup.EventCaseOpened, trueup.EventCaseResolved}})
			if err != nil {
				t.Fatal(err)
			}
			// The batches finish with no recorder: their events wait in
			// their jobs.
			f.svc.Events = nil
			no1 := f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"), diff("C", 3, "10.00", "10.00"))
			no2 := f.batch(t, diff("A", 1, "10.00", ""), diff("D", 4, "10.00", "11.00"))
			no3 := f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"))
			no4 := f.batch(t, diff("A", 1, "10.00", ""))
			jobs := map[trueup.BatchNo]trueup.Job{}
			for {
				job, ok, err := f.db.ClaimJob(ctx, "test", []string{cases.EventsJobKind}, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				var no trueup.BatchNo
				for _, n := range []trueup.BatchNo{no1, no2, no3, no4} {
					if job.Args == cases.EventsJobArgs(n) {
						no = n
					}
				}
				jobs[no] = job
			}
			if len(jobs) != 4 || jobs[""].ID != 0 {
				t.Fatalf("events jobs enqueued = %v, want one for each of %s, %s, %s, %s", jobs, no1, no2, no3, no4)
			}
			want := map[trueup.BatchNo][]string{
				no1: {"batch.succeeded " + string(no1), "case.opened A", "case.opened B", "case.opened C"},
				no2: {"batch.succeeded " + string(no2), "case.opened D", "case.resolved B", "case.resolved C"},
				no3: {"batch.succeeded " + string(no3), "case.reopened B", "case.resolved D"},
				no4: {"batch.succeeded " + string(no4), "case.resolved B"},
			}
			both := trueup.Recorders{chain, hooks}
			for i, no := range []trueup.BatchNo{no1, no2, no3} {
				// Interrupted part way, then run in full, twice.
				f.svc.Events = &flaky{r: both, left: []int{1, 3, 2}[i]}
				if err := f.svc.RecordEvents(ctx, jobs[no]); !errors.Is(err, errCrash) {
					t.Fatalf("interrupted events job of %s: %v, want the crash", no, err)
				}
				f.svc.Events = both
				for range 2 {
					if err := f.svc.RecordEvents(ctx, jobs[no]); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Two workers at once on the last batch's job (one took over
			// a lease the other still believed it held).
			errs := make(chan error, 2)
			for range 2 {
				go func() { errs <- f.svc.RecordEvents(ctx, jobs[no4]) }()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			entries, err := f.db.AuditEntries(ctx, audit.ListParams{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			got := map[trueup.BatchNo][]string{}
			for _, e := range entries {
				if e.Type == trueup.EventWebhookChanged {
					continue
				}
				var data struct {
					BatchNo trueup.BatchNo `json:"batchNo"`
				}
				if err := json.Unmarshal(e.Data, &data); err != nil {
					t.Fatal(err)
				}
				no, what := data.BatchNo, e.Subject
				if e.Type != trueup.EventBatchSucceeded {
					c, err := f.db.Case(ctx, cases.ID(e.Subject))
					if err != nil {
						t.Fatal(err)
					}
					what = c.CarrierOrderID
				}
				got[no] = append(got[no], e.Type+" "+what)
			}
			for _, no := range []trueup.BatchNo{no1, no2, no3, no4} {
				slices.Sort(got[no])
				if !slices.Equal(got[no], want[no]) {
					t.Errorf("audit entries of %s = %q, want each of %q once", no, got[no], want[no])
				}
			}
			if r, err := chain.Verify(ctx); err != nil || !r.Intact {
				t.Errorf("verify = %+v, %v; want intact", r, err)
			}
			ds, err := hooks.Deliveries(ctx, sub.ID, webhook.MaxDeliveriesPage)
			if err != nil {
				t.Fatal(err)
			}
			// batch.succeeded x4, case.opened A B C D, case.resolved B C D B
			// (the subscription does not take case.reopened).
			count := map[string]int{}
			for _, d := range ds {
				count[d.EventType]++
			}
			if count[trueup.EventBatchSucceeded] != 4 || count[trueup.EventCaseOpened] != 4 || count[trueup.EventCaseResolved] != 4 || len(ds) != 12 {
				t.Errorf("deliveries = %v (%d), want 4 batch.succeeded, 4 case.opened, 4 case.resolved", count, len(ds))
			}
			// One delivery job per delivery.
			var deliveryJobs int
			for {
				_, ok, err := f.db.ClaimJob(ctx, "test", []string{webhook.JobKind}, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				deliveryJobs++
			}
			if deliveryJobs != len(ds) {
				t.Errorf("delivery jobs = %d, want %d (one a delivery)", deliveryJobs, len(ds))
			}
		})
	}
}

// TestEventsOfALateBatch checks on each engine that a batch finishing after
// a newer one of its cycle was applied reports only its outcome: the cases
// it alone shows are added resolved (fixed by the newer batch), not
// opened.
func TestEventsOfALateBatch(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng.Open)
			ctx := context.Background()
			older, finish := f.prepare(t, diff("A", 1, "10.00", ""), diff("E", 4, "10.00", "12.00"))
			f.clock.Advance(time.Minute)
			f.batch(t, diff("A", 1, "10.00", ""))
			f.rec.take()
			if err := finish(); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.RecordBatchEvents(ctx, older); err != nil {
				t.Fatal(err)
			}
			if got := f.rec.take(); len(got) != 0 {
				t.Errorf("case events of the late batch = %q, want none", got)
			}
			if e := f.find(t, "E"); e.State != cases.StateResolved {
				t.Errorf("E = %+v, want resolved fixed", e)
			}
		})
	}
}
