// Package pgtest gives each test its own PostgreSQL database, created from
// TRUEUP_TEST_POSTGRES_URL; tests skip when that variable is unset.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/sqlstore"
)

// EnvURL is the variable that holds the server's URL.
const EnvURL = "TRUEUP_TEST_POSTGRES_URL"

// URL creates a fresh, empty database for the test, dropped at cleanup, and
// returns its URL. It skips the test when EnvURL is unset.
func URL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		tb.Skipf("%s is not set; skipping PostgreSQL test", EnvURL)
	}
	return create(tb, base, "")
}

// create creates a database with the CREATE DATABASE options opts, dropped
// at cleanup, and returns its URL.
func create(tb testing.TB, base, opts string) string {
	tb.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect %s: %v", EnvURL, err)
	}
	defer admin.Close(ctx)
	name := "trueup_test_" + strings.ToLower(trueup.NewID(""))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" "+opts); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open returns a migrated store in a fresh schema of the database at
// EnvURL, dropped at cleanup. A schema is much cheaper to make and drop than
// a database, so tests that use Open can run in parallel.
func Open(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		tb.Skipf("%s is not set; skipping PostgreSQL test", EnvURL)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("connect %s: %v", EnvURL, err)
	}
	defer admin.Close(ctx)
	schema := "trueup_test_" + strings.ToLower(trueup.NewID(""))
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test's data need not survive a crash of the server: commits do
	// not wait for the disk.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		tb.Fatalf("open: %v", fmt.Errorf("postgres: %w", err))
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
