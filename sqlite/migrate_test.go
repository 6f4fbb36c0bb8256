package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/storetest"
)

func TestCountsMigration(t *testing.T) {
	conn, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "trueup.db")+"?_pragma=foreign_keys(1)&_time_format=sqlite")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	storetest.RunCountsMigration(t, conn, sqlite.Dialect, os.DirFS("migrations"))
}
