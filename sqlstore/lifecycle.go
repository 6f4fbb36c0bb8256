package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
)

// ApplyPackageNotice applies a package notice in one transaction. The
// package is the kdPackageId of an order of the carrier's user. A notice
// whose type is the package's current state changes nothing and returns
// Changed false. Otherwise it records an event, makes the type the
// package's state and sets the user's status (carrier_users.status, which
// EachOrder reports) to the type's status. Notices of one user are
// serialised: on PostgreSQL by a lock on the user's row, on SQLite by the
// write lock every transaction takes at its start.
//
// A user the carrier's ledger does not hold (another carrier's user
// included), or a package none of the user's orders has, is an ENOTFOUND
// error.
func (db *DB) ApplyPackageNotice(ctx context.Context, n lifecycle.Notice) (lifecycle.Outcome, error) {
	at := n.At.UTC()
	if n.At.IsZero() {
		at = db.now()
	}
	lock := ""
	if db.dialect.Name == "postgres" {
		lock = " FOR UPDATE"
	}
	var out lifecycle.Outcome
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Lock the user first, then read the package in a statement of its
		// own: on PostgreSQL a statement that waited for the lock would see
		// the package's state from before the change it waited for.
		var status string
		err := tx.QueryRowContext(ctx, db.q(`SELECT status FROM carrier_users WHERE carrier_id = ? AND carrier_user_id = ?`+lock),
			n.CarrierID, n.CarrierUserID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return trueup.NotFound("carrier user %q is not in your ledger; send the carrierUserId of a subscriber whose orders the platform holds", n.CarrierUserID)
		}
		if err != nil {
			return fmt.Errorf("lock carrier user: %w", err)
		}
		var state int
		var hasPackage bool
		err = tx.QueryRowContext(ctx, db.q(`SELECT
			COALESCE((SELECT state FROM package_states WHERE carrier_id = ? AND carrier_user_id = ? AND package_id = ?), 0),
			EXISTS (SELECT 1 FROM orders WHERE carrier_id = ? AND carrier_user_id = ? AND kd_package_id = ?)`),
			n.CarrierID, n.CarrierUserID, n.PackageID, n.CarrierID, n.CarrierUserID, n.PackageID).Scan(&state, &hasPackage)
		if err != nil {
			return fmt.Errorf("read package state: %w", err)
		}
		if !hasPackage {
			return trueup.NotFound("carrier user %q has no order with package %q in your ledger; send the packageId of one of the user's orders (the ledger's kdPackageId)", n.CarrierUserID, n.PackageID)
		}
		if lifecycle.Type(state) == n.Type {
			return nil // a repeat of the current state
		}
		e := lifecycle.Event{
			CarrierID: n.CarrierID, CarrierUserID: n.CarrierUserID, PackageID: n.PackageID,
			Type: n.Type, PreviousType: lifecycle.Type(state), UserStatus: n.Type.UserStatus(), PreviousUserStatus: status,
			TraceID: n.TraceID, CreatedAt: at,
		}
		if err := tx.QueryRowContext(ctx, db.q(`INSERT INTO package_events (carrier_id, carrier_user_id, package_id, type, previous_type,
			user_status, previous_user_status, trace_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			e.CarrierID, e.CarrierUserID, e.PackageID, int(e.Type), int(e.PreviousType), e.UserStatus, e.PreviousUserStatus, e.TraceID, at,
		).Scan(&e.ID); err != nil {
			return fmt.Errorf("insert package event: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO package_states (carrier_id, carrier_user_id, package_id, state, event_id, changed_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (carrier_id, carrier_user_id, package_id) DO UPDATE SET
			state = excluded.state, event_id = excluded.event_id, changed_at = excluded.changed_at`),
			e.CarrierID, e.CarrierUserID, e.PackageID, int(e.Type), e.ID, at); err != nil {
			return fmt.Errorf("store package state: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE carrier_users SET status = ?, updated_at = ? WHERE carrier_id = ? AND carrier_user_id = ?`),
			e.UserStatus, at, e.CarrierID, e.CarrierUserID); err != nil {
			return fmt.Errorf("set user status: %w", err)
		}
		out = lifecycle.Outcome{Changed: true, Event: e}
		return nil
	})
	if err != nil {
		return lifecycle.Outcome{}, err
	}
	return out, nil
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
