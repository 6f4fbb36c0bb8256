package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/statement"
)

// BenchmarkCheck runs the engine over a generated CSV statement against a
// SQLite ledger, writing discrepancies to the store as a batch does. Rows
// from TRUEUP_BENCH_ROWS (default 100,000).
func BenchmarkCheck(b *testing.B) {
	n := 100_000
	if v := os.Getenv("TRUEUP_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	dir := b.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "data"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	cred, err := auth.New(store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Bench"})
	if err != nil {
		b.Fatal(err)
	}
	carrier, _ := store.Carrier(ctx, cred.CarrierID)
	spec := gen.Spec{Orders: n, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 1, MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
	imp, err := store.BeginOrderImport(ctx, carrier.ID)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := imp.Add(ctx, spec.Order(i)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		b.Fatal(err)
	}
	// TRUEUP_BENCH_FORMAT: csv (default), xlsx-shared or xlsx-inline.
	format := statement.CSV
	path := filepath.Join(dir, "s.csv")
	f, _ := os.Create(path)
	var err2 error
	switch os.Getenv("TRUEUP_BENCH_FORMAT") {
	case "xlsx-shared":
		format, err2 = statement.XLSX, spec.WriteXLSX(f, gen.XLSXOptions{SharedStrings: true, NumericAmounts: true})
	case "xlsx-inline":
		format, err2 = statement.XLSX, spec.WriteXLSX(f, gen.XLSXOptions{NumericAmounts: true})
	default:
		err2 = spec.WriteCSV(f)
	}
	if err2 != nil {
		b.Fatal(err2)
	}
	st, _ := f.Stat()
	svc := batch.New(store, nil)
	svc.TempDir = dir
	// TRUEUP_BENCH_MATCH_MEMORY: the check's MatchMemory in bytes (a small
	// one makes it match through runs on disk).
	if v := os.Getenv("TRUEUP_BENCH_MATCH_MEMORY"); v != "" {
		svc.MatchMemory, _ = strconv.ParseInt(v, 10, 64)
	}
	want := spec.Expected()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		no := trueup.BatchNo("bench" + strconv.Itoa(i))
		if err := store.CreateBatch(ctx, batch.CreateBatchParams{Batch: trueup.Batch{No: no, CarrierID: carrier.ID, Cycle: spec.Cycle.String(),
			FileName: "s.csv", Format: "csv", CreatedAt: time.Now()}, File: strings.NewReader(""), JobKind: "none", JobArgs: "{}"}); err != nil {
			b.Fatal(err)
		}
		w := store.NewDiscrepancyWriter(no, 1)
		start := time.Now()
		sink := w.Write
		if os.Getenv("TRUEUP_BENCH_DISCARD") != "" {
			sink = func(context.Context, trueup.Discrepancy) error { return nil }
		}
		res, err := svc.Check(ctx, batch.CheckParams{Carrier: carrier, Cycle: spec.Cycle, File: f, Size: st.Size(), Format: format, Sink: sink,
			Progress: func(fr float64, rows int64) {
				if os.Getenv("TRUEUP_BENCH_TRACE") != "" {
					b.Logf("%6.0f ms %.2f %d", float64(time.Since(start).Milliseconds()), fr, rows)
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if res.Counts != want {
			b.Fatalf("counts %+v, want %+v (%s)", res.Counts, want, res.Failure)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/row")
	}
}
