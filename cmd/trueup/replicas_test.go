package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
)

// replicaParts is how many parts TestReplicasBatchSurvivesSIGKILL checks its
// batch in: twice the replicas, each working one job at a time, so that a
// kill can come once some parts are done and others running.
const replicaParts = 6

// TestReplicasBatchSurvivesSIGKILL starts three `trueup serve` processes on
// one PostgreSQL database, each checking batches in parts
// (--batch-partitions), submits a statement, and kills with SIGKILL the
// replica working a part once some parts are done and others are not. The
// surviving replicas take the part over once its lease lapses: the batch
// succeeds once, with the counts, the money at stake and the list, in
// order, of a check in one job; the killed part's job is completed with
// one lost worker and no failed attempt; the batch's jobs (its own, its
// parts', the assembly's) end completed and none fails.
func TestReplicasBatchSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	skipKillUnderRace(t)
	var pg e2eEngine
	for _, eng := range e2eEngines {
		if eng.name == "postgres" {
			pg = eng
		}
	}
	ctx := context.Background()
	rig := newKillRig(t, pg, "--workers", "1", "--batch-partitions", fmt.Sprint(replicaParts)) // skips without TRUEUP_TEST_POSTGRES_URL
	store, dbArgs := rig.store, rig.dbArgs
	var cred auth.Credentials
	runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Replica Mobile"}, dbArgs...)...)
	carrier, err := store.Carrier(ctx, cred.CarrierID)
	if err != nil {
		t.Fatal(err)
	}
	spec := gen.Spec{Orders: 60000, Cycle: lastCycle(), Seed: 17, MissingEvery: 50, ExtraEvery: 70, RightsEvery: 40, AmountEvery: 30}
	seedLedger(t, store, carrier.ID, spec)
	data := csvStatement(t, spec)

	// The check in one job, in this process: its list is the one wanted.
	var want []string
	ref, err := batch.New(store, nil).Check(ctx, batch.CheckParams{Carrier: carrier, Cycle: spec.Cycle, File: bytes.NewReader(data), Size: int64(len(data)),
		Format: statement.CSV, Sink: func(_ context.Context, d trueup.Discrepancy) error {
			want = append(want, discrepancyKey(d))
			return nil
		}})
	if err != nil || ref.Failure != "" || ref.Counts != spec.Expected() {
		t.Fatalf("check in one job: %v, %q, counts %+v, want %+v", err, ref.Failure, ref.Counts, spec.Expected())
	}

	// Each replica empties its --temp-dir at start: one each.
	temps := make([]string, 3)
	serve := func(i int) *process { return rig.serveIn(t, temps[i]) }
	replicas := make([]*process, 3)
	for i := range replicas {
		temps[i] = t.TempDir()
		replicas[i] = serve(i)
	}
	start := time.Now()
	no := submitCSV(t, store, carrier, spec)

	// Kill the replica working a part once some parts are done; when the
	// part ends before the kill, restart that replica and try again.
	var lost trueup.Job // the part job whose worker was killed
	for try := 1; lost.ID == 0; try++ {
		if try > 5 {
			t.Fatalf("no kill landed on a running part in %d tries; make the statement larger", try-1)
		}
		victim, job := runningPart(t, store, no, replicas)
		if victim < 0 {
			t.Fatalf("the batch ended before a kill (try %d)", try)
		}
		replicas[victim].kill()
		after, err := store.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.State == trueup.JobRunning && after.Attempt == job.Attempt {
			lost = job
			t.Logf("killed replica %d working part job %d (claim %d), %s after the upload", victim, job.ID, job.Attempt, time.Since(start).Round(time.Millisecond))
			break
		}
		t.Logf("try %d: part job %d ended (%s) before the kill of replica %d; restarting it", try, job.ID, after.State, victim)
		replicas[victim] = serve(victim)
	}

	done := waitBatch(t, store, no, 90*time.Second, func(b trueup.Batch) bool {
		return b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed
	})
	t.Logf("the batch ended %s after the upload", time.Since(start).Round(time.Millisecond))
	if done.State != trueup.BatchSucceeded {
		t.Fatalf("batch ended %s: %s", done.State, done.Failure)
	}
	if done.Counts != spec.Expected() {
		t.Errorf("counts = %+v, want %+v", done.Counts, spec.Expected())
	}
	if stake, err := store.BatchAtStake(ctx, no); err != nil || !stake.Equal(ref.AtStake) {
		t.Errorf("at stake %s (%v), want %s", stake, err, ref.AtStake)
	}
	_, attempt, err := store.Batch(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := store.EachDiscrepancy(ctx, no, attempt, func(d trueup.Discrepancy) error {
		got = append(got, discrepancyKey(d))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("the replicas stored %d discrepancies, the check in one job %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("discrepancy %d is %q, want %q", i, got[i], want[i])
		}
	}
	j, err := store.Job(ctx, lost.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != trueup.JobCompleted || j.Failures != 0 || j.Lost < 1 {
		t.Errorf("the killed part's job: state %s, failures %d, lost %d; want completed, 0, at least 1", j.State, j.Failures, j.Lost)
	}
	if n, want := completedOfKinds(t, store, batch.JobKind, batch.JobPart, batch.JobAssemble), 1+replicaParts+1; n != want {
		t.Errorf("%d jobs of the batch completed, want %d (the batch, its parts, the assembly)", n, want)
	}
	if _, err := store.BatchSplit(ctx, no, attempt); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		if !waitSplitGone(t, store, no, attempt) {
			for i, p := range replicas {
				for _, line := range strings.Split(p.Logs(), "\n") {
					if !strings.Contains(line, "http request") {
						t.Logf("replica %d: %s", i, line)
					}
				}
			}
		}
	}
	for _, dir := range append(temps, rig.sysTemp) {
		waitNoTempFiles(t, dir)
	}
}

// discrepancyKey names a discrepancy by what it says, not by its seq.
func discrepancyKey(d trueup.Discrepancy) string {
	return fmt.Sprintf("%s/%s/%d/%s", d.CarrierOrderID, d.KdOrderID, d.DiffType, d.DiffReason)
}

// runningPart waits until batch no is split and has some parts done and a
// part running, and returns the replica that runs it and its job; -1 when
// the batch ends first.
func runningPart(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo, replicas []*process) (int, trueup.Job) {
	tb.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, attempt, err := store.Batch(ctx, no)
		if err != nil {
			tb.Fatal(err)
		}
		if b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed {
			return -1, trueup.Job{}
		}
		sp, err := store.BatchSplit(ctx, no, attempt)
		if err == nil && sp.PartsDone > 0 && sp.PartsDone < len(sp.Parts) {
			running, err := store.JobsInState(ctx, trueup.JobRunning, 100)
			if err != nil {
				tb.Fatal(err)
			}
			for _, j := range running {
				if j.Kind != batch.JobPart || !strings.Contains(j.Args, string(no)) {
					continue
				}
				started := fmt.Sprintf(`"msg":"job started","job_id":%d,`, j.ID)
				claim := fmt.Sprintf(`"claim":%d}`, j.Attempt)
				for i, p := range replicas {
					for _, line := range strings.Split(p.Logs(), "\n") {
						if strings.Contains(line, started) && strings.Contains(line, claim) {
							return i, j.Job
						}
					}
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	tb.Fatalf("batch %s had no part running beside a part done within 60s", no)
	return -1, trueup.Job{}
}

// waitSplitGone waits until the split of batch no's attempt is removed
// (just after the batch ends).
func waitSplitGone(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo, attempt int) bool {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := store.BatchSplit(context.Background(), no, attempt)
		if trueup.ErrorKind(err) == trueup.ENOTFOUND {
			return true
		}
		if time.Now().After(deadline) {
			tb.Errorf("the split of batch %s is still stored 10s after it ended (%v)", no, err)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestE2EPartitionedList checks a statement with a server that checks
// batches in three parts, through the carrier API, on each engine: the
// list, walked in pages of 7 with the cursors the server returns (seqs of
// a split batch are not consecutive), is the list of a check in one job,
// in order.
func TestE2EPartitionedList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		s := startE2E(t, eng, ServeConfig{BatchPartitions: 3})
		acme := s.newCarrier(t, "Parts Mobile")
		spec := gen.Spec{Orders: 300, Cycle: lastCycle(), Seed: 19, MissingEvery: 4, ExtraEvery: 9, RightsEvery: 5, AmountEvery: 7}
		seedLedger(t, s.store, acme.cred.CarrierID, spec)
		carrier, err := s.store.Carrier(ctx, acme.cred.CarrierID)
		if err != nil {
			t.Fatal(err)
		}
		data := csvStatement(t, spec)
		var want []string
		if _, err := batch.New(s.store, nil).Check(ctx, batch.CheckParams{Carrier: carrier, Cycle: spec.Cycle, File: bytes.NewReader(data), Size: int64(len(data)),
			Format: statement.CSV, Sink: func(_ context.Context, d trueup.Discrepancy) error {
				want = append(want, fmt.Sprintf("%s/%s/%s", d.CarrierOrderID, d.KdOrderID, d.DiffReason))
				return nil
			}}); err != nil {
			t.Fatal(err)
		}
		no := verifyUpload(t, acme.api, spec.Cycle.String(), "parts.csv", data)
		waitSucceeded(t, acme.api, no)
		done, err := s.store.JobsInState(ctx, trueup.JobCompleted, 100)
		if err != nil {
			t.Fatal(err)
		}
		parts := 0
		for _, j := range done {
			if j.Kind == batch.JobPart && strings.Contains(j.Args, string(no)) {
				parts++
			}
		}
		if parts != 3 {
			t.Errorf("the batch ran %d part jobs, want 3", parts)
		}
		bills := walkPages(t, acme.api, no, 7, spec.Expected().Total())
		if len(bills) != len(want) {
			t.Fatalf("%d bills, want %d", len(bills), len(want))
		}
		for i, b := range bills {
			if got := fmt.Sprintf("%s/%s/%s", b.CarrierOrderID, b.KdOrderID, b.DiffReason); got != want[i] {
				t.Fatalf("bill %d is %q, want %q", i, got, want[i])
			}
		}
	})
}

// TestReplicasTiming times one batch from upload to succeeded on one
// PostgreSQL database, first with one `trueup serve` checking it in one
// job, then with three replicas checking it in six parts. It runs only
// with TRUEUP_BENCH_REPLICAS_ROWS set (the ledger's orders, and about the
// statement's rows):
//
//	TRUEUP_BENCH_REPLICAS_ROWS=200000 go test -count=1 -run TestReplicasTiming -v ./cmd/trueup
func TestReplicasTiming(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TRUEUP_BENCH_REPLICAS_ROWS"))
	if n <= 0 {
		t.Skip("set TRUEUP_BENCH_REPLICAS_ROWS to time one and three replicas")
	}
	var pg e2eEngine
	for _, eng := range e2eEngines {
		if eng.name == "postgres" {
			pg = eng
		}
	}
	ctx := context.Background()
	rig := newKillRig(t, pg)
	var cred auth.Credentials
	runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Timing Mobile"}, rig.dbArgs...)...)
	carrier, err := rig.store.Carrier(ctx, cred.CarrierID)
	if err != nil {
		t.Fatal(err)
	}
	spec := gen.Spec{Orders: n, Cycle: lastCycle(), Seed: 23, MissingEvery: 50, ExtraEvery: 70, RightsEvery: 40, AmountEvery: 30}
	seedLedger(t, rig.store, carrier.ID, spec)
	for _, run := range []struct {
		replicas, parts int
	}{{1, 1}, {3, 6}} {
		rig.args = []string{"--batch-partitions", fmt.Sprint(run.parts)}
		var procs []*process
		for range run.replicas {
			procs = append(procs, rig.serveIn(t, t.TempDir()))
		}
		start := time.Now()
		no := submitCSV(t, rig.store, carrier, spec)
		b := waitBatch(t, rig.store, no, 10*time.Minute, func(b trueup.Batch) bool {
			return b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed
		})
		took := time.Since(start)
		if b.State != trueup.BatchSucceeded || b.Counts != spec.Expected() {
			t.Fatalf("%d replicas: %s, counts %+v (%s)", run.replicas, b.State, b.Counts, b.Failure)
		}
		t.Logf("%d replica(s), %d part(s), %d rows: upload to succeeded %s", run.replicas, run.parts, b.RowsRead, took.Round(10*time.Millisecond))
		for _, p := range procs {
			p.kill()
		}
	}
}
