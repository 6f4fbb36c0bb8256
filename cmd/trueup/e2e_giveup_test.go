package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	trueuphttp "github.com/trueup/trueup/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlstore"
)

// removeUpload deletes the stored upload of batch no, wherever the engine
// keeps it: a file of the data directory (SQLite) or chunks in the database
// (PostgreSQL).
func removeUpload(tb testing.TB, store *sqlstore.DB, dbArgs []string, no trueup.BatchNo) {
	tb.Helper()
	switch dbArgs[0] {
	case "--data":
		if err := os.Remove(filepath.Join(dbArgs[1], "uploads", string(no))); err != nil {
			tb.Fatal(err)
		}
	case "--database-url":
		conn, err := sql.Open("pgx", dbArgs[1])
		if err != nil {
			tb.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Exec(`DELETE FROM batch_files WHERE batch_no = $1`, no); err != nil {
			tb.Fatal(err)
		}
	default:
		tb.Fatalf("unknown engine flags %v", dbArgs)
	}
}

// TestE2EBatchGivenUp removes the stored upload of a queued batch: its job
// fails every attempt and is given up, and the batch ends failed with the
// reason, in the batch status and in the discrepancy list's 42201, rather
// than "processing" for ever.
func TestE2EBatchGivenUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		store, dbArgs := eng.open(t)
		var cred auth.Credentials
		runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Given Up Mobile"}, dbArgs...)...)
		carrier, err := store.Carrier(ctx, cred.CarrierID)
		if err != nil {
			t.Fatal(err)
		}
		spec := gen.Spec{Orders: 5, Cycle: lastCycle(), Seed: 3}
		seedLedger(t, store, carrier.ID, spec)
		no := submitCSV(t, store, carrier, spec)
		removeUpload(t, store, dbArgs, no)

		srv := serveStore(t, store, dbArgs, ServeConfig{JobBackoff: func(int) time.Duration { return 0 }})
		api := srv.client(cred)
		st := waitBatchDone(t, api, no)
		const reason = "no longer stored"
		if st.Batch.State != trueup.BatchFailed || !strings.Contains(st.Batch.Failure, reason) || !strings.Contains(st.Batch.Failure, "upload the statement again") {
			t.Errorf("batch %s: %q; want failed, saying the upload is %s and to upload it again", st.Batch.State, st.Batch.Failure, reason)
		}
		if strings.Contains(st.Batch.Failure, string(os.PathSeparator)+"uploads") || strings.Contains(st.Batch.Failure, "chunk") {
			t.Errorf("failure %q shows an internal cause", st.Batch.Failure)
		}
		_, err = api.DiffList(ctx, client.DiffListParams{BatchNo: no})
		wantAPIError(t, err, 409, trueuphttp.CodeBatchFailed, string(no), reason)

		// The runner finalises the batch first, then marks its job failed.
		job := batchJob(t, store, no)
		for deadline := time.Now().Add(10 * time.Second); job.State == trueup.JobRunning && time.Now().Before(deadline); {
			runtime.Gosched()
			job = batchJob(t, store, no)
		}
		if job.State != trueup.JobFailed || job.Failures != job.MaxAttempts || job.Lost != 0 || !strings.Contains(job.LastError, "open upload") {
			t.Errorf("job %+v; want failed after its %d attempts with the internal cause", job, job.MaxAttempts)
		}

		// Its batch.failed event reaches the audit chain through the
		// outbox, queued in the transaction that failed the batch.
		var failed []audit.Entry
		for deadline := time.Now().Add(10 * time.Second); len(failed) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			entries, err := store.AuditEntries(ctx, audit.ListParams{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Type == trueup.EventBatchFailed && e.Subject == string(no) {
					failed = append(failed, e)
				}
			}
		}
		if len(failed) != 1 || !strings.Contains(string(failed[0].Data), reason) {
			t.Errorf("batch.failed audit entries of %s: %+v; want one with the failure", no, failed)
		}
	})
}

// TestServeCleansTempFiles leaves files in the server's temporary folders,
// as a process killed during uploads or checks does: Open removes trueup's
// files and leaves any other.
func TestServeCleansTempFiles(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		store, dbArgs := eng.open(t)
		own := t.TempDir()
		dir := store.UploadTempDir() // SQLite: DATA/uploads/tmp
		if dir == "" {
			dir = own // PostgreSQL: the --temp-dir folder
		}
		left := []string{"trueup-upload-123", "trueup-batch-456"}
		for _, name := range append(left, "notes.txt") {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		serveStore(t, store, dbArgs, ServeConfig{TempDir: own})
		if got := store.UploadTempDir(); got != dir {
			t.Errorf("temporary folder = %q, want %q", got, dir)
		}
		for _, name := range left {
			if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
				t.Errorf("%s left in %s after Open (stat: %v)", name, dir, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
			t.Errorf("a file not trueup's was removed: %v", err)
		}
	})
}
