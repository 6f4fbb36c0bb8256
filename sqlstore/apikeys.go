package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
)

const apiKeyCols = `id, name, key_hash, created_at, revoked_at`

func scanAPIKey(s interface{ Scan(...any) error }) (apikey.Key, error) {
	var k apikey.Key
	var rev sql.NullTime
	err := s.Scan(&k.ID, &k.Name, &k.Hash, &k.CreatedAt, &rev)
	k.CreatedAt, k.RevokedAt = k.CreatedAt.UTC(), timePtr(rev)
	return k, err
}

// CreateAPIKey stores a new admin API key.
func (db *DB) CreateAPIKey(ctx context.Context, k apikey.Key) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?)`),
		k.ID, k.Name, k.Hash, k.CreatedAt.UTC(), nullTime(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// APIKeyByHash returns the key whose hash is hash, or an ENOTFOUND error.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (apikey.Key, error) {
	k, err := scanAPIKey(db.sql.QueryRowContext(ctx, db.q(`SELECT `+apiKeyCols+` FROM api_keys WHERE key_hash = ?`), hash))
	if err != nil {
		return k, notFound(err, "admin API key not found")
	}
	return k, nil
}

// APIKeys returns every admin API key, oldest first.
func (db *DB) APIKeys(ctx context.Context) ([]apikey.Key, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var out []apikey.Key
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("scan api key: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes a key (keeping the first revocation time) and
// returns it, or an ENOTFOUND error.
func (db *DB) RevokeAPIKey(ctx context.Context, p apikey.RevokeParams) (apikey.Key, error) {
	var k apikey.Key
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), p.At.UTC(), p.ID)
		if err != nil {
			return fmt.Errorf("revoke api key: %w", err)
		}
		if err := mustAffect(res, trueup.NotFound("admin API key %q not found; list keys with `trueup admin apikey list`", p.ID)); err != nil {
			return err
		}
		k, err = scanAPIKey(tx.QueryRowContext(ctx, db.q(`SELECT `+apiKeyCols+` FROM api_keys WHERE id = ?`), p.ID))
		if err != nil {
			return fmt.Errorf("read api key: %w", err)
		}
		return nil
	})
	return k, err
}
