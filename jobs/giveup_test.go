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
	"github.com/trueup/trueup/sqlstore"
)

// offsetClock is the real clock moved forward by a settable offset, safe
// for concurrent use: the runner's retries are due by the real clock, the
// test moves the store's clock past leases.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) Add(d time.Duration) { c.offset.Add(int64(d)) }

// loseWorker claims the job n times as a worker that dies at once: each
// claim's lease lapses before the next.
func loseWorker(tb testing.TB, db *sqlstore.DB, clock *offsetClock, id int64, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		j, ok, err := db.ClaimJob(context.Background(), "dead", []string{"k"}, time.Second)
		if err != nil || !ok || j.ID != id {
			tb.Fatalf("claim %d as the dying worker = %+v, %v, %v", i+1, j, ok, err)
		}
		clock.Add(2 * time.Second)
	}
}

// TestRunnerLostWorker checks that a lapsed lease (a crash) does not use up
// an attempt, and that a job whose worker is lost again and again still
// ends, given up with the reason.
func TestRunnerLostWorker(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			tests := []struct {
				name        string
				maxAttempts int
				lost        int // times the worker dies before the runner starts
				maxLost     int
				failFirst   bool // the first run returns an error
				state       trueup.JobState
				calls       int32
				failures    int
				lastError   string
				gaveUp      string
			}{
				// Before attempts were told apart from claims, three
				// crashes used up both attempts and failed the job.
				{"crashes use no attempt", 2, 3, 10, true, trueup.JobCompleted, 2, 1, "transient", ""},
				{"crash then success", 1, 2, 10, false, trueup.JobCompleted, 1, 0, "", ""},
				{"poison job ends", 5, 3, 3, false, trueup.JobFailed, 0, 0, "worker lost 3 times", "worker lost 3 times"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					db := e.Open(t)
					clock := &offsetClock{}
					db.Clock = clock
					id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", tt.maxAttempts, time.Time{})
					if err != nil {
						t.Fatal(err)
					}
					loseWorker(t, db, clock, id, tt.lost)
					var calls atomic.Int32
					g := &gaveUp{}
					startRunner(t, db, runnerParams{Lease: 5 * time.Second, MaxLost: tt.maxLost, GiveUp: g,
						Handler: func(context.Context, trueup.Job) error {
							if calls.Add(1) == 1 && tt.failFirst {
								return errors.New("transient")
							}
							return nil
						}})
					j := waitJob(t, db, id, tt.state)
					if got := calls.Load(); got != tt.calls {
						t.Errorf("handler ran %d times, want %d", got, tt.calls)
					}
					if j.Failures != tt.failures || j.Lost != tt.lost || j.LastError != tt.lastError {
						t.Errorf("job failures, lost, last error = %d, %d, %q; want %d, %d, %q", j.Failures, j.Lost, j.LastError, tt.failures, tt.lost, tt.lastError)
					}
					causes := g.calls()
					if tt.gaveUp == "" {
						if len(causes) > 0 {
							t.Errorf("gave up with %v", causes)
						}
						return
					}
					var lost *trueup.JobLostError
					if len(causes) != 1 || causes[0].Error() != tt.gaveUp || !errors.As(causes[0], &lost) || lost.Times != tt.lost {
						t.Errorf("gave up with %v, want once with %q", causes, tt.gaveUp)
					}
				})
			}
		})
	}
}

// TestRunnerGiveUpRetried fails a job for good while its give-up function
// fails once: the job is not failed until a later claim gives it up, and
// the handler does not run again.
func TestRunnerGiveUpRetried(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			var calls atomic.Int32
			g := &gaveUp{fail: 1}
			startRunner(t, db, runnerParams{Lease: 5 * time.Second, GiveUp: g, Handler: func(context.Context, trueup.Job) error {
				calls.Add(1)
				return errors.New("broken")
			}})
			id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", 1, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			j := waitJob(t, db, id, trueup.JobFailed)
			if calls.Load() != 1 || j.Failures != 1 || j.LastError != "broken" {
				t.Errorf("ran %d times, job %+v; want once, failures 1, last error broken", calls.Load(), j)
			}
			causes := g.calls()
			if len(causes) != 2 || causes[0].Error() != "broken" || causes[1].Error() != "broken" {
				t.Errorf("give-up causes = %v, want broken twice", causes)
			}
		})
	}
}

// TestRunnerLeaseLostIsNoFailure takes a running job over from its worker
// (its lease lapsed while it ran, as when the worker stalls): the stopped
// run's error neither uses up an attempt nor gives the job up, though it
// was the job's last attempt.
func TestRunnerLeaseLostIsNoFailure(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			clock := &offsetClock{}
			db.Clock = clock
			started := make(chan struct{}, 4)
			outcomes := make(chan string, 4)
			g := &gaveUp{}
			startRunner(t, db, runnerParams{Lease: 300 * time.Millisecond, GiveUp: g,
				Observe: func(_ string, outcome string, _ time.Duration) { outcomes <- outcome },
				Handler: func(ctx context.Context, _ trueup.Job) error {
					started <- struct{}{}
					<-ctx.Done()
					return ctx.Err()
				}})
			id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", 1, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			<-started
			clock.Add(time.Hour) // the lease lapsed: take the job over
			if j, ok, err := db.ClaimJob(context.Background(), "thief", []string{"k"}, 2*time.Hour); err != nil || !ok || j.ID != id {
				// The runner's other worker took it over first; the same.
				t.Logf("claim by the test = %v, %v", ok, err)
			}
			if got := <-outcomes; got != "lease_lost" {
				t.Fatalf("the stopped run ended %q, want lease_lost", got)
			}
			j, err := db.Job(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != trueup.JobRunning || j.Failures != 0 || j.Lost != 1 || len(g.calls()) != 0 {
				t.Errorf("job %s, failures %d, lost %d, give-ups %v; want still running, 0, 1, none", j.State, j.Failures, j.Lost, g.calls())
			}
		})
	}
}

// TestRunnerShutdownReleases stops a runner while its job runs: the job is
// handed back, due and uncounted, rather than left to lapse as if its
// worker had died.
func TestRunnerShutdownReleases(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			db := e.Open(t)
			started := make(chan struct{}, 1)
			r := &jobs.Runner{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 1, Lease: time.Minute, Poll: 10 * time.Millisecond,
				Handlers: map[string]jobs.Kind{"k": jobs.Handle(func(ctx context.Context, _ trueup.Job) error {
					started <- struct{}{}
					<-ctx.Done()
					return ctx.Err()
				}, (&gaveUp{}).giveUp)}}
			ctx, cancel := context.WithCancel(context.Background())
			r.Start(ctx)
			id, err := db.EnqueueJob(context.Background(), nil, "k", "{}", 1, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			r.Notify()
			<-started
			cancel()
			r.Wait()
			j, err := db.Job(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != trueup.JobAvailable || j.Failures != 0 || j.Lost != 0 {
				t.Errorf("after shutdown: job %s, failures %d, lost %d; want available, 0, 0", j.State, j.Failures, j.Lost)
			}
		})
	}
}

// TestHandleRequiresGiveUp checks that a kind cannot be registered without
// its give-up function.
func TestHandleRequiresGiveUp(t *testing.T) {
	run := func(context.Context, trueup.Job) error { return nil }
	tests := []struct {
		name string
		f    func()
	}{
		{"nil give-up", func() { jobs.Handle(run, nil) }},
		{"nil handler", func() { jobs.Handle(nil, (&gaveUp{}).giveUp) }},
		{"kind not built with Handle", func() {
			(&jobs.Runner{Handlers: map[string]jobs.Kind{"k": {}}}).Start(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}
