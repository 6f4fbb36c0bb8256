package cases_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
)

// prepare stores a started batch of f's carrier showing ds, not finished;
// finish finishes it.
func (f *fixture) prepare(t *testing.T, ds ...trueup.Discrepancy) (no trueup.BatchNo, finish func() error) {
	t.Helper()
	ctx := context.Background()
	f.n++
	no = trueup.BatchNo(fmt.Sprintf("20251006_%d", f.n))
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
	return no, func() error {
		return f.db.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: counts})
	}
}

// openCases returns the carrier order ids of the open cases.
func (f *fixture) openCases(t *testing.T) []string {
	t.Helper()
	list, err := f.svc.List(context.Background(), cases.ListParams{CarrierID: f.carrier.ID, Cycle: cycle, State: cases.StateOpen})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range list {
		out = append(out, c.CarrierOrderID)
	}
	slices.Sort(out)
	return out
}

// TestCloseLocksOutBatches checks on each engine that closing a cycle
// computes its figure and closes it in one step: a batch finishing while
// the figure is computed waits for the close, then changes none of the
// closed cycle's cases, so the figure kept is the cycle's; and a batch
// racing a close either is in the figure or changes nothing.
func TestCloseLocksOutBatches(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			f := newFixture(t, eng.Open)
			ctx := trueup.WithActor(context.Background(), "operator:ann")
			in := cases.CycleInput{CarrierID: f.carrier.ID, Cycle: cycle}
			f.batch(t, diff("A", 1, "10.00", ""), diff("B", 4, "10.00", "12.50"))
			// Batch 2 would fix B and open C.
			_, finish := f.prepare(t, diff("A", 1, "10.00", ""), diff("C", 4, "10.00", "11.00"))
			finished := make(chan error, 1)
			var figure cases.Cycle
			err := f.db.CloseCycle(ctx, cases.CloseParams{CarrierID: f.carrier.ID, Cycle: cycle, Actor: "operator:ann", Now: f.clock.Now(),
				Summarize: func(ctx context.Context) (string, error) {
					go func() { finished <- finish() }()
					select {
					case err := <-finished:
						t.Errorf("a batch finished (%v) while the cycle's figure was being computed", err)
						finished <- err
					case <-time.After(300 * time.Millisecond):
					}
					var err error
					if figure, err = f.svc.Cycle(ctx, in); err != nil {
						return "", err
					}
					b, err := json.Marshal(figure)
					return string(b), err
				}})
			if err != nil {
				t.Fatal(err)
			}
			if err := <-finished; err != nil {
				t.Fatalf("the batch after the close: %v, want it finished", err)
			}
			now, err := f.svc.Cycle(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.openCases(t); !slices.Equal(got, []string{"A", "B"}) || now.Open != figure.Open || !now.Settlement.Total.Equal(figure.Settlement.Total) {
				t.Errorf("after the close: open %q, figure %+v, now %+v; want A and B open, as at the close", got, figure.Settlement, now.Settlement)
			}
			if now.AtClose == nil || now.AtClose.AppliedBatch != figure.AppliedBatch || now.AppliedBatch != figure.AppliedBatch {
				t.Errorf("applied batch now %s, at close %+v; want the figure's %s", now.AppliedBatch, now.AtClose, figure.AppliedBatch)
			}

			// A close racing a batch through the service: whichever goes
			// first, the closed figure is the cycle as it stays.
			if _, err := f.svc.Reopen(ctx, in); err != nil {
				t.Fatal(err)
			}
			no3, finish3 := f.prepare(t, diff("A", 1, "10.00", ""), diff("D", 4, "10.00", "11.00"))
			go func() { finished <- finish3() }()
			closed, err := f.svc.Close(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-finished; err != nil {
				t.Fatal(err)
			}
			after, err := f.svc.Cycle(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if after.AtClose == nil || after.AtClose.AppliedBatch != after.AppliedBatch || after.AtClose.Open != after.Open ||
				!after.AtClose.Settlement.Total.Equal(after.Settlement.Total) || closed.AppliedBatch != after.AppliedBatch {
				t.Errorf("raced close kept %+v; the cycle is %+v (batch 3 %s)", after.AtClose, after, no3)
			}
			t.Logf("batch 3 %s: applied before the close %t", no3, after.AppliedBatch == no3)
		})
	}
}
