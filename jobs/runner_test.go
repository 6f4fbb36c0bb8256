package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

var engines = []struct {
	name string
	open func(testing.TB) *sqlstore.DB
}{
	{"sqlite", func(tb testing.TB) *sqlstore.DB {
		db, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	}},
	{"postgres", pgtest.Open},
}

func startRunner(tb testing.TB, db *sqlstore.DB, lease time.Duration, h jobs.Handler) *jobs.Runner {
	tb.Helper()
	r := &jobs.Runner{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 2, Lease: lease, Poll: 10 * time.Millisecond,
		Backoff: func(int) time.Duration { return 0 }, Handlers: map[string]jobs.Handler{"k": h}}
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	tb.Cleanup(func() { cancel(); r.Wait() })
	return r
}

func waitJob(tb testing.TB, db *sqlstore.DB, id int64, state trueup.JobState) trueup.Job {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		j, err := db.Job(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		if j.State == state {
			return j
		}
		time.Sleep(10 * time.Millisecond)
	}
	j, _ := db.Job(context.Background(), id)
	tb.Fatalf("job %d is %s, want %s", id, j.State, state)
	return j
}

func TestRunner(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			tests := []struct {
				name        string
				maxAttempts int
				handler     func(calls *atomic.Int32) jobs.Handler
				state       trueup.JobState
				calls       int32
				lastError   string
			}{
				{"succeeds", 3, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); return nil }
				}, trueup.JobCompleted, 1, ""},
				{"fails once then succeeds", 3, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error {
						if c.Add(1) == 1 {
							return errors.New("transient")
						}
						return nil
					}
				}, trueup.JobCompleted, 2, "transient"},
				{"fails every attempt", 2, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); return errors.New("broken") }
				}, trueup.JobFailed, 2, "broken"},
				{"panics", 1, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); panic("boom") }
				}, trueup.JobFailed, 1, "job panicked: boom"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					db := e.open(t)
					var calls atomic.Int32
					r := startRunner(t, db, 5*time.Second, tt.handler(&calls))
					id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", tt.maxAttempts, time.Time{})
					if err != nil {
						t.Fatal(err)
					}
					r.Notify()
					j := waitJob(t, db, id, tt.state)
					if got := calls.Load(); got != tt.calls {
						t.Errorf("handler ran %d times, want %d", got, tt.calls)
					}
					if j.LastError != tt.lastError {
						t.Errorf("last error = %q, want %q", j.LastError, tt.lastError)
					}
				})
			}
		})
	}
}

// TestRunnerRenewsLease runs a job three times longer than its lease with
// two runners competing: the lease is renewed, so it runs once.
func TestRunnerRenewsLease(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			var calls atomic.Int32
			slow := func(ctx context.Context, _ trueup.Job) error {
				calls.Add(1)
				select {
				case <-time.After(900 * time.Millisecond):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			startRunner(t, db, 300*time.Millisecond, slow)
			startRunner(t, db, 300*time.Millisecond, slow)
			id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", 3, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			j := waitJob(t, db, id, trueup.JobCompleted)
			if calls.Load() != 1 || j.Attempt != 1 {
				t.Errorf("ran %d times over %d attempts, want once", calls.Load(), j.Attempt)
			}
		})
	}
}
