package buyer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// memReader is a Reader over one buyer's transactions held in memory.
type memReader struct {
	buyer   BuyerID
	txs     map[string]Transaction
	surveys map[SurveyID]SurveyStatus
}

func (m *memReader) TransactionsByID(_ context.Context, b BuyerID, ids []string) ([]Transaction, error) {
	var out []Transaction
	for _, id := range ids {
		if t, ok := m.txs[id]; ok && b == m.buyer {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *memReader) SurveyCounts(_ context.Context, surveys []SurveyID) (map[SurveyID]SurveyCounts, error) {
	out := map[SurveyID]SurveyCounts{}
	for _, s := range surveys {
		st, ok := m.surveys[s]
		if !ok {
			continue
		}
		c := SurveyCounts{Survey: s, BuyerID: m.buyer, Status: st}
		for _, t := range m.txs {
			if t.SurveyID != s || t.Test {
				continue
			}
			switch t.Status {
			case TxComplete:
				c.Completes++
			case TxReconciliationReject:
				c.Rejects++
			}
		}
		out[s] = c
	}
	return out, nil
}

func (m *memReader) SurveyCompletes(_ context.Context, s SurveyID) ([]Transaction, error) {
	var out []Transaction
	for _, t := range m.txs {
		if t.SurveyID == s && !t.Test && t.Status == TxComplete {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *memReader) clone() *memReader {
	c := &memReader{buyer: m.buyer, txs: make(map[string]Transaction, len(m.txs)), surveys: m.surveys}
	for k, v := range m.txs {
		c.txs[k] = v
	}
	return c
}

// TestAdjustmentSeedExample checks that a one-complete survey rejected by a live
// process gives seed 002's example summary.
func TestAdjustmentSeedExample(t *testing.T) {
	m := &memReader{buyer: "b", surveys: map[SurveyID]SurveyStatus{1108416: SurveyLive},
		txs: map[string]Transaction{"t1": {BuyerID: "b", ID: "t1", SurveyID: 1108416, Status: TxComplete}}}
	adj := Adjustment{BuyerID: "b", Survey: 1108416, Mode: ModeLive, Desired: TxReconciliationReject, IsAPI: true}
	ev, err := gather(context.Background(), m, adj, nil, []Item{{TransactionID: "t1", Reason: ReasonSuspectedFraud}})
	if err != nil {
		t.Fatal(err)
	}
	sum, changes := evaluate(ev)
	sum.markApplied()
	want := SurveySummary{SurveyID: 1108416, SurveyStatus: SurveyLive, CurrentCompletes: 1, Transactions: 1, DesiredStatus: 33, ValidCap: true,
		RejectPercentage: 10000, TotalRejects: 1, Eligible: 1, Rejected: 1, RejectingCompletesInCurrentUpload: 1, TotalRawCompletes: 1,
		IsAPIUser: true, LiveReconciled: 1}
	if len(sum.SummaryPerSurvey) != 1 || sum.SummaryPerSurvey[0] != want {
		t.Errorf("summaryPerSurvey = %+v, want [%+v]", sum.SummaryPerSurvey, want)
	}
	if sum.CurrentCompletes != 1 || sum.Transactions != 1 || sum.DesiredStatus != 33 || !sum.ValidCap || sum.RejectPercentage != 10000 ||
		sum.TotalRejects != 1 || sum.Eligible != 1 || sum.Rejected != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if len(changes) != 1 || changes[0] != (Change{TransactionID: "t1", To: 33, Reason: ReasonSuspectedFraud}) {
		t.Errorf("changes = %+v", changes)
	}
	if err := sum.CheckInvariants(StatusSuccess, ModeLive); err != nil {
		t.Error(err)
	}
}

// TestAdjustmentEvaluateClasses checks each class of entry, in each mode.
func TestAdjustmentEvaluateClasses(t *testing.T) {
	txs := []Transaction{
		{ID: "complete", SurveyID: 1, Status: 21},
		{ID: "complete2", SurveyID: 1, Status: 21},
		{ID: "rejected", SurveyID: 1, Status: 33},
		{ID: "buyerTerm", SurveyID: 1, Status: 18},
		{ID: "psTerm", SurveyID: 1, Status: 13},
		{ID: "test", SurveyID: 1, Status: 21, Test: true},
		{ID: "invoiced", SurveyID: 1, Status: 21, Invoiced: true},
		{ID: "unlistedInvoiced", SurveyID: 1, Status: 21, Invoiced: true},
		{ID: "other", SurveyID: 2, Status: 21},
	}
	m := &memReader{buyer: "b", txs: map[string]Transaction{}, surveys: map[SurveyID]SurveyStatus{1: SurveyLive, 2: SurveyClosed}}
	for _, tx := range txs {
		tx.BuyerID = "b"
		m.txs[tx.ID] = tx
	}
	list := []string{"complete", "rejected", "buyerTerm", "psTerm", "test", "invoiced", "nope", "complete", "other"}
	items := make([]Item, len(list))
	for i, id := range list {
		items[i] = Item{TransactionID: id, Reason: ReasonGhostCompletes}
	}
	tests := []struct {
		name    string
		mode    Mode
		desired TxStatus
		survey  SurveyID
		want    Summary // only the fields compared below
		changed []string
	}{
		{"reject one survey", ModeLive, 33, 1,
			Summary{Transactions: 9, Unknown: 2, Duplicates: 1, Test: 1, Invoiced: 1, Eligible: 1, TransactionsWithDesiredStatus: 1, NotEligible: 2,
				CurrentCompletes: 4, PreviouslyRejectedCompletes: 1, RejectingCompletesInCurrentUpload: 1, Rejected: 1, ResultingCompletes: 3, TotalRejects: 2, TotalRawCompletes: 5},
			[]string{"complete"}},
		{"complete several surveys", ModeLive, 21, 0,
			Summary{Transactions: 9, Unknown: 1, Duplicates: 1, Test: 1, Invoiced: 1, Eligible: 2, TransactionsWithDesiredStatus: 2, NotEligible: 1,
				CurrentCompletes: 5, PreviouslyRejectedCompletes: 1, AcceptingCompletesInCurrentUpload: 2, AcceptingRejectsInCurrentUpload: 1,
				ResultingCompletes: 7, TotalRejects: 0, TotalRawCompletes: 7},
			[]string{"rejected", "buyerTerm"}},
		{"accept one survey", ModeAccept, 21, 1,
			Summary{Transactions: 9, Unknown: 2, Duplicates: 1, Test: 1, Invoiced: 1, Eligible: 2, TransactionsWithDesiredStatus: 1, NotEligible: 1,
				CurrentCompletes: 4, PreviouslyRejectedCompletes: 1, AcceptingCompletesInCurrentUpload: 2, AcceptingRejectsInCurrentUpload: 1,
				RejectingCompletesInCurrentUpload: 1, Rejected: 1, UnlistedInvoiced: 1, ResultingCompletes: 5, TotalRejects: 1, TotalRawCompletes: 6},
			[]string{"rejected", "buyerTerm", "complete2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adj := Adjustment{BuyerID: "b", Survey: tt.survey, Mode: tt.mode, Desired: tt.desired}
			ev, err := gather(context.Background(), m, adj, nil, items)
			if err != nil {
				t.Fatal(err)
			}
			got, changes := evaluate(ev)
			if err := got.CheckInvariants(StatusPending, tt.mode); err != nil {
				t.Fatal(err)
			}
			w := tt.want
			w.DesiredStatus, w.ValidCap = tt.desired, true
			w.Rejected = w.RejectingCompletesInCurrentUpload
			w.RejectPercentage = PercentOf(w.TotalRejects, w.TotalRawCompletes)
			w.SummaryPerSurvey = got.SummaryPerSurvey
			if !equalSummaries(got, w) {
				t.Errorf("summary\n got %+v\nwant %+v", got, w)
			}
			var ids []string
			for _, c := range changes {
				ids = append(ids, c.TransactionID)
			}
			if !slices.Equal(ids, tt.changed) {
				t.Errorf("changed %v, want %v", ids, tt.changed)
			}
		})
	}
}

// TestAdjustmentCap checks the cap against the exact reject percentage.
func TestAdjustmentCap(t *testing.T) {
	// Survey of 8 completes and 2 rejects: rejecting one more makes 3 of 10.
	m := &memReader{buyer: "b", txs: map[string]Transaction{}, surveys: map[SurveyID]SurveyStatus{1: SurveyLive}}
	for i := range 10 {
		st := TxComplete
		if i < 2 {
			st = TxReconciliationReject
		}
		id := fmt.Sprintf("t%d", i)
		m.txs[id] = Transaction{BuyerID: "b", ID: id, SurveyID: 1, Status: st}
	}
	reject := []Item{{TransactionID: "t5"}}
	accept := []Item{{TransactionID: "t0"}}
	for _, tt := range []struct {
		cap     Percent
		items   []Item
		desired TxStatus
		valid   bool
	}{
		{3000, reject, 33, true},
		{2999, reject, 33, false},
		{0, accept, 21, true}, // rejects nothing: never over the cap
		{1000, reject, 33, false},
	} {
		cap := tt.cap
		ev, _ := gather(context.Background(), m, Adjustment{BuyerID: "b", Survey: 1, Mode: ModeLive, Desired: tt.desired}, &cap, tt.items)
		got, _ := evaluate(ev)
		if got.ValidCap != tt.valid || got.SummaryPerSurvey[0].ValidCap != tt.valid {
			t.Errorf("cap %s, desired %d: validCap = %v, want %v (%s%%)", tt.cap, tt.desired, got.ValidCap, tt.valid, got.RejectPercentage)
		}
	}
}

// randomBuyer returns a random buyer's data: up to 4 surveys of up to 60
// transactions each.
func randomBuyer(r *rand.Rand) *memReader {
	m := &memReader{buyer: "b", txs: map[string]Transaction{}, surveys: map[SurveyID]SurveyStatus{}}
	statuses := []TxStatus{21, 21, 21, 21, 33, 33, 18, 16, 20, 13, 29, 77}
	for s := range 1 + r.IntN(4) {
		id := SurveyID(1000 + s)
		m.surveys[id] = SurveyLive
		for i := range r.IntN(60) {
			tid := fmt.Sprintf("s%d-t%d", s, i)
			m.txs[tid] = Transaction{BuyerID: "b", ID: tid, SurveyID: id, Status: statuses[r.IntN(len(statuses))],
				Test: r.IntN(10) == 0, Invoiced: r.IntN(8) == 0}
		}
	}
	return m
}

// randomItems returns a random list over m's ids, with unknown ids and
// repeats.
func randomItems(r *rand.Rand, m *memReader) []Item {
	ids := make([]string, 0, len(m.txs))
	for id := range m.txs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var items []Item
	for range 1 + r.IntN(80) {
		var id string
		switch k := r.IntN(20); {
		case k == 0 || len(ids) == 0:
			id = fmt.Sprintf("unknown-%d", r.IntN(5))
		case k == 1 && len(items) > 0:
			id = items[r.IntN(len(items))].TransactionID
		default:
			id = ids[r.IntN(len(ids))]
		}
		items = append(items, Item{TransactionID: id, Reason: reasons[r.IntN(len(reasons))]})
	}
	return items
}

// TestAdjustmentEvaluateProperties runs random processes and checks the documented
// invariants, the summary against the data before and after applying the
// changes, and the changes themselves.
func TestAdjustmentEvaluateProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 2))
	for i := range 500 {
		m := randomBuyer(r)
		items := randomItems(r, m)
		modes := []struct {
			mode    Mode
			desired TxStatus
		}{{ModeAccept, 21}, {ModeLive, 21}, {ModeLive, 33}}
		md := modes[r.IntN(len(modes))]
		adj := Adjustment{BuyerID: "b", Mode: md.mode, Desired: md.desired, IsAPI: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			for s := range m.surveys {
				adj.Survey = s
				break
			}
		}
		var cap *Percent
		if r.IntN(2) == 0 {
			c := Percent(r.IntN(10001))
			cap = &c
		}
		name := fmt.Sprintf("case %d (%s %d survey %d cap %v, %d items)", i, adj.Mode, adj.Desired, adj.Survey, cap, len(items))
		ev, err := gather(context.Background(), m, adj, cap, items)
		if err != nil {
			t.Fatal(err)
		}
		sum, changes := evaluate(ev)
		if err := sum.CheckInvariants(StatusPending, adj.Mode); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkAgainstData(t, name, m, adj, items, sum, changes, cap)
		if sum.ValidCap {
			sum.markApplied()
			if err := sum.CheckInvariants(StatusSuccess, adj.Mode); err != nil {
				t.Fatalf("%s applied: %v", name, err)
			}
		} else if err := sum.CheckInvariants(StatusCapReached, adj.Mode); err != nil {
			t.Fatalf("%s cap reached: %v", name, err)
		}
	}
}

// checkAgainstData checks a summary and changes against the data they were
// computed from, independently of evaluate.
func checkAgainstData(t *testing.T, name string, m *memReader, adj Adjustment, items []Item, sum Summary, changes []Change, cap *Percent) {
	t.Helper()
	listed := map[string]bool{}
	for _, it := range items {
		listed[it.TransactionID] = true
	}
	after := m.clone()
	changed := map[string]bool{}
	for _, c := range changes {
		if changed[c.TransactionID] {
			t.Fatalf("%s: %s changed twice", name, c.TransactionID)
		}
		changed[c.TransactionID] = true
		tx, ok := m.txs[c.TransactionID]
		if !ok || tx.Test || tx.Invoiced {
			t.Fatalf("%s: changed %+v, which is unknown, test or invoiced", name, tx)
		}
		if adj.Survey != 0 && tx.SurveyID != adj.Survey {
			t.Fatalf("%s: changed %s of survey %d", name, tx.ID, tx.SurveyID)
		}
		if c.To != adj.Desired && !(adj.Mode == ModeAccept && c.To == TxReconciliationReject && !listed[tx.ID] && c.Reason == ReasonClientRejected) {
			t.Fatalf("%s: change %+v is neither to the desired status nor an unlisted reject", name, c)
		}
		if c.To == TxReconciliationReject && tx.Status != TxComplete || c.To == TxComplete && !tx.Status.BuyerSide() {
			t.Fatalf("%s: change %+v from status %d", name, c, tx.Status)
		}
		tx.Status = c.To
		after.txs[tx.ID] = tx
	}
	for _, p := range sum.SummaryPerSurvey {
		before, _ := m.SurveyCounts(context.Background(), []SurveyID{p.SurveyID})
		now, _ := after.SurveyCounts(context.Background(), []SurveyID{p.SurveyID})
		b, a := before[p.SurveyID], now[p.SurveyID]
		if p.CurrentCompletes != b.Completes || p.PreviouslyRejectedCompletes != b.Rejects || p.ResultingCompletes != a.Completes || p.TotalRejects != a.Rejects {
			t.Fatalf("%s: survey %d summary %+v; data before %+v, after %+v", name, p.SurveyID, p, b, a)
		}
		wantValid := cap == nil || p.RejectingCompletesInCurrentUpload == 0 || a.Rejects*10000 <= int64(*cap)*(a.Completes+a.Rejects)
		if p.ValidCap != wantValid {
			t.Fatalf("%s: survey %d validCap %v, want %v", name, p.SurveyID, p.ValidCap, wantValid)
		}
		if adj.Mode == ModeAccept {
			var unlisted int64
			for _, tx := range m.txs {
				if tx.SurveyID == p.SurveyID && !tx.Test && tx.Status == TxComplete && !listed[tx.ID] {
					unlisted++
				}
			}
			if p.Rejected+p.UnlistedInvoiced != unlisted {
				t.Fatalf("%s: survey %d rejected %d + unlistedInvoiced %d ≠ %d unlisted completes", name, p.SurveyID, p.Rejected, p.UnlistedInvoiced, unlisted)
			}
			// Every non-test, non-invoiced complete left is listed.
			for _, tx := range after.txs {
				if tx.SurveyID == p.SurveyID && !tx.Test && !tx.Invoiced && tx.Status == TxComplete && !listed[tx.ID] {
					t.Fatalf("%s: unlisted complete %s kept", name, tx.ID)
				}
			}
		}
	}
	if int64(len(changes)) != sum.RejectingCompletesInCurrentUpload+sum.AcceptingCompletesInCurrentUpload {
		t.Fatalf("%s: %d changes, summary says %d rejecting + %d accepting", name, len(changes), sum.RejectingCompletesInCurrentUpload, sum.AcceptingCompletesInCurrentUpload)
	}
}
