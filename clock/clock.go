// Package clock has a settable trueup.Clock for tests.
package clock

import (
	"sync"
	"time"
)

// Settable is a clock that tests move. Until Set is first called it tells
// the real time; after Set it tells the time set, moved only by Set and
// Advance; Reset gives it back to the real time. It is safe for concurrent
// use.
type Settable struct {
	mu  sync.Mutex
	t   time.Time
	set bool
}

// At returns a clock set to t.
func At(t time.Time) *Settable { return &Settable{t: t, set: true} }

// Now returns the time set, or the real time when none is.
func (c *Settable) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set {
		return time.Now()
	}
	return c.t
}

// Set stops the clock at t.
func (c *Settable) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.set = t, true
}

// Advance moves the clock on by d, from the real time when it was not set.
func (c *Settable) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.set {
		c.t, c.set = time.Now(), true
	}
	c.t = c.t.Add(d)
}

// Reset makes the clock tell the real time again.
func (c *Settable) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.set = time.Time{}, false
}
