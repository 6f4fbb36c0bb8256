package trueup

import "time"

// Clock tells the current time. Every service, the store, the HTTP server
// and the job runner take one, so that tests can move time rather than wait
// for it; package clock has a settable one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
