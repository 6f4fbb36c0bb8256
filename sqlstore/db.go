// Package sqlstore implements trueup's storage over database/sql, once for
// both engines: the sqlite and postgres packages open a connection, apply
// their own embedded migrations and hand over a Dialect for the few places
// where the SQL differs.
//
// Each feature package owns the Store interface it needs (and its params
// types); this package implements them. *DB implements auth.Store,
// batch.Store, jobs.Store and ledger.Store itself; the features whose
// methods would clash on one type get a store of their own, named after the
// feature: BuyerStore (buyer.Store), RiskStore (risk.Store) and
// LifecycleStore (lifecycle.Store).
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
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/ledger"
)

// Dialect is what differs between the engines, each difference a
// capability method; the sqlite and postgres packages implement it.
type Dialect interface {
	// Name is the engine's name ("sqlite" or "postgres"), for logs and
	// /readyz only: code asks the capability methods below, never the name.
	Name() string
	// NumberedPlaceholders reports whether placeholders are written $1, $2
	// rather than ?.
	NumberedPlaceholders() bool
	// ForUpdate returns the clause appended to a SELECT that reads a row
	// the transaction goes on to act on, locking it (empty where writers
	// are serialised).
	ForUpdate() string
	// SkipLocked returns the clause appended to row-claiming sub-selects
	// (FOR UPDATE SKIP LOCKED, or empty where writers are serialised).
	SkipLocked() string
	// CollateC returns the clause that follows an ORDER BY of text that
	// must sort by bytes (empty where that is the default).
	CollateC() string
	// SerializedWriters reports whether a write transaction holds the
	// whole database's write lock from its start, so row locks (FOR
	// UPDATE) are neither needed nor supported.
	SerializedWriters() bool
	// WritableCTE reports whether INSERT and UPDATE may appear in a WITH
	// clause, so several writes can be one statement.
	WritableCTE() bool
	// ArrayParams reports whether a list of ids can be sent as one array
	// parameter (= ANY(?)) rather than an IN list of placeholders.
	ArrayParams() bool
	// DDLBlocksReaders reports whether dropping and recreating an index in
	// a transaction blocks readers until commit.
	DDLBlocksReaders() bool
	// RefreshStats returns the statement that refreshes the planner's
	// statistics of table after a bulk load, or "" where the plans do not
	// depend on them.
	RefreshStats(table string) string
	// LockMigrations serialises, within tx, the servers that apply
	// migrations at once (a no-op where writers are serialised).
	LockMigrations(ctx context.Context, tx *sql.Tx) error
	// UpsertLocksRows reports whether INSERT ... ON CONFLICT DO UPDATE
	// ... WHERE locks (and so writes) every conflicting row, the WHERE
	// false included (PostgreSQL): then an UPDATE of the rows that differ
	// and an insert that does nothing on conflict are cheaper than one
	// upsert.
	UpsertLocksRows() bool
	// BeginBulkLoad tunes conn for a large import and returns the function
	// that restores it.
	BeginBulkLoad(ctx context.Context, conn *sql.Conn) (restore func(), err error)
	// BulkCopy reports whether the engine has a bulk-copy protocol
	// (CopyFrom) that loads rows faster than multi-row INSERTs.
	BulkCopy() bool
	// CopyFrom writes rows, each holding values for columns in order, into
	// table over conn, inside the transaction open on conn, and returns
	// how many it wrote. Engines whose BulkCopy is false return
	// errors.ErrUnsupported.
	CopyFrom(ctx context.Context, conn *sql.Conn, table string, columns []string, rows [][]any) (int64, error)
	// Analyze brings the planner's statistics of tables up to date within
	// tx, after a bulk load: plans chosen before statistics exist can scan
	// what an index would find. A no-op where plans do not depend on them.
	Analyze(ctx context.Context, tx *sql.Tx, tables ...string) error
	// PreferHashJoins makes the rest of tx join large row sets by hashing
	// rather than by nested loops, whatever the planner's statistics say
	// (fresh tables have none): PostgreSQL sets enable_nestloop off for
	// the transaction. A no-op where the engine only loops (SQLite, whose
	// joins probe an index).
	PreferHashJoins(ctx context.Context, tx *sql.Tx) error
	// IndexExists reports whether the index named name exists.
	IndexExists(ctx context.Context, db *sql.DB, name string) (bool, error)
	// IsUniqueViolation reports whether err is a unique-constraint failure.
	IsUniqueViolation(err error) bool
}

// DB is trueup's storage. Its methods are safe for concurrent use.
type DB struct {
	sql        *sql.DB
	dialect    Dialect
	migrations fs.FS
	uploadDir  string
	tempDir    string
	onClose    []func()
	// Clock tells the time the store records; tests set their own.
	Clock trueup.Clock
}

var (
	_ auth.Store   = (*DB)(nil)
	_ batch.Store  = (*DB)(nil)
	_ jobs.Store   = (*DB)(nil)
	_ ledger.Store = (*DB)(nil)
)

// New returns a DB over an open connection pool. migrations holds the
// engine's numbered migrations (001_name.sql, ...) applied by Migrate.
func New(db *sql.DB, d Dialect, migrations fs.FS) *DB {
	return &DB{sql: db, dialect: d, migrations: migrations, Clock: trueup.SystemClock{}}
}

// SQL returns the underlying pool.
func (db *DB) SQL() *sql.DB { return db.sql }

// Engine returns the engine's name, for logs and /readyz.
func (db *DB) Engine() string { return db.dialect.Name() }

// Dialect returns the engine's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the pool, then runs the functions given to OnClose.
func (db *DB) Close() error {
	err := db.sql.Close()
	for _, fn := range db.onClose {
		fn()
	}
	return err
}

// OnClose adds fn to what Close runs after closing the pool: the engine's
// own connections under it, for one.
func (db *DB) OnClose(fn func()) { db.onClose = append(db.onClose, fn) }

func (db *DB) now() time.Time { return db.Clock.Now().UTC() }

// q rewrites ? placeholders for the engine. Queries never hold a literal ?.
func (db *DB) q(query string) string {
	if !db.dialect.NumberedPlaceholders() {
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
	// Replicas starting together apply each migration once.
	if err := db.dialect.LockMigrations(ctx, tx); err != nil {
		return fmt.Errorf("migration %s: lock: %w", m.name, err)
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
// has been applied, and an error wrapping trueup.ErrPendingMigrations when
// the database answers but some are not.
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
		return fmt.Errorf("%w: %d of %d applied", trueup.ErrPendingMigrations, applied, len(ms))
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.inConnTx(ctx, func(_ *sql.Conn, tx *sql.Tx) error { return fn(tx) })
}

// inConnTx runs fn in a transaction on a connection of the pool, which fn
// gets too (the engine's bulk copy needs it), and commits it unless fn
// fails.
func (db *DB) inConnTx(ctx context.Context, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(conn, tx); err != nil {
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
