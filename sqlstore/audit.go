package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
)

var _ audit.Store = (*DB)(nil)

// AppendAudit appends p.Entries after the chain's head. The head's one
// row is read FOR UPDATE (on PostgreSQL; SQLite's write transaction
// already holds the database's write lock), so appends are serialised:
// each reads the head the previous one wrote, and the chain stays linear.
func (db *DB) AppendAudit(ctx context.Context, p audit.AppendParams) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var head audit.Head
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 `+db.dialect.ForUpdate()).Scan(&head.Seq, &head.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			return trueup.Errorf(trueup.EINTERNAL, "the audit chain's head row is missing; run `trueup audit verify`")
		}
		if err != nil {
			return fmt.Errorf("lock audit head: %w", err)
		}
		// Under the head's lock: no append of the same keys runs between
		// this read and the inserts.
		taken, err := db.takenEventKeys(ctx, tx, p.Entries)
		if err != nil {
			return err
		}
		rows := make([]any, 0, auditInsertRows*auditParams)
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			n := len(rows) / auditParams
			q := `INSERT INTO audit_entries (seq, at, actor, type, carrier_id, subject, data, prev_hash, hash, event_key) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")
			if _, err := tx.ExecContext(ctx, db.q(q), rows...); err != nil {
				return fmt.Errorf("insert audit entries %d-%d: %w", rows[0], rows[len(rows)-auditParams], err)
			}
			rows = rows[:0]
			return nil
		}
		for _, k := range p.Entries {
			var key sql.NullString
			if k.Key != "" {
				if taken[k.Key] {
					continue
				}
				taken[k.Key] = true // a key twice in one append: the first
				key = sql.NullString{String: k.Key, Valid: true}
			}
			e := k.Entry
			e.Seq, e.PrevHash = head.Seq+1, head.Hash
			e.Hash = p.Seal(e)
			rows = append(rows, e.Seq, e.Time.UTC(), string(e.Actor), e.Type, string(e.CarrierID), e.Subject, string(e.Data), e.PrevHash, e.Hash, key)
			if len(rows) == auditInsertRows*auditParams {
				if err := flush(); err != nil {
					return err
				}
			}
			head = audit.Head{Seq: e.Seq, Hash: e.Hash}
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`), head.Seq, head.Hash); err != nil {
			return fmt.Errorf("move audit head: %w", err)
		}
		return nil
	})
}

// Audit entries per INSERT, and parameters per entry.
const (
	auditInsertRows = 100
	auditParams     = 10
)

// takenEventKeys returns which keys of entries the chain holds already,
// in one query: an array parameter on PostgreSQL, a JSON array read by
// json_each on SQLite.
func (db *DB) takenEventKeys(ctx context.Context, tx *sql.Tx, entries []audit.Keyed) (map[string]bool, error) {
	keys := make([]string, 0, len(entries))
	for _, k := range entries {
		if k.Key != "" {
			keys = append(keys, k.Key)
		}
	}
	taken := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return taken, nil
	}
	var rows *sql.Rows
	var err error
	if db.dialect.ArrayParams() {
		rows, err = tx.QueryContext(ctx, db.q(`SELECT event_key FROM audit_entries WHERE event_key = ANY(?)`), keys)
	} else {
		list, merr := json.Marshal(keys)
		if merr != nil {
			return nil, fmt.Errorf("audit event keys: %w", merr)
		}
		rows, err = tx.QueryContext(ctx, db.q(`SELECT event_key FROM audit_entries WHERE event_key IN (SELECT value FROM json_each(?))`), string(list))
	}
	if err != nil {
		return nil, fmt.Errorf("audit entries of %d keys: %w", len(keys), err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("audit entries of %d keys: %w", len(keys), err)
		}
		taken[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit entries of %d keys: %w", len(keys), err)
	}
	return taken, nil
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
