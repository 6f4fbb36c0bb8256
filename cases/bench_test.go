package cases_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/statement"
)

// BenchmarkCaseUpdate measures what applying a batch to its cycle's cases
// costs beside the check itself. For each engine it loads a ledger of
// TRUEUP_BENCH_ROWS orders (default 200,000) for two carriers, then checks
// two statements of one cycle as a batch does, each with one discrepancy
// in five rows (200,000 at 1 M): the first opens every case, the second
// (other orders differ) updates, resolves and opens. Both carriers check
// the same statements against the same ledger; the baseline carrier's
// cycle is closed, so its FinishBatch does all a succeeded batch's
// finish does (the batch's row, the cycle's lock, the commit and, on
// PostgreSQL, the statistics refresh after it) except applying the cases.
//
// Reported per batch: the check's time (the engine and the discrepancy
// writer); "cases": the time the store's debug record "cases applied"
// gives, the case update inside the finishing transaction, and cases /
// check as a percentage (goal: at most 25%); FinishBatch's time with the
// cases and without (baseline), their difference (the case update with
// what it adds to the commit, but with the spread of two runs of the rest)
// over the check; and FinishBatch / check. The two carriers take turns,
// batch by batch, so that both see the same load.
func BenchmarkCaseUpdate(b *testing.B) {
	n := 200_000
	if v := os.Getenv("TRUEUP_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	times := &caseTimes{next: slog.NewTextHandler(os.Stderr, nil), seconds: map[string]float64{}}
	prev := slog.Default()
	slog.SetDefault(slog.New(times))
	b.Cleanup(func() { slog.SetDefault(prev) })
	for _, eng := range engines {
		b.Run(eng.Name, func(b *testing.B) {
			ctx := context.Background()
			store := eng.Open(b)
			cyc := trueup.Cycle{Year: 2025, Month: 9}
			first := gen.Spec{Orders: n, Cycle: cyc, Seed: 1, MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
			second := first
			second.MissingEvery, second.RightsEvery = 19, 21
			var carriers [2]trueup.Carrier // with cases, baseline
			for j, name := range []string{"Bench", "Baseline"} {
				cred, err := auth.New(store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: name})
				if err != nil {
					b.Fatal(err)
				}
				carriers[j], _ = store.Carrier(ctx, cred.CarrierID)
				imp, err := store.BeginOrderImport(ctx, carriers[j].ID)
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
			}
			if err := store.CloseCycle(ctx, cases.CloseParams{CarrierID: carriers[1].ID, Cycle: cyc.String(), Actor: trueup.ActorSystem,
				Now: time.Now(), Summary: "{}"}); err != nil {
				b.Fatal(err)
			}
			svc := batch.New(store, nil)
			dir := b.TempDir()
			// run checks spec as batch no of carrier and finishes it: the
			// check's time, FinishBatch's, the discrepancies and the growth
			// of the process's peak resident set during FinishBatch.
			run := func(carrier trueup.Carrier, spec gen.Spec, no trueup.BatchNo) (check, finish time.Duration, diffs, rss, peak int64) {
				path := filepath.Join(dir, string(no)+".csv")
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				if err := spec.WriteCSV(f); err != nil {
					b.Fatal(err)
				}
				st, _ := f.Stat()
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
				if err != nil || res.Failure != "" {
					b.Fatalf("check: %v %s", err, res.Failure)
				}
				check = time.Since(start)
				rss = resetPeakRSS(b)
				start = time.Now()
				if err := store.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: 1, State: trueup.BatchSucceeded, Counts: res.Counts, RowsRead: res.RowsRead}); err != nil {
					b.Fatal(err)
				}
				finish = time.Since(start)
				return check, finish, res.Counts.Total(), rss, peakRSS(b)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k, spec := range []gen.Spec{first, second} {
					name := []string{"first", "second"}[k]
					suffix := strconv.Itoa(i) + "_" + strconv.Itoa(k)
					check, finish, diffs, rss, peak := run(carriers[0], spec, trueup.BatchNo("bench"+suffix))
					baseCheck, baseFinish, baseDiffs, _, _ := run(carriers[1], spec, trueup.BatchNo("base"+suffix))
					if baseDiffs != diffs {
						b.Fatalf("%s batch: %d discrepancies with cases, %d in the baseline", name, diffs, baseDiffs)
					}
					diff := finish - baseFinish
					upd, ok := times.take("bench" + suffix)
					if !ok {
						b.Fatalf("%s batch: no \"cases applied\" record", name)
					}
					b.ReportMetric(check.Seconds(), name+"-check-s")
					b.ReportMetric(upd, name+"-cases-s")
					b.ReportMetric(100*upd/check.Seconds(), name+"-cases-%")
					b.ReportMetric(finish.Seconds(), name+"-finish-s")
					b.ReportMetric(baseFinish.Seconds(), name+"-base-finish-s")
					b.ReportMetric(100*diff.Seconds()/check.Seconds(), name+"-finish-minus-base-%")
					b.ReportMetric(100*finish.Seconds()/check.Seconds(), name+"-finish-%")
					b.ReportMetric(float64(peak-rss)/(1<<20), name+"-finish-peak-MiB")
					b.Logf("%s batch: %d discrepancies; check %v (baseline's %v); cases %.3fs (%.1f%% of the check); FinishBatch %v (%.1f%%), baseline %v, difference %v (%.1f%%); RSS %d MiB before FinishBatch, peak %d MiB during it",
						name, diffs, check.Round(time.Millisecond), baseCheck.Round(time.Millisecond), upd, 100*upd/check.Seconds(),
						finish.Round(time.Millisecond), 100*finish.Seconds()/check.Seconds(), baseFinish.Round(time.Millisecond),
						diff.Round(time.Millisecond), 100*diff.Seconds()/check.Seconds(), rss>>20, peak>>20)
				}
			}
		})
	}
}

// caseTimes is a slog handler that keeps the seconds of the store's
// "cases applied" debug records by batch and passes every other record to
// next.
type caseTimes struct {
	next    slog.Handler
	mu      sync.Mutex
	seconds map[string]float64
}

const casesApplied = "cases applied"

func (h *caseTimes) Enabled(ctx context.Context, l slog.Level) bool {
	return l == slog.LevelDebug || h.next.Enabled(ctx, l)
}

func (h *caseTimes) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != casesApplied {
		if h.next.Enabled(ctx, r.Level) {
			return h.next.Handle(ctx, r)
		}
		return nil
	}
	var no string
	var s float64
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "batch_no":
			no = a.Value.String()
		case "seconds":
			s = a.Value.Float64()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seconds[no] = s
	return nil
}

func (h *caseTimes) WithAttrs(as []slog.Attr) slog.Handler { return h.next.WithAttrs(as) }
func (h *caseTimes) WithGroup(name string) slog.Handler    { return h.next.WithGroup(name) }

// take returns and forgets the seconds recorded for the batch no.
func (h *caseTimes) take(no string) (float64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.seconds[no]
	delete(h.seconds, no)
	return s, ok
}

// resetPeakRSS resets the process's peak resident set (Linux: 5 to
// /proc/self/clear_refs) and returns its current resident set in bytes, 0
// where /proc is not there.
func resetPeakRSS(tb testing.TB) int64 {
	tb.Helper()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return procStatus(tb, "VmRSS:")
}

// peakRSS returns the process's peak resident set in bytes since the last
// resetPeakRSS.
func peakRSS(tb testing.TB) int64 {
	tb.Helper()
	return procStatus(tb, "VmHWM:")
}

func procStatus(tb testing.TB, field string) int64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib << 10
		}
	}
	return 0
}
