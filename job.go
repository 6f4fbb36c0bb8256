package trueup

import (
	"errors"
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
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	Args        string    `json:"args"` // JSON
	State       JobState  `json:"state"`
	Attempt     int       `json:"attempt"`
	MaxAttempts int       `json:"maxAttempts"`
	RunAt       time.Time `json:"runAt"`
	// Token identifies the claim a worker holds; a worker that lost its
	// lease can no longer complete the job.
	Token     string `json:"-"`
	LastError string `json:"lastError,omitempty"`
}
