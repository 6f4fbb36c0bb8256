package postgres_test

import (
	"context"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/storetest"
)

// TestLedgerImportAnalyzes loads a ledger into a fresh schema with
// autovacuum off and checks that the import left the planner statistics
// of what it wrote: without them PostgreSQL filtered a whole cycle for each
// chunk of ids a statement check looks up.
func TestLedgerImportAnalyzes(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	for _, table := range []string{"orders", "carrier_users"} {
		if _, err := db.SQL().ExecContext(ctx, `ALTER TABLE `+table+` SET (autovacuum_enabled = false)`); err != nil {
			t.Fatal(err)
		}
	}
	c := storetest.MustCarrier(t, db, "Analyzed")
	spec := gen.Spec{Orders: 20000, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 3}
	imp, err := db.BeginOrderImport(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	for i := 0; i < spec.Orders; i++ {
		if err := imp.Add(ctx, spec.Order(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"orders", "carrier_users"} {
		var analyzed bool
		var rows float64
		err := db.SQL().QueryRowContext(ctx, `SELECT s.last_analyze IS NOT NULL, c.reltuples FROM pg_stat_user_tables s
			JOIN pg_class c ON c.oid = s.relid WHERE s.relname = $1 AND s.schemaname = current_schema()`, table).Scan(&analyzed, &rows)
		if err != nil {
			t.Fatalf("%s statistics: %v", table, err)
		}
		if !analyzed || rows <= 0 {
			t.Errorf("%s after a bulk import: analyzed %v, %v rows estimated; want analyzed with rows", table, analyzed, rows)
		}
	}
}
