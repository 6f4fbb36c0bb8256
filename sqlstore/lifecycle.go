package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
)

// LifecycleStore applies package notices. A server keeps one. On SQLite it
// prepares its statements once (the driver would parse them again on every
// call) and lets one notice at a time begin its transaction: the others
// wait their turn in a queue rather than in SQLite's busy handler, which
// sleeps 1 to 100 ms between tries and so made the slowest notices of a
// busy server wait tens of milliseconds. On PostgreSQL it sends the
// statements as text, which pgx keeps prepared on each connection, and
// notices of different users run at once. It is safe for concurrent use.
type LifecycleStore struct {
	db *DB
	q  noticeQueries
	// turn holds a token while a notice's transaction runs; nil on
	// PostgreSQL.
	turn chan struct{}

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // SQLite: the prepared statements by query; nil until first used
}

var _ lifecycle.Store = (*LifecycleStore)(nil)

// noticeQueries are the statements of a notice's transaction.
type noticeQueries struct {
	lockUser, readPackage string
	// record writes the event, the package's state and the user's status
	// in one round trip (PostgreSQL); insertEvent, upsertState and
	// setStatus do it in three statements (SQLite, which has no
	// data-modifying WITH).
	record                              string
	insertEvent, upsertState, setStatus string
}

// LifecycleStore returns a LifecycleStore over db (lifecycle.Store). Each
// call makes a new one; Close releases its statements.
func (db *DB) LifecycleStore() *LifecycleStore {
	n := &LifecycleStore{db: db}
	lock := ""
	if !db.dialect.SerializedWriters() {
		lock = " FOR UPDATE"
	} else {
		n.turn = make(chan struct{}, 1)
	}
	n.q.lockUser = db.q(`SELECT status FROM carrier_users WHERE carrier_id = ? AND carrier_user_id = ?` + lock)
	n.q.readPackage = db.q(`SELECT
		COALESCE((SELECT state FROM package_states WHERE carrier_id = ? AND carrier_user_id = ? AND package_id = ?), 0),
		EXISTS (SELECT 1 FROM orders WHERE carrier_id = ? AND carrier_user_id = ? AND kd_package_id = ?)`)
	if db.dialect.WritableCTE() {
		// $1 carrier, $2 user, $3 package, $4 type, $5 previous type,
		// $6 status, $7 previous status, $8 trace id, $9 time.
		n.q.record = `WITH e AS (
			INSERT INTO package_events (carrier_id, carrier_user_id, package_id, type, previous_type,
			user_status, previous_user_status, trace_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
		), s AS (
			INSERT INTO package_states (carrier_id, carrier_user_id, package_id, state, event_id, changed_at)
			SELECT $1, $2, $3, $4, e.id, $9 FROM e
			ON CONFLICT (carrier_id, carrier_user_id, package_id) DO UPDATE SET
			state = excluded.state, event_id = excluded.event_id, changed_at = excluded.changed_at
		), u AS (
			UPDATE carrier_users SET status = $6, updated_at = $9 WHERE carrier_id = $1 AND carrier_user_id = $2
		)
		SELECT id FROM e`
		return n
	}
	n.q.insertEvent = db.q(`INSERT INTO package_events (carrier_id, carrier_user_id, package_id, type, previous_type,
		user_status, previous_user_status, trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	n.q.upsertState = db.q(`INSERT INTO package_states (carrier_id, carrier_user_id, package_id, state, event_id, changed_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (carrier_id, carrier_user_id, package_id) DO UPDATE SET
		state = excluded.state, event_id = excluded.event_id, changed_at = excluded.changed_at`)
	n.q.setStatus = db.q(`UPDATE carrier_users SET status = ?, updated_at = ? WHERE carrier_id = ? AND carrier_user_id = ?`)
	return n
}

// Close releases the prepared statements; a later notice prepares them
// again. Call it when no notice is being applied.
func (n *LifecycleStore) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, st := range n.stmts {
		st.Close()
	}
	n.stmts = nil
	return nil
}

// prepared returns the prepared statements by query on SQLite, preparing
// them on first use, and nil on PostgreSQL.
func (n *LifecycleStore) prepared(ctx context.Context) (map[string]*sql.Stmt, error) {
	if n.turn == nil {
		return nil, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stmts != nil {
		return n.stmts, nil
	}
	stmts := map[string]*sql.Stmt{}
	for _, q := range []string{n.q.lockUser, n.q.readPackage, n.q.insertEvent, n.q.upsertState, n.q.setStatus} {
		st, err := n.db.sql.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range stmts {
				st.Close()
			}
			return nil, fmt.Errorf("prepare package notice statements: %w", err)
		}
		stmts[q] = st
	}
	n.stmts = stmts
	return stmts, nil
}

// ApplyPackageNotice applies a package notice in one transaction. The
// package is the kdPackageId of an order of the carrier's user. A notice
// whose type is the package's current state changes nothing and returns
// Changed false. Otherwise it records an event, makes the type the
// package's state and sets the user's status (carrier_users.status, which
// the ledger's order reads report) to the type's status. Notices of one user are
// serialised: on PostgreSQL by a lock on the user's row, on SQLite by the
// write lock every transaction takes at its start.
//
// A user the carrier's ledger does not hold (another carrier's user
// included), or a package none of the user's orders has, is an ENOTFOUND
// error.
func (n *LifecycleStore) ApplyPackageNotice(ctx context.Context, notice lifecycle.Notice) (lifecycle.Outcome, error) {
	stmts, err := n.prepared(ctx)
	if err != nil {
		return lifecycle.Outcome{}, err
	}
	if n.turn != nil {
		select {
		case n.turn <- struct{}{}:
			defer func() { <-n.turn }()
		case <-ctx.Done():
			return lifecycle.Outcome{}, fmt.Errorf("wait to apply package notice: %w", ctx.Err())
		}
	}
	at := notice.At.UTC()
	if notice.At.IsZero() {
		at = n.db.now()
	}
	var out lifecycle.Outcome
	err = n.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = n.apply(noticeTx{ctx: ctx, tx: tx, stmts: stmts}, notice, at)
		return err
	})
	if err != nil {
		return lifecycle.Outcome{}, err
	}
	return out, nil
}

// noticeTx runs statements in a notice's transaction, prepared ones when
// there are.
type noticeTx struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (t noticeTx) queryRow(query string, args ...any) *sql.Row {
	if st, ok := t.stmts[query]; ok {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t noticeTx) exec(query string, args ...any) error {
	var err error
	if st, ok := t.stmts[query]; ok {
		_, err = t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	} else {
		_, err = t.tx.ExecContext(t.ctx, query, args...)
	}
	return err
}

func (n *LifecycleStore) apply(t noticeTx, notice lifecycle.Notice, at time.Time) (lifecycle.Outcome, error) {
	// Lock the user first, then read the package in a statement of its
	// own: on PostgreSQL a statement that waited for the lock would see the
	// package's state from before the change it waited for.
	var status string
	err := t.queryRow(n.q.lockUser, notice.CarrierID, notice.CarrierUserID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return lifecycle.Outcome{}, trueup.NotFound("carrier user %q is not in your ledger; send the carrierUserId of a subscriber whose orders the platform holds", notice.CarrierUserID)
	}
	if err != nil {
		return lifecycle.Outcome{}, fmt.Errorf("lock carrier user: %w", err)
	}
	var state int
	var hasPackage bool
	err = t.queryRow(n.q.readPackage, notice.CarrierID, notice.CarrierUserID, notice.PackageID, notice.CarrierID, notice.CarrierUserID, notice.PackageID).
		Scan(&state, &hasPackage)
	if err != nil {
		return lifecycle.Outcome{}, fmt.Errorf("read package state: %w", err)
	}
	if !hasPackage {
		return lifecycle.Outcome{}, trueup.NotFound("carrier user %q has no order with package %q in your ledger; send the packageId of one of the user's orders (the ledger's kdPackageId)", notice.CarrierUserID, notice.PackageID)
	}
	if lifecycle.Type(state) == notice.Type {
		return lifecycle.Outcome{}, nil // a repeat of the current state
	}
	e := lifecycle.Event{
		CarrierID: notice.CarrierID, CarrierUserID: notice.CarrierUserID, PackageID: notice.PackageID,
		Type: notice.Type, PreviousType: lifecycle.Type(state), UserStatus: notice.Type.UserStatus(), PreviousUserStatus: status,
		TraceID: notice.TraceID, CreatedAt: at,
	}
	if n.q.record != "" {
		if err := t.queryRow(n.q.record, e.CarrierID, e.CarrierUserID, e.PackageID, int(e.Type), int(e.PreviousType),
			e.UserStatus, e.PreviousUserStatus, e.TraceID, at).Scan(&e.ID); err != nil {
			return lifecycle.Outcome{}, fmt.Errorf("record package event: %w", err)
		}
		return lifecycle.Outcome{Changed: true, Event: e}, nil
	}
	if err := t.queryRow(n.q.insertEvent, e.CarrierID, e.CarrierUserID, e.PackageID, int(e.Type), int(e.PreviousType),
		e.UserStatus, e.PreviousUserStatus, e.TraceID, at).Scan(&e.ID); err != nil {
		return lifecycle.Outcome{}, fmt.Errorf("insert package event: %w", err)
	}
	if err := t.exec(n.q.upsertState, e.CarrierID, e.CarrierUserID, e.PackageID, int(e.Type), e.ID, at); err != nil {
		return lifecycle.Outcome{}, fmt.Errorf("store package state: %w", err)
	}
	if err := t.exec(n.q.setStatus, e.UserStatus, at, e.CarrierID, e.CarrierUserID); err != nil {
		return lifecycle.Outcome{}, fmt.Errorf("set user status: %w", err)
	}
	return lifecycle.Outcome{Changed: true, Event: e}, nil
}

const packageEventCols = `id, carrier_id, carrier_user_id, package_id, type, previous_type, user_status, previous_user_status, trace_id, created_at`

// PackageEvents returns the package lifecycle events of a carrier (of one
// of its users when f.CarrierUserID is set), newest first, at most f.Limit
// of them when it is positive. It returns an empty list for a carrier that
// has none, or does not exist.
func (db *DB) PackageEvents(ctx context.Context, f lifecycle.EventFilter) ([]lifecycle.Event, error) {
	query := `SELECT ` + packageEventCols + ` FROM package_events WHERE carrier_id = ?`
	args := []any{f.CarrierID}
	if f.CarrierUserID != "" {
		query += ` AND carrier_user_id = ?`
		args = append(args, f.CarrierUserID)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.sql.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list package events: %w", err)
	}
	defer rows.Close()
	out := []lifecycle.Event{}
	for rows.Next() {
		var e lifecycle.Event
		var typ, prev int
		if err := rows.Scan(&e.ID, &e.CarrierID, &e.CarrierUserID, &e.PackageID, &typ, &prev, &e.UserStatus, &e.PreviousUserStatus,
			&e.TraceID, &e.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan package event: %w", err)
		}
		e.Type, e.PreviousType, e.CreatedAt = lifecycle.Type(typ), lifecycle.Type(prev), e.CreatedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read package events: %w", err)
	}
	return out, nil
}

// PackageStates returns the current state of every notified package of a
// carrier's user, by package id. It returns an empty list when none was
// notified.
func (db *DB) PackageStates(ctx context.Context, carrier trueup.CarrierID, carrierUserID string) ([]lifecycle.PackageState, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT carrier_id, carrier_user_id, package_id, state, event_id, changed_at
		FROM package_states WHERE carrier_id = ? AND carrier_user_id = ? ORDER BY package_id`), carrier, carrierUserID)
	if err != nil {
		return nil, fmt.Errorf("list package states: %w", err)
	}
	defer rows.Close()
	out := []lifecycle.PackageState{}
	for rows.Next() {
		var s lifecycle.PackageState
		var state int
		if err := rows.Scan(&s.CarrierID, &s.CarrierUserID, &s.PackageID, &state, &s.EventID, &s.ChangedAt); err != nil {
			return nil, fmt.Errorf("scan package state: %w", err)
		}
		s.Type, s.ChangedAt = lifecycle.Type(state), s.ChangedAt.UTC()
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read package states: %w", err)
	}
	return out, nil
}
