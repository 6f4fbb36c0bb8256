package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
)

// crashAdjustmentTxs is how many transactions the killed adjustment lists:
// enough that its apply takes long enough for a kill to land.
const crashAdjustmentTxs = 30000

// TestAdjustmentSurvivesSIGKILL launches a rejecting process through the
// buyer API of a `trueup serve` child and kills the server with SIGKILL
// while the process is applying, at delays drawn from a fixed seed,
// restarting it each time, on each engine. After the last restart the
// process ends Success with exactly the statuses computed for an
// uninterrupted run, each listed transaction changed once by the process,
// and its job completed once with no failed attempt.
func TestAdjustmentSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		store, dbArgs := eng.open(t)
		defer store.Close()
		ownTemp, sysTemp := t.TempDir(), t.TempDir()
		serveArgs := append([]string{"--job-lease", "1s", "--temp-dir", ownTemp}, dbArgs...)
		env := []string{"TMPDIR=" + sysTemp}

		var cred buyer.Credentials
		runCLIJSON(t, &cred, append([]string{"admin", "buyer", "create", "--name", "Crash Research"}, dbArgs...)...)
		// Every transaction is a complete of survey A; the list names two
		// of three, and a few ids that are no transaction.
		var csv strings.Builder
		csv.WriteString("transaction_id,survey_id,status\n")
		var entries []client.AdjustmentEntry
		want := map[string]buyer.TxStatus{}
		for i := range crashAdjustmentTxs {
			id := fmt.Sprintf("c%06d", i)
			fmt.Fprintf(&csv, "%s,%d,21\n", id, surveyA)
			want[id] = buyer.TxComplete
			if i%3 != 2 {
				entries = append(entries, client.AdjustmentEntry{TransactionID: id, ChangeReason: "Ghost Completes"})
				want[id] = buyer.TxReconciliationReject
			}
		}
		entries = append(entries, client.AdjustmentEntry{TransactionID: "nobody-1"}, client.AdjustmentEntry{TransactionID: "nobody-2"})
		txPath := filepath.Join(t.TempDir(), "transactions.csv")
		writeFile(t, txPath, csv.String())
		var imported struct{ Imported int64 }
		runCLIJSON(t, &imported, append([]string{"import", "transactions", "--buyer", string(cred.BuyerID), txPath}, dbArgs...)...)
		if imported.Imported != crashAdjustmentTxs {
			t.Fatalf("imported %d transactions, want %d", imported.Imported, crashAdjustmentTxs)
		}

		srv := startServerEnv(t, env, serveArgs...)
		api := client.NewBuyer(srv.url(""), cred.AccessToken, &http.Client{Timeout: 60 * time.Second})
		launched, err := api.LaunchSurveyAdjustment(ctx, surveyA, client.LaunchReject, entries)
		if err != nil {
			t.Fatalf("launch: %v", err)
		}
		id := buyer.AdjustmentID(launched.AdjustmentID)
		rng := rand.New(rand.NewPCG(20261207, 2))
		landed := 0
		seen := 0 // the apply job's attempt last seen running
		for kill := 1; kill <= 3; kill++ {
			if kill > 1 {
				srv = startServerEnv(t, env, serveArgs...)
			}
			a := waitAdjustment(t, id, 60*time.Second, func() buyer.Adjustment {
				a, err := store.BuyerStore().Adjustment(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}, func(a buyer.Adjustment) bool {
				if a.Status == buyer.StatusPending || a.Status == buyer.StatusInFlight {
					return false
				}
				// A process left Processing by a killed attempt is
				// applying again once a worker claims its job anew.
				return a.Status != buyer.StatusProcessing || jobOf(t, store, buyer.JobApply, string(id)).Attempt > seen
			})
			if a.Status != buyer.StatusProcessing {
				t.Logf("the process ended %d before kill %d", a.Status, kill)
				srv.kill()
				break
			}
			seen = jobOf(t, store, buyer.JobApply, string(id)).Attempt
			delay := time.Duration(rng.Float64() * float64(150*time.Millisecond))
			time.Sleep(delay)
			srv.kill()
			after, err := store.BuyerStore().Adjustment(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if after.Status != buyer.StatusProcessing {
				t.Logf("kill %d, %s after the apply started, came after it ended (%d)", kill, delay.Round(time.Millisecond), after.Status)
				break
			}
			landed++
			t.Logf("kill %d, %s after the apply started", kill, delay.Round(time.Millisecond))
		}
		if landed == 0 {
			t.Errorf("no kill landed while the process was applying; list more transactions")
		}

		srv = startServerEnv(t, env, serveArgs...)
		api = client.NewBuyer(srv.url(""), cred.AccessToken, &http.Client{Timeout: 60 * time.Second})
		waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		done, err := api.WaitAdjustment(waitCtx, surveyA, string(id), 20*time.Millisecond)
		if err != nil {
			t.Fatalf("wait for %s: %v", id, err)
		}
		wantChanged := int64(len(entries) - 2)
		if done.Status != client.AdjustmentSuccess || done.Summary.LiveReconciled != wantChanged || done.Summary.Unknown != 2 {
			t.Fatalf("the process ended %d (%s), %d reconciled, %d unknown; want Success, %d, 2",
				done.Status, done.StatusDescription, done.Summary.LiveReconciled, done.Summary.Unknown, wantChanged)
		}
		ids := make([]string, 0, len(want))
		for id := range want {
			ids = append(ids, id)
		}
		txs, err := store.BuyerStore().TransactionsByID(ctx, cred.BuyerID, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(txs) != len(want) {
			t.Fatalf("%d transactions stored, want %d", len(txs), len(want))
		}
		for _, tx := range txs {
			changed := want[tx.ID] == buyer.TxReconciliationReject
			if tx.Status != want[tx.ID] || changed != (tx.AdjustmentID == id) || (!changed && tx.AdjustmentID != "") {
				t.Fatalf("transaction %s: status %d by %q, want %d", tx.ID, tx.Status, tx.AdjustmentID, want[tx.ID])
			}
		}
		job := jobOf(t, store, buyer.JobApply, string(id))
		if job.State != trueup.JobCompleted || job.Failures != 0 || job.Lost != landed || job.Attempt != landed+1 {
			t.Errorf("apply job state %s, failures %d, lost %d, claims %d; want completed, 0, %d, %d",
				job.State, job.Failures, job.Lost, job.Attempt, landed, landed+1)
		}
		for _, dir := range []string{ownTemp, sysTemp} {
			waitNoTempFiles(t, dir)
		}
	})
}

// waitAdjustment polls read until cond holds or the timeout passes.
func waitAdjustment(tb testing.TB, id buyer.AdjustmentID, timeout time.Duration, read func() buyer.Adjustment, cond func(buyer.Adjustment) bool) buyer.Adjustment {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a := read()
		if cond(a) {
			return a
		}
		if time.Now().After(deadline) {
			tb.Fatalf("process %s did not reach the expected state within %s: status %d", id, timeout, a.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
