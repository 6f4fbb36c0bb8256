package buyer

import (
	"context"
	"fmt"
	"reflect"
	"slices"
)

// Summary is a process's summary, with every field seed 002 lists and a few
// of trueup's (marked below). docs/buyer-adjustments.md defines each field
// and the invariants between them. The counts exclude test transactions
// except Test itself.
type Summary struct {
	// CurrentCompletes: the surveys' transactions at 21 before the process.
	CurrentCompletes int64 `json:"currentCompletes"`
	// PreviouslyRejectedCompletes: the surveys' transactions at 33 before
	// the process.
	PreviouslyRejectedCompletes int64 `json:"previouslyRejectedCompletes"`
	// RejectingCompletesInCurrentUpload: the process's changes 21 → 33.
	RejectingCompletesInCurrentUpload int64 `json:"rejectingCompletesInCurrentUpload"`
	// AcceptingCompletesInCurrentUpload: the process's changes from a
	// buyer-side status to 21.
	AcceptingCompletesInCurrentUpload int64 `json:"acceptingCompletesInCurrentUpload"`
	// ResultingCompletes: transactions at 21 after the process.
	ResultingCompletes int64 `json:"resultingCompletes"`
	// TotalRawCompletes: transactions at 21 or 33 after the process.
	TotalRawCompletes int64 `json:"totalRawCompletes"`
	// TotalRejects: transactions at 33 after the process.
	TotalRejects int64 `json:"totalRejects"`
	// DesiredStatus: 21 or 33.
	DesiredStatus TxStatus `json:"desiredStatus"`
	// Transactions: entries of the list (per survey: distinct listed
	// transactions of the survey).
	Transactions int64 `json:"transactions"`
	// LiveReconciled: transactions the process has changed (0 until it
	// succeeds).
	LiveReconciled int64 `json:"liveReconciled"`
	IsAPIUser      bool  `json:"isApiUser"`
	// ValidCap: false when the process would leave a survey whose
	// completes it rejects above the buyer's reject cap.
	ValidCap bool `json:"validCap"`
	// Invoiced: listed transactions left unchanged because invoiced.
	Invoiced int64 `json:"invoiced"`
	// RejectPercentage: 100 × TotalRejects / TotalRawCompletes.
	RejectPercentage Percent `json:"rejectPercentage"`
	// Eligible: listed transactions the process changes.
	Eligible int64 `json:"eligible"`
	// Rejected: transactions the process changes to 33 (listed or, in
	// accept mode, unlisted completes).
	Rejected int64 `json:"rejected"`
	// Test: listed test transactions, left unchanged.
	Test int64 `json:"test"`
	// TransactionsWithDesiredStatus: listed transactions already at the
	// desired status.
	TransactionsWithDesiredStatus int64 `json:"transactionsWithDesiredStatus"`
	// NotEligible (trueup): listed transactions whose status the desired
	// status cannot replace (a platform-side outcome to accept, anything
	// but a complete to reject).
	NotEligible int64 `json:"notEligible"`
	// Unknown (trueup): entries naming no transaction of the buyer in the
	// process's scope.
	Unknown int64 `json:"unknown"`
	// Duplicates (trueup): entries repeating an earlier entry's id.
	Duplicates int64 `json:"duplicates"`
	// UnlistedInvoiced (trueup): in accept mode, current completes not
	// listed that stay complete because invoiced.
	UnlistedInvoiced int64 `json:"unlistedInvoiced"`
	// AcceptingRejectsInCurrentUpload (trueup): the accepting changes
	// whose transaction was at 33.
	AcceptingRejectsInCurrentUpload int64 `json:"acceptingRejectsInCurrentUpload"`
	// SummaryPerSurvey: one summary per survey the process touches, by
	// ascending surveyId.
	SummaryPerSurvey []SurveySummary `json:"summaryPerSurvey"`
}

// SurveySummary is the summary of one survey of a process. Its fields mean
// what Summary's do, restricted to the survey.
type SurveySummary struct {
	SurveyID                          SurveyID     `json:"surveyId"`
	SurveyStatus                      SurveyStatus `json:"surveyStatus"`
	CurrentCompletes                  int64        `json:"currentCompletes"`
	PreviouslyRejectedCompletes       int64        `json:"previouslyRejectedCompletes"`
	RejectingCompletesInCurrentUpload int64        `json:"rejectingCompletesInCurrentUpload"`
	AcceptingCompletesInCurrentUpload int64        `json:"acceptingCompletesInCurrentUpload"`
	ResultingCompletes                int64        `json:"resultingCompletes"`
	TotalRawCompletes                 int64        `json:"totalRawCompletes"`
	TotalRejects                      int64        `json:"totalRejects"`
	DesiredStatus                     TxStatus     `json:"desiredStatus"`
	Transactions                      int64        `json:"transactions"`
	LiveReconciled                    int64        `json:"liveReconciled"`
	IsAPIUser                         bool         `json:"isApiUser"`
	ValidCap                          bool         `json:"validCap"`
	Invoiced                          int64        `json:"invoiced"`
	RejectPercentage                  Percent      `json:"rejectPercentage"`
	Eligible                          int64        `json:"eligible"`
	Rejected                          int64        `json:"rejected"`
	Test                              int64        `json:"test"`
	TransactionsWithDesiredStatus     int64        `json:"transactionsWithDesiredStatus"`
	NotEligible                       int64        `json:"notEligible"`
	UnlistedInvoiced                  int64        `json:"unlistedInvoiced"`
	AcceptingRejectsInCurrentUpload   int64        `json:"acceptingRejectsInCurrentUpload"`
}

// markApplied sets LiveReconciled to the changes made, once the process has
// succeeded.
func (s *Summary) markApplied() {
	s.LiveReconciled = s.RejectingCompletesInCurrentUpload + s.AcceptingCompletesInCurrentUpload
	for i := range s.SummaryPerSurvey {
		p := &s.SummaryPerSurvey[i]
		p.LiveReconciled = p.RejectingCompletesInCurrentUpload + p.AcceptingCompletesInCurrentUpload
	}
}

// SurveyCounts are a survey's status and its non-test completes and
// reconciliation rejects.
type SurveyCounts struct {
	Survey    SurveyID
	BuyerID   BuyerID
	Status    SurveyStatus
	Completes int64 // non-test transactions at 21
	Rejects   int64 // non-test transactions at 33
}

// Change is one status change a process makes.
type Change struct {
	TransactionID string
	To            TxStatus
	Reason        ChangeReason
}

// evaluation is everything a process's outcome depends on, read from
// storage at one moment.
type evaluation struct {
	mode    Mode
	desired TxStatus
	isAPI   bool
	cap     *Percent
	items   []Item
	// known holds the listed transactions of the buyer in the process's
	// scope (the survey of a single-survey launch), by id.
	known map[string]Transaction
	// surveys are the surveys the process touches, ascending.
	surveys []SurveyID
	counts  map[SurveyID]SurveyCounts
	// completes holds, in accept mode, each survey's non-test completes.
	completes map[SurveyID][]Transaction
}

// gather reads what a process over items depends on through r.
func gather(ctx context.Context, r Reader, adj Adjustment, cap *Percent, items []Item) (evaluation, error) {
	ev := evaluation{mode: adj.Mode, desired: adj.Desired, isAPI: adj.IsAPI, cap: cap, items: items}
	seen := make(map[string]bool, len(items))
	ids := make([]string, 0, len(items))
	for _, it := range items {
		if !seen[it.TransactionID] {
			seen[it.TransactionID] = true
			ids = append(ids, it.TransactionID)
		}
	}
	txs, err := r.TransactionsByID(ctx, adj.BuyerID, ids)
	if err != nil {
		return ev, err
	}
	ev.known = make(map[string]Transaction, len(txs))
	inSurvey := map[SurveyID]bool{}
	for _, t := range txs {
		if adj.Survey != 0 && t.SurveyID != adj.Survey {
			continue // another survey's transaction is unknown to a single-survey process
		}
		ev.known[t.ID] = t
		inSurvey[t.SurveyID] = true
	}
	if adj.Survey != 0 {
		ev.surveys = []SurveyID{adj.Survey}
	} else {
		for s := range inSurvey {
			ev.surveys = append(ev.surveys, s)
		}
		slices.Sort(ev.surveys)
	}
	if ev.counts, err = r.SurveyCounts(ctx, ev.surveys); err != nil {
		return ev, err
	}
	if ev.mode == ModeAccept {
		ev.completes = make(map[SurveyID][]Transaction, len(ev.surveys))
		for _, s := range ev.surveys {
			if ev.completes[s], err = r.SurveyCompletes(ctx, s); err != nil {
				return ev, err
			}
		}
	}
	return ev, nil
}

// evaluate returns the summary of the process ev describes and the changes
// it makes (whatever the cap says; the caller applies them only when the
// summary's ValidCap holds). Each first entry of an id falls in exactly one
// class, tested in this order: unknown, test, invoiced, already at the
// desired status, eligible, not eligible.
func evaluate(ev evaluation) (Summary, []Change) {
	per := make(map[SurveyID]*SurveySummary, len(ev.surveys))
	for _, s := range ev.surveys {
		c := ev.counts[s]
		per[s] = &SurveySummary{SurveyID: s, SurveyStatus: c.Status, CurrentCompletes: c.Completes, PreviouslyRejectedCompletes: c.Rejects,
			DesiredStatus: ev.desired, IsAPIUser: ev.isAPI}
	}
	sum := Summary{DesiredStatus: ev.desired, IsAPIUser: ev.isAPI, Transactions: int64(len(ev.items))}
	var changes []Change
	seen := make(map[string]bool, len(ev.items))
	for _, it := range ev.items {
		if seen[it.TransactionID] {
			sum.Duplicates++
			continue
		}
		seen[it.TransactionID] = true
		t, ok := ev.known[it.TransactionID]
		if !ok {
			sum.Unknown++
			continue
		}
		p := per[t.SurveyID]
		p.Transactions++
		switch {
		case t.Test:
			p.Test++
		case t.Invoiced:
			p.Invoiced++
		case t.Status == ev.desired:
			p.TransactionsWithDesiredStatus++
		case ev.desired == TxReconciliationReject && t.Status == TxComplete:
			p.Eligible++
			p.Rejected++
			p.RejectingCompletesInCurrentUpload++
			changes = append(changes, Change{TransactionID: t.ID, To: TxReconciliationReject, Reason: it.Reason})
		case ev.desired == TxComplete && t.Status.BuyerSide():
			p.Eligible++
			p.AcceptingCompletesInCurrentUpload++
			if t.Status == TxReconciliationReject {
				p.AcceptingRejectsInCurrentUpload++
			}
			changes = append(changes, Change{TransactionID: t.ID, To: TxComplete, Reason: it.Reason})
		default:
			p.NotEligible++
		}
	}
	if ev.mode == ModeAccept {
		for _, s := range ev.surveys {
			p := per[s]
			for _, t := range ev.completes[s] {
				if seen[t.ID] {
					continue // listed: classified above
				}
				if t.Invoiced {
					p.UnlistedInvoiced++
					continue
				}
				p.Rejected++
				p.RejectingCompletesInCurrentUpload++
				changes = append(changes, Change{TransactionID: t.ID, To: TxReconciliationReject, Reason: ReasonClientRejected})
			}
		}
	}
	sum.ValidCap = true
	sum.SummaryPerSurvey = make([]SurveySummary, 0, len(ev.surveys))
	for _, s := range ev.surveys {
		p := per[s]
		p.ResultingCompletes = p.CurrentCompletes - p.RejectingCompletesInCurrentUpload + p.AcceptingCompletesInCurrentUpload
		p.TotalRejects = p.PreviouslyRejectedCompletes + p.RejectingCompletesInCurrentUpload - p.AcceptingRejectsInCurrentUpload
		p.TotalRawCompletes = p.ResultingCompletes + p.TotalRejects
		p.RejectPercentage = PercentOf(p.TotalRejects, p.TotalRawCompletes)
		p.ValidCap = withinCap(ev.cap, p.RejectingCompletesInCurrentUpload, p.TotalRejects, p.TotalRawCompletes)
		sum.ValidCap = sum.ValidCap && p.ValidCap
		sum.add(p)
		sum.SummaryPerSurvey = append(sum.SummaryPerSurvey, *p)
	}
	sum.RejectPercentage = PercentOf(sum.TotalRejects, sum.TotalRawCompletes)
	return sum, changes
}

// withinCap reports whether a survey left with rejects of raw completes
// respects cap, given that the process rejects rejecting of its completes.
// A process that rejects none of a survey's completes never breaks the cap
// there, even when the survey is already above it.
func withinCap(cap *Percent, rejecting, rejects, raw int64) bool {
	if cap == nil || rejecting == 0 {
		return true
	}
	// rejects/raw × 100 ≤ cap/100, in integers.
	return rejects*10000 <= int64(*cap)*raw
}

// add adds a survey's counts to the process's.
func (s *Summary) add(p *SurveySummary) {
	s.CurrentCompletes += p.CurrentCompletes
	s.PreviouslyRejectedCompletes += p.PreviouslyRejectedCompletes
	s.RejectingCompletesInCurrentUpload += p.RejectingCompletesInCurrentUpload
	s.AcceptingCompletesInCurrentUpload += p.AcceptingCompletesInCurrentUpload
	s.ResultingCompletes += p.ResultingCompletes
	s.TotalRawCompletes += p.TotalRawCompletes
	s.TotalRejects += p.TotalRejects
	s.Invoiced += p.Invoiced
	s.Eligible += p.Eligible
	s.Rejected += p.Rejected
	s.Test += p.Test
	s.TransactionsWithDesiredStatus += p.TransactionsWithDesiredStatus
	s.NotEligible += p.NotEligible
	s.UnlistedInvoiced += p.UnlistedInvoiced
	s.AcceptingRejectsInCurrentUpload += p.AcceptingRejectsInCurrentUpload
}

// CheckInvariants returns an error naming the first invariant of
// docs/buyer-adjustments.md that s breaks, or nil. status is the process's
// status (LiveReconciled depends on it) and mode its mode.
func (s Summary) CheckInvariants(status Status, mode Mode) error {
	var perTx, perLive int64
	for _, p := range s.SummaryPerSurvey {
		if err := checkCounts("survey "+fmt.Sprint(p.SurveyID), counts{
			current: p.CurrentCompletes, previous: p.PreviouslyRejectedCompletes, rejecting: p.RejectingCompletesInCurrentUpload,
			accepting: p.AcceptingCompletesInCurrentUpload, acceptingRejects: p.AcceptingRejectsInCurrentUpload, resulting: p.ResultingCompletes,
			raw: p.TotalRawCompletes, rejects: p.TotalRejects, desired: p.DesiredStatus, transactions: p.Transactions, live: p.LiveReconciled,
			invoiced: p.Invoiced, pct: p.RejectPercentage, eligible: p.Eligible, rejected: p.Rejected, test: p.Test,
			withDesired: p.TransactionsWithDesiredStatus, notEligible: p.NotEligible, unlistedInvoiced: p.UnlistedInvoiced,
		}, status, mode); err != nil {
			return err
		}
		if p.DesiredStatus != s.DesiredStatus || p.IsAPIUser != s.IsAPIUser {
			return fmt.Errorf("survey %d: desiredStatus/isApiUser differ from the process's", p.SurveyID)
		}
		perTx += p.Transactions
		perLive += p.LiveReconciled
	}
	if err := checkCounts("process", counts{
		current: s.CurrentCompletes, previous: s.PreviouslyRejectedCompletes, rejecting: s.RejectingCompletesInCurrentUpload,
		accepting: s.AcceptingCompletesInCurrentUpload, acceptingRejects: s.AcceptingRejectsInCurrentUpload, resulting: s.ResultingCompletes,
		raw: s.TotalRawCompletes, rejects: s.TotalRejects, desired: s.DesiredStatus, transactions: s.Transactions - s.Unknown - s.Duplicates,
		live: s.LiveReconciled, invoiced: s.Invoiced, pct: s.RejectPercentage, eligible: s.Eligible, rejected: s.Rejected, test: s.Test,
		withDesired: s.TransactionsWithDesiredStatus, notEligible: s.NotEligible, unlistedInvoiced: s.UnlistedInvoiced,
	}, status, mode); err != nil {
		return err
	}
	if s.Transactions-s.Unknown-s.Duplicates != perTx {
		return fmt.Errorf("process: transactions %d − unknown %d − duplicates %d ≠ Σ survey transactions %d", s.Transactions, s.Unknown, s.Duplicates, perTx)
	}
	if s.LiveReconciled != perLive {
		return fmt.Errorf("process: liveReconciled %d ≠ Σ survey liveReconciled %d", s.LiveReconciled, perLive)
	}
	var sum Summary
	valid := true
	for i := range s.SummaryPerSurvey {
		sum.add(&s.SummaryPerSurvey[i])
		valid = valid && s.SummaryPerSurvey[i].ValidCap
	}
	sum.DesiredStatus, sum.IsAPIUser, sum.Transactions, sum.Unknown, sum.Duplicates = s.DesiredStatus, s.IsAPIUser, s.Transactions, s.Unknown, s.Duplicates
	sum.LiveReconciled, sum.RejectPercentage, sum.ValidCap, sum.SummaryPerSurvey = s.LiveReconciled, s.RejectPercentage, s.ValidCap, s.SummaryPerSurvey
	if !equalSummaries(sum, s) {
		return fmt.Errorf("process: counts are not the sums of the surveys' counts")
	}
	if s.ValidCap != valid {
		return fmt.Errorf("process: validCap %v but the surveys' validCap all-true is %v", s.ValidCap, valid)
	}
	if (status == StatusCapReached) == s.ValidCap && (status == StatusCapReached || status == StatusSuccess) {
		return fmt.Errorf("process: status %d with validCap %v", status, s.ValidCap)
	}
	for i := 1; i < len(s.SummaryPerSurvey); i++ {
		if s.SummaryPerSurvey[i-1].SurveyID >= s.SummaryPerSurvey[i].SurveyID {
			return fmt.Errorf("process: summaryPerSurvey not in ascending surveyId order")
		}
	}
	return nil
}

func equalSummaries(a, b Summary) bool {
	a.SummaryPerSurvey, b.SummaryPerSurvey = nil, nil
	return reflect.DeepEqual(a, b)
}

// counts are the fields the invariants relate, for a survey or a process.
type counts struct {
	current, previous, rejecting, accepting, acceptingRejects, resulting, raw, rejects int64
	desired                                                                            TxStatus
	transactions, live, invoiced                                                       int64
	pct                                                                                Percent
	eligible, rejected, test, withDesired, notEligible, unlistedInvoiced               int64
}

func checkCounts(where string, c counts, status Status, mode Mode) error {
	fail := func(format string, args ...any) error { return fmt.Errorf(where+": "+format, args...) }
	for _, v := range []int64{c.current, c.previous, c.rejecting, c.accepting, c.acceptingRejects, c.resulting, c.raw, c.rejects,
		c.transactions, c.live, c.invoiced, c.eligible, c.rejected, c.test, c.withDesired, c.notEligible, c.unlistedInvoiced} {
		if v < 0 {
			return fail("a count is negative")
		}
	}
	if got := c.test + c.invoiced + c.withDesired + c.eligible + c.notEligible; got != c.transactions {
		return fail("test %d + invoiced %d + transactionsWithDesiredStatus %d + eligible %d + notEligible %d = %d ≠ known listed transactions %d",
			c.test, c.invoiced, c.withDesired, c.eligible, c.notEligible, got, c.transactions)
	}
	if c.resulting != c.current-c.rejecting+c.accepting {
		return fail("resultingCompletes %d ≠ currentCompletes %d − rejecting %d + accepting %d", c.resulting, c.current, c.rejecting, c.accepting)
	}
	if c.rejects != c.previous+c.rejecting-c.acceptingRejects {
		return fail("totalRejects %d ≠ previouslyRejected %d + rejecting %d − acceptingRejects %d", c.rejects, c.previous, c.rejecting, c.acceptingRejects)
	}
	if c.raw != c.resulting+c.rejects {
		return fail("totalRawCompletes %d ≠ resultingCompletes %d + totalRejects %d", c.raw, c.resulting, c.rejects)
	}
	if c.acceptingRejects > c.accepting || c.acceptingRejects > c.previous || c.rejecting > c.current {
		return fail("more changes than transactions to change")
	}
	if c.pct != PercentOf(c.rejects, c.raw) {
		return fail("rejectPercentage %s ≠ 100 × %d / %d", c.pct, c.rejects, c.raw)
	}
	if c.rejected != c.rejecting {
		return fail("rejected %d ≠ rejectingCompletesInCurrentUpload %d", c.rejected, c.rejecting)
	}
	switch c.desired {
	case TxReconciliationReject:
		if c.accepting != 0 || c.rejecting != c.eligible || c.unlistedInvoiced != 0 {
			return fail("a rejecting process: accepting %d (want 0), rejecting %d (want eligible %d), unlistedInvoiced %d (want 0)", c.accepting, c.rejecting, c.eligible, c.unlistedInvoiced)
		}
	case TxComplete:
		if c.accepting != c.eligible {
			return fail("an accepting process: accepting %d ≠ eligible %d", c.accepting, c.eligible)
		}
		if mode == ModeLive && (c.rejecting != 0 || c.unlistedInvoiced != 0) {
			return fail("a live accepting process rejects %d and keeps %d unlisted invoiced", c.rejecting, c.unlistedInvoiced)
		}
	default:
		return fail("desiredStatus %d is not 21 or 33", c.desired)
	}
	want := int64(0)
	if status == StatusSuccess {
		want = c.rejecting + c.accepting
	}
	if c.live != want {
		return fail("liveReconciled %d, want %d for status %d", c.live, want, status)
	}
	return nil
}
