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
var Dialect = sqlstore.Dialect{
	Name:              "sqlite",
	IsUniqueViolation: isUniqueViolation,
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}
