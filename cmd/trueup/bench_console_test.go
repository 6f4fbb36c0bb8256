package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/operator"
)

// BenchmarkConsoleDiscrepancyPage measures the server time of a
// discrepancy-browser page (the console's batch page: the batch, its
// carrier, the page of 50 and the template) on a batch of 1,000,000
// discrepancies (TRUEUP_BENCH_DISCREPANCIES to change), at the start, the
// middle and the end of each order, with a kind filter and with a
// search; goal ≤ 100 ms at any depth. The batch is written once through
// the store's discrepancy writer (not timed; its time is logged), then
// each page is served by the console's handler in-process, so that the
// figure is the server's time without the network. Runs on SQLite and,
// with TRUEUP_TEST_POSTGRES_URL, PostgreSQL. See docs/benchmarks.md.
func BenchmarkConsoleDiscrepancyPage(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("TRUEUP_BENCH_DISCREPANCIES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	for _, eng := range e2eEngines {
		b.Run(eng.name, func(b *testing.B) {
			store, _ := eng.open(b)
			m := &Main{Logger: slog.New(slog.DiscardHandler)}
			if err := m.Open(context.Background(), store, ServeConfig{Addr: "127.0.0.1:0", Workers: 1, JobLease: 30 * time.Second}); err != nil {
				store.Close()
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				m.Close(ctx)
			})
			ctx := context.Background()
			cred, err := m.Auth.CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Bench"})
			if err != nil {
				b.Fatal(err)
			}
			no := benchDiscrepancyBatch(b, m, cred.CarrierID, n)
			pw := "bench-password-0123456789"
			if _, err := m.Operators.Create(ctx, operator.CreateParams{Email: "bench@example.com", Role: operator.RoleViewer, Password: pw}); err != nil {
				b.Fatal(err)
			}
			in, err := m.Operators.SignIn(ctx, operator.SignInParams{Email: "bench@example.com", Password: pw})
			if err != nil {
				b.Fatal(err)
			}
			page := "/console/batches/" + string(no)
			mid, end := int64(n/2), int64(n-50)
			// Gaps are (i*7919 mod 100000) cents: the middle of the gap
			// order is near 500.00, in millionths.
			midGap := strconv.FormatInt(500_000_000, 10)
			cases := []struct{ name, query string }{
				{"file/first", ""},
				{"file/middle", "?after=" + strconv.FormatInt(mid, 10)},
				{"file/last", "?after=" + strconv.FormatInt(end, 10)},
				{"gap-desc/first", "?sort=gap-desc"},
				{"gap-desc/middle", "?sort=gap-desc&after=" + midGap + "." + strconv.FormatInt(mid, 10)},
				{"gap-desc/last", "?sort=gap-desc&after=1000000.1"},
				{"gap-asc/middle", "?sort=gap-asc&after=" + midGap + "." + strconv.FormatInt(mid, 10)},
				{"kind/middle", "?kind=4&after=" + strconv.FormatInt(mid, 10)},
				{"kind-gap-desc/middle", "?kind=3&sort=gap-desc&after=" + midGap + "." + strconv.FormatInt(mid, 10)},
				{"search", "?q=o" + strconv.Itoa(n/3)},
				{"search-user/largest-first", "?sort=gap-desc&q=u1234"},
				{"search-user/middle", "?q=u1234&after=" + strconv.FormatInt(mid, 10)},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					req := httptest.NewRequest(http.MethodGet, page+c.query, nil)
					req.AddCookie(&http.Cookie{Name: "trueup_session", Value: in.Token})
					for b.Loop() {
						rec := httptest.NewRecorder()
						m.Console.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatalf("%s: %d %s", c.query, rec.Code, rec.Body.String())
						}
					}
				})
			}
		})
	}
}

// benchDiscrepancyBatch stores a succeeded batch of n discrepancies of
// every kind, with amount gaps spread over 0.00 to 999.99.
func benchDiscrepancyBatch(b *testing.B, m *Main, carrier trueup.CarrierID, n int) trueup.BatchNo {
	b.Helper()
	ctx := context.Background()
	store := m.Store
	no := batch.NewBatchNo(time.Now())
	err := store.CreateBatch(ctx, batch.CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: carrier, Cycle: lastCycle().String(), FileName: "bench.csv", Format: "csv", FileSize: 1, CreatedAt: time.Now().UTC()},
		File:  strings.NewReader("x"), JobKind: "bench.none", JobArgs: "{}",
	})
	if err != nil {
		b.Fatal(err)
	}
	job, ok, err := store.ClaimJob(ctx, "bench", []string{"bench.none"}, time.Hour)
	if err != nil || !ok {
		b.Fatalf("claim the batch's job: %v", err)
	}
	if err := store.StartBatch(ctx, no, job.Attempt); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	w := store.NewDiscrepancyWriter(no, job.Attempt)
	defer w.Close()
	var counts trueup.DiffCounts
	total := decimal.RequireFromString("120.00")
	for i := 0; i < n; i++ {
		d := trueup.Discrepancy{CarrierOrderID: "o" + strconv.Itoa(i), KdOrderID: "k" + strconv.Itoa(i), CarrierUserID: "u" + strconv.Itoa(i%5000),
			KdUserID: "u" + strconv.Itoa(i%5000), DiffType: trueup.Kinds[i%len(trueup.Kinds)].Type, DiffReason: "bench", BillingCycle: lastCycle().String(),
			SkuCode: "sku", SkuPrice: total, KdSaleTotal: total, CarrierSaleToKd: total.Add(decimal.New(int64(i*7919%100000), -2)).String(),
			CarrierOrderTime: "2025-09-01 10:00:00", KdOrderTime: "2025-09-01 10:00:00", CarrierPackageID: "p1", KdPackageID: "p2"}
		counts.Add(d.DiffType)
		if err := w.Write(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: wrote %d discrepancies in %v", b.Name(), n, time.Since(start).Round(time.Millisecond))
	err = store.FinishBatch(ctx, batch.FinishBatchParams{No: no, Attempt: job.Attempt, State: trueup.BatchSucceeded, Counts: counts, RowsRead: int64(n), Job: job})
	if err != nil {
		b.Fatal(err)
	}
	return no
}
