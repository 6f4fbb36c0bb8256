package storetest

import (
	"context"
	"database/sql"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/sqlstore"
)

// RunCountsMigration checks migration 008 on an empty database: batches
// written with the per-kind columns count_1 to count_4 (migrations up to
// 007) keep their counts, zero ones included, once 008 has moved them into
// the counts column, and the columns are gone. migrations is the engine's
// folder of numbered migrations.
func RunCountsMigration(t *testing.T, conn *sql.DB, d sqlstore.Dialect, migrations fs.FS) {
	t.Helper()
	ctx := context.Background()
	before := fstest.MapFS{}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name >= "008" {
			continue
		}
		b, err := fs.ReadFile(migrations, name)
		if err != nil {
			t.Fatal(err)
		}
		before[name] = &fstest.MapFile{Data: b}
	}
	old := sqlstore.New(conn, d, before)
	if err := old.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 007: %v", err)
	}
	c := MustCarrier(t, old, "Migrating")
	tests := []struct {
		no     trueup.BatchNo
		counts [4]int64
		want   trueup.DiffCounts
	}{
		{"20250103_1", [4]int64{1, 2, 3, 4}, trueup.DiffCounts{trueup.DiffMissingOnCarrier: 1, trueup.DiffMissingOnPlatform: 2, trueup.DiffRights: 3, trueup.DiffAmount: 4}},
		{"20250103_2", [4]int64{0, 0, 7, 0}, trueup.DiffCounts{trueup.DiffRights: 7}},
		{"20250103_3", [4]int64{}, trueup.DiffCounts{}},
		{"20250103_4", [4]int64{9000000000, 0, 0, 1}, trueup.DiffCounts{trueup.DiffMissingOnCarrier: 9000000000, trueup.DiffAmount: 1}},
	}
	q := `INSERT INTO batches (batch_no, carrier_id, billing_cycle, file_name, format, file_size, state, count_1, count_2, count_3, count_4, created_at)
		VALUES (?, ?, '2025-09', 's.csv', 'csv', 1, ?, ?, ?, ?, ?, ?)`
	if d.NumberedPlaceholders() {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	for _, tt := range tests {
		if _, err := conn.ExecContext(ctx, q, tt.no, c.ID, trueup.BatchSucceeded, tt.counts[0], tt.counts[1], tt.counts[2], tt.counts[3], time.Now().UTC()); err != nil {
			t.Fatalf("insert batch %s: %v", tt.no, err)
		}
	}
	db := sqlstore.New(conn, d, migrations)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate to 008: %v", err)
	}
	for _, tt := range tests {
		b, _, err := db.Batch(ctx, tt.no)
		if err != nil {
			t.Fatal(err)
		}
		if b.Counts != tt.want {
			t.Errorf("batch %s: counts %v after the migration, want %v (count_N were %v)", tt.no, b.Counts, tt.want, tt.counts)
		}
	}
	if _, err := conn.ExecContext(ctx, `SELECT count_1 FROM batches`); err == nil {
		t.Errorf("batches.count_1 still exists after migration 008")
	}
}
