package postgres_test

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver for database/sql
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/storetest"
)

func TestCountsMigration(t *testing.T) {
	conn, err := sql.Open("pgx", pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	storetest.RunCountsMigration(t, conn, postgres.Dialect, os.DirFS("migrations"))
}
