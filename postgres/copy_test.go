package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/postgres/pgtest"
)

// TestCopyFrom copies values that COPY's text format must escape and
// reads them back as they were.
func TestCopyFrom(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE TABLE c (s TEXT, n BIGINT, d NUMERIC, t TIMESTAMPTZ)`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 10, 27, 11, 47, 46, 977000000, time.FixedZone("x", 3600))
	tests := []struct {
		s string
		n int64
		d string
	}{
		{"plain", 1, "0.00743"},
		{`back\slash`, -2, "35.66"},
		{"tab\there", 0, "1.50"},
		{"new\nline and\r\nreturn", 1 << 40, "-0.5"},
		{`\.`, 3, "0"},
		{"", 4, "12345678901234567890.123456789"},
		{"ünïcode ✓", 5, "7"},
	}
	rows := make([][]any, 0, len(tests)+1)
	for _, tt := range tests {
		rows = append(rows, []any{tt.s, tt.n, decimal.RequireFromString(tt.d), at})
	}
	rows = append(rows, []any{nil, nil, nil, nil})
	n, err := postgres.Dialect.CopyFrom(ctx, conn, "c", []string{"s", "n", "d", "t"}, rows)
	if err != nil || n != int64(len(rows)) {
		t.Fatalf("CopyFrom = %d, %v; want %d rows", n, err, len(rows))
	}
	for _, tt := range tests {
		var d string
		var got time.Time
		err := conn.QueryRowContext(ctx, `SELECT d::text, t FROM c WHERE s = $1 AND n = $2`, tt.s, tt.n).Scan(&d, &got)
		if err != nil {
			t.Errorf("%q: %v", tt.s, err)
			continue
		}
		if !decimal.RequireFromString(d).Equal(decimal.RequireFromString(tt.d)) || !got.Equal(at) {
			t.Errorf("%q: got %s %v, want %s %v", tt.s, d, got, tt.d, at)
		}
	}
	var nulls int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM c WHERE s IS NULL AND n IS NULL AND d IS NULL AND t IS NULL`).Scan(&nulls); err != nil || nulls != 1 {
		t.Errorf("rows of NULLs = %d, %v; want 1", nulls, err)
	}
}
