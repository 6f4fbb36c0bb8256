package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
)

// TestE2EDurableBatchEvents plays, on each engine, a server killed between
// a batch's commit and the recording of its events: the batch is finished
// in the store with no server running (its events job waits in the
// queue), then a server starts and records them; the job enqueued again
// (a worker whose lease lapsed while it recorded) adds nothing, and the
// chain verifies.
func TestE2EDurableBatchEvents(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		store, dbArgs := eng.open(t)
		ctx := context.Background()
		carrier := trueup.Carrier{ID: "car_durable", Name: "Durable", UserID: "1", TimeZone: "UTC", CreatedAt: time.Now().UTC()}
		if err := store.CreateCarrier(ctx, carrier); err != nil {
			t.Fatal(err)
		}
		no := trueup.BatchNo("20250930_durable")
		err := store.CreateBatch(ctx, batch.CreateBatchParams{
			Batch: trueup.Batch{No: no, CarrierID: carrier.ID, Cycle: "2025-09", FileName: "s.csv", Format: "csv", FileSize: 1, CreatedAt: time.Now().UTC()},
			File:  bytes.NewReader([]byte("x")), JobKind: "e2e.none", JobArgs: "{}",
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.StartBatch(ctx, no, 1); err != nil {
			t.Fatal(err)
		}
		w := store.NewDiscrepancyWriter(no, 1)
		var counts trueup.DiffCounts
		for _, id := range []string{"O1", "O2", "O3"} {
			d := trueup.Discrepancy{CarrierOrderID: id, DiffType: trueup.DiffAmount, DiffReason: "r", BillingCycle: "2025-09",
				KdSaleTotal: decimal.RequireFromString("10"), CarrierSaleToKd: "12"}
			counts.Add(d.DiffType)
			if err := w.Write(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := store.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: counts}); err != nil {
			t.Fatal(err)
		}
		events := func() []string {
			list, err := store.AuditEntries(ctx, audit.ListParams{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range list {
				if strings.HasPrefix(e.Type, "batch.") || strings.HasPrefix(e.Type, "case.") {
					out = append(out, e.Type)
				}
			}
			slices.Sort(out)
			return out
		}
		if got := events(); len(got) != 0 {
			t.Fatalf("events before any server ran = %q, want none", got)
		}
		want := []string{"batch.succeeded", "case.opened", "case.opened", "case.opened"}
		s := serveStore(t, store, dbArgs, ServeConfig{})
		pollUntil(t, "the batch's events", func() bool { return len(events()) >= len(want) })
		// Once more, as a worker that took over a lapsed lease would.
		id, err := store.EnqueueJob(ctx, nil, cases.EventsJobKind, cases.EventsJobArgs(no), cases.EventsJobMaxAttempts, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		s.main.Runner.Notify()
		pollUntil(t, "the events job run again", func() bool {
			j, err := store.Job(ctx, id)
			return err == nil && j.State == trueup.JobCompleted
		})
		if got := events(); !slices.Equal(got, want) {
			t.Errorf("events = %q, want each once: %q", got, want)
		}
		var report audit.Report
		s.cliJSON(t, &report, "audit", "verify", "--json")
		if !report.Intact {
			raw, _ := json.Marshal(report)
			t.Errorf("audit verify = %s", raw)
		}
	})
}
