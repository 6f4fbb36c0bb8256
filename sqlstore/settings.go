package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting returns the value of a named setting, storing create() first when
// there is none. Concurrent callers (replicas included) all get the value
// stored first. Once the setting exists it is one read.
func (db *DB) Setting(ctx context.Context, name string, create func() string) (string, error) {
	var v string
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	if _, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, create()); err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v); err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}
