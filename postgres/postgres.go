// Package postgres opens trueup's PostgreSQL storage through pgx, for
// deployments that outgrow one machine: many replicas share one database.
package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"time"

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

// CopyFrom copies rows into table with a text-format COPY over the pgx
// connection under conn. A value is a string, an int64, a time.Time or a
// fmt.Stringer written as the column's text (a decimal.Decimal); nil is
// NULL. Text rather than pgx's binary COPY: pgx encodes a decimal into a
// binary NUMERIC through big-integer arithmetic, several microseconds a
// value, where the server reads its text for a fraction of that.
func (dialect) CopyFrom(ctx context.Context, conn *sql.Conn, table string, columns []string, rows [][]any) (int64, error) {
	var buf bytes.Buffer
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				buf.WriteByte('\t')
			}
			if err := appendCopyText(&buf, v); err != nil {
				return 0, fmt.Errorf("copy into %s column %s: %w", table, columns[i], err)
			}
		}
		buf.WriteByte('\n')
	}
	cols := make([]string, len(columns))
	for i, c := range columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	query := "COPY " + pgx.Identifier{table}.Sanitize() + " (" + strings.Join(cols, ", ") + ") FROM STDIN"
	var n int64
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: connection is a %T, not pgx", table, dc)
		}
		tag, err := c.Conn().PgConn().CopyFrom(ctx, &buf, query)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// appendCopyText appends v to buf as a value of COPY's text format.
func appendCopyText(buf *bytes.Buffer, v any) error {
	var b [64]byte
	switch v := v.(type) {
	case nil:
		buf.WriteString(`\N`)
	case string:
		appendCopyString(buf, v)
	case int64:
		buf.Write(strconv.AppendInt(b[:0], v, 10))
	case int:
		buf.Write(strconv.AppendInt(b[:0], int64(v), 10))
	case time.Time:
		buf.Write(v.UTC().AppendFormat(b[:0], "2006-01-02 15:04:05.999999Z07:00"))
	case fmt.Stringer:
		appendCopyString(buf, v.String())
	default:
		// A type whose underlying type is a string or an integer (an ID).
		switch rv := reflect.ValueOf(v); rv.Kind() {
		case reflect.String:
			appendCopyString(buf, rv.String())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			buf.Write(strconv.AppendInt(b[:0], rv.Int(), 10))
		default:
			return fmt.Errorf("cannot copy a %T", v)
		}
	}
	return nil
}

// appendCopyString appends s escaped for COPY's text format.
func appendCopyString(buf *bytes.Buffer, s string) {
	for {
		i := strings.IndexAny(s, "\\\t\n\r")
		if i < 0 {
			buf.WriteString(s)
			return
		}
		buf.WriteString(s[:i])
		switch s[i] {
		case '\\':
			buf.WriteString(`\\`)
		case '\t':
			buf.WriteString(`\t`)
		case '\n':
			buf.WriteString(`\n`)
		case '\r':
			buf.WriteString(`\r`)
		}
		s = s[i+1:]
	}
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
