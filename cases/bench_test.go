package cases_test

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
	"github.com/trueup/trueup/statement"
)

// BenchmarkCaseUpdate measures what applying a batch to its cycle's cases
// costs beside the check itself. For each engine it loads a ledger of
// TRUEUP_BENCH_ROWS orders (default 200,000), then checks two statements of
// the cycle as a batch does, each with one discrepancy in five rows (a
// fifth of the rows: 200,000 at 1 M): the first opens every case, the
// second (other orders differ) updates, resolves and opens. It reports the
// check's time and FinishBatch's (the outcome, with the cases applied in
// its transaction), and the second over the first as a percentage (goal:
// at most 25%).
func BenchmarkCaseUpdate(b *testing.B) {
	n := 200_000
	if v := os.Getenv("TRUEUP_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			ctx := context.Background()
			store := eng.open(b)
			cred, err := auth.New(store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Bench"})
			if err != nil {
				b.Fatal(err)
			}
			carrier, _ := store.Carrier(ctx, cred.CarrierID)
			cyc := trueup.Cycle{Year: 2025, Month: 9}
			first := gen.Spec{Orders: n, Cycle: cyc, Seed: 1, MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
			second := first
			second.MissingEvery, second.RightsEvery = 19, 21
			imp, err := store.BeginOrderImport(ctx, carrier.ID)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if err := imp.Add(ctx, first.Order(i)); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := imp.Commit(); err != nil {
				b.Fatal(err)
			}
			svc := batch.New(store, nil)
			dir := b.TempDir()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, spec := range []gen.Spec{first, second} {
					path := filepath.Join(dir, "s"+strconv.Itoa(k)+".csv")
					f, err := os.Create(path)
					if err != nil {
						b.Fatal(err)
					}
					if err := spec.WriteCSV(f); err != nil {
						b.Fatal(err)
					}
					st, _ := f.Stat()
					no := trueup.BatchNo("bench" + strconv.Itoa(i) + "_" + strconv.Itoa(k))
					if err := store.CreateBatch(ctx, batch.CreateBatchParams{Batch: trueup.Batch{No: no, CarrierID: carrier.ID, Cycle: cyc.String(),
						FileName: "s.csv", Format: "csv", CreatedAt: time.Now()}, File: strings.NewReader(""), JobKind: "none", JobArgs: "{}"}); err != nil {
						b.Fatal(err)
					}
					if err := store.StartBatch(ctx, no, 1); err != nil {
						b.Fatal(err)
					}
					w := store.NewDiscrepancyWriter(no, 1)
					start := time.Now()
					res, err := svc.Check(ctx, batch.CheckParams{Carrier: carrier, Cycle: cyc, File: f, Size: st.Size(), Format: statement.CSV, Sink: w.Write})
					if err == nil {
						err = w.Flush(ctx)
					}
					f.Close()
					if err != nil || res.Failure != "" {
						b.Fatalf("check: %v %s", err, res.Failure)
					}
					check := time.Since(start)
					start = time.Now()
					if err := store.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: res.Counts, RowsRead: res.RowsRead}); err != nil {
						b.Fatal(err)
					}
					finish := time.Since(start)
					name := []string{"first", "second"}[k]
					b.ReportMetric(check.Seconds(), name+"-check-s")
					b.ReportMetric(finish.Seconds(), name+"-cases-s")
					b.ReportMetric(100*finish.Seconds()/check.Seconds(), name+"-cases-%")
					b.Logf("%s batch: %d discrepancies; check %v, FinishBatch with cases %v (%.1f%%)", name, res.Counts.Total(), check.Round(time.Millisecond),
						finish.Round(time.Millisecond), 100*finish.Seconds()/check.Seconds())
				}
			}
		})
	}
}
