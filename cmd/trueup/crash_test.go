package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
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

// crashKills is how many times TestBatchSurvivesSIGKILL kills the server:
// as many as a batch job has attempts, so that kills counted as attempts
// would show.
const crashKills = 5

// TestBatchSurvivesSIGKILL kills the server with SIGKILL several times
// while a batch is being checked, restarting it each time, on each engine.
// Each kill comes at a point of the check's progress the test observes:
// once the attempt has recorded rows read, then a short delay drawn from a
// fixed seed, so that a slow or loaded machine still kills mid-check. The batch finishes exactly once with the same discrepancies as a
// run that was never interrupted; the kills use up none of the job's
// attempts; no temporary file is left, in the server's folders or in the
// system's.
func TestBatchSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	skipKillUnderRace(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		rig := newKillRig(t, eng)
		store, dbArgs := rig.store, rig.dbArgs
		spool := store.UploadTempDir() // SQLite: DATA/uploads/tmp
		if spool == "" {
			spool = rig.ownTemp // PostgreSQL: --temp-dir
		}
		var cred auth.Credentials
		runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Crash Test Mobile"}, dbArgs...)...)
		carrier, err := store.Carrier(ctx, cred.CarrierID)
		if err != nil {
			t.Fatal(err)
		}
		spec := gen.Spec{Orders: 40000, Cycle: lastCycle(), Seed: 7, MissingEvery: 50, ExtraEvery: 70, RightsEvery: 40, AmountEvery: 30}
		seedLedger(t, store, carrier.ID, spec)

		// An uninterrupted check of the statement: its list is the one
		// wanted.
		srv := rig.serve(t)
		clean := submitCSV(t, store, carrier, spec)
		ran := waitBatch(t, store, clean, 120*time.Second, func(b trueup.Batch) bool { return b.State == trueup.BatchSucceeded })
		check := ran.FinishedAt.Sub(*ran.StartedAt)
		want := discrepancyKeys(t, store, clean)
		srv.kill()
		t.Logf("an uninterrupted check takes %s", check)

		no := submitCSV(t, store, carrier, spec)
		rng := rand.New(rand.NewPCG(20261207, 1))
		seen := 0   // the batch attempt last seen running
		landed := 0 // kills that found the check running
		for kill := 1; kill <= crashKills; kill++ {
			srv := rig.serve(t)
			if kill == 1 {
				// An upload in flight dies with the server too.
				stallUpload(t, srv, cred, spool, csvStatement(t, gen.Spec{Orders: 100, Cycle: lastCycle(), Seed: 1}))
			}
			// The kill point: the new attempt has recorded its first
			// rows read (4,096 of 40,000, the first progress it saves),
			// then a seeded delay of at most 1/10 of an uninterrupted
			// check: the rest of the check takes far longer.
			b, attempt := waitAttemptProgress(t, store, no, seen)
			if b.State != trueup.BatchProcessing {
				t.Logf("the check ended (%s) before kill %d found it reading", b.State, kill)
				srv.kill()
				break
			}
			seen = attempt
			delay := time.Duration(rng.Float64() * 0.1 * float64(check))
			time.Sleep(delay)
			srv.kill()
			after, _, _ := store.Batch(ctx, no)
			if after.State != trueup.BatchProcessing {
				// A loaded machine ran this attempt faster than the
				// delay: the check is over, the later kills have
				// nothing to interrupt.
				t.Logf("kill %d came after the check ended (%s)", kill, after.State)
				break
			}
			landed++
			t.Logf("kill %d, %s after attempt %d read %d rows: %d rows read, %d%% saved", kill, delay.Round(time.Millisecond), seen, b.RowsRead, after.RowsRead, after.Percent)
		}

		rig.serve(t)
		done := waitBatch(t, store, no, 120*time.Second, func(b trueup.Batch) bool {
			return b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed
		})
		if done.State != trueup.BatchSucceeded {
			t.Fatalf("batch ended %s: %s", done.State, done.Failure)
		}
		if want := spec.Expected(); done.Counts != want {
			t.Errorf("counts = %+v, want %+v", done.Counts, want)
		}
		if n := completedOfKinds(t, store, batch.JobKind); n != 2 {
			t.Errorf("%d batch jobs completed, want the two batches' jobs, once each", n)
		}
		if landed < 2 {
			t.Errorf("only %d of %d kills interrupted the check; make the statement larger", landed, crashKills)
		}
		job := batchJob(t, store, no)
		if job.State != trueup.JobCompleted || job.Failures != 0 || job.Lost != landed || job.Attempt != landed+1 {
			t.Errorf("job state %s, failures %d, lost %d, claims %d; want completed, 0, %d, %d",
				job.State, job.Failures, job.Lost, job.Attempt, landed, landed+1)
		}
		got := discrepancyKeys(t, store, no)
		if int64(len(got)) != done.Counts.Total() {
			t.Errorf("stored %d discrepancies, counts say %d", len(got), done.Counts.Total())
		}
		dup := map[string]bool{}
		for _, k := range got {
			if dup[k] {
				t.Fatalf("discrepancy %s stored twice", k)
			}
			dup[k] = true
		}

		if len(want) != len(got) {
			t.Fatalf("uninterrupted run has %d discrepancies, interrupted %d", len(want), len(got))
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("discrepancy %d differs: %q vs %q", i, got[i], want[i])
			}
		}

		// The killed upload and workers' copies were removed at each start,
		// the last worker's when its check ended; nothing went to the
		// system's folder.
		for _, dir := range []string{store.UploadTempDir(), rig.ownTemp, rig.sysTemp} {
			waitNoTempFiles(t, dir)
		}
	})
}

// waitAttemptProgress waits until batch no runs an attempt after seen that
// has recorded rows read, or has ended, and returns it with its attempt.
// It polls every 5 ms: the first progress comes within the first tenth of
// the check.
func waitAttemptProgress(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo, seen int) (trueup.Batch, int) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, attempt, err := store.Batch(context.Background(), no)
		if err != nil {
			tb.Fatal(err)
		}
		switch {
		case b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed:
			return b, attempt
		case b.State == trueup.BatchProcessing && attempt > seen && b.RowsRead > 0:
			return b, attempt
		}
		if time.Now().After(deadline) {
			tb.Fatalf("batch %s ran no attempt after %d that read rows within 60s: %+v", no, seen, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stalledReader gives its head, then blocks until release is closed and
// fails: a client that stopped sending.
type stalledReader struct {
	head    io.Reader
	release chan struct{}
}

func (r *stalledReader) Read(p []byte) (int, error) {
	n, err := r.head.Read(p)
	if errors.Is(err, io.EOF) {
		<-r.release
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// stallUpload starts uploading half of data to the server and stops
// sending; it returns once the server has spooled the upload into dir.
// The upload is abandoned when the test ends.
func stallUpload(tb testing.TB, srv *process, cred auth.Credentials, dir string, data []byte) {
	tb.Helper()
	before, err := filepath.Glob(filepath.Join(dir, "trueup-upload-*"))
	if err != nil {
		tb.Fatal(err)
	}
	api := client.New(srv.url(""), client.WithHTTPClient(e2eHTTPClient()),
		client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))
	body := &stalledReader{head: bytes.NewReader(data[:len(data)/2]), release: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		api.Verify(context.Background(), client.VerifyParams{BillingCycle: lastCycle().String(), FileName: "stalled.csv", File: body})
	}()
	tb.Cleanup(func() { close(body.release); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for {
		now, err := filepath.Glob(filepath.Join(dir, "trueup-upload-*"))
		if err != nil {
			tb.Fatal(err)
		}
		if len(now) > len(before) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the server did not spool the upload into %s", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// batchJob returns the job of batch no (jobs are numbered from 1 in a new
// database).
func batchJob(tb testing.TB, store *sqlstore.DB, no trueup.BatchNo) trueup.Job {
	tb.Helper()
	for id := int64(1); id <= 100; id++ {
		j, err := store.Job(context.Background(), id)
		if trueup.ErrorKind(err) == trueup.ENOTFOUND {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		if j.Kind == batch.JobKind && strings.Contains(j.Args, string(no)) {
			return j
		}
	}
	tb.Fatalf("no job for batch %s", no)
	return trueup.Job{}
}

// waitNoTempFiles fails the test unless dir ("" for none) holds no trueup
// temporary file within a few seconds (a worker removes its copy just
// after the batch is recorded).
func waitNoTempFiles(tb testing.TB, dir string) {
	tb.Helper()
	if dir == "" {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		left, err := filepath.Glob(filepath.Join(dir, "trueup-*"))
		if err != nil {
			tb.Fatal(err)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("temporary files left in %s: %v", dir, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
