package sqlstore

import (
	"context"
	"fmt"
)

// Setting returns the value of a named setting, storing create() first when
// there is none. Concurrent callers (replicas included) all get the value
// stored first.
func (db *DB) Setting(ctx context.Context, name string, create func() string) (string, error) {
	if _, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`), name, create()); err != nil {
		return "", fmt.Errorf("store setting %s: %w", name, err)
	}
	var v string
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT value FROM settings WHERE name = ?`), name).Scan(&v); err != nil {
		return "", fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}
