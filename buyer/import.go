package buyer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
	"github.com/trueup/trueup/tabular"
)

// TransactionColumns are the columns of a buyer's transaction file.
var TransactionColumns = []Column{
	{Name: "transaction_id", Required: true, Meaning: "The transaction's id, unique among the buyer's transactions (1 to 128 characters)."},
	{Name: "survey_id", Required: true, Meaning: "The survey's id, a positive integer. A survey is created, owned by the buyer, the first time a file names it."},
	{Name: "status", Required: true, Meaning: "The status code, an integer from 1 to 999: 21 Complete, 33 Buyer Reconciliation Reject, 16-20, 30, 31 the buyer side's other outcomes; unknown codes are kept, named Unknown."},
	{Name: "test", Meaning: "true when the transaction was made while testing the survey (true/false, 1/0, yes/no; false when empty)."},
	{Name: "invoiced", Meaning: "true when the transaction is already invoiced (as test)."},
	{Name: "started_at", Meaning: "When the respondent entered the survey, ISO 8601 (UTC when no zone is written) or an Excel date cell."},
	{Name: "finished_at", Meaning: "When the respondent left the survey, as started_at; not before it."},
	{Name: "survey_status", Meaning: "The survey's status: 11 draft, 22 live (the default for a new survey), 33 paused, 44 closed."},
}

// MaxReportedErrors is how many row errors a refused file reports at most.
const MaxReportedErrors = tabular.MaxReportedErrors

// ImportError is a refused file: every row error found (up to
// MaxReportedErrors) and how many there were in all. Nothing was stored.
type ImportError = tabular.RowErrors

// ImportParams are the inputs of Import.
type ImportParams struct {
	Buyer  BuyerID
	Source Source
	// Progress, when set, is called now and then with the fraction read
	// and the rows read.
	Progress func(fraction float64, rows int64)
}

// Import reads every record of the source and upserts the buyer's
// transactions by transaction_id in one transaction, creating surveys on
// first sight. When any row is bad (a malformed value, an id repeated in
// the file, a survey of another buyer, a transaction moving to another
// survey) it stores nothing and returns an *ImportError listing the rows.
// A file without rows is an EINVALID error.
func (s *Service) Import(ctx context.Context, p ImportParams) (int64, error) {
	imp, err := s.Store.BeginTransactionImport(ctx, p.Buyer)
	if err != nil {
		return 0, err
	}
	defer imp.Rollback()
	bad := &ImportError{}
	seen := map[string]int64{}
	var rows int64
	for {
		n, get, err := p.Source.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read transactions: %w", err)
		}
		rows++
		if p.Progress != nil && rows%10000 == 0 {
			p.Progress(p.Source.Progress(), rows)
		}
		t, surveyStatus, errs := parseTransaction(n, get)
		if len(errs) == 0 {
			if first, dup := seen[t.ID]; dup {
				errs = append(errs, trueup.RowError{Row: n, Column: "transaction_id", Value: t.ID,
					Reason: fmt.Sprintf("transaction %s already appears in row %d; list each transaction once", t.ID, first)})
			} else {
				seen[t.ID] = n
			}
		}
		if len(errs) > 0 {
			bad.Add(errs...)
			continue
		}
		t.BuyerID = p.Buyer
		// Rows after a bad one are still written (the transaction is rolled
		// back) so that conflicts with stored data are found in every row.
		if err := imp.Add(ctx, t, surveyStatus); err != nil {
			var c *ImportConflict
			if !errors.As(err, &c) {
				return 0, err
			}
			bad.Add(trueup.RowError{Row: n, Column: c.Column, Value: rowValue(t, c.Column), Reason: c.Reason})
		}
	}
	if p.Progress != nil {
		p.Progress(1, rows)
	}
	conflicts, err := imp.Conflicts(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range conflicts {
		bad.Add(trueup.RowError{Row: seen[c.TransactionID], Column: c.Column, Value: c.TransactionID, Reason: c.Reason})
	}
	if bad.Total > 0 {
		slices.SortStableFunc(bad.Rows, func(a, b trueup.RowError) int { return cmp.Compare(a.Row, b.Row) })
		return 0, bad
	}
	if rows == 0 {
		return 0, trueup.Errorf(trueup.EINVALID, "the file has no transaction rows; add one row per transaction below the header")
	}
	return imp.Commit()
}

// ImportConflict is the error TransactionImport.Add returns for a row that
// conflicts with stored data: its survey is another buyer's (Column
// survey_id) or its transaction is already in another survey (Column
// transaction_id).
type ImportConflict struct {
	Column        string
	TransactionID string
	Reason        string
}

// Error returns the reason.
func (e *ImportConflict) Error() string { return e.Reason }

func rowValue(t Transaction, col string) string {
	if col == "transaction_id" {
		return t.ID
	}
	return strconv.FormatInt(int64(t.SurveyID), 10)
}

// parseTransaction reads one record.
func parseTransaction(n int64, get func(string) string) (Transaction, SurveyStatus, []trueup.RowError) {
	var errs []trueup.RowError
	bad := func(col, v, reason string) {
		errs = append(errs, trueup.RowError{Row: n, Column: col, Value: v, Reason: reason})
	}
	var t Transaction
	t.ID = strings.TrimSpace(get("transaction_id"))
	switch {
	case t.ID == "":
		bad("transaction_id", "", "required value is empty; give the transaction's id")
	case len(t.ID) > MaxTransactionIDLen:
		bad("transaction_id", t.ID[:32]+"...", fmt.Sprintf("value is longer than %d characters", MaxTransactionIDLen))
	}
	if v := strings.TrimSpace(get("survey_id")); v == "" {
		bad("survey_id", "", "required value is empty; give the survey's numeric id")
	} else if id, err := ParseSurveyID(integerText(v)); err != nil {
		bad("survey_id", v, "not a positive integer; write the survey's numeric id, for example 1108416")
	} else {
		t.SurveyID = id
	}
	if v := strings.TrimSpace(get("status")); v == "" {
		bad("status", "", "required value is empty; write the status code, for example 21 (Complete)")
	} else if st, err := strconv.Atoi(integerText(v)); err != nil || st < 1 || st > 999 {
		bad("status", v, "not a status code; write an integer from 1 to 999, for example 21 (Complete) or 33 (Buyer Reconciliation Reject)")
	} else {
		t.Status = TxStatus(st)
	}
	flag := func(col string) bool {
		v := strings.TrimSpace(get(col))
		switch strings.ToLower(v) {
		case "", "false", "0", "no", "n":
			return false
		case "true", "1", "yes", "y":
			return true
		}
		bad(col, v, "not a boolean; write true or false (1 or 0, yes or no)")
		return false
	}
	t.Test, t.Invoiced = flag("test"), flag("invoiced")
	when := func(col string) *time.Time {
		v := strings.TrimSpace(get(col))
		if v == "" {
			return nil
		}
		tm, err := reconcile.ParseTime(v, time.UTC)
		if err != nil {
			bad(col, v, err.Error())
			return nil
		}
		return &tm
	}
	t.StartedAt, t.FinishedAt = when("started_at"), when("finished_at")
	if t.StartedAt != nil && t.FinishedAt != nil && t.FinishedAt.Before(*t.StartedAt) {
		bad("finished_at", trueup.FormatTime(*t.FinishedAt), fmt.Sprintf("is before started_at %s; check both times", trueup.FormatTime(*t.StartedAt)))
	}
	var ss SurveyStatus
	if v := strings.TrimSpace(get("survey_status")); v != "" {
		st, err := strconv.Atoi(integerText(v))
		if ss = SurveyStatus(st); err != nil || !ss.Valid() {
			bad("survey_status", v, "not a survey status; write 11 (draft), 22 (live), 33 (paused) or 44 (closed)")
			ss = 0
		}
	}
	return t, ss, errs
}

// integerText drops a fraction of zeros (1108416.0, as some spreadsheets
// write whole numbers) so that the text parses as an integer.
func integerText(v string) string {
	if whole, frac, ok := strings.Cut(v, "."); ok && frac != "" && strings.Trim(frac, "0") == "" {
		return whole
	}
	return v
}

// ItemColumns are the columns of an operator's list file.
var ItemColumns = []Column{
	{Name: "transaction_id", Required: true, Meaning: "The transaction's id."},
	{Name: "change_reason", Meaning: "Suspected Fraud, Respondent Quality, Ghost Completes, Client Rejected or Duplicate Respondent; anything else is recorded as Respondent Quality."},
}

// ReadItems reads a process's list from src (ItemColumns). A row with an
// empty or over-long transaction id is a row error: it returns an
// *ImportError listing every bad row and no items.
func ReadItems(src Source) ([]Item, error) {
	bad := &ImportError{}
	var items []Item
	for {
		n, get, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read list: %w", err)
		}
		id := strings.TrimSpace(get("transaction_id"))
		switch {
		case id == "":
			bad.Add(trueup.RowError{Row: n, Column: "transaction_id", Reason: "required value is empty; give the transaction's id"})
		case len(id) > MaxTransactionIDLen:
			bad.Add(trueup.RowError{Row: n, Column: "transaction_id", Value: id[:32] + "...", Reason: fmt.Sprintf("value is longer than %d characters", MaxTransactionIDLen)})
		default:
			items = append(items, Item{TransactionID: id, Reason: ChangeReason(strings.TrimSpace(get("change_reason")))})
		}
		if len(items) > MaxItems {
			return nil, trueup.Errorf(trueup.ETOOLARGE, "the list has more than %d entries; split it", MaxItems)
		}
	}
	if bad.Total > 0 {
		return nil, bad
	}
	return items, nil
}
