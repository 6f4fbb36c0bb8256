// Package jobs runs trueup's durable background work. Jobs live in the
// database (table jobs): a worker claims one with a lease that it renews while
// the job runs; a worker that dies stops renewing, the lease lapses and
// another worker (or the restarted process) claims the job again. Handlers
// are written to be re-run from the start and to give the same result, so a
// crash never duplicates or loses work. A crash does not use up an attempt;
// a job that fails for good (its attempts used up, or its worker lost too
// often) is handed to its kind's give-up function, which brings the work's
// domain object to a final state.
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
	// RecordJobFailure ends the worker's claim of a job with p.Cause,
	// counting a failed attempt when p.Counted, and either makes the job
	// due again at p.RetryAt or, when RetryAt is zero, fails it for good;
	// trueup.ErrLeaseLost when the worker no longer holds the job.
	RecordJobFailure(ctx context.Context, p FailJobParams) error
	// ReleaseJob hands back, due at once and with no failure counted, a
	// job the worker holds but did not finish.
	ReleaseJob(ctx context.Context, job trueup.Job) error
	// Job returns a job, or an ENOTFOUND error.
	Job(ctx context.Context, id int64) (trueup.Job, error)
}

// FailJobParams are the inputs of Store.RecordJobFailure.
type FailJobParams struct {
	Job   trueup.Job
	Cause string
	// Counted says the run returned an error or panicked: it uses up one
	// of the job's attempts. A job given up without running is not
	// counted again.
	Counted bool
	// RetryAt is when the job is due again; zero fails it for good.
	RetryAt time.Time
}

// Handler does the work of one job. It returns nil when the job is done; an
// error makes the job retry later while attempts remain.
type Handler func(ctx context.Context, job trueup.Job) error

// GiveUp finalises the work of a job that fails for good (its attempts are
// used up, or its worker was lost too many times): it moves the job's
// domain object (a batch, a process) to its final failed state with cause
// as the reason, so that nothing stays "processing" for ever. It is called
// with the job still held, may run more than once for a job (it is retried
// when it returns an error), and must leave an object already final as it
// is.
type GiveUp func(ctx context.Context, job trueup.Job, cause error) error

// Kind is how the runner treats the jobs of one kind. Build it with Handle.
type Kind struct {
	run     Handler
	giveUp  GiveUp
	backoff func(n int) time.Duration
}

// WithBackoff returns k whose failed jobs wait backoff(n) before retry n
// instead of the runner's Backoff: a kind retried over a long span (a
// webhook delivery, for a day) sets its own schedule.
func (k Kind) WithBackoff(backoff func(n int) time.Duration) Kind {
	k.backoff = backoff
	return k
}

// retryAfter returns how long a job of kind waits before retry n.
func (r *Runner) retryAfter(kind string, n int) time.Duration {
	if k, ok := r.Handlers[kind]; ok && k.backoff != nil {
		return k.backoff(n)
	}
	return r.Backoff(n)
}

// Handle returns the Kind whose jobs run with run and, when one fails for
// good, are finalised with giveUp. Both are required (it panics on a nil
// one): a job kind cannot be registered without saying how its work ends
// when the runner gives it up.
func Handle(run Handler, giveUp GiveUp) Kind {
	if run == nil || giveUp == nil {
		panic("jobs.Handle: a job kind needs both a handler and a give-up function")
	}
	return Kind{run: run, giveUp: giveUp}
}

// DefaultMaxLost is the default of Runner.MaxLost.
const DefaultMaxLost = 10

// Observer is told of each finished job; it feeds the metrics.
type Observer func(kind string, outcome string, d time.Duration)

// Runner claims and runs jobs.
type Runner struct {
	Store  Store
	Logger *slog.Logger
	// Handlers are the job kinds the runner claims, by name; build each
	// with Handle.
	Handlers map[string]Kind
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
	// MaxLost is how many times a job's worker may be lost (its lease
	// lapsed: the process died or stalled) before the job is given up with
	// the reason "worker lost N times" (default DefaultMaxLost). It bounds
	// a job that kills its process each time; lost runs do not use up the
	// job's attempts.
	MaxLost int
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
	if r.MaxLost <= 0 {
		r.MaxLost = DefaultMaxLost
	}
	for name, k := range r.Handlers {
		if k.run == nil || k.giveUp == nil {
			panic(fmt.Sprintf("jobs: kind %q was not built with jobs.Handle", name))
		}
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
	log := r.Logger.With("job_id", job.ID, "kind", job.Kind, "attempt", job.Failures+1, "claim", job.Attempt)
	start := time.Now()
	if cause := r.exhausted(job); cause != nil {
		// Given up before running: no failure is counted.
		r.giveUp(ctx, log, job, cause, false)
		r.observe(job.Kind, "failed", start)
		return
	}
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	lost := make(chan bool, 1)
	go r.heartbeat(jobCtx, job, cancel, lost)
	log.Info("job started")
	err := r.call(jobCtx, job)
	cancel()
	leaseLost := <-lost
	outcome := "completed"
	switch {
	case ctx.Err() != nil:
		// Shutting down: hand the job back, uncounted, for the next start
		// (re-running is safe; a job the handler completed in its own
		// transaction is not handed back).
		log.Warn("job interrupted by shutdown", "err", err)
		if rerr := r.Store.ReleaseJob(context.WithoutCancel(ctx), job); rerr != nil && !errors.Is(rerr, trueup.ErrLeaseLost) {
			log.Error("release job", "err", rerr)
		}
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
	case leaseLost:
		// Another worker holds the job now: this run's error is not a
		// failure of the job, and the newer claim decides.
		outcome = "lease_lost"
		log.Warn("job stopped after losing its lease", "err", err)
	case job.Failures+1 >= job.MaxAttempts:
		outcome = "failed"
		log.Error("job failed; giving up", "err", err)
		r.giveUp(ctx, log, job, err, true)
	default:
		outcome = "retry"
		log.Error("job failed", "err", err)
		if ferr := r.Store.FailJob(context.WithoutCancel(ctx), job, err.Error(), r.now().Add(r.retryAfter(job.Kind, job.Failures+1))); ferr != nil {
			log.Error("record job failure", "err", ferr)
		}
	}
	r.observe(job.Kind, outcome, start)
}

func (r *Runner) observe(kind, outcome string, start time.Time) {
	if r.Observe != nil {
		r.Observe(kind, outcome, time.Since(start))
	}
}

// exhausted returns why a claimed job must be given up without running, or
// nil: its attempts are used up (an earlier give-up did not finish), or its
// worker was lost MaxLost times.
func (r *Runner) exhausted(job trueup.Job) error {
	switch {
	case job.Failures >= job.MaxAttempts:
		return errors.New(job.LastError)
	case job.Lost >= r.MaxLost:
		return &trueup.JobLostError{Times: job.Lost}
	}
	return nil
}

// giveUp finalises a job that fails for good: the kind's GiveUp moves its
// domain object to a final state, then the job is failed with cause. When
// GiveUp returns an error the job stays due (after a backoff) so that a
// later claim gives it up again; counted says the run that ends here
// returned an error and uses up an attempt.
func (r *Runner) giveUp(ctx context.Context, log *slog.Logger, job trueup.Job, cause error, counted bool) {
	ctx = context.WithoutCancel(ctx)
	// Make sure the claim is still this worker's before finalising.
	if err := r.Store.ExtendJob(ctx, job, r.Lease); err != nil {
		log.Warn("not giving up a job whose claim is lost", "err", err)
		return
	}
	p := FailJobParams{Job: job, Cause: cause.Error(), Counted: counted}
	if err := r.Handlers[job.Kind].giveUp(ctx, job, cause); err != nil {
		log.Error("give up job; will try again", "cause", cause, "err", err)
		p.RetryAt = r.now().Add(r.retryAfter(job.Kind, job.Failures+1))
	} else {
		log.Error("job given up", "cause", cause)
	}
	if err := r.Store.RecordJobFailure(ctx, p); err != nil {
		log.Error("record job failure", "err", err)
	}
}

// call runs the handler, turning a panic into an error.
func (r *Runner) call(ctx context.Context, job trueup.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	k, ok := r.Handlers[job.Kind]
	if !ok {
		return fmt.Errorf("no handler for job kind %q", job.Kind)
	}
	return k.run(ctx, job)
}

// heartbeat renews the job's lease until ctx is done, then sends on done
// whether the lease was lost (another worker took the job over).
func (r *Runner) heartbeat(ctx context.Context, job trueup.Job, cancel context.CancelFunc, done chan<- bool) {
	lost := false
	defer func() { done <- lost }()
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
					lost = true
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
