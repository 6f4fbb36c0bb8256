// Package jobs runs trueup's durable background work. Jobs live in the
// database (table jobs): a worker claims one with a lease that it renews while
// the job runs; a worker that dies stops renewing, the lease lapses and
// another worker (or the restarted process) claims the job again. Handlers
// are written to be re-run from the start and to give the same result, so a
// crash never duplicates or loses work.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trueup/trueup"
)

// Store is the durable queue the runner works from; sqlstore implements it.
type Store interface {
	// ClaimJob claims the next due job of one of kinds for lease under
	// token; ok is false when none is due.
	ClaimJob(ctx context.Context, token string, kinds []string, lease time.Duration) (job trueup.Job, ok bool, err error)
	// ExtendJob renews the claim on job for lease; trueup.ErrLeaseLost
	// when another worker has taken the job over.
	ExtendJob(ctx context.Context, job trueup.Job, lease time.Duration) error
	// CompleteJob marks job done; trueup.ErrLeaseLost when another worker
	// has taken it over.
	CompleteJob(ctx context.Context, job trueup.Job) error
	// FailJob records cause and makes job due again at retryAt while
	// attempts remain, or failed for good.
	FailJob(ctx context.Context, job trueup.Job, cause string, retryAt time.Time) error
	// Job returns a job, or an ENOTFOUND error.
	Job(ctx context.Context, id int64) (trueup.Job, error)
}

// Handler does the work of one job. It returns nil when the job is done; an
// error makes the job retry later while attempts remain.
type Handler func(ctx context.Context, job trueup.Job) error

// Observer is told of each finished job; it feeds the metrics.
type Observer func(kind string, outcome string, d time.Duration)

// Runner claims and runs jobs.
type Runner struct {
	Store    Store
	Logger   *slog.Logger
	Handlers map[string]Handler
	// Workers is how many jobs run at once (default 2).
	Workers int
	// Lease is how long a claim lasts without renewal (default 30s); it is
	// renewed every Lease/3 while the job runs.
	Lease time.Duration
	// Poll is how often an idle worker looks for work (default 250ms).
	Poll time.Duration
	// Backoff returns how long to wait before retry attempt n (default
	// n*n seconds).
	Backoff  func(attempt int) time.Duration
	Observe  Observer
	WorkerID string
	// Clock decides when a failed job is retried (the real clock when
	// nil).
	Clock trueup.Clock

	wake chan struct{}
	wg   sync.WaitGroup
}

func (r *Runner) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// Kinds returns the job kinds the runner handles.
func (r *Runner) Kinds() []string {
	kinds := make([]string, 0, len(r.Handlers))
	for k := range r.Handlers {
		kinds = append(kinds, k)
	}
	return kinds
}

// Start launches the workers; they stop when ctx is done. Wait waits for
// them.
func (r *Runner) Start(ctx context.Context) {
	if r.Workers <= 0 {
		r.Workers = 2
	}
	if r.Lease <= 0 {
		r.Lease = 30 * time.Second
	}
	if r.Poll <= 0 {
		r.Poll = 250 * time.Millisecond
	}
	if r.Backoff == nil {
		r.Backoff = func(n int) time.Duration { return time.Duration(n*n) * time.Second }
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	if r.WorkerID == "" {
		r.WorkerID = trueup.NewID("w_")
	}
	r.wake = make(chan struct{}, r.Workers)
	for i := 0; i < r.Workers; i++ {
		r.wg.Add(1)
		go r.work(ctx, fmt.Sprintf("%s-%d", r.WorkerID, i))
	}
}

// Notify wakes an idle worker at once, after a job was enqueued.
func (r *Runner) Notify() {
	if r.wake == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Wait blocks until every worker has stopped.
func (r *Runner) Wait() { r.wg.Wait() }

func (r *Runner) work(ctx context.Context, id string) {
	defer r.wg.Done()
	kinds := r.Kinds()
	for ctx.Err() == nil {
		// Each claim gets its own token so that a re-claim by the same
		// worker after a lapse is still fenced.
		job, ok, err := r.Store.ClaimJob(ctx, id+"/"+trueup.NewID(""), kinds, r.Lease)
		if err != nil {
			if ctx.Err() == nil {
				r.Logger.Error("claim job", "err", err)
			}
			r.sleep(ctx)
			continue
		}
		if !ok {
			r.sleep(ctx)
			continue
		}
		r.run(ctx, job)
	}
}

func (r *Runner) sleep(ctx context.Context) {
	t := time.NewTimer(r.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-r.wake:
	}
}

func (r *Runner) run(ctx context.Context, job trueup.Job) {
	log := r.Logger.With("job_id", job.ID, "kind", job.Kind, "attempt", job.Attempt)
	start := time.Now()
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan struct{})
	go r.heartbeat(jobCtx, job, cancel, lost)
	log.Info("job started")
	err := r.call(jobCtx, job)
	cancel()
	<-lost
	outcome := "completed"
	switch {
	case ctx.Err() != nil:
		// Shutting down: leave the job to lapse and be claimed again.
		log.Warn("job interrupted by shutdown", "err", err)
		return
	case err == nil:
		err = r.Store.CompleteJob(context.WithoutCancel(ctx), job)
		if errors.Is(err, trueup.ErrLeaseLost) {
			// The handler may have completed the job in its own
			// transaction, with its effects.
			if j, jerr := r.Store.Job(context.WithoutCancel(ctx), job.ID); jerr == nil && j.State == trueup.JobCompleted && j.Attempt == job.Attempt {
				log.Info("job completed", "ms", time.Since(start).Milliseconds())
			} else {
				outcome = "lease_lost"
				log.Warn("job finished after losing its lease; the newer claim decides")
			}
		} else if err != nil {
			log.Error("complete job", "err", err)
			outcome = "error"
		} else {
			log.Info("job completed", "ms", time.Since(start).Milliseconds())
		}
	default:
		outcome = "retry"
		if job.Attempt >= job.MaxAttempts {
			outcome = "failed"
		}
		log.Error("job failed", "err", err)
		if ferr := r.Store.FailJob(context.WithoutCancel(ctx), job, err.Error(), r.now().Add(r.Backoff(job.Attempt))); ferr != nil {
			log.Error("record job failure", "err", ferr)
		}
	}
	if r.Observe != nil {
		r.Observe(job.Kind, outcome, time.Since(start))
	}
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, job trueup.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	h, ok := r.Handlers[job.Kind]
	if !ok {
		return fmt.Errorf("no handler for job kind %q", job.Kind)
	}
	return h(ctx, job)
}

func (r *Runner) heartbeat(ctx context.Context, job trueup.Job, cancel context.CancelFunc, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.Store.ExtendJob(ctx, job, r.Lease); err != nil {
				if errors.Is(err, trueup.ErrLeaseLost) {
					r.Logger.Warn("job lease lost; stopping", "job_id", job.ID)
					cancel()
					return
				}
				if ctx.Err() == nil {
					r.Logger.Error("extend job lease", "job_id", job.ID, "err", err)
				}
			}
		}
	}
}
