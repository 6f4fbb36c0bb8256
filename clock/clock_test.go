package clock_test

import (
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/clock"
)

var _ trueup.Clock = (*clock.Settable)(nil)

func TestSettable(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		move func(c *clock.Settable)
		want time.Time
	}{
		{"set", func(c *clock.Settable) { c.Set(t0) }, t0},
		{"advance from set", func(c *clock.Settable) { c.Set(t0); c.Advance(time.Hour) }, t0.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c clock.Settable
			tt.move(&c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Errorf("Now() = %v, want %v", got, tt.want)
			}
		})
	}
	if got := clock.At(t0).Now(); !got.Equal(t0) {
		t.Errorf("At(t0).Now() = %v, want %v", got, t0)
	}
	var c clock.Settable
	before := time.Now()
	if got := c.Now(); got.Before(before) {
		t.Errorf("unset clock: Now() = %v, before the real %v", got, before)
	}
	c.Set(t0)
	c.Reset()
	if got := c.Now(); got.Before(before) {
		t.Errorf("reset clock: Now() = %v, before the real %v", got, before)
	}
}
