package trueup

import (
	"errors"
	"fmt"
	"time"
)

// ErrLeaseLost is returned when a worker tries to extend or finish a job
// whose lease another worker has taken over.
var ErrLeaseLost = errors.New("job lease lost")

// JobState is where a background job stands.
type JobState string

// Job states. A running job whose lease has lapsed (its worker died) is
// claimed again as if it were available.
const (
	JobAvailable JobState = "available"
	JobRunning   JobState = "running"
	JobCompleted JobState = "completed"
	JobFailed    JobState = "failed"
)

// Job is a unit of durable background work.
type Job struct {
	ID    int64    `json:"id"`
	Kind  string   `json:"kind"`
	Args  string   `json:"args"` // JSON
	State JobState `json:"state"`
	// Attempt numbers the claims of the job: it grows on every claim,
	// including one taken over from a worker that died, and fences the
	// writes of each claim.
	Attempt int `json:"attempt"`
	// Failures counts the runs that returned an error or panicked; the job
	// fails for good when it reaches MaxAttempts. A crash is not a failure.
	Failures    int `json:"failures"`
	MaxAttempts int `json:"maxAttempts"`
	// Lost counts the claims whose lease lapsed before the run ended (the
	// worker died); the runner gives the job up past a bound of its own.
	Lost  int       `json:"lost"`
	RunAt time.Time `json:"runAt"`
	// Token identifies the claim a worker holds; a worker that lost its
	// lease can no longer complete the job.
	Token     string `json:"-"`
	LastError string `json:"lastError,omitempty"`
}

// JobLostError is the cause a job is given up with when its worker was
// lost (its lease lapsed) too many times.
type JobLostError struct {
	// Times is how many times the job's worker was lost.
	Times int
}

func (e *JobLostError) Error() string { return fmt.Sprintf("worker lost %d times", e.Times) }
