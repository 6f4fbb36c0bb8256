package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// DefaultSweepEvery is how often, at most, issuing a token deletes the
// expired tokens.
const DefaultSweepEvery = 10 * time.Minute

// KeepExpired is how long an expired token is kept before a sweep deletes
// it: until then a call with it is refused with ReasonTokenExpired rather
// than with ReasonTokenInvalid.
const KeepExpired = time.Hour

// sweep deletes the tokens expired for over KeepExpired when SweepEvery
// has passed since the last sweep, and returns the store's error; a failed sweep is tried again
// at the next call.
func (s *Service) sweep(ctx context.Context, now time.Time) error {
	every := s.SweepEvery
	if every <= 0 {
		every = DefaultSweepEvery
	}
	s.sweepMu.Lock()
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < every {
		s.sweepMu.Unlock()
		return nil
	}
	last := s.lastSweep
	s.lastSweep = now
	s.sweepMu.Unlock()
	if _, err := s.Store.DeleteExpiredTokens(ctx, now.Add(-KeepExpired)); err != nil {
		s.sweepMu.Lock()
		s.lastSweep = last
		s.sweepMu.Unlock()
		return fmt.Errorf("sweep expired tokens: %w", err)
	}
	return nil
}

// MaxQuoted is how many bytes of a client's value an error message quotes.
const MaxQuoted = 64

// Quote returns v quoted as %q does, cut to its first MaxQuoted bytes (at
// a character boundary) with "..." after the closing quote when it is
// longer, so that an error never echoes a huge header or field whole.
func Quote(v string) string {
	if len(v) <= MaxQuoted {
		return strconv.Quote(v)
	}
	cut := MaxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "... (" + strconv.Itoa(len(v)) + " bytes)"
}
