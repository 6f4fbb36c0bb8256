// Package sqlstore implements trueup's storage over database/sql, once for
// both engines: the sqlite and postgres packages open a connection, apply
// their own embedded migrations and hand over a Dialect for the few places
// where the SQL differs.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
)

// Dialect holds what differs between the engines.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Dollar is true when placeholders are written $1, $2 (PostgreSQL)
	// rather than ?.
	Dollar bool
	// SkipLocked is appended to row-claiming sub-selects (FOR UPDATE SKIP
	// LOCKED on PostgreSQL; empty on SQLite, whose writers are serialised).
	SkipLocked string
	// ForUpdate is appended to a SELECT that reads a row the transaction
	// goes on to act on, locking it (FOR UPDATE on PostgreSQL; empty on
	// SQLite, whose immediate transactions serialise writers).
	ForUpdate string
	// CollateC follows an ORDER BY of text that must sort by bytes
	// (COLLATE "C" on PostgreSQL; SQLite's default already does).
	CollateC string
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation func(error) bool
}

// DB is trueup's storage. Its methods are safe for concurrent use.
type DB struct {
	sql        *sql.DB
	dialect    Dialect
	migrations fs.FS
	uploadDir  string
	tempDir    string
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// New returns a DB over an open connection pool. migrations holds the
// engine's numbered migrations (001_name.sql, ...) applied by Migrate.
func New(db *sql.DB, d Dialect, migrations fs.FS) *DB {
	return &DB{sql: db, dialect: d, migrations: migrations, Now: time.Now}
}

// SQL returns the underlying pool.
func (db *DB) SQL() *sql.DB { return db.sql }

// Dialect returns the engine's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

func (db *DB) now() time.Time { return db.Now().UTC() }

// q rewrites ? placeholders for the engine. Queries never hold a literal ?.
func (db *DB) q(query string) string {
	if !db.dialect.Dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

type migration struct {
	version int
	name    string
	body    string
}

func (db *DB) loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(db.migrations, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(db.migrations, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		ms = append(ms, migration{version: v, name: name, body: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Migrate applies the migrations not yet applied, each in its own
// transaction, and records them in schema_migrations.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	ms, err := db.loadMigrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m migration) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()
	if db.dialect.Name == "postgres" {
		// Replicas starting together apply each migration once.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7427)`); err != nil {
			return fmt.Errorf("migration %s: lock: %w", m.name, err)
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: check: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.body); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, db.now().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migration %s: record: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// Ready returns nil when the database answers and every embedded migration
// has been applied.
func (db *DB) Ready(ctx context.Context) error {
	ms, err := db.loadMigrations()
	if err != nil {
		return err
	}
	var applied int
	if err := db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		return fmt.Errorf("database not reachable: %w", err)
	}
	if applied < len(ms) {
		return fmt.Errorf("migrations not current: %d of %d applied", applied, len(ms))
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error with msg.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return trueup.NotFound(format, args...)
	}
	return err
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
