package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trueup/trueup"
)

const carrierCols = `id, name, user_id, whitelisted, time_zone, created_at`

func scanCarrier(s interface{ Scan(...any) error }) (trueup.Carrier, error) {
	var c trueup.Carrier
	err := s.Scan(&c.ID, &c.Name, &c.UserID, &c.Whitelisted, &c.TimeZone, &c.CreatedAt)
	c.CreatedAt = c.CreatedAt.UTC()
	return c, err
}

// CreateCarrier stores a new carrier. A name or user id already taken is an
// ECONFLICT error.
func (db *DB) CreateCarrier(ctx context.Context, c trueup.Carrier) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO carriers (`+carrierCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		c.ID, c.Name, c.UserID, c.Whitelisted, c.TimeZone, c.CreatedAt.UTC())
	if err != nil {
		if db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "a carrier named %q already exists; choose another name", c.Name)
		}
		return fmt.Errorf("insert carrier: %w", err)
	}
	return nil
}

// Carrier returns the carrier with the given id, or an ENOTFOUND error.
func (db *DB) Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error) {
	c, err := scanCarrier(db.sql.QueryRowContext(ctx, db.q(`SELECT `+carrierCols+` FROM carriers WHERE id = ?`), id))
	if err != nil {
		return c, notFound(err, "carrier %q not found; list carriers with `trueup admin carrier list`", id)
	}
	return c, nil
}

// Carriers returns every carrier, oldest first.
func (db *DB) Carriers(ctx context.Context) ([]trueup.Carrier, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+carrierCols+` FROM carriers ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list carriers: %w", err)
	}
	defer rows.Close()
	var out []trueup.Carrier
	for rows.Next() {
		c, err := scanCarrier(rows)
		if err != nil {
			return nil, fmt.Errorf("scan carrier: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetWhitelisted puts the carrier on the whitelist or takes it off.
func (db *DB) SetWhitelisted(ctx context.Context, id trueup.CarrierID, on bool) error {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE carriers SET whitelisted = ? WHERE id = ?`), on, id)
	if err != nil {
		return fmt.Errorf("update carrier: %w", err)
	}
	return mustAffect(res, trueup.NotFound("carrier %q not found", id))
}

// SetTimeZone sets the zone in which the carrier's zone-less times are read.
func (db *DB) SetTimeZone(ctx context.Context, id trueup.CarrierID, zone string) error {
	if _, err := time.LoadLocation(zone); err != nil {
		return trueup.Errorf(trueup.EINVALID, "time zone %q is unknown; use an IANA name such as Asia/Shanghai or UTC", zone)
	}
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE carriers SET time_zone = ? WHERE id = ?`), zone, id)
	if err != nil {
		return fmt.Errorf("update carrier: %w", err)
	}
	return mustAffect(res, trueup.NotFound("carrier %q not found", id))
}

func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

const clientCols = `id, carrier_id, secret_hash, created_at, rotated_at, revoked_at`

func scanClient(s interface{ Scan(...any) error }) (trueup.Client, error) {
	var c trueup.Client
	var rot, rev sql.NullTime
	err := s.Scan(&c.ID, &c.CarrierID, &c.SecretHash, &c.CreatedAt, &rot, &rev)
	c.CreatedAt = c.CreatedAt.UTC()
	c.RotatedAt, c.RevokedAt = timePtr(rot), timePtr(rev)
	return c, err
}

// CreateClient stores a new client of a carrier.
func (db *DB) CreateClient(ctx context.Context, c trueup.Client) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO clients (`+clientCols+`) VALUES (?, ?, ?, ?, ?, ?)`),
		c.ID, c.CarrierID, c.SecretHash, c.CreatedAt.UTC(), nullTime(c.RotatedAt), nullTime(c.RevokedAt))
	if err != nil {
		return fmt.Errorf("insert client: %w", err)
	}
	return nil
}

// Client returns the client with the given id, or an ENOTFOUND error.
func (db *DB) Client(ctx context.Context, id trueup.ClientID) (trueup.Client, error) {
	c, err := scanClient(db.sql.QueryRowContext(ctx, db.q(`SELECT `+clientCols+` FROM clients WHERE id = ?`), id))
	if err != nil {
		return c, notFound(err, "client %q not found", id)
	}
	return c, nil
}

// Clients returns the clients of a carrier, oldest first.
func (db *DB) Clients(ctx context.Context, carrier trueup.CarrierID) ([]trueup.Client, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT `+clientCols+` FROM clients WHERE carrier_id = ? ORDER BY created_at, id`), carrier)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	defer rows.Close()
	var out []trueup.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("scan client: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RotateClient replaces a client's secret hash and revokes every token
// issued to it, in one transaction. A revoked client cannot be rotated.
func (db *DB) RotateClient(ctx context.Context, id trueup.ClientID, secretHash string) error {
	now := db.now()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE clients SET secret_hash = ?, rotated_at = ? WHERE id = ? AND revoked_at IS NULL`), secretHash, now, id)
		if err != nil {
			return fmt.Errorf("rotate client: %w", err)
		}
		if err := mustAffect(res, trueup.NotFound("client %q not found or revoked; create a new one with `trueup admin client create --carrier ID`", id)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL`), now, id); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
}

// RevokeClient revokes a client and every token issued to it.
func (db *DB) RevokeClient(ctx context.Context, id trueup.ClientID) error {
	now := db.now()
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE clients SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`), now, id)
		if err != nil {
			return fmt.Errorf("revoke client: %w", err)
		}
		if err := mustAffect(res, trueup.NotFound("client %q not found", id)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE tokens SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL`), now, id); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		return nil
	})
}

// CreateToken stores an issued token in one transaction that re-reads its
// client (locking the row on PostgreSQL; SQLite's immediate transactions
// serialise writers) and checks, as of that read, that the client is not
// revoked and that its secret hash is still secretHash: a token is never
// stored for credentials that a revocation or rotation committed first
// made void. It returns an ENOTFOUND error when the client is unknown,
// revoked or holds another secret. The token's issued time is raised to
// the client's last rotation if a clock behind the store's would put it
// before, so that TokenByHash does not take it for a token of the old
// secret.
func (db *DB) CreateToken(ctx context.Context, t trueup.Token, secretHash string) error {
	gone := trueup.NotFound("client %q not found, revoked or rotated", t.ClientID)
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var hash string
		var rot, rev sql.NullTime
		err := tx.QueryRowContext(ctx, db.q(`SELECT secret_hash, rotated_at, revoked_at FROM clients WHERE id = ? `+db.dialect.ForUpdate()), t.ClientID).
			Scan(&hash, &rot, &rev)
		if errors.Is(err, sql.ErrNoRows) {
			return gone
		} else if err != nil {
			return fmt.Errorf("read client: %w", err)
		}
		if rev.Valid || subtle.ConstantTimeCompare([]byte(hash), []byte(secretHash)) != 1 {
			return gone
		}
		issued := t.IssuedAt.UTC()
		if rot.Valid && rot.Time.After(issued) {
			issued = rot.Time.UTC()
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO tokens (hash, client_id, carrier_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
			t.Hash, t.ClientID, t.CarrierID, issued, t.ExpiresAt.UTC()); err != nil {
			return fmt.Errorf("insert token: %w", err)
		}
		return nil
	})
}

// TokenByHash returns the token with the given hash and its carrier, in
// one query (every carrier call asks), or an ENOTFOUND error. A token whose
// client was revoked, or rotated after the token was issued, is returned
// with RevokedAt set to that time, whatever the token row says.
func (db *DB) TokenByHash(ctx context.Context, hash string) (trueup.Token, trueup.Carrier, error) {
	var t trueup.Token
	var rev, clRev, clRot sql.NullTime
	var c trueup.Carrier
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT c.id, c.name, c.user_id, c.whitelisted, c.time_zone, c.created_at,
		t.hash, t.client_id, t.issued_at, t.expires_at, t.revoked_at, cl.revoked_at, cl.rotated_at
		FROM tokens t JOIN clients cl ON cl.id = t.client_id JOIN carriers c ON c.id = t.carrier_id WHERE t.hash = ?`), hash).
		Scan(&c.ID, &c.Name, &c.UserID, &c.Whitelisted, &c.TimeZone, &c.CreatedAt, &t.Hash, &t.ClientID, &t.IssuedAt, &t.ExpiresAt, &rev, &clRev, &clRot)
	if err != nil {
		return t, c, notFound(err, "token not found")
	}
	t.CarrierID, c.CreatedAt = c.ID, c.CreatedAt.UTC()
	t.IssuedAt, t.ExpiresAt, t.RevokedAt = t.IssuedAt.UTC(), t.ExpiresAt.UTC(), timePtr(rev)
	switch {
	case t.RevokedAt != nil:
	case clRev.Valid:
		t.RevokedAt = timePtr(clRev)
	case clRot.Valid && clRot.Time.After(t.IssuedAt):
		t.RevokedAt = timePtr(clRot)
	}
	return t, c, nil
}

// DeleteExpiredTokens removes tokens that expired before the given time and
// returns how many.
func (db *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.sql.ExecContext(ctx, db.q(`DELETE FROM tokens WHERE expires_at < ?`), before.UTC())
	if err != nil {
		return 0, fmt.Errorf("delete tokens: %w", err)
	}
	return res.RowsAffected()
}
