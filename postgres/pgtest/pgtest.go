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

// URL creates a fresh database for the test, dropped at cleanup, and
// returns its URL. It skips the test when EnvURL is unset.
func URL(tb testing.TB) string {
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
	name := "trueup_test_" + strings.ToLower(trueup.NewID(""))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
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

// Open returns a migrated store on a fresh database.
func Open(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), URL(tb))
	if err != nil {
		tb.Fatalf("open: %v", fmt.Errorf("postgres: %w", err))
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
