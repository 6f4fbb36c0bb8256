package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlstore"
)

// runBuyers runs the buyer adjustment storage tests.
func runBuyers(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"Buyers", testBuyers},
		{"BuyerTransactionImport", testBuyerTransactionImport},
		{"BuyerTransactionReads", testBuyerTransactionReads},
		{"BuyerAdjustmentLifecycle", testBuyerAdjustmentLifecycle},
		{"BuyerAdjustmentApplyRollback", testBuyerAdjustmentApplyRollback},
		{"BuyerAdjustmentExpire", testBuyerAdjustmentExpire},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// MustBuyer stores a buyer named name with cap (nil: none) and returns it.
func MustBuyer(tb testing.TB, s buyer.Store, name string, cap *buyer.Percent) buyer.Buyer {
	tb.Helper()
	b := buyer.Buyer{ID: buyer.BuyerID(trueup.NewID("buy_")), Name: name, TokenHash: trueup.HashSecret(name), RejectCap: cap,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.CreateBuyer(context.Background(), b); err != nil {
		tb.Fatalf("create buyer: %v", err)
	}
	return b
}

// ImportTransactions stores txs for buyer b in one import.
func ImportTransactions(tb testing.TB, s buyer.Store, b buyer.BuyerID, txs ...buyer.Transaction) {
	tb.Helper()
	ctx := context.Background()
	imp, err := s.BeginTransactionImport(ctx, b)
	if err != nil {
		tb.Fatalf("BeginTransactionImport: %v", err)
	}
	defer imp.Rollback()
	for _, t := range txs {
		if err := imp.Add(ctx, t, 0); err != nil {
			tb.Fatalf("Add %s: %v", t.ID, err)
		}
	}
	if n, err := imp.Commit(); err != nil || n != int64(len(txs)) {
		tb.Fatalf("Commit = %d, %v; want %d", n, err, len(txs))
	}
}

func tx(id string, survey buyer.SurveyID, status buyer.TxStatus) buyer.Transaction {
	return buyer.Transaction{ID: id, SurveyID: survey, Status: status}
}

func testBuyers(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := db.BuyerStore()
	cap := buyer.Percent(1250)
	b := MustBuyer(t, s, "Acme Research", &cap)
	got, err := s.Buyer(ctx, b.ID)
	if err != nil || got.Name != b.Name || got.RejectCap == nil || *got.RejectCap != 1250 || !got.CreatedAt.Equal(b.CreatedAt) {
		t.Fatalf("Buyer = %+v, %v; want %+v", got, err, b)
	}
	if got, err := s.BuyerByTokenHash(ctx, b.TokenHash); err != nil || got.ID != b.ID {
		t.Errorf("BuyerByTokenHash = %+v, %v", got, err)
	}
	if _, err := s.BuyerByTokenHash(ctx, "nope"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("BuyerByTokenHash(unknown) err = %v, want not found", err)
	}
	dup := b
	dup.ID, dup.TokenHash = "buy_other", "other"
	if err := s.CreateBuyer(ctx, dup); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("duplicate name: err = %v, want conflict", err)
	}
	if err := s.SetBuyerRejectCap(ctx, b.ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBuyerToken(ctx, b.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.BuyerByTokenHash(ctx, "new-hash"); got.ID != b.ID || got.RejectCap != nil {
		t.Errorf("after SetBuyerToken and SetBuyerRejectCap(nil): %+v", got)
	}
	if _, err := s.BuyerByTokenHash(ctx, b.TokenHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("old token still works: %v", err)
	}
	if err := s.SetBuyerToken(ctx, "buy_missing", "x"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("SetBuyerToken(missing) err = %v", err)
	}
	if _, err := s.Buyer(ctx, "buy_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Buyer(missing) err = %v", err)
	}
	MustBuyer(t, s, "Beta Panels", nil)
	if all, err := s.Buyers(ctx); err != nil || len(all) != 2 {
		t.Errorf("Buyers = %+v, %v", all, err)
	}
}

func testBuyerTransactionImport(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := db.BuyerStore()
	a := MustBuyer(t, s, "A", nil)
	other := MustBuyer(t, s, "B", nil)
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(12 * time.Minute)
	t1 := buyer.Transaction{ID: "t1", SurveyID: 100, Status: 21, Invoiced: true, StartedAt: &start, FinishedAt: &end}
	ImportTransactions(t, s, a.ID, t1, tx("t2", 100, 18), buyer.Transaction{ID: "t3", SurveyID: 200, Status: 77, Test: true})
	ImportTransactions(t, s, other.ID, tx("t1", 300, 21)) // ids are per buyer
	sv, err := s.Survey(ctx, 100)
	if err != nil || sv.BuyerID != a.ID || sv.Status != buyer.SurveyLive {
		t.Fatalf("Survey(100) = %+v, %v; want live, owned by %s", sv, err, a.ID)
	}
	if list, err := s.Surveys(ctx, a.ID); err != nil || len(list) != 2 || list[0].ID != 100 || list[1].ID != 200 {
		t.Errorf("Surveys = %+v, %v", list, err)
	}
	got, err := s.TransactionsByID(ctx, a.ID, []string{"t1", "t3", "missing"})
	if err != nil || len(got) != 2 {
		t.Fatalf("TransactionsByID = %+v, %v", got, err)
	}
	slices.SortFunc(got, func(x, y buyer.Transaction) int { return cmpString(x.ID, y.ID) })
	if g := got[0]; g.SurveyID != 100 || g.Status != 21 || !g.Invoiced || g.Test || g.StartedAt == nil || !g.StartedAt.Equal(start) || !g.FinishedAt.Equal(end) {
		t.Errorf("t1 = %+v", g)
	}
	if g := got[1]; g.Status != 77 || g.Status.Name() != "Unknown" || !g.Test || g.StartedAt != nil {
		t.Errorf("t3 = %+v", g)
	}

	// A re-import upserts; a survey status in the file updates the survey.
	imp, err := s.BeginTransactionImport(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, tx("t2", 100, 21), buyer.SurveyPaused); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.TransactionsByID(ctx, a.ID, []string{"t2"}); len(got) != 1 || got[0].Status != 21 {
		t.Errorf("after upsert: %+v", got)
	}
	if sv, _ := s.Survey(ctx, 100); sv.Status != buyer.SurveyPaused {
		t.Errorf("survey status = %d, want paused", sv.Status)
	}

	// Conflicts with stored data are *ImportConflict and nothing is kept.
	imp, err = s.BeginTransactionImport(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, tx("new", 100, 21), 0); err != nil {
		t.Fatal(err)
	}
	var c *buyer.ImportConflict
	if err := imp.Add(ctx, tx("x", 300, 21), 0); !errors.As(err, &c) || c.Column != "survey_id" {
		t.Errorf("another buyer's survey: err = %v, want a survey_id conflict", err)
	}
	if err := imp.Add(ctx, tx("t1", 200, 21), 0); err != nil {
		t.Fatalf("Add: %v", err)
	}
	conflicts, err := imp.Conflicts(ctx)
	if err != nil || len(conflicts) != 1 || conflicts[0].Column != "transaction_id" || conflicts[0].TransactionID != "t1" || !strings.Contains(conflicts[0].Reason, "survey 100") {
		t.Errorf("transaction moving survey: Conflicts = %+v, %v; want one transaction_id conflict", conflicts, err)
	}
	if _, err := imp.Commit(); !errors.As(err, &c) {
		t.Errorf("Commit with a conflict: err = %v, want *ImportConflict", err)
	}
	imp.Rollback()
	imp.Rollback()
	if got, _ := s.TransactionsByID(ctx, a.ID, []string{"new"}); len(got) != 0 {
		t.Errorf("a rolled back import left %+v", got)
	}
	if sv, _ := s.Survey(ctx, 300); sv.BuyerID != other.ID {
		t.Errorf("survey 300 changed owner: %+v", sv)
	}
	if _, err := s.BeginTransactionImport(ctx, "buy_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("import for a missing buyer: err = %v", err)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testBuyerTransactionReads(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := db.BuyerStore()
	a := MustBuyer(t, s, "A", nil)
	// More than one IN chunk (1000) of ids.
	var txs []buyer.Transaction
	var ids []string
	for i := range 2500 {
		st := buyer.TxStatus(21)
		switch i % 5 {
		case 1:
			st = 33
		case 2:
			st = 18
		}
		t := tx(fmt.Sprintf("tx%05d", i), 500, st)
		t.Test = i%10 == 9 // 250 of the 1,500 completes
		txs = append(txs, t)
		ids = append(ids, t.ID)
	}
	ImportTransactions(t, s, a.ID, txs...)
	got, err := s.TransactionsByID(ctx, a.ID, append(ids, "none1", "none2"))
	if err != nil || len(got) != 2500 {
		t.Fatalf("TransactionsByID = %d transactions, %v; want 2500", len(got), err)
	}
	counts, err := s.SurveyCounts(ctx, []buyer.SurveyID{500, 999})
	if err != nil {
		t.Fatal(err)
	}
	want := buyer.SurveyCounts{Survey: 500, BuyerID: a.ID, Status: buyer.SurveyLive, Completes: 1250, Rejects: 500}
	if counts[500] != want {
		t.Errorf("SurveyCounts[500] = %+v, want %+v", counts[500], want)
	}
	if _, ok := counts[999]; ok {
		t.Errorf("SurveyCounts has a survey that does not exist")
	}
	completes, err := s.SurveyCompletes(ctx, 500)
	if err != nil || len(completes) != 1250 {
		t.Fatalf("SurveyCompletes = %d, %v; want 1250 non-test completes", len(completes), err)
	}
	for _, c := range completes {
		if c.Status != 21 || c.SurveyID != 500 || c.BuyerID != a.ID {
			t.Fatalf("complete %+v", c)
		}
	}
}

// newAdjustment creates a Pending process on survey over items.
func newAdjustment(tb testing.TB, s buyer.Store, b buyer.BuyerID, survey buyer.SurveyID, items ...buyer.Item) buyer.Adjustment {
	tb.Helper()
	a := buyer.Adjustment{ID: buyer.NewAdjustmentID(), BuyerID: b, Survey: survey, Mode: buyer.ModeLive, Desired: buyer.TxReconciliationReject,
		IsAPI: true, Surveys: []buyer.SurveyID{survey}, Summary: buyer.Summary{Transactions: int64(len(items)), DesiredStatus: 33}}
	got, err := s.CreateAdjustment(context.Background(), buyer.CreateAdjustmentParams{Adjustment: a, Items: items,
		ExpireKind: "test.expire", ExpireArgs: `{}`, ExpireAfter: 30 * time.Minute})
	if err != nil {
		tb.Fatalf("CreateAdjustment: %v", err)
	}
	return got
}

func testBuyerAdjustmentLifecycle(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	db.Clock = clock
	s := db.BuyerStore()
	b := MustBuyer(t, s, "A", nil)
	ImportTransactions(t, s, b.ID, tx("c1", 7, 21), tx("c2", 7, 21), tx("r1", 7, 18), tx("x9", 9, 21))
	version := func(id buyer.SurveyID) int64 {
		t.Helper()
		sv, err := s.Survey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return sv.ListVersion
	}
	// Every change of a survey's process list bumps its version.
	v := version(7)
	bumped := func(what string) {
		t.Helper()
		if now := version(7); now <= v {
			t.Errorf("%s: survey list version %d, was %d", what, now, v)
		} else {
			v = now
		}
	}
	items := []buyer.Item{{TransactionID: "c1", Reason: buyer.ReasonSuspectedFraud}, {TransactionID: "r1", Reason: buyer.ReasonGhostCompletes}}
	first := newAdjustment(t, s, b.ID, 7, items...)
	bumped("create")
	if first.Status != buyer.StatusPending || !first.CreatedAt.Equal(clock.Now()) || first.Items != 2 {
		t.Errorf("created = %+v", first)
	}
	// The expiry job is due 30 minutes after the launch.
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{"test.expire"}, time.Minute); ok {
		t.Errorf("expiry job claimed at once")
	}
	clock.Advance(time.Second)
	second := newAdjustment(t, s, b.ID, 7, buyer.Item{TransactionID: "c2", Reason: buyer.ReasonClientRejected})
	refs, err := s.SurveyAdjustments(ctx, 7)
	if err != nil || len(refs) != 2 || refs[0].ID != second.ID || refs[1].ID != first.ID {
		t.Fatalf("SurveyAdjustments = %+v, %v; want newest first", refs, err)
	}
	if refs, _ := s.SurveyAdjustments(ctx, 8); refs == nil || len(refs) != 0 {
		t.Errorf("SurveyAdjustments(no process) = %#v, want empty", refs)
	}
	gotItems, err := s.AdjustmentItems(ctx, first.ID)
	if err != nil || !slices.Equal(gotItems, items) {
		t.Errorf("AdjustmentItems = %+v, %v; want %+v", gotItems, err, items)
	}
	bumped("second create")
	if err := s.CancelAdjustment(ctx, second.ID); err != nil {
		t.Fatalf("CancelAdjustment: %v", err)
	}
	bumped("cancel")
	if a, _ := s.Adjustment(ctx, second.ID); a.Status != buyer.StatusDeclined || a.FinishedAt == nil {
		t.Errorf("cancelled = %+v", a)
	}
	if err := s.DispatchAdjustment(ctx, buyer.DispatchParams{ID: second.ID, JobKind: "test.apply", JobArgs: "{}", MaxAttempts: 1}); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("dispatch a declined process: err = %v, want conflict", err)
	}
	v = version(7)
	if err := s.DispatchAdjustment(ctx, buyer.DispatchParams{ID: first.ID, JobKind: "test.apply", JobArgs: `{"id":1}`, MaxAttempts: 1}); err != nil {
		t.Fatalf("DispatchAdjustment: %v", err)
	}
	bumped("dispatch")
	if err := s.CancelAdjustment(ctx, first.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("cancel a queued process: err = %v, want conflict", err)
	}
	if err := s.CancelAdjustment(ctx, buyer.NewAdjustmentID()); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("cancel a missing process: err = %v, want not found", err)
	}
	if _, err := s.BeginAdjustmentApply(ctx, first.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("apply before start: err = %v, want conflict", err)
	}
	job, ok, err := db.ClaimJob(ctx, "w", []string{"test.apply"}, time.Minute)
	if err != nil || !ok || job.Args != `{"id":1}` {
		t.Fatalf("ClaimJob = %+v, %v, %v", job, ok, err)
	}
	a, err := s.StartAdjustment(ctx, first.ID)
	if err != nil || a.Status != buyer.StatusProcessing {
		t.Fatalf("StartAdjustment = %+v, %v", a, err)
	}
	bumped("start")
	if a, err := s.StartAdjustment(ctx, first.ID); err != nil || a.Status != buyer.StatusProcessing {
		t.Errorf("second StartAdjustment = %+v, %v; want Processing unchanged", a, err)
	}
	atx, err := s.BeginAdjustmentApply(ctx, first.ID)
	if err != nil {
		t.Fatalf("BeginAdjustmentApply: %v", err)
	}
	if atx.Adjustment().ID != first.ID || !slices.Equal(atx.Items(), items) || atx.RejectCap() != nil {
		t.Errorf("apply tx sees %+v, %+v", atx.Adjustment(), atx.Items())
	}
	if got, err := atx.TransactionsByID(ctx, b.ID, []string{"c1", "r1"}); err != nil || len(got) != 2 {
		t.Errorf("apply tx TransactionsByID = %+v, %v", got, err)
	}
	if err := atx.SetStatuses(ctx, []buyer.Change{{TransactionID: "c1", To: 33, Reason: buyer.ReasonSuspectedFraud}}); err != nil {
		t.Fatalf("SetStatuses: %v", err)
	}
	if c, err := atx.SurveyCounts(ctx, []buyer.SurveyID{7}); err != nil || c[7].Completes != 1 || c[7].Rejects != 1 {
		t.Errorf("apply tx sees its own change: %+v, %v", c, err)
	}
	if err := atx.SetStatuses(ctx, []buyer.Change{{TransactionID: "gone", To: 33}}); err == nil {
		t.Errorf("SetStatuses of a missing transaction: no error")
	}
	sum := buyer.Summary{Transactions: 2, DesiredStatus: 33, LiveReconciled: 1, ValidCap: true}
	if err := atx.Finish(ctx, buyer.FinishParams{Status: buyer.StatusSuccess, Summary: sum, Surveys: []buyer.SurveyID{7, 9}, Job: job}); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	atx.Rollback() // safe after Finish
	bumped("finish")
	if v9 := version(9); v9 == 0 {
		t.Errorf("a survey added at apply time kept list version 0")
	}
	a, err = s.Adjustment(ctx, first.ID)
	if err != nil || a.Status != buyer.StatusSuccess || a.Summary.LiveReconciled != 1 || !slices.Equal(a.Surveys, []buyer.SurveyID{7, 9}) || a.FinishedAt == nil {
		t.Errorf("after Finish: %+v, %v", a, err)
	}
	if refs, _ := s.SurveyAdjustments(ctx, 9); len(refs) != 1 || refs[0].ID != first.ID || refs[0].Status != buyer.StatusSuccess {
		t.Errorf("a survey found at apply time lists the process: %+v", refs)
	}
	if j, _ := db.Job(ctx, job.ID); j.State != trueup.JobCompleted {
		t.Errorf("job state = %s, want completed with the apply", j.State)
	}
	got, _ := s.TransactionsByID(ctx, b.ID, []string{"c1"})
	if len(got) != 1 || got[0].Status != 33 || got[0].AdjustmentID != first.ID || got[0].ChangeReason != buyer.ReasonSuspectedFraud {
		t.Errorf("c1 after apply = %+v", got)
	}
	if all, err := s.BuyerAdjustments(ctx, b.ID); err != nil || len(all) != 2 || all[0].ID != second.ID {
		t.Errorf("BuyerAdjustments = %+v, %v", all, err)
	}
	if _, err := s.Adjustment(ctx, buyer.NewAdjustmentID()); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Adjustment(missing) err = %v", err)
	}
}

func testBuyerAdjustmentApplyRollback(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	s := db.BuyerStore()
	b := MustBuyer(t, s, "A", nil)
	ImportTransactions(t, s, b.ID, tx("c1", 7, 21))
	a := newAdjustment(t, s, b.ID, 7, buyer.Item{TransactionID: "c1"})
	if err := s.DispatchAdjustment(ctx, buyer.DispatchParams{ID: a.ID, JobKind: "test.apply", JobArgs: "{}", MaxAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	job, _, _ := db.ClaimJob(ctx, "w1", []string{"test.apply"}, time.Minute)
	if _, err := s.StartAdjustment(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	atx, err := s.BeginAdjustmentApply(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := atx.SetStatuses(ctx, []buyer.Change{{TransactionID: "c1", To: 33}}); err != nil {
		t.Fatal(err)
	}
	atx.Rollback()
	if got, _ := s.TransactionsByID(ctx, b.ID, []string{"c1"}); got[0].Status != 21 || got[0].AdjustmentID != "" {
		t.Errorf("rolled back apply changed c1: %+v", got[0])
	}
	// A worker that lost the job cannot finish the process.
	stale := job
	stale.Token = "someone-else"
	atx, err = s.BeginAdjustmentApply(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := atx.SetStatuses(ctx, []buyer.Change{{TransactionID: "c1", To: 33}}); err != nil {
		t.Fatal(err)
	}
	err = atx.Finish(ctx, buyer.FinishParams{Status: buyer.StatusSuccess, Job: stale})
	if !errors.Is(err, buyer.ErrJobLost) {
		t.Errorf("Finish with a lost job: err = %v, want ErrJobLost", err)
	}
	atx.Rollback()
	if got, _ := s.Adjustment(ctx, a.ID); got.Status != buyer.StatusProcessing {
		t.Errorf("status after a lost finish = %d, want Processing", got.Status)
	}
	if got, _ := s.TransactionsByID(ctx, b.ID, []string{"c1"}); got[0].Status != 21 {
		t.Errorf("a lost finish changed c1: %+v", got[0])
	}
	if err := s.FailAdjustment(ctx, a.ID, "boom"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Adjustment(ctx, a.ID)
	if got.Status != buyer.StatusError || got.Failure != "boom" || got.FinishedAt == nil {
		t.Errorf("failed = %+v", got)
	}
	if err := s.FailAdjustment(ctx, a.ID, "again"); err != nil {
		t.Errorf("FailAdjustment of a finished process: %v", err)
	}
	if got, _ := s.Adjustment(ctx, a.ID); got.Failure != "boom" {
		t.Errorf("a second failure replaced the first: %q", got.Failure)
	}
}

func testBuyerAdjustmentExpire(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC))
	db.Clock = clock
	s := db.BuyerStore()
	b := MustBuyer(t, s, "A", nil)
	ImportTransactions(t, s, b.ID, tx("c1", 7, 21))
	old := newAdjustment(t, s, b.ID, 7, buyer.Item{TransactionID: "c1"})
	clock.Advance(10 * time.Minute)
	young := newAdjustment(t, s, b.ID, 7, buyer.Item{TransactionID: "c1"})
	queued := newAdjustment(t, s, b.ID, 7, buyer.Item{TransactionID: "c1"})
	if err := s.DispatchAdjustment(ctx, buyer.DispatchParams{ID: queued.ID, JobKind: "test.apply", JobArgs: "{}", MaxAttempts: 1}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20*time.Minute - time.Millisecond)
	if n, err := s.ExpireAdjustments(ctx, 30*time.Minute); err != nil || n != 0 {
		t.Errorf("ExpireAdjustments before 30 minutes = %d, %v", n, err)
	}
	clock.Advance(time.Millisecond)
	before, _ := s.Survey(ctx, 7)
	if n, err := s.ExpireAdjustments(ctx, 30*time.Minute); err != nil || n != 1 {
		t.Errorf("ExpireAdjustments at 30 minutes = %d, %v; want 1", n, err)
	}
	if after, _ := s.Survey(ctx, 7); after.ListVersion <= before.ListVersion {
		t.Errorf("expiry kept the list version at %d", after.ListVersion)
	}
	if refs, _ := s.SurveyAdjustments(ctx, 7); len(refs) != 3 || refs[2].ID != old.ID || refs[2].Status != buyer.StatusInterrupted || refs[0].Status != buyer.StatusInFlight ||
		refs[0].Seq <= refs[1].Seq || refs[1].Seq <= refs[2].Seq {
		t.Errorf("list after expiry = %+v", refs)
	}
	// Only the entry the expiry changed is past the version before it.
	changed, err := s.SurveyAdjustmentsSince(ctx, 7, before.ListVersion)
	if err != nil || len(changed) != 1 || changed[0].ID != old.ID || changed[0].Status != buyer.StatusInterrupted {
		t.Errorf("SurveyAdjustmentsSince = %+v, %v; want the expired process", changed, err)
	}
	if all, _ := s.SurveyAdjustmentsSince(ctx, 7, 0); len(all) != 3 {
		t.Errorf("SurveyAdjustmentsSince(0) = %d entries, want 3", len(all))
	}
	for id, want := range map[buyer.AdjustmentID]buyer.Status{old.ID: buyer.StatusInterrupted, young.ID: buyer.StatusPending, queued.ID: buyer.StatusInFlight} {
		if got, _ := s.Adjustment(ctx, id); got.Status != want {
			t.Errorf("%s status = %d, want %d", id, got.Status, want)
		}
	}
	// The expiry jobs fall due 30 minutes after each launch.
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{"test.expire"}, time.Minute); !ok {
		t.Errorf("the first expiry job is not due after 30 minutes")
	}
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{"test.expire"}, time.Minute); ok {
		t.Errorf("a later expiry job is due early")
	}
}
