package postgres_test

import (
	"testing"

	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, pgtest.Open)
}

func BenchmarkLedgerImport(b *testing.B) {
	storetest.BenchmarkLedgerImport(b, pgtest.Open)
}

func BenchmarkDiscrepancyWriter(b *testing.B) {
	storetest.BenchmarkDiscrepancyWriter(b, pgtest.Open)
}
