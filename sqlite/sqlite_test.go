package sqlite_test

import (
	"context"
	"testing"

	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) *sqlstore.DB {
		tb.Helper()
		db, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	})
}

func BenchmarkLedgerImport(b *testing.B) {
	storetest.BenchmarkLedgerImport(b, func(tb testing.TB) *sqlstore.DB {
		tb.Helper()
		db, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	})
}

func BenchmarkDiscrepancyWriter(b *testing.B) {
	storetest.BenchmarkDiscrepancyWriter(b, func(tb testing.TB) *sqlstore.DB {
		tb.Helper()
		db, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	})
}
