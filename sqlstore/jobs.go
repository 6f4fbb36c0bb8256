package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trueup/trueup"
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
// among the given kinds, for the worker token, until now+lease. It returns
// ok false when none is due.
func (db *DB) ClaimJob(ctx context.Context, token string, kinds []string, lease time.Duration) (job trueup.Job, ok bool, err error) {
	if len(kinds) == 0 {
		return job, false, nil
	}
	now := db.now()
	in := "?"
	for range kinds[1:] {
		in += ", ?"
	}
	query := db.q(`UPDATE jobs SET state = ?, attempt = attempt + 1, lease_until = ?, locked_by = ?
		WHERE id = (SELECT id FROM jobs WHERE kind IN (` + in + `) AND
			((state = ? AND run_at <= ?) OR (state = ? AND lease_until < ?))
			ORDER BY run_at, id LIMIT 1 ` + db.dialect.SkipLocked() + `)
		RETURNING id, kind, args, attempt, max_attempts, run_at, COALESCE(last_error, '')`)
	params := []any{trueup.JobRunning, now.Add(lease), token}
	for _, k := range kinds {
		params = append(params, k)
	}
	params = append(params, trueup.JobAvailable, now, trueup.JobRunning, now)
	err = db.sql.QueryRowContext(ctx, query, params...).Scan(&job.ID, &job.Kind, &job.Args, &job.Attempt, &job.MaxAttempts, &job.RunAt, &job.LastError)
	if errors.Is(err, sql.ErrNoRows) {
		return job, false, nil
	}
	if err != nil {
		return job, false, fmt.Errorf("claim job: %w", err)
	}
	job.State, job.Token, job.RunAt = trueup.JobRunning, token, job.RunAt.UTC()
	return job, true, nil
}

// ExtendJob pushes the lease of a job the worker holds to now+lease.
func (db *DB) ExtendJob(ctx context.Context, job trueup.Job, lease time.Duration) error {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = ? AND locked_by = ? AND attempt = ?`),
		db.now().Add(lease), job.ID, trueup.JobRunning, job.Token, job.Attempt)
	if err != nil {
		return fmt.Errorf("extend job %d: %w", job.ID, err)
	}
	return mustAffect(res, ErrLeaseLost)
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

// FailJob records a failed attempt: the job runs again at retryAt while
// attempts remain, and is failed for good otherwise.
func (db *DB) FailJob(ctx context.Context, job trueup.Job, cause string, retryAt time.Time) error {
	if job.Attempt < job.MaxAttempts {
		res, err := db.sql.ExecContext(ctx, db.q(`UPDATE jobs SET state = ?, run_at = ?, last_error = ?, lease_until = NULL, locked_by = NULL
			WHERE id = ? AND locked_by = ? AND attempt = ?`), trueup.JobAvailable, retryAt.UTC(), cause, job.ID, job.Token, job.Attempt)
		if err != nil {
			return fmt.Errorf("retry job %d: %w", job.ID, err)
		}
		return mustAffect(res, ErrLeaseLost)
	}
	return db.finishJob(ctx, nil, job, trueup.JobFailed, cause)
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
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT id, kind, args, state, attempt, max_attempts, run_at, last_error FROM jobs WHERE id = ?`), id).
		Scan(&j.ID, &j.Kind, &j.Args, &j.State, &j.Attempt, &j.MaxAttempts, &j.RunAt, &last)
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
