package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
)

const adjustmentCols = `seq, id, buyer_id, survey_id, mode, desired_status, is_api, status, items, surveys, summary, failure, created_ms, updated_ms, finished_ms`

func scanAdjustment(s interface{ Scan(...any) error }) (buyer.Adjustment, int64, error) {
	var a buyer.Adjustment
	var seq, created, updated int64
	var finished sql.NullInt64
	var surveys, summary string
	err := s.Scan(&seq, &a.ID, &a.BuyerID, &a.Survey, &a.Mode, &a.Desired, &a.IsAPI, &a.Status, &a.Items, &surveys, &summary, &a.Failure,
		&created, &updated, &finished)
	if err != nil {
		return a, 0, err
	}
	a.CreatedAt, a.UpdatedAt, a.FinishedAt = msTime(created), msTime(updated), msPtr(finished)
	if err := json.Unmarshal([]byte(surveys), &a.Surveys); err != nil {
		return a, 0, fmt.Errorf("adjustment %s surveys: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(summary), &a.Summary); err != nil {
		return a, 0, fmt.Errorf("adjustment %s summary: %w", a.ID, err)
	}
	return a, seq, nil
}

// notFoundAdjustment is the error of a process that does not exist.
func notFoundAdjustment(id buyer.AdjustmentID) error {
	return trueup.Errorf(trueup.ENOTFOUND, "adjustment %s not found; list a survey's processes with `trueup adjustments list --buyer ID --survey S`", id)
}

// CreateAdjustment stores a Pending process, its list and its surveys, and
// enqueues its expiry job, in one transaction. It returns the process with
// its creation time (the store's clock).
func (s *BuyerStore) CreateAdjustment(ctx context.Context, p buyer.CreateAdjustmentParams) (buyer.Adjustment, error) {
	db := s.db
	a := p.Adjustment
	now := db.now()
	a.Status, a.CreatedAt, a.UpdatedAt, a.FinishedAt = buyer.StatusPending, now.Truncate(time.Millisecond), now.Truncate(time.Millisecond), nil
	a.Items = len(p.Items)
	if a.Surveys == nil {
		a.Surveys = []buyer.SurveyID{}
	}
	surveys, err := json.Marshal(a.Surveys)
	if err != nil {
		return a, fmt.Errorf("encode surveys: %w", err)
	}
	summary, err := json.Marshal(a.Summary)
	if err != nil {
		return a, fmt.Errorf("encode summary: %w", err)
	}
	items, err := json.Marshal(p.Items)
	if err != nil {
		return a, fmt.Errorf("encode list: %w", err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO adjustments (id, buyer_id, survey_id, mode, desired_status, is_api, status, items, surveys, summary, created_ms, updated_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`),
			a.ID, a.BuyerID, a.Survey, a.Mode, a.Desired, a.IsAPI, a.Status, a.Items, string(surveys), string(summary), now.UnixMilli(), now.UnixMilli()).Scan(&seq)
		if err != nil {
			if db.dialect.IsUniqueViolation(err) {
				return trueup.Errorf(trueup.ECONFLICT, "adjustment %s already exists; launch again", a.ID)
			}
			return fmt.Errorf("insert adjustment: %w", err)
		}
		if err := db.addAdjustmentSurveys(ctx, tx, seq, a.ID, a.Status, a.Surveys); err != nil {
			return err
		}
		if err := db.touchLists(ctx, tx, []int64{seq}, nil); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO adjustment_lists (adjustment_seq, items) VALUES (?, ?)`), seq, string(items)); err != nil {
			return fmt.Errorf("insert adjustment list: %w", err)
		}
		if p.ExpireKind != "" {
			if _, err := db.EnqueueJob(ctx, tx, p.ExpireKind, p.ExpireArgs, 3, now.Add(p.ExpireAfter)); err != nil {
				return err
			}
		}
		return nil
	})
	return a, err
}

// addAdjustmentSurveys records that the process seq (id, in status) touches
// surveys.
func (db *DB) addAdjustmentSurveys(ctx context.Context, tx *sql.Tx, seq int64, id buyer.AdjustmentID, status buyer.Status, surveys []buyer.SurveyID) error {
	for _, sv := range surveys {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO adjustment_surveys (survey_id, adjustment_seq, adjustment_id, status) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`), sv, seq, id, status); err != nil {
			return fmt.Errorf("insert adjustment survey: %w", err)
		}
	}
	return nil
}

// listStatus copies a process's status to its survey list entries and
// bumps the list version of its surveys.
func (db *DB) listStatus(ctx context.Context, q querier, seq int64, status buyer.Status) error {
	return db.touchLists(ctx, q, []int64{seq}, &status)
}

// touchLists bumps the list version of every survey of the processes seqs
// (on PostgreSQL locking their rows in ascending id order first), then
// stamps their list entries with the new versions and, when status is not
// nil, sets their status.
func (db *DB) touchLists(ctx context.Context, q querier, seqs []int64, status *buyer.Status) error {
	if len(seqs) == 0 {
		return nil
	}
	in := placeholders(len(seqs))
	args := make([]any, 0, len(seqs)+1)
	for _, s := range seqs {
		args = append(args, s)
	}
	surveys := `SELECT survey_id FROM adjustment_surveys WHERE adjustment_seq IN (` + in + `)`
	if !db.dialect.SerializedWriters() {
		// Take the survey rows' locks in ascending order, as every
		// transaction that changes several surveys does.
		rows, err := q.QueryContext(ctx, db.q(`SELECT id FROM surveys WHERE id IN (`+surveys+`) ORDER BY id FOR UPDATE`), args...)
		if err != nil {
			return fmt.Errorf("lock surveys: %w", err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock surveys: %w", err)
		}
	}
	if _, err := q.ExecContext(ctx, db.q(`UPDATE surveys SET list_version = list_version + 1 WHERE id IN (`+surveys+`)`), args...); err != nil {
		return fmt.Errorf("bump survey list versions: %w", err)
	}
	set := ``
	if status != nil {
		set = `status = ?, `
		args = append([]any{*status}, args...)
	}
	if _, err := q.ExecContext(ctx, db.q(`UPDATE adjustment_surveys SET `+set+`row_version = (SELECT list_version FROM surveys WHERE surveys.id = adjustment_surveys.survey_id)
		WHERE adjustment_seq IN (`+in+`)`), args...); err != nil {
		return fmt.Errorf("update adjustment list entries: %w", err)
	}
	return nil
}

// transition moves the process id from status from to status to (setting
// finished_ms when to is final) in tx. A process in another status is an
// ECONFLICT error, a missing one ENOTFOUND.
func (db *DB) transition(ctx context.Context, tx *sql.Tx, id buyer.AdjustmentID, from, to buyer.Status, action string) error {
	now := db.now().UnixMilli()
	finished := sql.NullInt64{Int64: now, Valid: to.Final()}
	var seq int64
	err := tx.QueryRowContext(ctx, db.q(`UPDATE adjustments SET status = ?, updated_ms = ?, finished_ms = COALESCE(?, finished_ms) WHERE id = ? AND status = ? RETURNING seq`),
		to, now, finished, id, from).Scan(&seq)
	if err == nil {
		return db.listStatus(ctx, tx, seq, to)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("update adjustment %s: %w", id, err)
	}
	var cur buyer.Status
	if err := tx.QueryRowContext(ctx, db.q(`SELECT status FROM adjustments WHERE id = ?`), id).Scan(&cur); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return notFoundAdjustment(id)
		}
		return fmt.Errorf("read adjustment %s: %w", id, err)
	}
	return trueup.Errorf(trueup.ECONFLICT, "adjustment %s is %s (%d), not %s; only a %s process can be %s",
		id, cur.Description(), cur, from.Description(), from.Description(), action)
}

// DispatchAdjustment moves a Pending process to Message In Flight and
// enqueues its job, in one transaction.
func (s *BuyerStore) DispatchAdjustment(ctx context.Context, p buyer.DispatchParams) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.transition(ctx, tx, p.ID, buyer.StatusPending, buyer.StatusInFlight, "confirmed"); err != nil {
			return err
		}
		_, err := db.EnqueueJob(ctx, tx, p.JobKind, p.JobArgs, p.MaxAttempts, time.Time{})
		return err
	})
}

// CancelAdjustment moves a Pending process to Declined.
func (s *BuyerStore) CancelAdjustment(ctx context.Context, id buyer.AdjustmentID) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error {
		return s.db.transition(ctx, tx, id, buyer.StatusPending, buyer.StatusDeclined, "cancelled")
	})
}

// StartAdjustment moves a process in Message In Flight to Processing and
// returns it as it then stands.
func (s *BuyerStore) StartAdjustment(ctx context.Context, id buyer.AdjustmentID) (buyer.Adjustment, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		return s.db.transition(ctx, tx, id, buyer.StatusInFlight, buyer.StatusProcessing, "started")
	})
	if err != nil && trueup.ErrorKind(err) != trueup.ECONFLICT {
		return buyer.Adjustment{}, err
	}
	return s.Adjustment(ctx, id)
}

// FailAdjustment moves a process in Message In Flight or Processing to
// Error In Processing with the cause; a process in another status is left
// as it is.
func (s *BuyerStore) FailAdjustment(ctx context.Context, id buyer.AdjustmentID, cause string) error {
	db := s.db
	return db.inTx(ctx, func(tx *sql.Tx) error {
		now := db.now().UnixMilli()
		var seq int64
		err := tx.QueryRowContext(ctx, db.q(`UPDATE adjustments SET status = ?, failure = ?, updated_ms = ?, finished_ms = ? WHERE id = ? AND status IN (?, ?) RETURNING seq`),
			buyer.StatusError, cause, now, now, id, buyer.StatusInFlight, buyer.StatusProcessing).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fail adjustment %s: %w", id, err)
		}
		return db.listStatus(ctx, tx, seq, buyer.StatusError)
	})
}

// ExpireAdjustments moves every process Pending since before now−age to
// Upload Interrupted and returns how many.
func (s *BuyerStore) ExpireAdjustments(ctx context.Context, age time.Duration) (int64, error) {
	db := s.db
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		now := db.now()
		rows, err := tx.QueryContext(ctx, db.q(`UPDATE adjustments SET status = ?, updated_ms = ?, finished_ms = ? WHERE status = ? AND created_ms <= ? RETURNING seq`),
			buyer.StatusInterrupted, now.UnixMilli(), now.UnixMilli(), buyer.StatusPending, now.Add(-age).UnixMilli())
		if err != nil {
			return fmt.Errorf("expire adjustments: %w", err)
		}
		var seqs []int64
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return fmt.Errorf("expire adjustments: %w", err)
			}
			seqs = append(seqs, seq)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("expire adjustments: %w", err)
		}
		st := buyer.StatusInterrupted
		for start := 0; start < len(seqs); start += inChunk {
			if err := db.touchLists(ctx, tx, seqs[start:min(start+inChunk, len(seqs))], &st); err != nil {
				return err
			}
		}
		n = int64(len(seqs))
		return nil
	})
	return n, err
}

// Adjustment returns the process with the given id, or an ENOTFOUND error.
func (s *BuyerStore) Adjustment(ctx context.Context, id buyer.AdjustmentID) (buyer.Adjustment, error) {
	a, _, err := scanAdjustment(s.db.sql.QueryRowContext(ctx, s.db.q(`SELECT `+adjustmentCols+` FROM adjustments WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFoundAdjustment(id)
	}
	if err != nil {
		return a, fmt.Errorf("read adjustment %s: %w", id, err)
	}
	return a, nil
}

// AdjustmentItems returns a process's list in order.
func (s *BuyerStore) AdjustmentItems(ctx context.Context, id buyer.AdjustmentID) ([]buyer.Item, error) {
	return s.db.adjustmentItems(ctx, s.db.sql, id)
}

func (db *DB) adjustmentItems(ctx context.Context, q querier, id buyer.AdjustmentID) ([]buyer.Item, error) {
	var raw string
	err := q.QueryRowContext(ctx, db.q(`SELECT l.items FROM adjustment_lists l JOIN adjustments a ON a.seq = l.adjustment_seq WHERE a.id = ?`), id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFoundAdjustment(id)
	}
	if err != nil {
		return nil, fmt.Errorf("read adjustment list %s: %w", id, err)
	}
	var items []buyer.Item
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		return nil, fmt.Errorf("decode adjustment list %s: %w", id, err)
	}
	return items, nil
}

// SurveyAdjustments returns the processes touching a survey, newest first:
// one range scan of adjustment_surveys, whose rows carry the process's id
// and status.
func (s *BuyerStore) SurveyAdjustments(ctx context.Context, survey buyer.SurveyID) ([]buyer.AdjustmentRef, error) {
	return s.db.listEntries(ctx, `SELECT adjustment_seq, adjustment_id, status FROM adjustment_surveys WHERE survey_id = ? ORDER BY adjustment_seq DESC`, survey)
}

// SurveyAdjustmentsSince returns the entries of a survey's list that
// changed (were added or changed status) after its list version was
// version, newest first.
func (s *BuyerStore) SurveyAdjustmentsSince(ctx context.Context, survey buyer.SurveyID, version int64) ([]buyer.AdjustmentRef, error) {
	return s.db.listEntries(ctx, `SELECT adjustment_seq, adjustment_id, status FROM adjustment_surveys WHERE survey_id = ? AND row_version > ?
		ORDER BY adjustment_seq DESC`, survey, version)
}

func (db *DB) listEntries(ctx context.Context, query string, args ...any) ([]buyer.AdjustmentRef, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list adjustments: %w", err)
	}
	defer rows.Close()
	out := []buyer.AdjustmentRef{}
	for rows.Next() {
		var r buyer.AdjustmentRef
		if err := rows.Scan(&r.Seq, &r.ID, &r.Status); err != nil {
			return nil, fmt.Errorf("scan adjustment: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// BuyerAdjustments returns a buyer's processes, newest first.
func (s *BuyerStore) BuyerAdjustments(ctx context.Context, b buyer.BuyerID) ([]buyer.Adjustment, error) {
	rows, err := s.db.sql.QueryContext(ctx, s.db.q(`SELECT `+adjustmentCols+` FROM adjustments WHERE buyer_id = ? ORDER BY seq DESC`), b)
	if err != nil {
		return nil, fmt.Errorf("list adjustments of buyer %s: %w", b, err)
	}
	defer rows.Close()
	var out []buyer.Adjustment
	for rows.Next() {
		a, _, err := scanAdjustment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan adjustment: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// applyTx is the transaction applying one process. It implements
// buyer.ApplyTx.
type applyTx struct {
	db    *DB
	tx    *sql.Tx
	seq   int64
	adj   buyer.Adjustment
	items []buyer.Item
	cap   *buyer.Percent
	done  bool
}

// BeginAdjustmentApply starts the transaction applying a process in
// Processing. On PostgreSQL it locks the buyer's row, so that applies and
// imports of one buyer run one at a time (SQLite serialises every writer).
func (s *BuyerStore) BeginAdjustmentApply(ctx context.Context, id buyer.AdjustmentID) (buyer.ApplyTx, error) {
	db := s.db
	var owner buyer.BuyerID
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT buyer_id FROM adjustments WHERE id = ?`), id).Scan(&owner); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFoundAdjustment(id)
		}
		return nil, fmt.Errorf("read adjustment %s: %w", id, err)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin apply: %w", err)
	}
	a := &applyTx{db: db, tx: tx}
	fail := func(err error) (buyer.ApplyTx, error) {
		a.Rollback()
		return nil, err
	}
	if err := db.lockBuyer(ctx, tx, owner); err != nil {
		return fail(err)
	}
	a.adj, a.seq, err = scanAdjustment(tx.QueryRowContext(ctx, db.q(`SELECT `+adjustmentCols+` FROM adjustments WHERE id = ?`), id))
	if err != nil {
		return fail(fmt.Errorf("read adjustment %s: %w", id, err))
	}
	if a.adj.Status != buyer.StatusProcessing {
		return fail(trueup.Errorf(trueup.ECONFLICT, "adjustment %s is %s, not Processing", id, a.adj.Status.Description()))
	}
	var cap sql.NullInt64
	if err := tx.QueryRowContext(ctx, db.q(`SELECT reject_cap FROM buyers WHERE id = ?`), owner).Scan(&cap); err != nil {
		return fail(fmt.Errorf("read buyer %s: %w", owner, err))
	}
	a.cap = percentPtr(cap)
	if a.items, err = db.adjustmentItems(ctx, tx, id); err != nil {
		return fail(err)
	}
	return a, nil
}

func (a *applyTx) Adjustment() buyer.Adjustment { return a.adj }
func (a *applyTx) Items() []buyer.Item          { return a.items }
func (a *applyTx) RejectCap() *buyer.Percent    { return a.cap }

func (a *applyTx) TransactionsByID(ctx context.Context, b buyer.BuyerID, ids []string) ([]buyer.Transaction, error) {
	return a.db.transactionsByID(ctx, a.tx, b, ids)
}

func (a *applyTx) SurveyCounts(ctx context.Context, surveys []buyer.SurveyID) (map[buyer.SurveyID]buyer.SurveyCounts, error) {
	return a.db.surveyCounts(ctx, a.tx, surveys)
}

func (a *applyTx) SurveyCompletes(ctx context.Context, survey buyer.SurveyID) ([]buyer.Transaction, error) {
	return a.db.surveyCompletes(ctx, a.tx, survey)
}

// SetStatuses applies changes in batches, one statement per status, reason
// and chunk of ids.
func (a *applyTx) SetStatuses(ctx context.Context, changes []buyer.Change) error {
	type key struct {
		to     buyer.TxStatus
		reason buyer.ChangeReason
	}
	groups := map[key][]string{}
	var order []key
	for _, c := range changes {
		k := key{c.To, c.Reason}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], c.TransactionID)
	}
	now := a.db.now().UnixMilli()
	for _, k := range order {
		ids := groups[k]
		var changed int64
		err := a.db.idChunks(ids, func(cond string, ids []any) error {
			args := append([]any{k.to, k.reason, a.adj.ID, now, a.adj.BuyerID}, ids...)
			res, err := a.tx.ExecContext(ctx, a.db.q(`UPDATE survey_transactions SET status = ?, change_reason = ?, adjustment_id = ?, updated_ms = ?
				WHERE buyer_id = ? AND `+cond), args...)
			if err != nil {
				return fmt.Errorf("update transactions: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("update transactions: %w", err)
			}
			changed += n
			return nil
		})
		if err != nil {
			return err
		}
		if changed != int64(len(ids)) {
			return fmt.Errorf("update transactions: %d of %d rows changed", changed, len(ids))
		}
	}
	return nil
}

// Finish records the outcome, adds surveys found at apply time, completes
// the job and commits.
func (a *applyTx) Finish(ctx context.Context, p buyer.FinishParams) error {
	db := a.db
	if p.Surveys == nil {
		p.Surveys = []buyer.SurveyID{}
	}
	surveys, err := json.Marshal(p.Surveys)
	if err != nil {
		return fmt.Errorf("encode surveys: %w", err)
	}
	summary, err := json.Marshal(p.Summary)
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	now := db.now().UnixMilli()
	res, err := a.tx.ExecContext(ctx, db.q(`UPDATE adjustments SET status = ?, summary = ?, surveys = ?, updated_ms = ?, finished_ms = ? WHERE seq = ? AND status = ?`),
		p.Status, string(summary), string(surveys), now, now, a.seq, buyer.StatusProcessing)
	if err != nil {
		return fmt.Errorf("finish adjustment %s: %w", a.adj.ID, err)
	}
	if err := mustAffect(res, trueup.Errorf(trueup.ECONFLICT, "adjustment %s is no longer Processing", a.adj.ID)); err != nil {
		return err
	}
	if err := db.addAdjustmentSurveys(ctx, a.tx, a.seq, a.adj.ID, p.Status, p.Surveys); err != nil {
		return err
	}
	if err := db.listStatus(ctx, a.tx, a.seq, p.Status); err != nil {
		return err
	}
	if p.Job.ID != 0 {
		if err := db.completeJob(ctx, a.tx, p.Job); err != nil {
			if errors.Is(err, ErrLeaseLost) {
				return fmt.Errorf("%w: %w", buyer.ErrJobLost, err)
			}
			return err
		}
	}
	a.done = true
	if err := a.tx.Commit(); err != nil {
		return fmt.Errorf("commit apply of %s: %w", a.adj.ID, err)
	}
	return nil
}

// Rollback discards the apply; it is safe after Finish.
func (a *applyTx) Rollback() {
	if a.done {
		return
	}
	a.done = true
	a.tx.Rollback()
}
