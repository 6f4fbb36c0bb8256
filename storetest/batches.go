package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/sqlstore"
)

func runBatches(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"BatchLifecycle", testBatchLifecycle},
		{"BatchAttemptFencing", testBatchAttemptFencing},
		{"BatchFailedKeepsNoDiscrepancies", testBatchFailed},
		{"BatchCountsEveryKind", testBatchCounts},
		{"BatchSkippedSheets", testBatchSkippedSheets},
		{"DiscrepancyWriterError", testDiscrepancyWriterError},
		{"Setting", testSetting},
		{"FindDiscrepancies", testFindDiscrepancies},
		{"BatchAtStake", testBatchAtStake},
		{"JobsInState", testJobsInState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func newBatch(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, no trueup.BatchNo, content []byte) {
	tb.Helper()
	err := db.CreateBatch(context.Background(), batch.CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: c, Cycle: "2025-09", FileName: "s.csv", Format: "csv", FileSize: int64(len(content)),
			CreatedAt: time.Now().UTC()},
		File: bytes.NewReader(content), JobKind: "batch.check", JobArgs: `{"batchNo":"` + string(no) + `"}`,
	})
	if err != nil {
		tb.Fatalf("CreateBatch: %v", err)
	}
}

func discrepancy(id string, typ trueup.DiffType) trueup.Discrepancy {
	return trueup.Discrepancy{CarrierOrderID: id, DiffType: typ, DiffReason: "r " + id, BillingCycle: "2025-09",
		SkuPrice: decimal.RequireFromString("0.00012"), KdSaleTotal: decimal.RequireFromString("12.50"), ThisMonthBilling: "10.00", NextMonthBilling: "2.50"}
}

func testBatchLifecycle(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Batchy")
	// A file over several storage chunks, with every byte value.
	content := make([]byte, sqlstore.FileChunk*2+123)
	for i := range content {
		content[i] = byte(i * 7)
	}
	newBatch(t, db, c.ID, "20250101_1", content)
	b, attempt, err := db.Batch(ctx, "20250101_1")
	if err != nil || b.State != trueup.BatchQueued || attempt != 0 || b.FileSize != int64(len(content)) {
		t.Fatalf("Batch = %+v, %d, %v", b, attempt, err)
	}
	f, size, err := db.OpenBatchFile(ctx, "20250101_1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(io.NewSectionReader(f, 0, size))
	f.Close()
	if !bytes.Equal(got, content) {
		t.Fatalf("stored upload differs: %d bytes back, %d sent", len(got), len(content))
	}
	job, ok, err := db.ClaimJob(ctx, "w", []string{"batch.check"}, time.Minute)
	if err != nil || !ok {
		t.Fatalf("the batch's job was not queued: %v", err)
	}
	if err := db.StartBatch(ctx, "20250101_1", job.Attempt); err != nil {
		t.Fatal(err)
	}
	if err := db.SetBatchProgress(ctx, "20250101_1", job.Attempt, 10, 50); err != nil {
		t.Fatal(err)
	}
	w := db.NewDiscrepancyWriter("20250101_1", job.Attempt)
	var counts trueup.DiffCounts
	for i := 0; i < 12001; i++ { // more than one flush
		d := discrepancy(string(rune('a'+i%26))+time.Duration(i).String(), trueup.Kinds[i%len(trueup.Kinds)].Type)
		counts.Add(d.DiffType)
		if err := w.Write(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	err = db.FinishBatch(ctx, batch.FinishBatchParams{No: "20250101_1", Attempt: job.Attempt, State: trueup.BatchSucceeded, Counts: counts, RowsRead: 12001, Job: job})
	if err != nil {
		t.Fatal(err)
	}
	b, attempt, _ = db.Batch(ctx, "20250101_1")
	if b.State != trueup.BatchSucceeded || b.Counts != counts || b.Percent != 100 || b.FinishedAt == nil || attempt != job.Attempt {
		t.Errorf("finished batch = %+v", b)
	}
	if j, _ := db.Job(ctx, job.ID); j.State != trueup.JobCompleted {
		t.Errorf("job state = %s, want completed with the batch", j.State)
	}
	// Keyset pages walk every discrepancy once, in order.
	var after int64
	var n int
	for {
		page, err := db.DiscrepancyPage(ctx, "20250101_1", attempt, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			if d.Seq != after+1 {
				t.Fatalf("seq %d after %d", d.Seq, after)
			}
			after = d.Seq
			n++
		}
	}
	if n != 12001 {
		t.Errorf("walked %d discrepancies, want 12001", n)
	}
	first, _ := db.DiscrepancyPage(ctx, "20250101_1", attempt, 0, 1)
	if d := first[0]; !d.KdSaleTotal.Equal(decimal.RequireFromString("12.50")) || d.SkuPrice.String() != "0.00012" || d.ThisMonthBilling != "10.00" {
		t.Errorf("discrepancy round trip = %+v", d)
	}
	list, err := db.Batches(ctx, c.ID, 10)
	if err != nil || len(list) != 1 {
		t.Errorf("Batches = %v, %v", list, err)
	}
	if err := db.StartBatch(ctx, "20250101_1", job.Attempt+1); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("restart of a finished batch: err = %v, want conflict", err)
	}
}

func testBatchAttemptFencing(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Fenced")
	newBatch(t, db, c.ID, "20250101_2", []byte("x"))
	if err := db.StartBatch(ctx, "20250101_2", 1); err != nil {
		t.Fatal(err)
	}
	stale := db.NewDiscrepancyWriter("20250101_2", 1)
	stale.Write(ctx, discrepancy("old", trueup.DiffRights))
	if err := stale.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// A second attempt takes over: the first attempt's rows go, and the
	// first attempt can no longer finish the batch.
	if err := db.StartBatch(ctx, "20250101_2", 2); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishBatch(ctx, batch.FinishBatchParams{No: "20250101_2", Attempt: 1, State: trueup.BatchSucceeded}); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Errorf("stale attempt finished the batch: err = %v", err)
	}
	if page, _ := db.DiscrepancyPage(ctx, "20250101_2", 1, 0, 10); len(page) != 0 {
		t.Errorf("stale attempt's discrepancies survive: %d", len(page))
	}
	w := db.NewDiscrepancyWriter("20250101_2", 2)
	w.Write(ctx, discrepancy("new", trueup.DiffAmount))
	w.Flush(ctx)
	counts := trueup.DiffCounts{trueup.DiffAmount: 1}
	if err := db.FinishBatch(ctx, batch.FinishBatchParams{No: "20250101_2", Attempt: 2, State: trueup.BatchSucceeded, Counts: counts}); err != nil {
		t.Fatal(err)
	}
	page, _ := db.DiscrepancyPage(ctx, "20250101_2", 2, 0, 10)
	if len(page) != 1 || page[0].CarrierOrderID != "new" {
		t.Errorf("page = %+v", page)
	}
}

func testBatchFailed(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Failing")
	newBatch(t, db, c.ID, "20250101_3", []byte("x"))
	if err := db.StartBatch(ctx, "20250101_3", 1); err != nil {
		t.Fatal(err)
	}
	rowErrs := []trueup.RowError{{Row: 2, Column: "carrierEndTime", Value: "2025-13-01", Reason: "not a date"}, {Row: 7, Reason: "duplicate"}}
	err := db.FinishBatch(ctx, batch.FinishBatchParams{No: "20250101_3", Attempt: 1, State: trueup.BatchFailed, RowErrors: rowErrs, ErrTotal: 5,
		Failure: "5 row errors", Counts: trueup.DiffCounts{trueup.DiffRights: 3}})
	if err != nil {
		t.Fatal(err)
	}
	b, attempt, _ := db.Batch(ctx, "20250101_3")
	if b.State != trueup.BatchFailed || b.RowErrors != 5 || b.Counts.Total() != 0 || b.Failure != "5 row errors" {
		t.Errorf("failed batch = %+v", b)
	}
	got, err := db.BatchRowErrors(ctx, "20250101_3", attempt, 1000)
	if err != nil || len(got) != 2 || got[0] != rowErrs[0] || got[1] != rowErrs[1] {
		t.Errorf("row errors = %+v, %v", got, err)
	}
}

// testBatchSkippedSheets stores the sheets a check skipped with the
// finished batch, succeeded or failed, and reads them back through Batch
// and Batches in workbook order; a batch that skipped none reads nil.
func testBatchSkippedSheets(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Skipping")
	tests := []struct {
		no      trueup.BatchNo
		state   trueup.BatchState
		skipped []string
	}{
		{"20250103_1", trueup.BatchSucceeded, []string{"Notes"}},
		{"20250103_2", trueup.BatchFailed, []string{"Read me", "Columns", "Notes, \"2\""}},
		{"20250103_3", trueup.BatchSucceeded, nil},
		{"20250103_4", trueup.BatchSucceeded, []string{}},
	}
	want := map[trueup.BatchNo][]string{}
	for _, tt := range tests {
		newBatch(t, db, c.ID, tt.no, []byte("x"))
		if err := db.StartBatch(ctx, tt.no, 1); err != nil {
			t.Fatal(err)
		}
		p := batch.FinishBatchParams{No: tt.no, Attempt: 1, State: tt.state, SkippedSheets: tt.skipped}
		if tt.state == trueup.BatchFailed {
			p.Failure = "1 row error"
		}
		if err := db.FinishBatch(ctx, p); err != nil {
			t.Fatalf("%s: FinishBatch: %v", tt.no, err)
		}
		if len(tt.skipped) > 0 {
			want[tt.no] = tt.skipped
		}
		b, _, err := db.Batch(ctx, tt.no)
		if err != nil {
			t.Fatalf("%s: Batch: %v", tt.no, err)
		}
		if !slices.Equal(b.SkippedSheets, want[tt.no]) || (b.SkippedSheets == nil) != (want[tt.no] == nil) {
			t.Errorf("%s: Batch skipped sheets = %q, want %q", tt.no, b.SkippedSheets, want[tt.no])
		}
	}
	list, err := db.Batches(ctx, c.ID, 100)
	if err != nil || len(list) != len(tests) {
		t.Fatalf("Batches = %d batches, %v; want %d", len(list), err, len(tests))
	}
	for _, b := range list {
		if !slices.Equal(b.SkippedSheets, want[b.No]) || (b.SkippedSheets == nil) != (want[b.No] == nil) {
			t.Errorf("Batches: %s skipped sheets = %q, want %q", b.No, b.SkippedSheets, want[b.No])
		}
	}
}

// testDiscrepancyWriterError writes discrepancies of a batch that does not
// exist: the background writer's error comes back from Write or Flush, and
// nothing hangs.
// testBatchCounts stores counts of every kind in trueup.Kinds, each alone
// (the other kinds zero), all at once and none, and reads them back through
// Batch and Batches: a kind added to the table is stored without a change
// here or in the schema.
func testBatchCounts(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Counting")
	type countsCase struct {
		name   string
		counts trueup.DiffCounts
	}
	var all trueup.DiffCounts
	tests := []countsCase{{name: "none"}}
	for i, k := range trueup.Kinds {
		var one trueup.DiffCounts
		one[k.Type] = int64(1000*(i+1) + 7)
		tests = append(tests, countsCase{name: k.Name, counts: one})
		all[k.Type] = int64(i + 1)
	}
	all[trueup.Kinds[0].Type] = 0 // a kind of the table with a zero count among others
	tests = append(tests, countsCase{name: "all", counts: all})
	want := map[trueup.BatchNo]trueup.DiffCounts{}
	for i, tt := range tests {
		no := trueup.BatchNo(fmt.Sprintf("20250102_%d", i))
		newBatch(t, db, c.ID, no, []byte("x"))
		if err := db.StartBatch(ctx, no, 1); err != nil {
			t.Fatal(err)
		}
		err := db.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: tt.counts})
		if err != nil {
			t.Fatalf("%s: FinishBatch: %v", tt.name, err)
		}
		b, _, err := db.Batch(ctx, no)
		if err != nil {
			t.Fatalf("%s: Batch: %v", tt.name, err)
		}
		if b.Counts != tt.counts {
			t.Errorf("%s: Batch counts = %v, want %v", tt.name, b.Counts, tt.counts)
		}
		want[no] = tt.counts
	}
	list, err := db.Batches(ctx, c.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(tests) {
		t.Fatalf("Batches returned %d batches, want %d", len(list), len(tests))
	}
	for _, b := range list {
		if b.Counts != want[b.No] {
			t.Errorf("Batches: %s counts = %v, want %v", b.No, b.Counts, want[b.No])
		}
	}
	// An abandoned batch counts nothing of any kind.
	no := trueup.BatchNo("20250102_abandoned")
	newBatch(t, db, c.ID, no, []byte("x"))
	if err := db.AbandonBatch(ctx, no, "given up"); err != nil {
		t.Fatal(err)
	}
	if b, _, err := db.Batch(ctx, no); err != nil || b.Counts != (trueup.DiffCounts{}) {
		t.Errorf("abandoned batch counts = %v, %v; want zero", b.Counts, err)
	}
	// Abandoning queued its batch.failed event in the same transaction;
	// abandoning it again (final now) queues nothing more.
	if err := db.AbandonBatch(ctx, no, "given up"); err != nil {
		t.Fatal(err)
	}
	queued, err := db.JobsInState(ctx, trueup.JobAvailable, 100)
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, j := range queued {
		if j.Kind == cases.EventsJobKind && j.Args == cases.EventsJobArgs(no) {
			events++
		}
	}
	if events != 1 {
		t.Errorf("%d events jobs of the abandoned batch queued, want 1", events)
	}
}

func testDiscrepancyWriterError(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	// A second writer of the same attempt numbers its discrepancies from 1
	// again: its first insert breaks the primary key, in the background.
	c := MustCarrier(t, db, "Writer Errors")
	newBatch(t, db, c.ID, "20250103_twice", []byte("x"))
	first := db.NewDiscrepancyWriter("20250103_twice", 1)
	if err := first.Write(ctx, discrepancy("x", trueup.DiffRights)); err != nil {
		t.Fatal(err)
	}
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	w := db.NewDiscrepancyWriter("20250103_twice", 1)
	defer w.Close()
	var err error
	for i := 0; i < 12001 && err == nil; i++ {
		err = w.Write(ctx, discrepancy("x", trueup.DiffRights))
	}
	if ferr := w.Flush(ctx); err == nil {
		err = ferr
	}
	if err == nil {
		t.Fatal("writing discrepancies over stored ones succeeded")
	}
	if err2 := w.Flush(ctx); err2 == nil {
		t.Error("a second Flush forgot the error")
	}
}

func testSetting(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	calls := 0
	value := func(v string) func() string { return func() string { calls++; return v } }
	first, err := db.Setting(ctx, "k", value("one"))
	if err != nil || first != "one" {
		t.Fatalf("Setting = %q, %v; want one", first, err)
	}
	again, err := db.Setting(ctx, "k", value("two"))
	if err != nil || again != "one" {
		t.Errorf("second Setting = %q, %v; want the stored one", again, err)
	}
	if calls != 1 {
		t.Errorf("create called %d times, want once: an existing setting is only read", calls)
	}
}
