package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/sqlstore"
)

// testFindDiscrepancies walks the discrepancy browser's queries in keyset
// pages and checks each against the same selection made in Go.
func testFindDiscrepancies(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Browsy")
	const no = trueup.BatchNo("20250101_9")
	newBatch(t, db, c.ID, no, []byte("x"))
	job, ok, err := db.ClaimJob(ctx, "w", []string{"batch.check"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim: %v", err)
	}
	if err := db.StartBatch(ctx, no, job.Attempt); err != nil {
		t.Fatal(err)
	}
	w := db.NewDiscrepancyWriter(no, job.Attempt)
	var all []trueup.Discrepancy
	for i := 0; i < 300; i++ {
		d := discrepancy(fmt.Sprintf("o%03d", i), trueup.Kinds[i%len(trueup.Kinds)].Type)
		d.CarrierUserID = fmt.Sprintf("u%d", i%7)
		d.KdOrderID = fmt.Sprintf("k%03d", i)
		// Gaps repeat (i%11) so that ties are ordered by seq; one is
		// larger than an int64 of millionths.
		d.CarrierSaleToKd = decimal.NewFromInt(int64(i % 11)).Add(d.KdSaleTotal).String()
		if i == 5 {
			d.CarrierSaleToKd = "-1e30"
		}
		if i == 6 {
			d.CarrierSaleToKd = "" // no carrier record: the platform amount is the gap
		}
		if err := w.Write(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.Seq = int64(i + 1)
		all = append(all, d)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got := batch.AmountGap(all[6]); got != 12_500_000 {
		t.Errorf("gap without a carrier amount = %d, want 12500000", got)
	}
	tests := []struct {
		name string
		q    batch.Query
		keep func(trueup.Discrepancy) bool
	}{
		{"file order", batch.Query{}, nil},
		{"kind", batch.Query{Kind: trueup.DiffRights}, func(d trueup.Discrepancy) bool { return d.DiffType == trueup.DiffRights }},
		{"gap desc", batch.Query{Order: batch.ByGapDesc}, nil},
		{"gap asc", batch.Query{Order: batch.ByGapAsc}, nil},
		{"kind gap desc", batch.Query{Kind: trueup.DiffAmount, Order: batch.ByGapDesc}, func(d trueup.Discrepancy) bool { return d.DiffType == trueup.DiffAmount }},
		{"user id", batch.Query{Search: "u3", Order: batch.ByGapAsc}, func(d trueup.Discrepancy) bool { return d.CarrierUserID == "u3" }},
		{"carrier order id", batch.Query{Search: "o042"}, func(d trueup.Discrepancy) bool { return d.CarrierOrderID == "o042" }},
		{"platform order id and kind", batch.Query{Search: "k043", Kind: trueup.DiffAmount}, func(d trueup.Discrepancy) bool { return d.KdOrderID == "k043" }},
		{"platform order id, another kind", batch.Query{Search: "k043", Kind: trueup.DiffRights}, func(d trueup.Discrepancy) bool { return false }},
		{"nothing", batch.Query{Search: "nobody"}, func(d trueup.Discrepancy) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			for _, d := range all {
				if tt.keep == nil || tt.keep(d) {
					want = append(want, d.Seq)
				}
			}
			gap := func(seq int64) int64 { return batch.AmountGap(all[seq-1]) }
			switch tt.q.Order {
			case batch.ByGapAsc:
				slices.SortStableFunc(want, func(a, b int64) int { return cmpPair(gap(a), a, gap(b), b) })
			case batch.ByGapDesc:
				slices.SortStableFunc(want, func(a, b int64) int { return -cmpPair(gap(a), a, gap(b), b) })
			}
			q := tt.q
			q.No, q.Attempt, q.Limit = no, job.Attempt, 17
			var got []int64
			for pages := 0; pages < 100; pages++ {
				var page []trueup.Discrepancy
				err := db.FindDiscrepancies(ctx, q, func(d trueup.Discrepancy) error { page = append(page, d); return nil })
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				for _, d := range page {
					got = append(got, d.Seq)
				}
				q.After = batch.CursorOf(page[len(page)-1], q.Order)
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages walked\n%v\nwant\n%v", got, want)
			}
			// Without a limit, the same in one pass (the export).
			q.After, q.Limit = batch.Cursor{}, 0
			var n int
			if err := db.FindDiscrepancies(ctx, q, func(trueup.Discrepancy) error { n++; return nil }); err != nil || n != len(want) {
				t.Errorf("unlimited query: %d rows, %v; want %d", n, err, len(want))
			}
		})
	}
}

func cmpPair(a1, a2, b1, b2 int64) int {
	switch {
	case a1 < b1:
		return -1
	case a1 > b1:
		return 1
	case a2 < b2:
		return -1
	case a2 > b2:
		return 1
	}
	return 0
}

// testBatchAtStake checks that a succeeded batch keeps the money at stake
// FinishBatch is given, and a failed one zero.
func testBatchAtStake(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Staky")
	for _, tt := range []struct {
		no    trueup.BatchNo
		state trueup.BatchState
		give  string
		want  string
	}{
		{"20250101_31", trueup.BatchSucceeded, "1234567.890001", "1234567.890001"},
		{"20250101_32", trueup.BatchFailed, "5", "0"},
	} {
		newBatch(t, db, c.ID, tt.no, []byte("x"))
		if d, err := db.BatchAtStake(ctx, tt.no); err != nil || !d.IsZero() {
			t.Errorf("%s before its check: %v, %v; want 0", tt.no, d, err)
		}
		job, ok, err := db.ClaimJob(ctx, "w", []string{"batch.check"}, time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v", err)
		}
		if err := db.StartBatch(ctx, tt.no, job.Attempt); err != nil {
			t.Fatal(err)
		}
		err = db.FinishBatch(ctx, batch.FinishBatchParams{No: tt.no, Attempt: job.Attempt, State: tt.state, Job: job, AtStake: decimal.RequireFromString(tt.give)})
		if err != nil {
			t.Fatal(err)
		}
		if d, err := db.BatchAtStake(ctx, tt.no); err != nil || d.String() != tt.want {
			t.Errorf("%s %s: at stake %v, %v; want %s", tt.no, tt.state, d, err, tt.want)
		}
	}
	if _, err := db.BatchAtStake(ctx, "20250101_404"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("unknown batch: %v, want not found", err)
	}
}

// testJobsInState lists the latest jobs of a state, newest first.
func testJobsInState(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	var ids []int64
	for i := 0; i < 3; i++ {
		id, err := db.EnqueueJob(ctx, nil, "queue.view", `{}`, 1, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	j, ok, err := db.ClaimJob(ctx, "w", []string{"queue.view"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim: %v", err)
	}
	if err := db.FailJob(ctx, j, "the reason", time.Now()); err != nil {
		t.Fatal(err)
	}
	failed, err := db.JobsInState(ctx, trueup.JobFailed, 10)
	if err != nil || len(failed) != 1 || failed[0].ID != j.ID || failed[0].LastError != "the reason" || failed[0].FinishedAt == nil {
		t.Errorf("failed jobs = %+v, %v", failed, err)
	}
	avail, err := db.JobsInState(ctx, trueup.JobAvailable, 1)
	if err != nil || len(avail) != 1 || avail[0].ID != ids[2] {
		t.Errorf("latest available job = %+v, %v; want %d", avail, err, ids[2])
	}
}
