package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/storetest"
)

// engines open a fresh store of each engine (PostgreSQL only when
// TRUEUP_TEST_POSTGRES_URL is set).
var engines = storetest.Engines()

// gaveUp records the calls of a give-up function.
type gaveUp struct {
	mu     sync.Mutex
	causes []error
	// fail, when above zero, is how many calls fail before one succeeds.
	fail int
}

func (g *gaveUp) giveUp(_ context.Context, _ trueup.Job, cause error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.causes = append(g.causes, cause)
	if g.fail > 0 {
		g.fail--
		return errors.New("storage down")
	}
	return nil
}

func (g *gaveUp) calls() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]error(nil), g.causes...)
}

// runnerParams are the inputs of startRunner.
type runnerParams struct {
	Lease   time.Duration
	Handler jobs.Handler
	GiveUp  *gaveUp // nil for one that records and succeeds
	MaxLost int
	Observe jobs.Observer
}

func startRunner(tb testing.TB, db *sqlstore.DB, p runnerParams) *jobs.Runner {
	tb.Helper()
	if p.GiveUp == nil {
		p.GiveUp = &gaveUp{}
	}
	r := &jobs.Runner{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 2, Lease: p.Lease, Poll: 10 * time.Millisecond,
		Backoff: func(int) time.Duration { return 0 }, MaxLost: p.MaxLost, Observe: p.Observe,
		Handlers: map[string]jobs.Kind{"k": jobs.Handle(p.Handler, p.GiveUp.giveUp)}}
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
		t.Run(e.Name, func(t *testing.T) {
			tests := []struct {
				name        string
				maxAttempts int
				handler     func(calls *atomic.Int32) jobs.Handler
				state       trueup.JobState
				calls       int32
				lastError   string
				gaveUp      string // the cause given to the give-up function, if called
			}{
				{"succeeds", 3, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); return nil }
				}, trueup.JobCompleted, 1, "", ""},
				{"fails once then succeeds", 3, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error {
						if c.Add(1) == 1 {
							return errors.New("transient")
						}
						return nil
					}
				}, trueup.JobCompleted, 2, "transient", ""},
				{"fails every attempt", 2, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); return errors.New("broken") }
				}, trueup.JobFailed, 2, "broken", "broken"},
				{"panics", 1, func(c *atomic.Int32) jobs.Handler {
					return func(context.Context, trueup.Job) error { c.Add(1); panic("boom") }
				}, trueup.JobFailed, 1, "job panicked: boom", "job panicked: boom"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					db := e.Open(t)
					var calls atomic.Int32
					g := &gaveUp{}
					r := startRunner(t, db, runnerParams{Lease: 5 * time.Second, Handler: tt.handler(&calls), GiveUp: g})
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
					if want := min(tt.calls, int32(j.MaxAttempts)); tt.state == trueup.JobFailed && int32(j.Failures) != want {
						t.Errorf("failures = %d, want %d", j.Failures, want)
					}
					var got string
					for i, c := range g.calls() {
						if i > 0 {
							t.Errorf("give-up called again with %v", c)
						}
						got = c.Error()
					}
					if got != tt.gaveUp {
						t.Errorf("gave up with %q, want %q", got, tt.gaveUp)
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
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
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
			startRunner(t, db, runnerParams{Lease: 300 * time.Millisecond, Handler: slow})
			startRunner(t, db, runnerParams{Lease: 300 * time.Millisecond, Handler: slow})
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

// TestKindBackoff checks that a kind's own backoff decides when its failed
// job runs again, and the runner's Backoff the others'.
func TestKindBackoff(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			ctx := context.Background()
			fail := func(context.Context, trueup.Job) error { return errors.New("receiver down") }
			g := &gaveUp{}
			r := &jobs.Runner{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 1, Poll: 10 * time.Millisecond,
				Backoff: func(int) time.Duration { return time.Minute },
				Handlers: map[string]jobs.Kind{
					"own":     jobs.Handle(fail, g.giveUp).WithBackoff(func(n int) time.Duration { return time.Duration(n) * time.Hour }),
					"default": jobs.Handle(fail, g.giveUp),
				}}
			runCtx, cancel := context.WithCancel(ctx)
			r.Start(runCtx)
			t.Cleanup(func() { cancel(); r.Wait() })
			for kind, want := range map[string]time.Duration{"own": time.Hour, "default": time.Minute} {
				before := time.Now()
				id, err := db.EnqueueJob(ctx, nil, kind, "{}", 3, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				r.Notify()
				j := waitJob(t, db, id, trueup.JobAvailable)
				for j.Failures == 0 {
					time.Sleep(10 * time.Millisecond)
					j = waitJob(t, db, id, trueup.JobAvailable)
				}
				if wait := j.RunAt.Sub(before); wait < want || wait > want+time.Minute/2 {
					t.Errorf("%s: retry due in %s, want about %s", kind, wait, want)
				}
			}
		})
	}
}
