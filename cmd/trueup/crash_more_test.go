package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/sqlstore"
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
	skipKillUnderRace(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		rig := newKillRig(t, eng)
		store, dbArgs := rig.store, rig.dbArgs

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

		srv := rig.serve(t)
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
				srv = rig.serve(t)
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

		srv = rig.serve(t)
		api = client.NewBuyer(srv.url(""), cred.AccessToken, &http.Client{Timeout: 60 * time.Second})
		waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		done, err := api.WaitAdjustment(waitCtx, surveyA, string(id), 20*time.Millisecond)
		if err != nil {
			t.Fatalf("wait for %s: %v", id, err)
		}
		if i := strings.Index(srv.Logs(), "adjustment applied"); i >= 0 {
			line, _, _ := strings.Cut(srv.Logs()[i:], "\n")
			t.Logf("the last attempt: %s", line)
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
		for _, dir := range []string{rig.ownTemp, rig.sysTemp} {
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

// crashLedger is the synthetic ledger the killed imports load: large
// enough that an import runs for a while.
var crashLedger = gen.Spec{Orders: 40000, Seed: 11, MissingEvery: 50, ExtraEvery: 70, RightsEvery: 40, AmountEvery: 30}

// TestOrderImportSurvivesSIGKILL runs `trueup import orders` as a child
// process and kills it with SIGKILL at delays drawn from a fixed seed,
// several times, on each engine. After each kill the carrier holds none of
// the file's orders (an import is all or nothing); a last uninterrupted
// run stores exactly the orders a control import of the same file stored
// for another carrier.
func TestOrderImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts CLI processes")
	}
	skipKillUnderRace(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		rig := newKillRig(t, eng) // no server: its system folder only
		store, dbArgs := rig.store, rig.dbArgs
		spec := crashLedger
		spec.Cycle = lastCycle()
		path := filepath.Join(t.TempDir(), "orders.csv")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := spec.WriteLedgerCSV(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		var control, killed auth.Credentials
		runCLIJSON(t, &control, append([]string{"admin", "carrier", "create", "--name", "Control Mobile"}, dbArgs...)...)
		runCLIJSON(t, &killed, append([]string{"admin", "carrier", "create", "--name", "Killed Mobile"}, dbArgs...)...)

		importArgs := func(carrier trueup.CarrierID) []string {
			return append([]string{"import", "orders", "--carrier", string(carrier), path}, dbArgs...)
		}
		start := time.Now()
		if err := startCLI(t, rig.sysTemp, importArgs(control.CarrierID)...).Wait(); err != nil {
			t.Fatalf("control import: %v", err)
		}
		took := time.Since(start)
		t.Logf("an uninterrupted import takes %s", took)

		rng := rand.New(rand.NewPCG(20261207, 3))
		landed := 0
		for kill := 1; kill <= 3; kill++ {
			cmd := startCLI(t, rig.sysTemp, importArgs(killed.CarrierID)...)
			// Between 20% and 80% of an import's duration: past the
			// process's start, before the commit unless the machine sped
			// up.
			delay := time.Duration((0.2 + rng.Float64()*0.6) * float64(took))
			time.Sleep(delay)
			cmd.Process.Kill()
			err := cmd.Wait()
			n, cerr := store.CountOrders(ctx, killed.CarrierID, spec.Cycle.String())
			if cerr != nil {
				t.Fatal(cerr)
			}
			if err == nil || n == int64(spec.Orders) {
				// The import ended, or committed and was killed while
				// closing the database: all of it is stored.
				if n != int64(spec.Orders) {
					t.Fatalf("the import ended before kill %d with %d orders, want %d", kill, n, spec.Orders)
				}
				t.Logf("kill %d, %s after the start, came after the import committed", kill, delay.Round(time.Millisecond))
				break
			}
			if n != 0 {
				t.Fatalf("kill %d, %s after the start, left %d of %d orders", kill, delay.Round(time.Millisecond), n, spec.Orders)
			}
			landed++
			t.Logf("kill %d, %s after the start: nothing stored", kill, delay.Round(time.Millisecond))
		}
		if landed == 0 {
			t.Errorf("no kill landed during an import; make the ledger larger")
		}
		if err := startCLI(t, rig.sysTemp, importArgs(killed.CarrierID)...).Wait(); err != nil {
			t.Fatalf("last import: %v", err)
		}
		want := carrierOrders(t, store, control.CarrierID, spec.Cycle.String())
		got := carrierOrders(t, store, killed.CarrierID, spec.Cycle.String())
		if len(want) != spec.Orders || !slices.Equal(got, want) {
			t.Fatalf("after the kills %d orders stored, control %d (of %d), or they differ", len(got), len(want), spec.Orders)
		}
		waitNoTempFiles(t, rig.sysTemp)
	})
}

// startCLI starts the trueup CLI as a child process with args, its system
// temporary folder tmp; its output is discarded.
func startCLI(tb testing.TB, tmp string, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "TRUEUP_RUN_MAIN=1", "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start trueup %v: %v", args, err)
	}
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

// carrierOrders returns the carrier's orders of cycle, written without
// the carrier, sorted.
func carrierOrders(tb testing.TB, store *sqlstore.DB, carrier trueup.CarrierID, cycle string) []string {
	tb.Helper()
	var out []string
	err := store.EachOrder(context.Background(), carrier, cycle, func(o trueup.Order) error {
		o.CarrierID = ""
		b, err := json.Marshal(o)
		out = append(out, string(b))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestAdminImportSurvivesSIGKILL sends a ledger import through the admin
// API of a `trueup serve` child and kills the server with SIGKILL while the
// import runs, on each engine. After the restart the import reads failed
// with a reason, nothing of it is stored, no temporary file is left, and
// the same import sent again stores what a control import stored.
func TestAdminImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	skipKillUnderRace(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		rig := newKillRig(t, eng)
		store, dbArgs := rig.store, rig.dbArgs
		spec := crashLedger
		spec.Cycle = lastCycle()
		var ledger bytes.Buffer
		if err := spec.WriteLedgerCSV(&ledger); err != nil {
			t.Fatal(err)
		}
		var key struct{ KeyID, Key string }
		runCLIJSON(t, &key, append([]string{"admin", "apikey", "create", "--name", "crash"}, dbArgs...)...)
		var control, killed auth.Credentials
		runCLIJSON(t, &control, append([]string{"admin", "carrier", "create", "--name", "Control Mobile"}, dbArgs...)...)
		runCLIJSON(t, &killed, append([]string{"admin", "carrier", "create", "--name", "Killed Mobile"}, dbArgs...)...)
		send := func(api *client.AdminClient, carrier trueup.CarrierID) client.Import {
			t.Helper()
			im, err := api.ImportOrders(ctx, string(carrier), client.ImportBody{Body: bytes.NewReader(ledger.Bytes()), ContentType: "text/csv", FileName: "orders.csv"})
			if err != nil || im.State != string(imports.Running) {
				t.Fatalf("import orders: %+v, %v", im, err)
			}
			return im
		}
		wait := func(api *client.AdminClient, im client.Import) client.Import {
			t.Helper()
			wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			got, err := api.WaitImport(wctx, im.ImportID, 10*time.Millisecond)
			if err != nil {
				t.Fatalf("wait for import %s: %v", im.ImportID, err)
			}
			return got
		}

		srv := rig.serve(t)
		api := client.NewAdminClient(srv.url(""), key.Key, &http.Client{Timeout: 60 * time.Second})
		ran := wait(api, send(api, control.CarrierID))
		if ran.State != string(imports.Succeeded) || ran.Imported != int64(spec.Orders) {
			t.Fatalf("control import ended %+v", ran)
		}
		took := ran.FinishedAt.Sub(ran.CreatedAt)
		t.Logf("an uninterrupted import takes %s", took)

		rng := rand.New(rand.NewPCG(20261207, 4))
		var lost []client.Import
		for kill := 1; kill <= 2; kill++ {
			if kill > 1 {
				srv = rig.serve(t)
				api = client.NewAdminClient(srv.url(""), key.Key, &http.Client{Timeout: 60 * time.Second})
			}
			im := send(api, killed.CarrierID)
			delay := time.Duration((0.2 + rng.Float64()*0.5) * float64(took))
			time.Sleep(delay)
			srv.kill()
			after, err := store.Import(ctx, imports.ID(im.ImportID))
			if err != nil {
				t.Fatal(err)
			}
			if after.State != imports.Running {
				t.Logf("kill %d, %s after the call, came after the import ended (%s)", kill, delay.Round(time.Millisecond), after.State)
				if after.State == imports.Succeeded {
					t.Fatalf("the import to be killed succeeded first; make the ledger larger")
				}
				continue
			}
			t.Logf("kill %d, %s after the call: %d rows read", kill, delay.Round(time.Millisecond), after.RowsRead)
			lost = append(lost, im)
		}
		if len(lost) == 0 {
			t.Fatalf("no kill landed during an import; make the ledger larger")
		}

		srv = rig.serve(t)
		api = client.NewAdminClient(srv.url(""), key.Key, &http.Client{Timeout: 60 * time.Second})
		for _, im := range lost {
			got, err := api.Import(ctx, im.ImportID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != string(imports.Failed) || got.Reason == "" || got.Imported != 0 || got.FinishedAt == nil {
				t.Errorf("killed import %s reads %s, %d imported, reason %q; want failed with a reason", im.ImportID, got.State, got.Imported, got.Reason)
			}
		}
		if n, err := store.CountOrders(ctx, killed.CarrierID, spec.Cycle.String()); err != nil || n != 0 {
			t.Fatalf("the killed imports left %d orders (%v)", n, err)
		}
		retry := wait(api, send(api, killed.CarrierID))
		if retry.State != string(imports.Succeeded) || retry.Imported != int64(spec.Orders) {
			t.Fatalf("the import sent again ended %+v", retry)
		}
		want := carrierOrders(t, store, control.CarrierID, spec.Cycle.String())
		got := carrierOrders(t, store, killed.CarrierID, spec.Cycle.String())
		if len(want) != spec.Orders || !slices.Equal(got, want) {
			t.Fatalf("after the kills %d orders stored, control %d (of %d), or they differ", len(got), len(want), spec.Orders)
		}
		for _, dir := range []string{store.UploadTempDir(), rig.ownTemp, rig.sysTemp} {
			waitNoTempFiles(t, dir)
		}
	})
}
