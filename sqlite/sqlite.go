// Package sqlite opens trueup's embedded SQLite storage: a single file in the
// data directory, in WAL mode with foreign keys on, migrated at open.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/trueup/trueup/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file's name inside the data directory.
const FileName = "trueup.db"

// Open opens (creating when needed) the database in dir and applies pending
// migrations.
func Open(ctx context.Context, dir string) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := OpenFile(ctx, filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	// Uploads live beside the database file, moved there, never copied
	// into it.
	if err := db.UploadDir(filepath.Join(dir, "uploads")); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenFile opens the database file at path and applies pending migrations.
func OpenFile(ctx context.Context, path string) (*sqlstore.DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(30000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	conn, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	conn.SetMaxOpenConns(8)
	conn.SetMaxIdleConns(8) // keep them: database/sql keeps 2 by default and would reopen the rest under load
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	db := sqlstore.New(conn, Dialect, sub)
	if err := db.Migrate(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

// Dialect is SQLite's dialect.
var Dialect sqlstore.Dialect = dialect{}

// dialect implements sqlstore.Dialect for SQLite: ? placeholders, write
// transactions that start IMMEDIATE and so serialise writers, no
// data-modifying CTEs.
type dialect struct{}

func (dialect) Name() string               { return "sqlite" }
func (dialect) NumberedPlaceholders() bool { return false }
func (dialect) ForUpdate() string          { return "" }
func (dialect) SkipLocked() string         { return "" }
func (dialect) CollateC() string           { return "" }
func (dialect) SerializedWriters() bool    { return true }
func (dialect) WritableCTE() bool          { return false }
func (dialect) UpsertLocksRows() bool      { return false }
func (dialect) ArrayParams() bool          { return false }

// DDLBlocksReaders is false: readers of a WAL database keep seeing the
// last commit while a transaction rebuilds an index.
func (dialect) DDLBlocksReaders() bool { return false }

// RefreshStats is empty: the queries are written for the planner without
// statistics (see sqlstore.FindDiscrepancies).
func (dialect) RefreshStats(string) string { return "" }

func (dialect) LockMigrations(context.Context, *sql.Tx) error { return nil }

// bulkCacheKiB is the page cache a bulk load's connection uses (256 MiB):
// inserting into, or building, the index of tens of millions of records
// stays in memory.
const bulkCacheKiB = 256 << 10

// BeginBulkLoad gives conn a large page cache and parallel sorters for
// index builds; restore sets them back to SQLite's defaults.
func (dialect) BeginBulkLoad(ctx context.Context, conn *sql.Conn) (func(), error) {
	for _, pragma := range []string{fmt.Sprintf(`PRAGMA cache_size = -%d`, bulkCacheKiB), fmt.Sprintf(`PRAGMA threads = %d`, runtime.NumCPU())} {
		if _, err := conn.ExecContext(ctx, pragma); err != nil {
			return nil, fmt.Errorf("%s: %w", pragma, err)
		}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(ctx, `PRAGMA cache_size = -2000`)
		conn.ExecContext(ctx, `PRAGMA threads = 0`)
	}, nil
}

// BulkCopy is false: SQLite has no copy protocol; a prepared multi-row
// INSERT is its fastest load.
func (dialect) BulkCopy() bool { return false }

func (dialect) CopyFrom(context.Context, *sql.Conn, string, []string, [][]any) (int64, error) {
	return 0, errors.ErrUnsupported
}

// Analyze does nothing: without statistics SQLite plans trueup's queries
// by their indexes, which is the plan wanted.
func (dialect) Analyze(context.Context, *sql.Tx, ...string) error { return nil }

// PreferHashJoins does nothing: SQLite joins by nested loops, probing an
// index.
func (dialect) PreferHashJoins(context.Context, *sql.Tx) error { return nil }

func (dialect) IndexExists(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n)
	return n > 0, err
}

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
