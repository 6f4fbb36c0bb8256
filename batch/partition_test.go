package batch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/sqlstore"
)

// batchOutcome is everything a finished batch shows: its state, counts,
// row errors, money at stake and list, in order (seqs left out: they are
// the list's keys, not its content).
type batchOutcome struct {
	state     trueup.BatchState
	counts    trueup.DiffCounts
	rowsRead  int64
	errTotal  int64
	failure   string
	skipped   []string
	atStake   string
	rowErrors []trueup.RowError
	diffs     []string
	partJobs  int // jobs of kind batch.part the batch ran
}

// runBatch submits the statement data (named name) with svc and works the
// batch's jobs with a runner of three workers until the batch ends.
func runBatch(tb testing.TB, store *sqlstore.DB, svc *batch.Service, carrier trueup.Carrier, cycle trueup.Cycle, name string, data []byte) batchOutcome {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	no, err := svc.Submit(ctx, batch.SubmitParams{Carrier: carrier, Cycle: cycle.String(), FileName: name, File: f, Size: int64(len(data))})
	if err != nil {
		tb.Fatalf("submit %s: %v", name, err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	runner := &jobs.Runner{Store: store, Logger: slog.New(slog.DiscardHandler), Workers: 3, Poll: 5 * time.Millisecond, Lease: 10 * time.Second,
		Handlers: map[string]jobs.Kind{
			batch.JobKind:     jobs.Handle(svc.Process, svc.GiveUp),
			batch.JobPart:     jobs.Handle(svc.ProcessPart, svc.GiveUp),
			batch.JobAssemble: jobs.Handle(svc.Assemble, svc.GiveUp),
		}}
	runner.Start(runCtx)
	defer func() { cancel(); runner.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	var b trueup.Batch
	var attempt int
	for {
		if b, attempt, err = store.Batch(ctx, no); err != nil {
			tb.Fatal(err)
		}
		if b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("batch %s did not end within a minute: %+v", no, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := batchOutcome{state: b.State, counts: b.Counts, rowsRead: b.RowsRead, errTotal: b.RowErrors, failure: b.Failure, skipped: b.SkippedSheets}
	stake, err := store.BatchAtStake(ctx, no)
	if err != nil {
		tb.Fatal(err)
	}
	out.atStake = stake.String()
	if out.rowErrors, err = store.BatchRowErrors(ctx, no, attempt, 2*batch.MaxStoredRowErrors); err != nil {
		tb.Fatal(err)
	}
	var last int64
	err = store.EachDiscrepancy(ctx, no, attempt, func(d trueup.Discrepancy) error {
		if d.Seq <= last {
			tb.Errorf("seq %d after %d", d.Seq, last)
		}
		last, d.Seq = d.Seq, 0
		out.diffs = append(out.diffs, fmt.Sprintf("%+v", d))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	done, err := store.JobsInState(ctx, trueup.JobCompleted, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, j := range done {
		if j.Kind == batch.JobPart && strings.Contains(j.Args, string(no)) {
			out.partJobs++
		}
	}
	// The split goes just after the batch ends.
	for {
		sp, err := store.BatchSplit(ctx, no, attempt)
		if trueup.ErrorKind(err) == trueup.ENOTFOUND {
			break
		}
		if time.Now().After(deadline) {
			tb.Errorf("batch %s ended with its split still stored (%+v, %v)", no, sp, err)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return out
}

// TestPartitionsChangeNothing checks statements (CSV and xlsx, one sheet
// and several, with repeats, bad rows past the stored bound, every kind of
// discrepancy) in 1, 2, 3 and 7 parts, with the rows in memory and spilled
// to runs: the outcome, the row errors and the list, in order, are those
// of the check in one job; on both engines.
func TestPartitionsChangeNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("checks many batches")
	}
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			spec := gen.Spec{Orders: 1200, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 11, MissingEvery: 7, ExtraEvery: 9, RightsEvery: 5, AmountEvery: 4}
			carrier := carrierWithLedger(t, store, "Parts", spec)
			var rows [][]string
			if err := spec.EachStatementRow(func(cells []string) error {
				rows = append(rows, append([]string(nil), cells...))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// statementCSV writes rows as CSV, each changed by edit first
			// (which may drop it or add rows after it).
			statementCSV := func(edit func(i int, r []string) [][]string) []byte {
				var b bytes.Buffer
				w := csv.NewWriter(&b)
				w.Write(gen.StatementHeader)
				for i, r := range rows {
					w.WriteAll(edit(i, append([]string(nil), r...)))
				}
				w.Flush()
				return b.Bytes()
			}
			xlsx := func(opt gen.XLSXOptions) []byte {
				var b bytes.Buffer
				if err := spec.WriteXLSX(&b, opt); err != nil {
					t.Fatal(err)
				}
				return b.Bytes()
			}
			statements := []struct {
				name string
				data []byte
			}{
				{"good.csv", statementCSV(func(_ int, r []string) [][]string { return [][]string{r} })},
				{"inline.xlsx", xlsx(gen.XLSXOptions{})},
				{"sheets.xlsx", xlsx(gen.XLSXOptions{SharedStrings: true, SheetRows: 300, Notes: true})},
				{"repeats.csv", statementCSV(func(i int, r []string) [][]string {
					switch i {
					case 10:
						return [][]string{r, rows[1000]}
					case 20:
						r[8] = "twelve"
					case 1100:
						return [][]string{r, rows[3], rows[1000]}
					}
					return [][]string{r}
				})},
				{"many-errors.csv", statementCSV(func(i int, r []string) [][]string {
					if i%2 == 1 { // two errors a row
						r[2], r[5] = "yesterday", "never"
					}
					if i%300 == 7 {
						return [][]string{r, rows[i-7]}
					}
					return [][]string{r}
				})},
			}
			for _, st := range statements {
				t.Run(st.name, func(t *testing.T) {
					want := runBatch(t, store, batch.New(store, nil), carrier, spec.Cycle, st.name, st.data)
					switch {
					case st.name == "good.csv" && (want.state != trueup.BatchSucceeded || want.counts != spec.Expected()):
						t.Fatalf("in one job: %s, counts %+v, want %+v", want.state, want.counts, spec.Expected())
					case st.name == "sheets.xlsx" && (want.state != trueup.BatchSucceeded || len(want.skipped) != 1):
						t.Fatalf("in one job: %s, skipped %q (%s)", want.state, want.skipped, want.failure)
					case st.name == "many-errors.csv" && (want.errTotal <= batch.MaxStoredRowErrors || len(want.rowErrors) != batch.MaxStoredRowErrors):
						t.Fatalf("in one job: %d row errors, %d stored", want.errTotal, len(want.rowErrors))
					}
					for _, spill := range []bool{false, true} {
						for _, parts := range []int{1, 2, 3, 7} {
							svc := batch.New(store, nil)
							svc.Partitions = parts
							svc.TempDir = t.TempDir()
							if spill {
								batch.SetMatchRunRows(svc, 150)
							}
							got := runBatch(t, store, svc, carrier, spec.Cycle, st.name, st.data)
							what := fmt.Sprintf("%d parts, spilled %v", parts, spill)
							if wantJobs := parts; parts == 1 || want.state != trueup.BatchSucceeded {
								if got.partJobs != 0 {
									t.Errorf("%s: %d part jobs, want none", what, got.partJobs)
								}
							} else if got.partJobs != wantJobs {
								t.Errorf("%s: %d part jobs, want %d", what, got.partJobs, wantJobs)
							}
							compareOutcomes(t, what, got, want)
						}
					}
				})
			}
		})
	}
}

func compareOutcomes(t *testing.T, what string, got, want batchOutcome) {
	t.Helper()
	if a, b := fmt.Sprintf("%s %v %d %d %q %q %s", got.state, got.counts, got.rowsRead, got.errTotal, got.failure, got.skipped, got.atStake),
		fmt.Sprintf("%s %v %d %d %q %q %s", want.state, want.counts, want.rowsRead, want.errTotal, want.failure, want.skipped, want.atStake); a != b {
		t.Errorf("%s: outcome\n%s\nwant\n%s", what, a, b)
	}
	if a, b := fmt.Sprintf("%+v", got.rowErrors), fmt.Sprintf("%+v", want.rowErrors); a != b {
		t.Errorf("%s: row errors differ\n%.600s\nwant\n%.600s", what, a, b)
	}
	if len(got.diffs) != len(want.diffs) {
		t.Fatalf("%s: %d discrepancies, want %d", what, len(got.diffs), len(want.diffs))
	}
	for i := range want.diffs {
		if got.diffs[i] != want.diffs[i] {
			t.Fatalf("%s: discrepancy %d\n%s\nwant\n%s", what, i, got.diffs[i], want.diffs[i])
		}
	}
}
