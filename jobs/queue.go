package jobs

import (
	"context"
	"time"

	"github.com/trueup/trueup"
)

// QueueStore is what Queue reads; sqlstore implements it.
type QueueStore interface {
	// JobCounts returns how many jobs are in each state.
	JobCounts(ctx context.Context) (map[trueup.JobState]int64, error)
	// JobsInState returns the latest jobs in state, newest first, at
	// most limit.
	JobsInState(ctx context.Context, state trueup.JobState, limit int) ([]QueuedJob, error)
}

// QueuedJob is a job as the queue's views show it.
type QueuedJob struct {
	trueup.Job
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// Queue shows the durable job queue to operators: how many jobs stand in
// each state and the latest of a state, with their failure.
type Queue struct {
	Store QueueStore
}

// Counts returns how many jobs are in each state (a state without jobs
// is missing).
func (q *Queue) Counts(ctx context.Context) (map[trueup.JobState]int64, error) {
	return q.Store.JobCounts(ctx)
}

// Latest returns the latest jobs in state, newest first, at most limit.
func (q *Queue) Latest(ctx context.Context, state trueup.JobState, limit int) ([]QueuedJob, error) {
	return q.Store.JobsInState(ctx, state, limit)
}
