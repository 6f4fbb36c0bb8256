package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/sqlstore"
)

// testBatchParts checks the storage of a batch checked in parts: a split
// and a part are recorded only by the job that holds their claim, a part
// is stored whole (its list, its counts, done, its job completed, its
// statement rows gone) or not at all, the last part queues the assembly,
// and a ledger range reads the orders between its bounds, bytewise.
func testBatchParts(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Parts")
	const no = trueup.BatchNo("20250102_1")
	newBatch(t, db, c.ID, no, []byte("statement"))
	job, ok, err := db.ClaimJob(ctx, "w1", []string{"batch.check"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim the batch's job: %v", err)
	}
	if err := db.StartBatch(ctx, no, job.Attempt); err != nil {
		t.Fatal(err)
	}
	put := func(part, chunk int, data string) {
		t.Helper()
		if err := db.PutBatchPartRows(ctx, batch.PartRowsParams{No: no, Attempt: job.Attempt, Part: part, Chunk: chunk, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 0, "rows of part 0, ")
	put(0, 1, "chunk 1")
	put(1, 0, "rows of part 1")
	split := batch.SplitBatchParams{No: no, Attempt: job.Attempt, From: []string{"", "m"}, RowsRead: 42, SkippedSheets: []string{"Notes"},
		Job: job, PartJobKind: "batch.part", PartJobArgs: []string{`{"part":0}`, `{"part":1}`}}
	stale := split
	stale.Job.Token = "someone else"
	if err := db.SplitBatch(ctx, stale); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Fatalf("split by a job not held: %v, want ErrLeaseLost", err)
	}
	if _, err := db.BatchSplit(ctx, no, job.Attempt); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Fatalf("a refused split was stored: %v", err)
	}
	if err := db.SplitBatch(ctx, split); err != nil {
		t.Fatal(err)
	}
	sp, err := db.BatchSplit(ctx, no, job.Attempt)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Parts) != 2 || sp.Parts[0].From != "" || sp.Parts[0].To != "m" || sp.Parts[1].From != "m" || sp.Parts[1].To != "" ||
		sp.PartsDone != 0 || sp.RowsRead != 42 || len(sp.SkippedSheets) != 1 {
		t.Fatalf("split = %+v", sp)
	}
	if j, err := db.Job(ctx, job.ID); err != nil || j.State != trueup.JobCompleted {
		t.Errorf("the splitting job is %s (%v), want completed", j.State, err)
	}
	if b, _, _ := db.Batch(ctx, no); b.State != trueup.BatchProcessing || b.Percent != 90 {
		t.Errorf("split batch = %s at %d%%, want processing at 90%%", b.State, b.Percent)
	}
	var rows bytes.Buffer
	if err := db.CopyBatchPartRows(ctx, no, job.Attempt, 0, &rows); err != nil || rows.String() != "rows of part 0, chunk 1" {
		t.Fatalf("rows of part 0 = %q, %v", rows.String(), err)
	}

	importOrders(t, db, c.ID, Order("a", "2025-09"), Order("m", "2025-09"), Order("mm", "2025-09"), Order("z", "2025-09"), Order("M", "2025-09"))
	for _, tt := range []struct {
		from, to string
		want     string
	}{
		{"", "m", "M a"},
		{"m", "", "m mm z"},
		{"", "", "M a m mm z"},
		{"m", "mm", "m"},
	} {
		var ids []string
		if err := db.EachOrderKeyRange(ctx, batch.OrderRange{Carrier: c.ID, Cycle: "2025-09", From: tt.from, To: tt.to}, func(o trueup.Order) error {
			ids = append(ids, o.CarrierOrderID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids, " "); got != tt.want {
			t.Errorf("orders from %q to %q = %q, want %q", tt.from, tt.to, got, tt.want)
		}
	}

	finish := func(part int, j trueup.Job, ids ...string) (bool, error) {
		var counts trueup.DiffCounts
		return db.FinishPart(ctx, batch.FinishPartParams{No: no, Attempt: job.Attempt, Part: part, Counts: counts, AtStake: decimal.RequireFromString("1.5"),
			Discrepancies: func(fn func(trueup.Discrepancy) error) error {
				for k, id := range ids {
					d := discrepancy(id, trueup.DiffAmount)
					d.Seq = int64(part+1)<<40 | int64(k+1)
					if err := fn(d); err != nil {
						return err
					}
				}
				return nil
			},
			Job: j, AssembleJobKind: "batch.assemble", AssembleJobArgs: `{}`})
	}
	part0, ok, err := db.ClaimJob(ctx, "w2", []string{"batch.part"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim part 0: %v", err)
	}
	lost := part0
	lost.Token = "a worker that lost its claim"
	if _, err := finish(0, lost, "a"); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Fatalf("part finished by a job not held: %v, want ErrLeaseLost", err)
	}
	list := func() string {
		var ids []string
		if err := db.EachDiscrepancy(ctx, no, job.Attempt, func(d trueup.Discrepancy) error { ids = append(ids, d.CarrierOrderID); return nil }); err != nil {
			t.Fatal(err)
		}
		return strings.Join(ids, " ")
	}
	if got := list(); got != "" {
		t.Fatalf("a refused part stored %q", got)
	}
	if assembled, err := finish(0, part0, "a", "b"); err != nil || assembled {
		t.Fatalf("finish part 0: assembled %v, %v; want false, nil", assembled, err)
	}
	rows.Reset()
	if err := db.CopyBatchPartRows(ctx, no, job.Attempt, 0, &rows); err != nil || rows.Len() != 0 {
		t.Errorf("rows of part 0 once done = %q, %v; want none", rows.String(), err)
	}
	part1, ok, err := db.ClaimJob(ctx, "w3", []string{"batch.part"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("claim part 1: %v", err)
	}
	if assembled, err := finish(1, part1, "m"); err != nil || !assembled {
		t.Fatalf("finish part 1: assembled %v, %v; want true, nil", assembled, err)
	}
	if got := list(); got != "a b m" {
		t.Errorf("list = %q, want %q", got, "a b m")
	}
	sp, err = db.BatchSplit(ctx, no, job.Attempt)
	if err != nil || sp.PartsDone != 2 || !sp.Parts[0].Done || !sp.Parts[1].AtStake.Equal(decimal.RequireFromString("1.5")) {
		t.Fatalf("split once done = %+v, %v", sp, err)
	}
	if _, ok, err := db.ClaimJob(ctx, "w4", []string{"batch.assemble"}, time.Minute); err != nil || !ok {
		t.Fatalf("the assembly was not queued: %v", err)
	}
	if err := db.DropBatchSplit(ctx, no); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BatchSplit(ctx, no, job.Attempt); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("split after DropBatchSplit: %v, want ENOTFOUND", err)
	}
}
