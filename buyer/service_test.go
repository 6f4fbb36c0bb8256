package buyer_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// newService returns a service over a fresh SQLite store.
func newService(tb testing.TB) (*buyer.Service, *sqlstore.DB) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return buyer.New(db.BuyerStore(), nil), db
}

// csvSource returns a Source over CSV text.
func csvSource(tb testing.TB, text string, cols []buyer.Column) buyer.Source {
	tb.Helper()
	r, err := sheet.OpenCSV(strings.NewReader(text), int64(len(text)))
	if err != nil {
		tb.Fatal(err)
	}
	src, err := buyer.NewSheetSource(r, cols)
	if err != nil {
		tb.Fatalf("NewSheetSource: %v", err)
	}
	return src
}

func importCSV(tb testing.TB, svc *buyer.Service, b buyer.BuyerID, text string) {
	tb.Helper()
	if _, err := svc.Import(context.Background(), buyer.ImportParams{Buyer: b, Source: csvSource(tb, text, buyer.TransactionColumns)}); err != nil {
		tb.Fatalf("import: %v", err)
	}
}

// runJob claims the next job of kind and runs handler on it.
func runJob(tb testing.TB, db *sqlstore.DB, kind string, handler func(context.Context, trueup.Job) error) {
	tb.Helper()
	ctx := context.Background()
	job, ok, err := db.ClaimJob(ctx, "test", []string{kind}, time.Minute)
	if err != nil || !ok {
		tb.Fatalf("claim %s: %v, %v", kind, ok, err)
	}
	if err := handler(ctx, job); err != nil {
		tb.Fatalf("%s: %v", kind, err)
	}
}

func buyerOf(tb testing.TB, svc *buyer.Service, name string, cap *buyer.Percent) buyer.Buyer {
	tb.Helper()
	c, err := svc.CreateBuyer(context.Background(), buyer.CreateBuyerParams{Name: name, RejectCap: cap})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := svc.Authenticate(context.Background(), c.AccessToken)
	if err != nil || b.ID != c.BuyerID {
		tb.Fatalf("Authenticate = %+v, %v", b, err)
	}
	return b
}

// statusesOf returns the status of every transaction of the buyer.
func statusesOf(tb testing.TB, store buyer.Store, b buyer.BuyerID, ids []string) map[string]buyer.Transaction {
	tb.Helper()
	txs, err := store.TransactionsByID(context.Background(), b, ids)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]buyer.Transaction{}
	for _, t := range txs {
		out[t.ID] = t
	}
	return out
}

// TestBuyerServiceRandomProcesses launches and applies random processes on
// SQLite and checks, for each, the documented invariants of the summary
// stored at launch and at the end, and the stored statuses against the
// final summary.
func TestBuyerServiceRandomProcesses(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 42))
	cap := buyer.Percent(4000)
	b := buyerOf(t, svc, "Random Research", &cap)
	statuses := []int{21, 21, 21, 21, 33, 18, 16, 20, 13, 77}
	var csv strings.Builder
	csv.WriteString("transaction_id,survey_id,status,test,invoiced\n")
	var ids []string
	for i := range 150 {
		id := fmt.Sprintf("tx-%03d", i)
		ids = append(ids, id)
		fmt.Fprintf(&csv, "%s,%d,%d,%v,%v\n", id, 501+i%3, statuses[r.IntN(len(statuses))], r.IntN(12) == 0, r.IntN(10) == 0)
	}
	importCSV(t, svc, b.ID, csv.String())
	surveys := []buyer.SurveyID{501, 502, 503}
	outcomes := map[buyer.Status]int{}
	for i := range 12 {
		var items []buyer.Item
		for range 1 + r.IntN(40) {
			id := ids[r.IntN(len(ids))]
			if r.IntN(15) == 0 {
				id = "unknown-" + id
			}
			items = append(items, buyer.Item{TransactionID: id, Reason: buyer.ChangeReason([]string{"Suspected Fraud", "Ghost Completes", "whatever"}[r.IntN(3)])})
		}
		p := buyer.LaunchParams{Buyer: b, Mode: buyer.ModeLive, Desired: buyer.TxReconciliationReject, IsAPI: true, Items: items}
		switch r.IntN(3) {
		case 0:
			p.Mode, p.Desired = buyer.ModeAccept, buyer.TxComplete
		case 1:
			p.Desired = buyer.TxComplete
		}
		if r.IntN(2) == 0 {
			p.Survey = surveys[r.IntN(len(surveys))]
		}
		name := fmt.Sprintf("process %d (%s %d, survey %d)", i, p.Mode, p.Desired, p.Survey)
		before := statusesOf(t, svc.Store, b.ID, ids)
		adj, err := svc.Launch(ctx, p)
		if err != nil {
			t.Fatalf("%s: launch: %v", name, err)
		}
		if adj.Status != buyer.StatusPending || !adj.IsAPI {
			t.Fatalf("%s: launched as %+v", name, adj)
		}
		if err := adj.Summary.CheckInvariants(buyer.StatusPending, p.Mode); err != nil {
			t.Fatalf("%s: launch summary: %v", name, err)
		}
		if got, _ := svc.Store.Adjustment(ctx, adj.ID); got.Status != buyer.StatusInFlight {
			t.Fatalf("%s: status after launch = %d, want Message In Flight", name, got.Status)
		}
		runJob(t, db, buyer.JobApply, svc.Apply)
		done, err := svc.Store.Adjustment(ctx, adj.ID)
		if err != nil {
			t.Fatal(err)
		}
		outcomes[done.Status]++
		if done.Status != buyer.StatusSuccess && done.Status != buyer.StatusCapReached {
			t.Fatalf("%s: ended %d (%s)", name, done.Status, done.Failure)
		}
		if err := done.Summary.CheckInvariants(done.Status, p.Mode); err != nil {
			t.Fatalf("%s: final summary: %v", name, err)
		}
		after := statusesOf(t, svc.Store, b.ID, ids)
		changed := 0
		for id, was := range before {
			now := after[id]
			if now.Status == was.Status {
				continue
			}
			changed++
			if done.Status != buyer.StatusSuccess || now.AdjustmentID != adj.ID || was.Test || was.Invoiced {
				t.Fatalf("%s: %s changed %d → %d (status %d, test %v, invoiced %v)", name, id, was.Status, now.Status, done.Status, was.Test, was.Invoiced)
			}
			if now.ChangeReason == "whatever" {
				t.Fatalf("%s: unknown reason stored as given", name)
			}
		}
		if int64(changed) != done.Summary.LiveReconciled {
			t.Fatalf("%s: %d transactions changed, liveReconciled %d", name, changed, done.Summary.LiveReconciled)
		}
		counts, _ := svc.Store.SurveyCounts(ctx, done.Surveys)
		for _, s := range done.Summary.SummaryPerSurvey {
			c := counts[s.SurveyID]
			wantCompletes, wantRejects := s.ResultingCompletes, s.TotalRejects
			if done.Status == buyer.StatusCapReached {
				wantCompletes, wantRejects = s.CurrentCompletes, s.PreviouslyRejectedCompletes
			}
			if c.Completes != wantCompletes || c.Rejects != wantRejects {
				t.Fatalf("%s: survey %d has %d completes and %d rejects, summary says %d and %d", name, s.SurveyID, c.Completes, c.Rejects, wantCompletes, wantRejects)
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
}

func TestBuyerServiceInjectedFailure(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	b := buyerOf(t, svc, "Failing", nil)
	importCSV(t, svc, b.ID, "transaction_id,survey_id,status\na,9,21\nb,9,21\nc,9,18\n")
	svc.SetFailApply(func(context.Context, buyer.AdjustmentID) error { return errors.New("disk on fire") })
	adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21, IsAPI: true,
		Items: []buyer.Item{{TransactionID: "c"}}})
	if err != nil {
		t.Fatal(err)
	}
	runJob(t, db, buyer.JobApply, svc.Apply)
	got, _ := svc.Store.Adjustment(ctx, adj.ID)
	if got.Status != buyer.StatusError || !strings.Contains(got.Failure, "disk on fire") {
		t.Fatalf("after an injected failure: status %d, failure %q", got.Status, got.Failure)
	}
	now := statusesOf(t, svc.Store, b.ID, []string{"a", "b", "c"})
	if now["a"].Status != 21 || now["b"].Status != 21 || now["c"].Status != 18 {
		t.Errorf("a failed apply changed statuses: %+v", now)
	}
	// The same list launched again without the failure applies.
	svc.SetFailApply(nil)
	adj, err = svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21, IsAPI: true, Items: []buyer.Item{{TransactionID: "c"}}})
	if err != nil {
		t.Fatal(err)
	}
	runJob(t, db, buyer.JobApply, svc.Apply)
	now = statusesOf(t, svc.Store, b.ID, []string{"a", "b", "c"})
	if now["a"].Status != 33 || now["b"].Status != 33 || now["c"].Status != 21 || now["a"].ChangeReason != buyer.ReasonClientRejected {
		t.Errorf("after the accepting process: %+v", now)
	}
}

func TestBuyerServiceOperatorLifecycle(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	clk := clock.At(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
	db.Clock = clk
	b := buyerOf(t, svc, "Operator", nil)
	importCSV(t, svc, b.ID, "transaction_id,survey_id,status\na,9,21\n")
	launch := func() buyer.Adjustment {
		adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeLive, Desired: 33, Items: []buyer.Item{{TransactionID: "a"}}})
		if err != nil || adj.Status != buyer.StatusPending || adj.IsAPI {
			t.Fatalf("launch = %+v, %v", adj, err)
		}
		return adj
	}
	confirmed, cancelled, forgotten := launch(), launch(), launch()
	if got, _ := svc.Store.Adjustment(ctx, confirmed.ID); got.Status != buyer.StatusPending {
		t.Fatalf("an operator launch is not Pending: %d", got.Status)
	}
	if adj, err := svc.Confirm(ctx, confirmed.ID); err != nil || adj.Status != buyer.StatusInFlight {
		t.Fatalf("Confirm = %+v, %v", adj, err)
	}
	if _, err := svc.Confirm(ctx, confirmed.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("second Confirm: err = %v, want conflict", err)
	}
	// The survey's list follows every change, though kept in memory.
	listed := func() map[buyer.AdjustmentID]buyer.Status {
		t.Helper()
		refs, err := svc.SurveyAdjustments(ctx, b, 9)
		if err != nil {
			t.Fatal(err)
		}
		m := map[buyer.AdjustmentID]buyer.Status{}
		for _, r := range refs {
			m[r.ID] = r.Status
		}
		return m
	}
	if got := listed(); len(got) != 3 || got[cancelled.ID] != buyer.StatusPending || got[confirmed.ID] != buyer.StatusInFlight {
		t.Fatalf("list = %v", got)
	}
	renders := 0
	render := func(refs []buyer.AdjustmentRef) []byte {
		renders++
		return []byte(fmt.Sprint(refs))
	}
	first, err := svc.RenderSurveyAdjustments(ctx, b, 9, render)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := svc.RenderSurveyAdjustments(ctx, b, 9, render); string(again) != string(first) || renders != 1 {
		t.Errorf("an unchanged list was rendered %d times", renders)
	}
	if adj, err := svc.Cancel(ctx, cancelled.ID); err != nil || adj.Status != buyer.StatusDeclined {
		t.Fatalf("Cancel = %+v, %v", adj, err)
	}
	if got := listed(); got[cancelled.ID] != buyer.StatusDeclined {
		t.Errorf("list after cancel = %v", got)
	}
	if after, _ := svc.RenderSurveyAdjustments(ctx, b, 9, render); string(after) == string(first) || renders != 2 {
		t.Errorf("a changed list was not rendered again (%d renders): %s", renders, after)
	}
	if _, err := svc.RenderSurveyAdjustments(ctx, buyer.Buyer{ID: "buy_other"}, 9, render); !errors.Is(err, buyer.ErrNotAuthorized) {
		t.Errorf("another buyer's render: err = %v", err)
	}
	if _, err := svc.Confirm(ctx, cancelled.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("Confirm a declined process: err = %v, want conflict", err)
	}
	runJob(t, db, buyer.JobApply, svc.Apply)
	clk.Advance(buyer.PendingTimeout)
	runJob(t, db, buyer.JobExpire, svc.Expire)
	want := map[buyer.AdjustmentID]buyer.Status{confirmed.ID: buyer.StatusSuccess, cancelled.ID: buyer.StatusDeclined, forgotten.ID: buyer.StatusInterrupted}
	got := listed()
	for id, w := range want {
		if a, _ := svc.Store.Adjustment(ctx, id); a.Status != w || got[id] != w {
			t.Errorf("%s: status %d, listed %d, want %d", id, a.Status, got[id], w)
		}
	}
}

func TestBuyerServiceLaunchRefusals(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	b := buyerOf(t, svc, "Refused", nil)
	importCSV(t, svc, b.ID, "transaction_id,survey_id,status\na,9,21\n")
	tests := []struct {
		name   string
		p      buyer.LaunchParams
		kind   string
		reason trueup.Reason
	}{
		{"empty", buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21}, trueup.EINVALID, buyer.ReasonEmptyList},
		{"empty id", buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21, Items: []buyer.Item{{TransactionID: "a"}, {}}}, trueup.EINVALID, ""},
		{"long id", buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21, Items: []buyer.Item{{TransactionID: strings.Repeat("x", 129)}}}, trueup.EINVALID, ""},
		{"nothing known", buyer.LaunchParams{Buyer: b, Mode: buyer.ModeLive, Desired: 33, Items: []buyer.Item{{TransactionID: "zzz"}}}, trueup.EINVALID, buyer.ReasonNothingKnown},
		{"too many", buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeLive, Desired: 33, Items: make([]buyer.Item, buyer.MaxItems+1)}, trueup.ETOOLARGE, ""},
	}
	for _, tt := range tests {
		_, err := svc.Launch(ctx, tt.p)
		if trueup.ErrorKind(err) != tt.kind || trueup.ErrorReason(err) != tt.reason {
			t.Errorf("%s: err = %v (%s %q), want %s %q", tt.name, err, trueup.ErrorKind(err), trueup.ErrorReason(err), tt.kind, tt.reason)
		}
	}
	// A single-survey process naming only unknown ids is launched: its
	// summary counts them.
	adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeLive, Desired: 33, Items: []buyer.Item{{TransactionID: "zzz"}}})
	if err != nil || adj.Summary.Unknown != 1 || adj.Summary.Transactions != 1 {
		t.Errorf("unknown-only single-survey launch = %+v, %v", adj.Summary, err)
	}
	if _, err := svc.Authenticate(ctx, "wrong"); !errors.Is(err, buyer.ErrNotAuthorized) {
		t.Errorf("Authenticate(wrong) err = %v", err)
	}
	if _, err := svc.OwnedSurvey(ctx, b, 10); !errors.Is(err, buyer.ErrNotAuthorized) {
		t.Errorf("OwnedSurvey(missing) err = %v", err)
	}
}

func TestBuyerServiceImportRowErrors(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	a := buyerOf(t, svc, "A", nil)
	other := buyerOf(t, svc, "B", nil)
	importCSV(t, svc, other.ID, "transaction_id,survey_id,status\nx,77,21\n")
	importCSV(t, svc, a.ID, "transaction_id,survey_id,status\nkeep,5,21\n")
	bad := "Transaction ID,Survey ID,Status,Test,Invoiced,Started At,Finished At\n" +
		"ok,5,21,,,2026-03-01T10:00:00Z,2026-03-01T10:12:00Z\n" + // row 2: good
		",5,21,,,,\n" + // row 3: no id
		"t4,abc,21,,,,\n" + // row 4: survey id
		"t5,5,twenty,,,,\n" + // row 5: status
		"t6,5,21,maybe,,,\n" + // row 6: test
		"ok,5,21,,,,\n" + // row 7: repeated id
		"t8,77,21,,,,\n" + // row 8: another buyer's survey
		"keep,6,21,,,,\n" + // row 9: moves survey
		"t10,5,21,,,2026-03-01T10:00:00Z,2026-03-01T09:00:00Z\n" // row 10: ends before it starts
	_, err := svc.Import(ctx, buyer.ImportParams{Buyer: a.ID, Source: csvSource(t, bad, buyer.TransactionColumns)})
	var ie *buyer.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("Import err = %v, want *ImportError", err)
	}
	want := []trueup.RowError{
		{Row: 3, Column: "transaction_id"}, {Row: 4, Column: "survey_id", Value: "abc"}, {Row: 5, Column: "status", Value: "twenty"},
		{Row: 6, Column: "test", Value: "maybe"}, {Row: 7, Column: "transaction_id", Value: "ok"}, {Row: 8, Column: "survey_id", Value: "77"},
		{Row: 9, Column: "transaction_id", Value: "keep"}, {Row: 10, Column: "finished_at", Value: "2026-03-01T09:00:00.000Z"},
	}
	if ie.Total != len(want) || len(ie.Rows) != len(want) {
		t.Fatalf("row errors = %+v, want %d", ie.Rows, len(want))
	}
	for i, w := range want {
		g := ie.Rows[i]
		if g.Row != w.Row || g.Column != w.Column || g.Value != w.Value || g.Reason == "" {
			t.Errorf("row error %d = %+v, want %+v with a reason", i, g, w)
		}
	}
	if got := statusesOf(t, svc.Store, a.ID, []string{"ok"}); len(got) != 0 {
		t.Errorf("a refused import stored %+v", got)
	}
	if _, err := svc.Import(ctx, buyer.ImportParams{Buyer: a.ID, Source: csvSource(t, "transaction_id,survey_id,status\n", buyer.TransactionColumns)}); trueup.ErrorKind(err) != trueup.EINVALID {
		t.Errorf("import of a header only: err = %v, want invalid", err)
	}
	r, _ := sheet.OpenCSV(strings.NewReader("transaction_id,status\n"), 0)
	if _, err := buyer.NewSheetSource(r, buyer.TransactionColumns); err == nil || !strings.Contains(err.Error(), "survey_id") {
		t.Errorf("a header without survey_id: err = %v", err)
	}
	r, _ = sheet.OpenCSV(strings.NewReader("transaction_id,survey_id,status,color\n"), 0)
	if _, err := buyer.NewSheetSource(r, buyer.TransactionColumns); err == nil || !strings.Contains(err.Error(), "color") {
		t.Errorf("a header with an unknown column: err = %v", err)
	}
}

func TestBuyerReadItems(t *testing.T) {
	items, err := buyer.ReadItems(csvSource(t, "transaction_id,change_reason\na,Ghost Completes\n b ,\n", buyer.ItemColumns))
	if err != nil || len(items) != 2 || items[0] != (buyer.Item{TransactionID: "a", Reason: "Ghost Completes"}) || items[1].TransactionID != "b" {
		t.Errorf("ReadItems = %+v, %v", items, err)
	}
	_, err = buyer.ReadItems(csvSource(t, "transaction_id,change_reason\na,x\n,Ghost Completes\n", buyer.ItemColumns))
	var ie *buyer.ImportError
	if !errors.As(err, &ie) || ie.Total != 1 || ie.Rows[0].Row != 3 {
		t.Errorf("ReadItems with an empty id: err = %v", err)
	}
	src := buyer.NewJSONLSource(strings.NewReader(`{"transaction_id":"a","change_reason":"Suspected Fraud"}`+"\n\n"+`{"Transaction ID":"b"}`+"\n"), 0, nil, buyer.ItemColumns)
	items, err = buyer.ReadItems(src)
	if err != nil || len(items) != 2 || items[1].TransactionID != "b" {
		t.Errorf("ReadItems(JSON Lines) = %+v, %v", items, err)
	}
	src = buyer.NewJSONLSource(strings.NewReader(`{"id":"a"}`), 0, nil, buyer.ItemColumns)
	if _, err := buyer.ReadItems(src); err == nil || !strings.Contains(err.Error(), `"id"`) {
		t.Errorf("an unknown key: err = %v", err)
	}
}

// TestBuyerServiceListCache changes a survey's processes at random and
// checks, after each change, that the list the service serves (kept in
// memory and brought up to date from the changed entries) is the list
// read afresh from the store.
func TestBuyerServiceListCache(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 5))
	b := buyerOf(t, svc, "Cache", nil)
	importCSV(t, svc, b.ID, "transaction_id,survey_id,status\na,9,21\nb,10,21\n")
	var pending []buyer.AdjustmentID
	for i := range 40 {
		switch k := r.IntN(4); {
		case k == 0 || len(pending) == 0:
			items := []buyer.Item{{TransactionID: "a"}}
			if r.IntN(3) == 0 {
				items = append(items, buyer.Item{TransactionID: "b"}) // a process over both surveys
			}
			adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Mode: buyer.ModeLive, Desired: 33, Items: items})
			if err != nil {
				t.Fatal(err)
			}
			pending = append(pending, adj.ID)
		case k == 1:
			j := r.IntN(len(pending))
			if _, err := svc.Cancel(ctx, pending[j]); err != nil {
				t.Fatal(err)
			}
			pending = slices.Delete(pending, j, j+1)
		default:
			j := r.IntN(len(pending))
			if _, err := svc.Confirm(ctx, pending[j]); err != nil {
				t.Fatal(err)
			}
			pending = slices.Delete(pending, j, j+1)
			if r.IntN(2) == 0 {
				runJob(t, db, buyer.JobApply, svc.Apply)
			}
		}
		for _, survey := range []buyer.SurveyID{9, 10} {
			got, err := svc.SurveyAdjustments(ctx, b, survey)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := svc.Store.SurveyAdjustments(ctx, survey)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d, survey %d: served\n%v\nstored\n%v", i, survey, got, want)
			}
		}
	}
}
