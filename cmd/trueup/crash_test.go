package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// lastCycle returns the billing cycle before the current month.
func lastCycle() trueup.Cycle {
	now := time.Now().UTC()
	prev := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	return trueup.Cycle{Year: prev.Year(), Month: prev.Month()}
}

// seedLedger stores the spec's orders for the carrier.
func seedLedger(tb testing.TB, store *sqlstore.DB, carrier trueup.CarrierID, spec gen.Spec) {
	tb.Helper()
	orders := make([]trueup.Order, spec.Orders)
	for i := range orders {
		orders[i] = spec.Order(i)
	}
	seedLedgerOrders(tb, store, carrier, orders...)
}

// submitCSV queues a check of the spec's statement, written as CSV.
func submitCSV(tb testing.TB, store *sqlstore.DB, carrier trueup.Carrier, spec gen.Spec) trueup.BatchNo {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "statement.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := spec.WriteCSV(f); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	svc := batch.New(store, nil)
	no, err := svc.Submit(context.Background(), batch.SubmitParams{Carrier: carrier, Cycle: spec.Cycle.String(), FileName: "statement.csv", File: f, Size: st.Size()})
	if err != nil {
		tb.Fatalf("submit: %v", err)
	}
	return no
}

// waitBatch polls the batch until cond holds or the timeout passes.
func waitBatch(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo, timeout time.Duration, cond func(trueup.Batch) bool) trueup.Batch {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _, err := store.Batch(context.Background(), no)
		if err != nil {
			tb.Fatal(err)
		}
		if cond(b) {
			return b
		}
		if time.Now().After(deadline) {
			tb.Fatalf("batch %s did not reach the expected state within %s: %+v", no, timeout, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func discrepancyKeys(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo) []string {
	tb.Helper()
	_, attempt, err := store.Batch(context.Background(), no)
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	err = store.EachDiscrepancy(context.Background(), no, attempt, func(d trueup.Discrepancy) error {
		keys = append(keys, d.CarrierOrderID+"/"+d.DiffReason)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return keys
}

// TestBatchSurvivesSIGKILL kills the server with SIGKILL while a batch is
// being checked, restarts it, and sees the batch finish exactly once with
// the same discrepancies as a run that was never interrupted.
func TestBatchSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	var cred struct {
		CarrierID trueup.CarrierID `json:"carrierId"`
	}
	runCLIJSON(t, &cred, "admin", "carrier", "create", "--name", "Crash Test Mobile", "--data", dir)
	store, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	carrier, err := store.Carrier(context.Background(), cred.CarrierID)
	if err != nil {
		t.Fatal(err)
	}
	spec := gen.Spec{Orders: 60000, Cycle: lastCycle(), Seed: 7, MissingEvery: 50, ExtraEvery: 70, RightsEvery: 40, AmountEvery: 30}
	seedLedger(t, store, carrier.ID, spec)
	no := submitCSV(t, store, carrier, spec)

	srv := startServer(t, "--data", dir, "--job-lease", "2s")
	running := waitBatch(t, store, no, 60*time.Second, func(b trueup.Batch) bool {
		if b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed {
			t.Fatalf("batch finished before the kill; make the statement larger: %+v", b)
		}
		return b.State == trueup.BatchProcessing && b.RowsRead > 0
	})
	srv.kill()
	after, _, _ := store.Batch(context.Background(), no)
	if after.State != trueup.BatchProcessing {
		t.Fatalf("after SIGKILL the batch is %s, want still processing", after.State)
	}
	t.Logf("killed at %d rows read", running.RowsRead)

	startServer(t, "--data", dir, "--job-lease", "2s")
	done := waitBatch(t, store, no, 120*time.Second, func(b trueup.Batch) bool {
		return b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed
	})
	if done.State != trueup.BatchSucceeded {
		t.Fatalf("batch ended %s: %s", done.State, done.Failure)
	}
	if want := spec.Expected(); done.Counts != want {
		t.Errorf("counts = %+v, want %+v", done.Counts, want)
	}
	jobs, err := store.JobCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if jobs[trueup.JobCompleted] != 1 || len(jobs) != 1 {
		t.Errorf("jobs by state = %v, want exactly one completed", jobs)
	}
	got := discrepancyKeys(t, store, no)
	if int64(len(got)) != done.Counts.Total() {
		t.Errorf("stored %d discrepancies, counts say %d", len(got), done.Counts.Total())
	}
	seen := map[string]bool{}
	for _, k := range got {
		if seen[k] {
			t.Fatalf("discrepancy %s stored twice", k)
		}
		seen[k] = true
	}

	// An uninterrupted run of the same statement gives the same list.
	again := submitCSV(t, store, carrier, spec)
	waitBatch(t, store, again, 120*time.Second, func(b trueup.Batch) bool { return b.State == trueup.BatchSucceeded })
	want := discrepancyKeys(t, store, again)
	if len(want) != len(got) {
		t.Fatalf("uninterrupted run has %d discrepancies, interrupted %d", len(want), len(got))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("discrepancy %d differs: %q vs %q", i, got[i], want[i])
		}
	}
}
