package batch_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
	"github.com/trueup/trueup/storetest"
)

// engines open a fresh store of each engine (PostgreSQL only when
// TRUEUP_TEST_POSTGRES_URL is set).
var engines = storetest.Engines()

// checkOutcome is what a check gives: its result and its list.
type checkOutcome struct {
	res   batch.CheckResult
	diffs []trueup.Discrepancy
}

// runCheck checks data with svc, collecting the list.
func runCheck(tb testing.TB, svc *batch.Service, carrier trueup.Carrier, cycle trueup.Cycle, data []byte) checkOutcome {
	tb.Helper()
	var out checkOutcome
	res, err := svc.Check(context.Background(), batch.CheckParams{Carrier: carrier, Cycle: cycle, File: bytes.NewReader(data), Size: int64(len(data)),
		Format: statement.CSV, Sink: func(_ context.Context, d trueup.Discrepancy) error {
			out.diffs = append(out.diffs, d)
			return nil
		}})
	if err != nil {
		tb.Fatal(err)
	}
	out.res = res
	return out
}

// carrierWithLedger creates a carrier named name in store, with the
// ledger of spec's orders.
func carrierWithLedger(tb testing.TB, store *sqlstore.DB, name string, spec gen.Spec) trueup.Carrier {
	tb.Helper()
	ctx := context.Background()
	cred, err := auth.New(store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: name})
	if err != nil {
		tb.Fatal(err)
	}
	carrier, err := store.Carrier(ctx, cred.CarrierID)
	if err != nil {
		tb.Fatal(err)
	}
	imp, err := store.BeginOrderImport(ctx, carrier.ID)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range spec.Orders {
		if err := imp.Add(ctx, spec.Order(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		tb.Fatal(err)
	}
	return carrier
}

// TestCheckSpilled: a statement matched through runs on disk gives the
// result, the row errors and the list, in the same order, that it gives
// matched in memory, whatever the number of runs; on both engines.
func TestCheckSpilled(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			store := eng.Open(t)
			spec := gen.Spec{Orders: 3000, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 5, MissingEvery: 7, ExtraEvery: 9, RightsEvery: 5, AmountEvery: 4}
			carrier := carrierWithLedger(t, store, "Spill", spec)
			var good bytes.Buffer
			if err := spec.WriteCSV(&good); err != nil {
				t.Fatal(err)
			}
			// A statement with repeats (of rows before and after) and a bad
			// amount.
			var rows [][]string
			if err := spec.EachStatementRow(func(cells []string) error {
				rows = append(rows, append([]string(nil), cells...))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var bad bytes.Buffer
			w := csv.NewWriter(&bad)
			w.Write(gen.StatementHeader)
			for i, r := range rows {
				w.Write(r)
				switch i {
				case 10:
					w.Write(rows[2500])
				case 20:
					r = append([]string(nil), r...)
					r[8] = "twelve"
					w.Write(r)
				case 2900:
					w.Write(rows[3])
					w.Write(rows[2500])
				}
			}
			w.Flush()

			for _, st := range []struct {
				name string
				data []byte
			}{{"good", good.Bytes()}, {"repeats", bad.Bytes()}} {
				want := runCheck(t, batch.New(store, nil), carrier, spec.Cycle, st.data)
				if st.name == "good" && (want.res.Failure != "" || want.res.Counts != spec.Expected()) {
					t.Fatalf("in memory: counts %+v (failure %q), want %+v", want.res.Counts, want.res.Failure, spec.Expected())
				}
				if st.name == "repeats" && (want.res.ErrTotal != 4 || want.res.Failure == "") {
					t.Fatalf("in memory: %d row errors %+v, want 4", want.res.ErrTotal, want.res.RowErrors)
				}
				for _, runs := range []int{1, 2, 7, 64} {
					svc := batch.New(store, nil)
					svc.TempDir = t.TempDir()
					batch.SetMatchRunRows(svc, (len(rows)+runs-1)/runs)
					got := runCheck(t, svc, carrier, spec.Cycle, st.data)
					if a, b := fmt.Sprintf("%+v", got.res), fmt.Sprintf("%+v", want.res); a != b {
						t.Errorf("%s, %d runs: result\n%s\nwant\n%s", st.name, runs, a, b)
					}
					if len(got.diffs) != len(want.diffs) {
						t.Fatalf("%s, %d runs: %d discrepancies, want %d", st.name, runs, len(got.diffs), len(want.diffs))
					}
					for i := range want.diffs {
						if a, b := fmt.Sprintf("%+v", got.diffs[i]), fmt.Sprintf("%+v", want.diffs[i]); a != b {
							t.Fatalf("%s, %d runs: discrepancy %d\n%s\nwant\n%s", st.name, runs, i, a, b)
						}
					}
				}
			}
		})
	}
}
