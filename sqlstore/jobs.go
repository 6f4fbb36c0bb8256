package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/jobs"
)

// ErrLeaseLost is trueup.ErrLeaseLost, under the name the store's callers
// used first.
var ErrLeaseLost = trueup.ErrLeaseLost

// EnqueueJob inserts a job, in tx when tx is not nil, and returns its id.
func (db *DB) EnqueueJob(ctx context.Context, tx *sql.Tx, kind, args string, maxAttempts int, runAt time.Time) (int64, error) {
	if maxAttempts < 1 {
		maxAttempts = 1
	}
	now := db.now()
	if runAt.IsZero() {
		runAt = now
	}
	query := db.q(`INSERT INTO jobs (kind, args, state, max_attempts, run_at, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
	params := []any{kind, args, trueup.JobAvailable, maxAttempts, runAt.UTC(), now}
	var id int64
	var err error
	if tx != nil {
		err = tx.QueryRowContext(ctx, query, params...).Scan(&id)
	} else {
		err = db.sql.QueryRowContext(ctx, query, params...).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", kind, err)
	}
	return id, nil
}

// ClaimJob takes the next job that is due, or one whose lease has lapsed,
// among the given kinds, for the worker token, until now+lease. Every claim
// numbers a new Attempt; taking over a lapsed lease also counts the job as
// Lost once (its worker died: that is not a failed attempt). It returns ok
// false when none is due.
func (db *DB) ClaimJob(ctx context.Context, token string, kinds []string, lease time.Duration) (job trueup.Job, ok bool, err error) {
	if len(kinds) == 0 {
		return job, false, nil
	}
	now := db.now()
	in := "?"
	for range kinds[1:] {
		in += ", ?"
	}
	// In SET, state is the value before the update: running means the
	// claim takes over a lapsed lease.
	query := db.q(`UPDATE jobs SET lost = lost + CASE WHEN state = ? THEN 1 ELSE 0 END, state = ?, attempt = attempt + 1, lease_until = ?, locked_by = ?
		WHERE id = (SELECT id FROM jobs WHERE kind IN (` + in + `) AND
			((state = ? AND run_at <= ?) OR (state = ? AND lease_until < ?))
			ORDER BY run_at, id LIMIT 1 ` + db.dialect.SkipLocked() + `)
		RETURNING id, kind, args, attempt, failures, max_attempts, lost, run_at, COALESCE(last_error, '')`)
	params := []any{trueup.JobRunning, trueup.JobRunning, now.Add(lease), token}
	for _, k := range kinds {
		params = append(params, k)
	}
	params = append(params, trueup.JobAvailable, now, trueup.JobRunning, now)
	err = db.sql.QueryRowContext(ctx, query, params...).Scan(&job.ID, &job.Kind, &job.Args, &job.Attempt, &job.Failures, &job.MaxAttempts, &job.Lost, &job.RunAt, &job.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return job, false, nil
	}
	if err != nil {
		return job, false, fmt.Errorf("claim job: %w", err)
	}
	job.State, job.Token, job.RunAt = trueup.JobRunning, token, job.RunAt.UTC()
	return job, true, nil
}

// ExtendJob pushes the lease of a job the worker holds to now+lease. It
// returns ErrLeaseLost when another attempt holds the job or it ended
// otherwise; a job this attempt completed already is not lost (nil).
func (db *DB) ExtendJob(ctx context.Context, job trueup.Job, lease time.Duration) error {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
		db.now().Add(lease), job.ID, trueup.JobRunning, job.Token, job.Attempt)
	if err != nil {
		return fmt.Errorf("extend job %d: %w", job.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	// A job whose own attempt completed it already (a batch's job
	// completes in the transaction that finishes the batch, before its
	// handler records the case events) is not lost: the heartbeat must not
	// cancel what the handler still does after the commit.
	var done int
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM jobs WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
		job.ID, trueup.JobCompleted, job.Token, job.Attempt).Scan(&done); err != nil {
		return fmt.Errorf("extend job %d: %w", job.ID, err)
	}
	if done > 0 {
		return nil
	}
	return ErrLeaseLost
}

// CompleteJob marks a job the worker holds as completed. It returns
// ErrLeaseLost when the worker no longer holds the job.
func (db *DB) CompleteJob(ctx context.Context, job trueup.Job) error {
	return db.completeJob(ctx, nil, job)
}

// completeJob is CompleteJob in tx when tx is not nil, so that the job's
// effects and its completion commit together.
func (db *DB) completeJob(ctx context.Context, tx *sql.Tx, job trueup.Job) error {
	return db.finishJob(ctx, tx, job, trueup.JobCompleted, "")
}

// FailJob records a failed run (an error or a panic): the job runs again at
// retryAt while its failures stay below MaxAttempts, and is failed for good
// otherwise. It returns ErrLeaseLost when the worker no longer holds the
// job.
func (db *DB) FailJob(ctx context.Context, job trueup.Job, cause string, retryAt time.Time) error {
	p := jobs.FailJobParams{Job: job, Cause: cause, Counted: true}
	if job.Failures+1 < job.MaxAttempts {
		p.RetryAt = retryAt
	}
	return db.RecordJobFailure(ctx, p)
}

// RecordJobFailure ends the worker's claim of a job with p.Cause, counting
// a failed attempt when p.Counted, and either makes the job due again at
// p.RetryAt or, when RetryAt is zero, fails it for good. It returns
// ErrLeaseLost when the worker no longer holds the job.
func (db *DB) RecordJobFailure(ctx context.Context, p jobs.FailJobParams) error {
	counted := 0
	if p.Counted {
		counted = 1
	}
	job := p.Job
	var res sql.Result
	var err error
	if p.RetryAt.IsZero() {
		res, err = db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET state = ?, failures = failures + ?, finished_at = ?, last_error = ?, lease_until = NULL
			WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
			trueup.JobFailed, counted, db.now(), p.Cause, job.ID, trueup.JobRunning, job.Token, job.Attempt)
	} else {
		res, err = db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET state = ?, failures = failures + ?, run_at = ?, last_error = ?, lease_until = NULL, locked_by = NULL
			WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
			trueup.JobAvailable, counted, p.RetryAt.UTC(), p.Cause, job.ID, trueup.JobRunning, job.Token, job.Attempt)
	}
	if err != nil {
		return fmt.Errorf("record failure of job %d: %w", job.ID, err)
	}
	return mustAffect(res, ErrLeaseLost)
}

// ReleaseJob hands back a job the worker holds but did not finish (the
// process is shutting down), due at once and with no failure counted, so
// that the next start resumes it without waiting for its lease to lapse.
func (db *DB) ReleaseJob(ctx context.Context, job trueup.Job) error {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET state = ?, run_at = ?, lease_until = NULL, locked_by = NULL
		WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
		trueup.JobAvailable, db.now(), job.ID, trueup.JobRunning, job.Token, job.Attempt)
	if err != nil {
		return fmt.Errorf("release job %d: %w", job.ID, err)
	}
	return mustAffect(res, ErrLeaseLost)
}

func (db *DB) finishJob(ctx context.Context, tx *sql.Tx, job trueup.Job, state trueup.JobState, cause string) error {
	query := db.q(`UPDATE jobs SET state = ?, finished_at = ?, last_error = COALESCE(?, last_error), lease_until = NULL
		WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`)
	params := []any{state, db.now(), sql.NullString{String: cause, Valid: cause != ""}, job.ID, trueup.JobRunning, job.Token, job.Attempt}
	var res sql.Result
	var err error
	if tx != nil {
		res, err = tx.ExecContext(ctx, query, params...)
	} else {
		res, err = db.sql.ExecContext(ctx, query, params...)
	}
	if err != nil {
		return fmt.Errorf("finish job %d: %w", job.ID, err)
	}
	return mustAffect(res, ErrLeaseLost)
}

// Job returns the job with the given id, or an ENOTFOUND error.
func (db *DB) Job(ctx context.Context, id int64) (trueup.Job, error) {
	var j trueup.Job
	var last sql.NullString
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT id, kind, args, state, attempt, failures, max_attempts, lost, run_at, last_error FROM jobs WHERE id = ?`), id).
		Scan(&j.ID, &j.Kind, &j.Args, &j.State, &j.Attempt, &j.Failures, &j.MaxAttempts, &j.Lost, &j.RunAt, &last)
	if err != nil {
		return j, notFound(err, "job %d not found", id)
	}
	j.RunAt, j.LastError = j.RunAt.UTC(), last.String
	return j, nil
}

// JobCounts returns how many jobs are in each state.
func (db *DB) JobCounts(ctx context.Context) (map[trueup.JobState]int64, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	out := map[trueup.JobState]int64{}
	for rows.Next() {
		var s trueup.JobState
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("scan job count: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// JobsInState returns the latest jobs in state, newest first, at most
// limit.
func (db *DB) JobsInState(ctx context.Context, state trueup.JobState, limit int) ([]jobs.QueuedJob, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT id, kind, args, state, attempt, failures, max_attempts, lost, run_at, last_error, created_at, finished_at
		FROM jobs WHERE state = ? ORDER BY id DESC LIMIT ?`), state, limit)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []jobs.QueuedJob
	for rows.Next() {
		var j jobs.QueuedJob
		var last sql.NullString
		var finished sql.NullTime
		if err := rows.Scan(&j.ID, &j.Kind, &j.Args, &j.State, &j.Attempt, &j.Failures, &j.MaxAttempts, &j.Lost, &j.RunAt, &last, &j.CreatedAt, &finished); err != nil {
			return nil, fmt.Errorf("scan job: %w", err)
		}
		j.RunAt, j.CreatedAt, j.LastError, j.FinishedAt = j.RunAt.UTC(), j.CreatedAt.UTC(), last.String, timePtr(finished)
		out = append(out, j)
	}
	return out, rows.Err()
}
