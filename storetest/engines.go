package storetest

import (
	"context"
	"testing"

	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// Engine is a storage engine a test runs on: its name (for the subtest)
// and how to open a fresh, migrated, empty database of it.
type Engine struct {
	Name string
	Open Opener
}

// Engines returns the engines a storage-backed test runs on: SQLite, and
// PostgreSQL, whose Open skips the test when TRUEUP_TEST_POSTGRES_URL is
// unset (pgtest.Open).
func Engines() []Engine {
	return []Engine{{"sqlite", OpenSQLite}, {"postgres", pgtest.Open}}
}

// OpenSQLite returns a fresh, migrated SQLite database in the test's
// temporary folder, closed when the test ends.
func OpenSQLite(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
