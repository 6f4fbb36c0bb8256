package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit appends p.Entry after the chain's head. The head's one row is
// read FOR UPDATE (on PostgreSQL; SQLite's write transaction already holds
// the database's write lock), so appends are serialised: each reads the
// head the previous one wrote, and the chain stays linear.
func (db *DB) AppendAudit(ctx context.Context, p audit.AppendParams) (audit.Entry, error) {
	e := p.Entry
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var head audit.Head
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 `+db.dialect.ForUpdate()).Scan(&head.Seq, &head.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			return trueup.Errorf(trueup.EINTERNAL, "the audit chain's head row is missing; run `trueup audit verify`")
		}
		if err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		var key sql.NullString
		if p.Key != "" {
			// Under the head's lock: no append of the same key runs
			// between this read and the insert.
			key = sql.NullString{String: p.Key, Valid: true}
			done, err := db.auditEntryOfKey(ctx, tx, p.Key)
			if err == nil {
				e = done
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("audit entry of key %s: %w", p.Key, err)
			}
		}
		e.Seq, e.PrevHash = head.Seq+1, head.Hash
		e.Hash = p.Seal(e)
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO audit_entries (seq, at, actor, type, carrier_id, subject, data, prev_hash, hash, event_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			e.Seq, e.Time.UTC(), string(e.Actor), e.Type, string(e.CarrierID), e.Subject, string(e.Data), e.PrevHash, e.Hash, key); err != nil {
			return fmt.Errorf("insert audit entry: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), e.Seq, e.Hash); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		return nil
	})
	return e, err
}

// auditEntryOfKey returns the entry of an event key, or sql.ErrNoRows.
func (db *DB) auditEntryOfKey(ctx context.Context, tx *sql.Tx, key string) (audit.Entry, error) {
	var e audit.Entry
	var actor, carrier, data string
	err := tx.QueryRowContext(ctx, db.q(`SELECT seq, at, actor, type, carrier_id, subject, data, prev_hash, hash
		FROM audit_entries WHERE event_key = ?`), key).Scan(&e.Seq, &e.Time, &actor, &e.Type, &carrier, &e.Subject, &data, &e.PrevHash, &e.Hash)
	e.Time, e.Actor, e.CarrierID, e.Data = e.Time.UTC(), trueup.Actor(actor), trueup.CarrierID(carrier), []byte(data)
	return e, err
}

// AuditEntries returns up to p.Limit entries with seq > p.After, in seq
// order.
func (db *DB) AuditEntries(ctx context.Context, p audit.ListParams) ([]audit.Entry, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT seq, at, actor, type, carrier_id, subject, data, prev_hash, hash
		FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?`), p.After, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	out := make([]audit.Entry, 0, min(p.Limit, 1000))
	for rows.Next() {
		var e audit.Entry
		var actor, carrier, data string
		if err := rows.Scan(&e.Seq, &e.Time, &actor, &e.Type, &carrier, &e.Subject, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("scan audit entry: %w", err)
		}
		e.Time, e.Actor, e.CarrierID, e.Data = e.Time.UTC(), trueup.Actor(actor), trueup.CarrierID(carrier), []byte(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}

// AuditHead returns the chain's head, or an ENOTFOUND error when its row
// is missing.
func (db *DB) AuditHead(ctx context.Context) (audit.Head, error) {
	var h audit.Head
	err := db.sql.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	if err != nil {
		return h, notFound(err, "the audit chain's head row is missing")
	}
	return h, nil
}
