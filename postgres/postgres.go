// Package postgres opens trueup's PostgreSQL storage through pgx, for
// deployments that outgrow one machine: many replicas share one database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/trueup/trueup/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationsFS holds the numbered migrations Open applies.
var migrationsFS = mustSub(migrations, "migrations")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dir is a literal embedded above
	}
	return sub
}

// Open connects to the database at url (postgres://...) and applies pending
// migrations.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect postgres: %w", err)
	}
	conn := stdlib.OpenDBFromPool(pool)
	db := sqlstore.New(conn, Dialect, migrationsFS)
	// Closing a *sql.DB made from a pool leaves the pool open.
	db.OnClose(pool.Close)
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return db, nil
}

// Dialect is PostgreSQL's dialect.
var Dialect sqlstore.Dialect = dialect{}

// dialect implements sqlstore.Dialect for PostgreSQL: $n placeholders, row
// locks, data-modifying CTEs and array parameters.
type dialect struct{}

func (dialect) Name() string               { return "postgres" }
func (dialect) NumberedPlaceholders() bool { return true }
func (dialect) ForUpdate() string          { return "FOR UPDATE" }
func (dialect) SkipLocked() string         { return "FOR UPDATE SKIP LOCKED" }
func (dialect) CollateC() string           { return ` COLLATE "C"` }
func (dialect) SerializedWriters() bool    { return false }
func (dialect) WritableCTE() bool          { return true }
func (dialect) UpsertLocksRows() bool      { return true }
func (dialect) ArrayParams() bool          { return true }

// DDLBlocksReaders is true: a dropped index holds an exclusive lock on its
// table until the transaction ends.
func (dialect) DDLBlocksReaders() bool { return true }

// RefreshStats is ANALYZE: until autovacuum gets to a freshly loaded
// table, the planner may take any index that shares a query's leading
// columns.
func (dialect) RefreshStats(table string) string { return "ANALYZE " + table }

// migrationLock is the advisory lock key migrations take, with the schema
// as the second key: stores in two schemas of one database migrate apart.
const migrationLock = 7427

func (dialect) LockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLock)
	return err
}

// BeginBulkLoad changes nothing: PostgreSQL's settings serve bulk loads.
func (dialect) BeginBulkLoad(context.Context, *sql.Conn) (func(), error) { return func() {}, nil }

// BulkCopy is true: COPY loads rows several times faster than INSERT.
func (dialect) BulkCopy() bool { return true }

// CopyFrom copies rows into table with pgx's binary COPY over the pgx
// connection under conn.
func (dialect) CopyFrom(ctx context.Context, conn *sql.Conn, table string, columns []string, rows [][]any) (int64, error) {
	var n int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: connection is a %T, not pgx", table, dc)
		}
		var err error
		n, err = c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		return err
	})
	return n, err
}

// Analyze runs ANALYZE on tables: autovacuum analyzes a freshly loaded
// table only later, and until then the planner may filter a whole cycle
// rather than use the index.
func (dialect) Analyze(ctx context.Context, tx *sql.Tx, tables ...string) error {
	if len(tables) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `ANALYZE `+strings.Join(tables, ", "))
	return err
}

// PreferHashJoins turns nested-loop joins off for the rest of tx: the
// anti-join of a cycle's cases with a batch's discrepancies, planned on
// tables with no statistics yet, would otherwise loop over one for each
// row of the other.
func (dialect) PreferHashJoins(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return fmt.Errorf("prefer hash joins: %w", err)
	}
	return nil
}

func (dialect) IndexExists(ctx context.Context, db *sql.DB, name string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1 AND schemaname = current_schema()`, name).Scan(&n)
	return n > 0, err
}

func (dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}
