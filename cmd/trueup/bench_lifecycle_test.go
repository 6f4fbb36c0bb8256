package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/sqlstore"
)

// BenchmarkNotify measures the most package notices per second the real
// server sustains on loopback: carrier authentication, the whitelist, the
// body, and one committed transaction per notice (every notice changes its
// package's state, so each writes an event, the state and the user's
// status). benchNotifyWorkers goroutines of the typed client, in the same
// process, keep that many notices in flight over kept-alive connections. It
// reports notices/s, the p50, p99 and max latency seen by the client, and
// the process's CPU time per notice (server and client). The server logs
// every request as a JSON line to a file, as it would in production.
//
//	go test -run '^$' -bench 'Notify$' -benchtime 20000x ./cmd/trueup/
//
// With TRUEUP_TEST_POSTGRES_URL set it runs on PostgreSQL too.
func BenchmarkNotify(b *testing.B) {
	for _, eng := range benchNotifyEngines {
		b.Run(eng.name, func(b *testing.B) {
			nb := newNoticeBench(b, eng)
			var next atomic.Int64
			lat := make([][]time.Duration, benchNotifyWorkers)
			nb.run(b, benchNotifyWorkers, func(w int) error {
				for {
					i := int(next.Add(1) - 1)
					if i >= b.N {
						return nil
					}
					t0 := time.Now()
					err := nb.send(i)
					lat[w] = append(lat[w], time.Since(t0))
					if err != nil {
						return err
					}
				}
			}, func() []time.Duration { return slices.Concat(lat...) })
		})
	}
}

// BenchmarkNotifyRate offers notices at a fixed rate (1,000 and 2,000 a
// second) and measures their latency from the moment each was due, so that
// a server falling behind shows in the figures rather than slowing the
// load down. Up to benchNotifyRateWorkers notices are in flight.
//
//	go test -run '^$' -bench 'NotifyRate' -benchtime 20000x ./cmd/trueup/
func BenchmarkNotifyRate(b *testing.B) {
	for _, eng := range benchNotifyEngines {
		for _, rate := range []int{1000, 2000} {
			b.Run(fmt.Sprintf("%s/%d", eng.name, rate), func(b *testing.B) {
				nb := newNoticeBench(b, eng)
				interval := time.Second / time.Duration(rate)
				jobs := make(chan int, b.N)
				lat := make([][]time.Duration, benchNotifyRateWorkers)
				var start time.Time
				nb.run(b, benchNotifyRateWorkers, func(w int) error {
					if w == 0 {
						start = time.Now()
						go func() {
							defer close(jobs)
							for i := range b.N {
								if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
									time.Sleep(d)
								}
								jobs <- i
							}
						}()
					}
					for i := range jobs {
						err := nb.send(i)
						lat[w] = append(lat[w], time.Since(start.Add(time.Duration(i)*interval)))
						if err != nil {
							return err
						}
					}
					return nil
				}, func() []time.Duration { return slices.Concat(lat...) })
			})
		}
	}
}

// benchNotifyEngines are the stores the benchmarks run on: each engine as
// trueup opens it, and SQLite with synchronous=FULL, which makes every
// commit wait for an fsync of the write-ahead log (trueup opens SQLite with
// synchronous=NORMAL: a commit survives a crash of the process, and the
// last ones may be lost in a power cut; PostgreSQL fsyncs every commit).
var benchNotifyEngines = []e2eEngine{
	e2eEngines[0],
	{"sqlite-syncfull", func(tb testing.TB) (*sqlstore.DB, []string) {
		store, args := e2eEngines[0].open(tb)
		// The pragma holds per connection: keep all eight open and set it
		// on each.
		ctx := context.Background()
		store.SQL().SetMaxIdleConns(8)
		var conns []*sql.Conn
		for range 8 {
			c, err := store.SQL().Conn(ctx)
			if err != nil {
				tb.Fatal(err)
			}
			if _, err := c.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
				tb.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		return store, args
	}},
	e2eEngines[1],
}

const (
	// benchNotifyWorkers is how many notices BenchmarkNotify keeps in
	// flight.
	benchNotifyWorkers = 16
	// benchNotifyRateWorkers is how many notices BenchmarkNotifyRate may
	// have in flight.
	benchNotifyRateWorkers = 64
	// benchNotifyUsers is how many users the notices go round; each has
	// three orders, and the notices name the package of the first.
	benchNotifyUsers = 2000
)

// noticeBench is a running server with a whitelisted carrier, its ledger
// and a client.
type noticeBench struct {
	store    *sqlstore.DB
	carrier  trueup.Carrier
	client   *client.Client
	users    []string
	packages []string
}

func newNoticeBench(b *testing.B, eng e2eEngine) *noticeBench {
	b.Helper()
	store, _ := eng.open(b)
	logFile, err := os.Create(filepath.Join(b.TempDir(), "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { logFile.Close() })
	m := &Main{Logger: slog.New(slog.NewJSONHandler(logFile, nil))}
	if err := m.Open(context.Background(), store, ServeConfig{Addr: "127.0.0.1:0", Workers: 1}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close(context.Background()) })
	c, cl := newLifecycleCarrier(b, m, "Bench Mobile", true)
	spec := gen.Spec{Orders: 3 * benchNotifyUsers, Cycle: lastCycle(), Seed: 1}
	seedLedger(b, store, c.ID, spec)
	cl.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchNotifyRateWorkers, MaxConnsPerHost: benchNotifyRateWorkers}}
	if _, err := cl.Token(context.Background()); err != nil {
		b.Fatal(err)
	}
	nb := &noticeBench{store: store, carrier: c, client: cl, users: make([]string, benchNotifyUsers), packages: make([]string, benchNotifyUsers)}
	for u := range nb.users {
		o := spec.Order(3 * u)
		nb.users[u], nb.packages[u] = o.CarrierUserID, o.KdPackageID
	}
	return nb
}

// send sends notice number i: users in turn, the type alternating at each
// round so that every notice changes its package's state.
func (nb *noticeBench) send(i int) error {
	u := i % benchNotifyUsers
	typ := client.PackageExpired + (i/benchNotifyUsers)%2
	_, err := nb.client.NotifyPackageExpire(context.Background(), client.NotifyPackageExpireParams{CarrierUserID: nb.users[u], Type: typ, PackageID: nb.packages[u]})
	if err != nil {
		return fmt.Errorf("notice %d: %w", i, err)
	}
	return nil
}

// run times workers goroutines running work until all return, then
// reports the figures from the latencies that latencies returns.
func (nb *noticeBench) run(b *testing.B, workers int, work func(w int) error, latencies func() []time.Duration) {
	b.Helper()
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	cpu0 := noticeBenchCPU(b)
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(w); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := noticeBenchCPU(b) - cpu0
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	all := latencies()
	slices.Sort(all)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	pct := func(p float64) float64 { return ms(all[min(len(all)-1, int(p*float64(len(all))))]) }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notices/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(all[len(all)-1]), "max-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/notice")
	b.ReportMetric(0, "ns/op") // notices/s says it better

	events, err := nb.store.PackageEvents(context.Background(), lifecycle.EventFilter{CarrierID: nb.carrier.ID, Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	if b.N >= 100 && (len(events) == 0 || events[0].ID < int64(b.N)*99/100) {
		b.Errorf("newest event %+v after %d notices; want (nearly) one event per notice", events, b.N)
	}
}

// noticeBenchCPU returns the user and system CPU time the process used so far.
func noticeBenchCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
