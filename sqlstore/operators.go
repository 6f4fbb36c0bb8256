package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

const operatorCols = `id, email, role, carrier_id, password_hash, created_at, disabled_at, failed_signins, last_failed_at, locked_until`

func scanOperator(s interface{ Scan(...any) error }, extra ...any) (operator.Operator, error) {
	var o operator.Operator
	var dis, failed, locked sql.NullTime
	err := s.Scan(append([]any{&o.ID, &o.Email, &o.Role, &o.CarrierID, &o.PasswordHash, &o.CreatedAt, &dis, &o.FailedSignIns, &failed, &locked}, extra...)...)
	o.CreatedAt = o.CreatedAt.UTC()
	o.DisabledAt, o.LastFailedAt, o.LockedUntil = timePtr(dis), timePtr(failed), timePtr(locked)
	return o, err
}

func operatorNotFound(id operator.ID) error {
	return trueup.NotFound("operator %q not found; list operators with `trueup admin operator list`", id)
}

// CreateOperator stores a new operator; an email already taken is an
// ECONFLICT error.
func (db *DB) CreateOperator(ctx context.Context, o operator.Operator) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO operators (`+operatorCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		o.ID, o.Email, o.Role, o.CarrierID, o.PasswordHash, o.CreatedAt.UTC(), nullTime(o.DisabledAt), o.FailedSignIns, nullTime(o.LastFailedAt), nullTime(o.LockedUntil))
	if err != nil {
		if db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "an operator with email %q already exists; use another email, or change that operator's role", o.Email)
		}
		return fmt.Errorf("insert operator: %w", err)
	}
	return nil
}

// Operator returns the operator with the given id, or an ENOTFOUND error.
func (db *DB) Operator(ctx context.Context, id operator.ID) (operator.Operator, error) {
	o, err := scanOperator(db.sql.QueryRowContext(ctx, db.q(`SELECT `+operatorCols+` FROM operators WHERE id = ?`), id))
	if err != nil {
		return o, notFound(err, "operator %q not found; list operators with `trueup admin operator list`", id)
	}
	return o, nil
}

// OperatorByEmail returns the operator with the given email, or an
// ENOTFOUND error.
func (db *DB) OperatorByEmail(ctx context.Context, email string) (operator.Operator, error) {
	o, err := scanOperator(db.sql.QueryRowContext(ctx, db.q(`SELECT `+operatorCols+` FROM operators WHERE email = ?`), email))
	if err != nil {
		return o, notFound(err, "no operator with email %q", email)
	}
	return o, nil
}

// Operators returns every operator, oldest first.
func (db *DB) Operators(ctx context.Context) ([]operator.Operator, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+operatorCols+` FROM operators ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	defer rows.Close()
	var out []operator.Operator
	for rows.Next() {
		o, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("scan operator: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateOperator sets the non-nil fields of p and returns the operator, or
// an ENOTFOUND error.
func (db *DB) UpdateOperator(ctx context.Context, p operator.UpdateParams) (operator.Operator, error) {
	var set []string
	var args []any
	if p.Role != nil {
		set, args = append(set, "role = ?"), append(args, *p.Role)
	}
	if p.CarrierID != nil {
		set, args = append(set, "carrier_id = ?"), append(args, *p.CarrierID)
	}
	if p.PasswordHash != nil {
		set, args = append(set, "password_hash = ?"), append(args, *p.PasswordHash)
	}
	if p.Disabled != nil {
		if *p.Disabled {
			set, args = append(set, "disabled_at = COALESCE(disabled_at, ?)"), append(args, p.At.UTC())
		} else {
			set = append(set, "disabled_at = NULL")
		}
	}
	if p.ResetFailures {
		set = append(set, "failed_signins = 0", "last_failed_at = NULL", "locked_until = NULL")
	}
	var o operator.Operator
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if len(set) > 0 {
			res, err := tx.ExecContext(ctx, db.q(`UPDATE operators SET `+strings.Join(set, ", ")+` WHERE id = ?`), append(args, p.ID)...)
			if err != nil {
				return fmt.Errorf("update operator: %w", err)
			}
			if err := mustAffect(res, operatorNotFound(p.ID)); err != nil {
				return err
			}
		}
		var err error
		o, err = scanOperator(tx.QueryRowContext(ctx, db.q(`SELECT `+operatorCols+` FROM operators WHERE id = ?`), p.ID))
		return notFound(err, "operator %q not found; list operators with `trueup admin operator list`", p.ID)
	})
	return o, err
}

// RecordSignInFailure counts one failed sign-in and, from p.LockAt
// failures, locks the operator until p.LockUntil; it returns the operator.
func (db *DB) RecordSignInFailure(ctx context.Context, p operator.FailureParams) (operator.Operator, error) {
	var o operator.Operator
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		lockAt := p.LockAt
		if lockAt <= 0 {
			lockAt = 1 << 30
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE operators SET failed_signins = failed_signins + 1, last_failed_at = ?,
			locked_until = CASE WHEN failed_signins + 1 >= ? THEN ? ELSE locked_until END WHERE id = ?`),
			p.At.UTC(), lockAt, p.LockUntil.UTC(), p.ID)
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		if err := mustAffect(res, operatorNotFound(p.ID)); err != nil {
			return err
		}
		o, err = scanOperator(tx.QueryRowContext(ctx, db.q(`SELECT `+operatorCols+` FROM operators WHERE id = ?`), p.ID))
		if err != nil {
			return fmt.Errorf("read operator: %w", err)
		}
		return nil
	})
	return o, err
}

const sessionCols = `s.token_hash, s.operator_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.flash`

// CreateSession stores a new console session.
func (db *DB) CreateSession(ctx context.Context, s operator.Session) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO operator_sessions (token_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at, flash) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		s.TokenHash, s.OperatorID, s.CSRFToken, s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC(), s.Flash)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose token hash is hash and its
// operator, or an ENOTFOUND error.
func (db *DB) SessionByHash(ctx context.Context, hash string) (operator.Session, operator.Operator, error) {
	var s operator.Session
	cols := strings.ReplaceAll(operatorCols, ", ", ", o.")
	o, err := scanOperator(db.sql.QueryRowContext(ctx, db.q(`SELECT o.`+cols+`, `+sessionCols+`
		FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = ?`), hash),
		&s.TokenHash, &s.OperatorID, &s.CSRFToken, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt, &s.Flash)
	if err != nil {
		return s, o, notFound(err, "session not found; sign in again")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return s, o, nil
}

// TouchSession sets a session's last use.
func (db *DB) TouchSession(ctx context.Context, hash string, at time.Time) error {
	if _, err := db.sql.ExecContext(ctx, db.q(`UPDATE operator_sessions SET last_seen_at = ? WHERE token_hash = ?`), at.UTC(), hash); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// SetSessionFlash sets or clears a session's flash.
func (db *DB) SetSessionFlash(ctx context.Context, hash, flash string) error {
	if _, err := db.sql.ExecContext(ctx, db.q(`UPDATE operator_sessions SET flash = ? WHERE token_hash = ?`), flash, hash); err != nil {
		return fmt.Errorf("set session flash: %w", err)
	}
	return nil
}

// DeleteSession deletes a session, if there is one.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	if _, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM operator_sessions WHERE token_hash = ?`), hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteOperatorSessions deletes every session of an operator.
func (db *DB) DeleteOperatorSessions(ctx context.Context, id operator.ID) error {
	if _, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM operator_sessions WHERE operator_id = ?`), id); err != nil {
		return fmt.Errorf("delete operator sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions deletes the sessions expired at p.Now or idle since
// p.IdleSince and returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context, p operator.ExpireParams) (int64, error) {
	res, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM operator_sessions WHERE expires_at <= ? OR last_seen_at <= ?`), p.Now.UTC(), p.IdleSince.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}
