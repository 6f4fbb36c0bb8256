package sqlite_test

import (
	"testing"

	"github.com/trueup/trueup/storetest"
)

func TestStore(t *testing.T) { storetest.Run(t, storetest.OpenSQLite) }

func BenchmarkLedgerImport(b *testing.B) {
	storetest.BenchmarkLedgerImport(b, storetest.OpenSQLite)
}

func BenchmarkDiscrepancyWriter(b *testing.B) {
	storetest.BenchmarkDiscrepancyWriter(b, storetest.OpenSQLite)
}
