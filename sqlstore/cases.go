package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
)

var _ cases.Store = (*DB)(nil)

// The case columns applying a batch copies from its discrepancies.
const caseValueCols = `kd_order_id, diff_reason, kd_sale_total, carrier_sale_to_kd, this_month_billing, next_month_billing,
	carrier_active_time, carrier_end_time`

// applyCases makes the succeeded batch no (attempt) the truth of its
// carrier's cycle, in tx, set-based: statements to open the cases it
// shows first and update those whose values changed, one to reopen those
// a batch had fixed, one to resolve as fixed the open cases it no longer
// shows, and their history. The cycle's row is locked first, so that the
// batches of one cycle apply one at a time; a batch
// uploaded before the one applied already only adds, resolved (fixed by
// that one), the cases it alone shows, which is where applying both in
// upload order leaves them. A closed cycle's cases are left as they are.
func (db *DB) applyCases(ctx context.Context, tx *sql.Tx, p batch.FinishBatchParams) error {
	no, attempt := p.No, p.Attempt
	var carrier trueup.CarrierID
	var cycle string
	var created time.Time
	if err := tx.QueryRowContext(ctx, db.q(`SELECT carrier_id, billing_cycle, created_at FROM batches WHERE batch_no = ?`), no).
		Scan(&carrier, &cycle, &created); err != nil {
		return fmt.Errorf("cases of batch %s: %w", no, err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO case_cycles (carrier_id, billing_cycle) VALUES (?, ?) ON CONFLICT (carrier_id, billing_cycle) DO NOTHING`),
		carrier, cycle); err != nil {
		return fmt.Errorf("cases of batch %s: cycle: %w", no, err)
	}
	var applied string
	var appliedAt sql.NullTime
	var closed sql.NullTime
	if err := tx.QueryRowContext(ctx, db.q(`SELECT applied_batch, applied_created_at, closed_at FROM case_cycles
		WHERE carrier_id = ? AND billing_cycle = ? `+db.dialect.ForUpdate()), carrier, cycle).Scan(&applied, &appliedAt, &closed); err != nil {
		return fmt.Errorf("cases of batch %s: lock cycle: %w", no, err)
	}
	if closed.Valid {
		return nil
	}
	now := db.now()
	if applied != "" && appliedAt.Valid && uploadedBefore(created, string(no), appliedAt.Time, applied) {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO cases (carrier_id, billing_cycle, carrier_order_id, diff_type, `+caseValueCols+`,
			state, resolution, resolved_by, opened_batch, seen_batch, fixed_by, opened_at, updated_at, resolved_at)
			SELECT ?, ?, carrier_order_id, diff_type, `+caseValueCols+`, ?, ?, ?, ?, ?, ?, ?, ?, ?
			FROM discrepancies WHERE batch_no = ? AND attempt = ?
			ON CONFLICT (carrier_id, billing_cycle, carrier_order_id, diff_type) DO NOTHING`),
			carrier, cycle, cases.StateResolved, cases.Fixed, trueup.ActorSystem, no, no, applied, now, now, now, no, attempt)
		if err != nil {
			return fmt.Errorf("cases of batch %s (older than %s): %w", no, applied, err)
		}
		return nil
	}
	// The first batch applied to a cycle (no case yet) only opens cases:
	// one insert, in key order so that the unique index of cases takes
	// them in order. A later batch, in this order: reopens the cases a
	// batch had fixed that it shows (before resolving adds to them);
	// resolves as fixed the open cases it does not show, found against
	// its discrepancies by order and kind (index discrepancies_case on
	// SQLite, a hash anti-join on PostgreSQL), before its new cases are in
	// (it shows them all); gives its values to the cases it shows whose
	// values changed (a case shown unchanged is only read, never written
	// nor locked) and opens the cases it shows first: on SQLite one upsert
	// reading the discrepancies in key order; where an upsert would lock
	// every case it meets (PostgreSQL), an UPDATE of the cases whose
	// values differ and a plain insert of the discrepancies with no case
	// (the cycle's lock above keeps other batches from adding one
	// meanwhile; the unique key still guards). Reopening and resolving
	// write their history lines from the ids they changed: on PostgreSQL
	// in the same statement (a writable CTE), on SQLite from the ids the
	// UPDATE returns. Each step leaves its mark (change, change_batch) for
	// CaseChanges.
	start := time.Now()
	defer func() {
		// How long the cases took inside the transaction (without its
		// commit), for BenchmarkCaseUpdate and the curious.
		slog.Debug("cases applied", "batch_no", no, "carrier_id", carrier, "cycle", cycle, "seconds", time.Since(start).Seconds())
	}()
	var fresh bool
	if err := tx.QueryRowContext(ctx, db.q(`SELECT NOT EXISTS (SELECT 1 FROM cases WHERE carrier_id = ? AND billing_cycle = ?)`), carrier, cycle).Scan(&fresh); err != nil {
		return fmt.Errorf("cases of batch %s: %w", no, err)
	}
	differs := `cases.kd_order_id <> excluded.kd_order_id OR cases.diff_reason <> excluded.diff_reason
		OR cases.kd_sale_total <> excluded.kd_sale_total OR cases.carrier_sale_to_kd <> excluded.carrier_sale_to_kd
		OR cases.this_month_billing <> excluded.this_month_billing OR cases.next_month_billing <> excluded.next_month_billing
		OR cases.carrier_active_time <> excluded.carrier_active_time OR cases.carrier_end_time <> excluded.carrier_end_time`
	shown := `EXISTS (SELECT 1 FROM discrepancies d WHERE d.batch_no = ? AND d.attempt = ?
		AND d.carrier_order_id = cases.carrier_order_id AND d.diff_type = cases.diff_type)`
	open := caseStep{"open", `INSERT INTO cases (carrier_id, billing_cycle, carrier_order_id, diff_type, ` + caseValueCols + `,
			state, opened_batch, seen_batch, opened_at, updated_at, change, change_batch)
			SELECT ?, ?, carrier_order_id, diff_type, ` + caseValueCols + `, ?, ?, ?, ?, ?, ?, ?
			FROM discrepancies WHERE batch_no = ? AND attempt = ?%s ORDER BY carrier_order_id, diff_type%s`,
		[]any{carrier, cycle, cases.StateOpen, no, no, now, now, cases.ChangeOpened, no, no, attempt}, ""}
	if fresh {
		open.query = fmt.Sprintf(open.query, "", "")
		if err := db.caseStep(ctx, tx, no, now, open); err != nil {
			return err
		}
	} else {
		if err := db.dialect.PreferHashJoins(ctx, tx); err != nil {
			return fmt.Errorf("cases of batch %s: %w", no, err)
		}
		resolve := caseStep{"resolve", `UPDATE cases SET state = ?, resolution = ?, fixed_by = ?, resolved_by = ?, resolved_at = ?, updated_at = ?, change = ?, change_batch = ?
			WHERE carrier_id = ? AND billing_cycle = ? AND state = ? AND NOT ` + shown,
			[]any{cases.StateResolved, cases.Fixed, no, trueup.ActorSystem, now, now, cases.ChangeResolved, no, carrier, cycle, cases.StateOpen, no, attempt}, cases.Fixed}
		reopen := caseStep{"reopen", `UPDATE cases SET state = ?, resolution = '', fixed_by = '', resolved_by = '', resolved_at = NULL, seen_batch = ?, updated_at = ?,
			change = ?, change_batch = ?
			WHERE carrier_id = ? AND billing_cycle = ? AND state = ? AND resolution = ? AND ` + shown,
			[]any{cases.StateOpen, no, now, cases.ChangeReopened, no, carrier, cycle, cases.StateResolved, cases.Fixed, no, attempt}, cases.ChangeReopened}
		update := caseStep{"update", `UPDATE cases SET kd_order_id = d.kd_order_id, diff_reason = d.diff_reason, kd_sale_total = d.kd_sale_total,
				carrier_sale_to_kd = d.carrier_sale_to_kd, this_month_billing = d.this_month_billing,
				next_month_billing = d.next_month_billing, carrier_active_time = d.carrier_active_time,
				carrier_end_time = d.carrier_end_time, seen_batch = ?, updated_at = ?
			FROM discrepancies d
			WHERE d.batch_no = ? AND d.attempt = ? AND cases.carrier_id = ? AND cases.billing_cycle = ?
				AND cases.carrier_order_id = d.carrier_order_id AND cases.diff_type = d.diff_type AND (` + strings.ReplaceAll(differs, "excluded.", "d.") + `)`,
			[]any{no, now, no, attempt, carrier, cycle}, ""}
		steps := []caseStep{reopen, resolve}
		if db.dialect.UpsertLocksRows() {
			open.query = fmt.Sprintf(open.query, ` AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.carrier_id = ? AND c.billing_cycle = ?
				AND c.carrier_order_id = discrepancies.carrier_order_id AND c.diff_type = discrepancies.diff_type)`, "")
			open.args = append(open.args, carrier, cycle)
			steps = append(steps, update, open)
		} else {
			// One pass over the discrepancies: open, or update what differs.
			open.what, open.query = "open and update", fmt.Sprintf(open.query, "", `
			ON CONFLICT (carrier_id, billing_cycle, carrier_order_id, diff_type) DO UPDATE SET
				kd_order_id = excluded.kd_order_id, diff_reason = excluded.diff_reason, kd_sale_total = excluded.kd_sale_total,
				carrier_sale_to_kd = excluded.carrier_sale_to_kd, this_month_billing = excluded.this_month_billing,
				next_month_billing = excluded.next_month_billing, carrier_active_time = excluded.carrier_active_time,
				carrier_end_time = excluded.carrier_end_time, seen_batch = excluded.seen_batch, updated_at = excluded.updated_at
			WHERE `+differs)
			steps = append(steps, open)
		}
		for _, st := range steps {
			if err := db.caseStep(ctx, tx, no, now, st); err != nil {
				return err
			}
		}
	}
	_, err := tx.ExecContext(ctx, db.q(`UPDATE case_cycles SET applied_batch = ?, applied_created_at = ?, applied_count = applied_count + 1, applied_missing = ?
		WHERE carrier_id = ? AND billing_cycle = ?`), no, created.UTC(), p.Counts[trueup.DiffMissingOnCarrier], carrier, cycle)
	if err != nil {
		return fmt.Errorf("cases of batch %s: cycle: %w", no, err)
	}
	return nil
}

// caseStep is a statement of applyCases; with a history action, an
// UPDATE of cases each of whose changed cases gets a history line with it.
type caseStep struct {
	what    string
	query   string
	args    []any
	history string
}

// caseStep runs st in tx for the batch no at now, with its history lines.
func (db *DB) caseStep(ctx context.Context, tx *sql.Tx, no trueup.BatchNo, now time.Time, st caseStep) error {
	if st.history == "" {
		if _, err := tx.ExecContext(ctx, db.q(st.query), st.args...); err != nil {
			return fmt.Errorf("cases of batch %s: %s: %w", no, st.what, err)
		}
		return nil
	}
	if db.dialect.WritableCTE() {
		_, err := tx.ExecContext(ctx, db.q(`WITH changed AS (`+st.query+` RETURNING id)
			INSERT INTO case_history (case_id, at, actor, action, batch_no) SELECT id, ?, ?, ?, ? FROM changed`),
			append(st.args, now, trueup.ActorSystem, st.history, no)...)
		if err != nil {
			return fmt.Errorf("cases of batch %s: %s: %w", no, st.what, err)
		}
		return nil
	}
	// The ids the UPDATE returns, as a JSON array for json_each: one
	// INSERT of the history lines, in id order.
	rows, err := tx.QueryContext(ctx, db.q(st.query+` RETURNING id`), st.args...)
	if err != nil {
		return fmt.Errorf("cases of batch %s: %s: %w", no, st.what, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("cases of batch %s: %s: %w", no, st.what, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cases of batch %s: %s: %w", no, st.what, err)
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	list := make([]byte, 0, 8*len(ids)+2)
	list = append(list, '[')
	for i, id := range ids {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, id, 10)
	}
	list = append(list, ']')
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO case_history (case_id, at, actor, action, batch_no)
		SELECT value, ?, ?, ?, ? FROM json_each(?) ORDER BY key`), now, trueup.ActorSystem, st.history, no, string(list)); err != nil {
		return fmt.Errorf("cases of batch %s: history of %s: %w", no, st.what, err)
	}
	return nil
}

// uploadedBefore reports whether the batch (at, no) was uploaded before
// the batch (at2, no2): by creation time, then number.
func uploadedBefore(at time.Time, no string, at2 time.Time, no2 string) bool {
	if c := at.Compare(at2); c != 0 {
		return c < 0
	}
	return no < no2
}

// CycleClosed reports whether a carrier's billing cycle is closed.
func (db *DB) CycleClosed(ctx context.Context, carrier trueup.CarrierID, cycle string) (bool, error) {
	var closed sql.NullTime
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT closed_at FROM case_cycles WHERE carrier_id = ? AND billing_cycle = ?`), carrier, cycle).Scan(&closed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cycle state: %w", err)
	}
	return closed.Valid, nil
}

const caseCols = `id, carrier_id, billing_cycle, carrier_order_id, diff_type, ` + caseValueCols + `, state, resolution, note, assignee,
	opened_batch, seen_batch, fixed_by, resolved_by, opened_at, updated_at, resolved_at`

func scanCase(s interface{ Scan(...any) error }) (cases.Case, error) {
	var c cases.Case
	var id int64
	var typ int
	var res string
	var resolved sql.NullTime
	err := s.Scan(&id, &c.CarrierID, &c.Cycle, &c.CarrierOrderID, &typ, &c.KdOrderID, &c.DiffReason, &c.KdSaleTotal, &c.CarrierSaleToKd,
		&c.ThisMonthBilling, &c.NextMonthBilling, &c.CarrierActiveTime, &c.CarrierEndTime, &c.State, &res, &c.Note, &c.Assignee,
		&c.OpenedBatch, &c.SeenBatch, &c.FixedBy, &c.ResolvedBy, &c.OpenedAt, &c.UpdatedAt, &resolved)
	if err != nil {
		return c, err
	}
	c.ID = cases.ID(strconv.FormatInt(id, 10))
	c.DiffType = trueup.DiffType(typ)
	if res != "" {
		c.Resolution = &res
	}
	c.OpenedAt, c.UpdatedAt = c.OpenedAt.UTC(), c.UpdatedAt.UTC()
	c.ResolvedAt = timePtr(resolved)
	return c, nil
}

func caseNumber(id cases.ID) int64 {
	n, _ := strconv.ParseInt(string(id), 10, 64)
	return n
}

// Cases returns the cases p selects, by id, after p.After, at most
// p.Limit.
func (db *DB) Cases(ctx context.Context, p cases.ListParams) ([]cases.Case, error) {
	query := `SELECT ` + caseCols + ` FROM cases WHERE carrier_id = ? AND id > ?`
	args := []any{p.CarrierID, p.After}
	if p.Cycle != "" {
		query += ` AND billing_cycle = ?`
		args = append(args, p.Cycle)
	}
	if p.State != "" {
		query += ` AND state = ?`
		args = append(args, p.State)
	}
	if p.DiffType != 0 {
		query += ` AND diff_type = ?`
		args = append(args, int(p.DiffType))
	}
	if p.Assignee != "" {
		query += ` AND assignee = ?`
		args = append(args, p.Assignee)
	}
	if !p.OpenedBefore.IsZero() {
		query += ` AND opened_at < ?`
		args = append(args, p.OpenedBefore.UTC())
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, p.Limit)
	out := []cases.Case{}
	err := db.eachCase(ctx, query, args, func(c cases.Case) error { out = append(out, c); return nil })
	return out, err
}

func (db *DB) eachCase(ctx context.Context, query string, args []any, fn func(cases.Case) error) error {
	rows, err := db.sql.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return fmt.Errorf("query cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return fmt.Errorf("scan case: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read cases: %w", err)
	}
	return nil
}

// EachCycleCase calls fn for every case of a carrier's cycle, by id.
func (db *DB) EachCycleCase(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(cases.Case) error) error {
	return db.eachCase(ctx, `SELECT `+caseCols+` FROM cases WHERE carrier_id = ? AND billing_cycle = ? ORDER BY id`, []any{carrier, cycle}, fn)
}

// Case returns a case, or an ENOTFOUND error.
func (db *DB) Case(ctx context.Context, id cases.ID) (cases.Case, error) {
	c, err := scanCase(db.sql.QueryRowContext(ctx, db.q(`SELECT `+caseCols+` FROM cases WHERE id = ?`), caseNumber(id)))
	if err != nil {
		return c, notFound(err, "case %s not found; list a cycle's cases with trueup cases list", id)
	}
	return c, nil
}

// CaseHistory returns a case's history after it opened, oldest first.
func (db *DB) CaseHistory(ctx context.Context, id cases.ID) ([]cases.Entry, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT at, actor, action, note, batch_no, detail FROM case_history WHERE case_id = ? ORDER BY id`), caseNumber(id))
	if err != nil {
		return nil, fmt.Errorf("query case history: %w", err)
	}
	defer rows.Close()
	out := []cases.Entry{}
	for rows.Next() {
		var e cases.Entry
		if err := rows.Scan(&e.At, &e.Actor, &e.Action, &e.Note, &e.BatchNo, &e.Detail); err != nil {
			return nil, fmt.Errorf("scan case history: %w", err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// ActOnCase applies an action and records it in the history, in one
// transaction. An action other than a comment holds the case's cycle row
// first (on PostgreSQL; SQLite's write transaction holds the database) and
// is refused when the cycle is closed: a close committing between the
// service's check and this transaction is seen here, and a close that
// waits for this one counts the change in its summary. The cycle row is
// taken before the case row, in the order a batch's case update and a
// close take them.
func (db *DB) ActOnCase(ctx context.Context, p cases.ActParams) (cases.Case, error) {
	var out cases.Case
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		n := caseNumber(p.ID)
		if p.Action != cases.Comment {
			var carrier trueup.CarrierID
			var cycle string
			if err := tx.QueryRowContext(ctx, db.q(`SELECT carrier_id, billing_cycle FROM cases WHERE id = ?`), n).Scan(&carrier, &cycle); err != nil {
				return notFound(err, "case %s not found; list a cycle's cases with trueup cases list", p.ID)
			}
			var closed sql.NullTime
			err := tx.QueryRowContext(ctx, db.q(`SELECT closed_at FROM case_cycles WHERE carrier_id = ? AND billing_cycle = ? `+db.dialect.ForUpdate()),
				carrier, cycle).Scan(&closed)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("case %s cycle: %w", p.ID, err)
			}
			if closed.Valid {
				return cases.ClosedCycleError(carrier, cycle)
			}
		}
		c, err := scanCase(tx.QueryRowContext(ctx, db.q(`SELECT `+caseCols+` FROM cases WHERE id = ? `+db.dialect.ForUpdate()), n))
		if err != nil {
			return notFound(err, "case %s not found; list a cycle's cases with trueup cases list", p.ID)
		}
		switch {
		case p.Action.Resolves():
			if c.State != cases.StateOpen {
				return trueup.Errorf(trueup.ECONFLICT, "case %s is resolved already (%s, by %s); only an open case takes %s. Add a comment to record more",
					p.ID, *c.Resolution, c.ResolvedBy, p.Action)
			}
			_, err = tx.ExecContext(ctx, db.q(`UPDATE cases SET state = ?, resolution = ?, note = ?, resolved_by = ?, resolved_at = ?, updated_at = ?
				WHERE id = ?`), cases.StateResolved, string(p.Action), p.Note, p.Actor, p.Now, p.Now, n)
		case p.Action == cases.Assign:
			q := `UPDATE cases SET assignee = ?, updated_at = ? WHERE id = ?`
			args := []any{p.Assignee, p.Now, n}
			if p.Note != "" {
				q = `UPDATE cases SET assignee = ?, note = ?, updated_at = ? WHERE id = ?`
				args = []any{p.Assignee, p.Note, p.Now, n}
			}
			_, err = tx.ExecContext(ctx, db.q(q), args...)
		default:
			_, err = tx.ExecContext(ctx, db.q(`UPDATE cases SET note = ?, updated_at = ? WHERE id = ?`), p.Note, p.Now, n)
		}
		if err != nil {
			return fmt.Errorf("case %s %s: %w", p.ID, p.Action, err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO case_history (case_id, at, actor, action, note, detail) VALUES (?, ?, ?, ?, ?, ?)`),
			n, p.Now, p.Actor, string(p.Action), p.Note, p.Assignee); err != nil {
			return fmt.Errorf("case %s history: %w", p.ID, err)
		}
		out, err = scanCase(tx.QueryRowContext(ctx, db.q(`SELECT `+caseCols+` FROM cases WHERE id = ?`), n))
		if err != nil {
			return fmt.Errorf("case %s: %w", p.ID, err)
		}
		return nil
	})
	return out, err
}

// CaseChanges calls fn for each case the batch no changed when applied.
func (db *DB) CaseChanges(ctx context.Context, no trueup.BatchNo, fn func(trueup.CarrierID, cases.Change) error) error {
	var carrier trueup.CarrierID
	var cycle string
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT carrier_id, billing_cycle FROM batches WHERE batch_no = ?`), no).Scan(&carrier, &cycle); err != nil {
		return notFound(err, "batch %s not found", no)
	}
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT id, carrier_order_id, diff_type, change FROM cases
		WHERE carrier_id = ? AND billing_cycle = ? AND change_batch = ? AND change <> '' ORDER BY id`), carrier, cycle, no)
	if err != nil {
		return fmt.Errorf("query case changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c cases.Change
		var id int64
		var typ int
		if err := rows.Scan(&id, &c.CarrierOrderID, &typ, &c.Change); err != nil {
			return fmt.Errorf("scan case change: %w", err)
		}
		c.ID, c.DiffType = cases.ID(strconv.FormatInt(id, 10)), trueup.DiffType(typ)
		if err := fn(carrier, c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CycleState returns what is kept of a cycle.
func (db *DB) CycleState(ctx context.Context, carrier trueup.CarrierID, cycle string) (cases.CycleState, error) {
	var st cases.CycleState
	var closed sql.NullTime
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT applied_batch, applied_count, applied_missing, closed_at, closed_by, closed_summary FROM case_cycles
		WHERE carrier_id = ? AND billing_cycle = ?`), carrier, cycle).Scan(&st.AppliedBatch, &st.AppliedCount, &st.AppliedMissing, &closed, &st.ClosedBy, &st.ClosedSummary)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("cycle state: %w", err)
	}
	st.ClosedAt = timePtr(closed)
	return st, nil
}

// CloseCycle closes a cycle; ECONFLICT when it is closed already. Its
// transaction locks the cycle's row first, as applyCases does (FOR UPDATE
// on PostgreSQL; SQLite's immediate transaction holds the write lock), so
// that no batch is applied to the cycle between p.Summarize computing the
// figure (reading through other connections what is committed) and the
// close: a batch finishing meanwhile waits, then finds the cycle closed and
// leaves its cases as they are.
func (db *DB) CloseCycle(ctx context.Context, p cases.CloseParams) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO case_cycles (carrier_id, billing_cycle) VALUES (?, ?) ON CONFLICT (carrier_id, billing_cycle) DO NOTHING`),
			p.CarrierID, p.Cycle); err != nil {
			return fmt.Errorf("close cycle: %w", err)
		}
		var closed sql.NullTime
		var by string
		if err := tx.QueryRowContext(ctx, db.q(`SELECT closed_at, closed_by FROM case_cycles WHERE carrier_id = ? AND billing_cycle = ? `+db.dialect.ForUpdate()),
			p.CarrierID, p.Cycle).Scan(&closed, &by); err != nil {
			return fmt.Errorf("close cycle: lock: %w", err)
		}
		if closed.Valid {
			return trueup.Errorf(trueup.ECONFLICT, "cycle %s of carrier %s is closed already (since %s by %s); reopen it first to close it again",
				p.Cycle, p.CarrierID, trueup.FormatTime(closed.Time.UTC()), by)
		}
		summary := p.Summary
		if p.Summarize != nil {
			var err error
			if summary, err = p.Summarize(ctx); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE case_cycles SET closed_at = ?, closed_by = ?, closed_summary = ?
			WHERE carrier_id = ? AND billing_cycle = ? AND closed_at IS NULL`), p.Now, p.Actor, summary, p.CarrierID, p.Cycle)
		if err != nil {
			return fmt.Errorf("close cycle: %w", err)
		}
		return mustAffect(res, trueup.Errorf(trueup.ECONFLICT, "cycle %s of carrier %s is closed already; reopen it first to close it again", p.Cycle, p.CarrierID))
	})
}

// ReopenCycle reopens a closed cycle; ECONFLICT when it is open.
func (db *DB) ReopenCycle(ctx context.Context, carrier trueup.CarrierID, cycle string) error {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE case_cycles SET closed_at = NULL, closed_by = '', closed_summary = ''
		WHERE carrier_id = ? AND billing_cycle = ? AND closed_at IS NOT NULL`), carrier, cycle)
	if err != nil {
		return fmt.Errorf("reopen cycle: %w", err)
	}
	return mustAffect(res, trueup.Errorf(trueup.ECONFLICT, "cycle %s of carrier %s is not closed; nothing to reopen", cycle, carrier))
}

// CaseSLA returns a carrier's SLA in days, cases.DefaultSLADays when none
// is set.
func (db *DB) CaseSLA(ctx context.Context, carrier trueup.CarrierID) (int, error) {
	var days int
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT sla_days FROM case_settings WHERE carrier_id = ?`), carrier).Scan(&days)
	if errors.Is(err, sql.ErrNoRows) {
		return cases.DefaultSLADays, nil
	}
	if err != nil {
		return 0, fmt.Errorf("case SLA: %w", err)
	}
	return days, nil
}

// SetCaseSLA sets a carrier's SLA in days.
func (db *DB) SetCaseSLA(ctx context.Context, carrier trueup.CarrierID, days int) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO case_settings (carrier_id, sla_days) VALUES (?, ?)
		ON CONFLICT (carrier_id) DO UPDATE SET sla_days = excluded.sla_days`), carrier, days)
	if err != nil {
		return fmt.Errorf("set case SLA: %w", err)
	}
	return nil
}
