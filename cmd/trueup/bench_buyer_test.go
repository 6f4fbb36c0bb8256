package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/sqlstore"
)

// The buyer benchmarks measure, through the real server and the typed
// client, on SQLite and (with TRUEUP_TEST_POSTGRES_URL) PostgreSQL:
//
//   - BenchmarkBuyerLaunchToSuccess: a 100,000-transaction process from the
//     launch call to Success (goal: 5 s on 2 cores);
//   - BenchmarkBuyerListInfo: the process list and information of a survey
//     with 10,000 past processes, p50 and p99 (goal: p99 ≤ 20 ms).
//
// Each sets its data up once (not timed) and loops with b.Loop, so that
// -benchtime bounds it: see docs/benchmarks-buyer.md for the command.

const (
	benchTransactions = 100_000
	benchProcesses    = 10_000
	benchSurvey       = 424242
)

// benchWorld is a served store with one buyer.
type benchWorld struct {
	store *sqlstore.DB
	main  *Main
	api   *client.Buyer
	buyer buyer.Buyer
}

func newBenchWorld(b *testing.B, eng buyerEngine) *benchWorld {
	b.Helper()
	store, _ := eng.open(b)
	m := &Main{Logger: slog.New(slog.DiscardHandler)}
	if err := m.Open(context.Background(), store, ServeConfig{Addr: "127.0.0.1:0", Workers: 2, JobLease: 30 * time.Second}); err != nil {
		store.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	cred, err := m.Server.Buyers.CreateBuyer(context.Background(), buyer.CreateBuyerParams{Name: "Bench Buyer"})
	if err != nil {
		b.Fatal(err)
	}
	by, err := store.BuyerStore().Buyer(context.Background(), cred.BuyerID)
	if err != nil {
		b.Fatal(err)
	}
	h := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	return &benchWorld{store: store, main: m, api: client.NewBuyer("http://"+m.Server.Addr(), cred.AccessToken, h), buyer: by}
}

// importCompletes stores n completes on the bench survey.
func (w *benchWorld) importCompletes(b *testing.B, n int) []client.AdjustmentEntry {
	b.Helper()
	ctx := context.Background()
	imp, err := w.store.BuyerStore().BeginTransactionImport(ctx, w.buyer.ID)
	if err != nil {
		b.Fatal(err)
	}
	defer imp.Rollback()
	entries := make([]client.AdjustmentEntry, n)
	for i := range n {
		id := fmt.Sprintf("bench-%07d", i)
		if err := imp.Add(ctx, buyer.Transaction{ID: id, SurveyID: benchSurvey, Status: buyer.TxComplete}, 0); err != nil {
			b.Fatal(err)
		}
		entries[i] = client.AdjustmentEntry{TransactionID: id, ChangeReason: "Suspected Fraud"}
	}
	if _, err := imp.Commit(); err != nil {
		b.Fatal(err)
	}
	return entries
}

// BenchmarkBuyerLaunchToSuccess launches a process over 100,000
// transactions and waits for Success; iterations alternate rejecting all of
// them and completing them again, so every iteration changes 100,000.
func BenchmarkBuyerLaunchToSuccess(b *testing.B) {
	for _, eng := range buyerEngines {
		b.Run(eng.name, func(b *testing.B) {
			w := newBenchWorld(b, eng)
			entries := w.importCompletes(b, benchTransactions)
			ctx := context.Background()
			var launchTotal, total time.Duration
			n := 0
			for b.Loop() {
				mode := client.LaunchReject
				if n%2 == 1 {
					mode = client.LaunchComplete
				}
				start := time.Now()
				a, err := w.api.LaunchSurveyAdjustment(ctx, benchSurvey, mode, entries)
				if err != nil {
					b.Fatal(err)
				}
				launched := time.Since(start)
				wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
				done, err := w.api.WaitAdjustment(wctx, benchSurvey, a.AdjustmentID, 5*time.Millisecond)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if done.Status != client.AdjustmentSuccess || done.Summary.LiveReconciled != benchTransactions {
					b.Fatalf("process ended %d with %d changes", done.Status, done.Summary.LiveReconciled)
				}
				launchTotal += launched
				total += time.Since(start)
				n++
			}
			b.ReportMetric(float64(launchTotal.Milliseconds())/float64(n), "launch-ms/op")
			b.ReportMetric(float64(total.Milliseconds())/float64(n), "to-success-ms/op")
		})
	}
}

// BenchmarkBuyerListInfo measures the process list and the process
// information of a survey with 10,000 past processes. Each iteration makes
// one list call and one information call as raw HTTP requests (time until
// the last byte of the answer is read: the server's latency as a client
// sees it). After the loop, 50 list calls each right after a launch on the
// survey (so the list is read from the database again: list-cold) and 50
// list calls through the typed client (which adds the decoding of 10,000
// entries on the client's side).
func BenchmarkBuyerListInfo(b *testing.B) {
	for _, eng := range buyerEngines {
		b.Run(eng.name, func(b *testing.B) {
			w := newBenchWorld(b, eng)
			w.importCompletes(b, 1)
			ids := w.pastProcesses(b, benchProcesses)
			ctx := context.Background()
			get := func(path string) time.Duration {
				start := time.Now()
				req, _ := http.NewRequest(http.MethodGet, w.api.BaseURL+path, nil)
				req.Header.Set("access-token", w.api.AccessToken)
				resp, err := w.api.HTTP.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n == 0 {
					b.Fatalf("GET %s: HTTP %d", path, resp.StatusCode)
				}
				return time.Since(start)
			}
			listPath := fmt.Sprintf("/buyers/v2/surveys/%d/adjustments", benchSurvey)
			var list, info, typed []time.Duration
			i := 0
			for b.Loop() {
				list = append(list, get(listPath))
				info = append(info, get(fmt.Sprintf("%s/%s", listPath, ids[(i*7919)%len(ids)])))
				i++
			}
			b.StopTimer()
			// A list read right after a change of it (a process launched)
			// misses the cache and reads the rows.
			var cold []time.Duration
			for range 50 {
				w.pastProcesses(b, 1)
				cold = append(cold, get(listPath))
			}
			for range 50 {
				start := time.Now()
				refs, err := w.api.SurveyAdjustments(ctx, benchSurvey)
				if err != nil || len(refs) < benchProcesses {
					b.Fatalf("list: %d processes, %v", len(refs), err)
				}
				typed = append(typed, time.Since(start))
			}
			for _, m := range []struct {
				name string
				d    []time.Duration
			}{{"list", list}, {"info", info}, {"list-cold", cold}, {"client-list", typed}} {
				slices.Sort(m.d)
				b.ReportMetric(float64(m.d[len(m.d)/2].Microseconds())/1000, m.name+"-p50-ms")
				b.ReportMetric(float64(m.d[min(len(m.d)-1, len(m.d)*99/100)].Microseconds())/1000, m.name+"-p99-ms")
			}
		})
	}
}

// pastProcesses stores n finished processes on the bench survey, each with
// a one-survey summary, eight at a time, and returns their ids.
func (w *benchWorld) pastProcesses(b *testing.B, n int) []buyer.AdjustmentID {
	b.Helper()
	ctx := context.Background()
	ids := make([]buyer.AdjustmentID, n)
	sum := buyer.Summary{DesiredStatus: 33, Transactions: 1, Eligible: 1, Rejected: 1, RejectingCompletesInCurrentUpload: 1, CurrentCompletes: 1,
		TotalRejects: 1, TotalRawCompletes: 1, RejectPercentage: 10000, ValidCap: true, IsAPIUser: true,
		SummaryPerSurvey: []buyer.SurveySummary{{SurveyID: benchSurvey, SurveyStatus: buyer.SurveyLive, DesiredStatus: 33, Transactions: 1, Eligible: 1,
			Rejected: 1, RejectingCompletesInCurrentUpload: 1, CurrentCompletes: 1, TotalRejects: 1, TotalRawCompletes: 1, RejectPercentage: 10000, ValidCap: true, IsAPIUser: true}}}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 8 {
				a := buyer.Adjustment{ID: buyer.NewAdjustmentID(), BuyerID: w.buyer.ID, Survey: benchSurvey, Mode: buyer.ModeLive,
					Desired: buyer.TxReconciliationReject, IsAPI: true, Surveys: []buyer.SurveyID{benchSurvey}, Summary: sum}
				if _, err := w.store.BuyerStore().CreateAdjustment(ctx, buyer.CreateAdjustmentParams{Adjustment: a,
					Items: []buyer.Item{{TransactionID: "bench-0000000", Reason: buyer.ReasonSuspectedFraud}}}); err != nil {
					errs <- err
					return
				}
				if err := w.store.BuyerStore().CancelAdjustment(ctx, a.ID); err != nil {
					errs <- err
					return
				}
				ids[i] = a.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return ids
}
