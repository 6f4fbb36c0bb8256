package http

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trueup/trueup"
)

// rateLimiter is a token bucket per key: each key may make burst calls at
// once, refilled at rate calls a second. Buckets that have refilled are
// dropped, so the map holds only keys seen recently.
type rateLimiter struct {
	rate  float64
	burst float64
	// now returns the current time; tests replace it.
	now func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes one call from key's bucket and returns 0, or, when the bucket
// is empty, takes nothing and returns how long until a call is allowed.
func (l *rateLimiter) allow(key string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune drops, at most once a minute, the buckets that have refilled.
func (l *rateLimiter) prune(now time.Time) {
	if now.Sub(l.lastPrune) < time.Minute {
		return
	}
	l.lastPrune = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// retryAfter returns the Retry-After value, in whole seconds rounded up,
// of a wait.
func retryAfter(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// limitToken answers 429 and returns false when the token endpoint's rate
// for the caller's address, or for clientID when not empty, is spent.
func (s *Server) limitToken(w http.ResponseWriter, r *http.Request, clientID string) bool {
	var l *rateLimiter
	var key, who string
	if clientID == "" {
		l, key, who = s.lim.tokenAddr, remoteHost(r), "from this address"
	} else {
		l, key, who = s.lim.tokenByID, clientID, "for this client_id"
	}
	if l == nil {
		return true
	}
	wait := l.allow(key)
	if wait == 0 {
		return true
	}
	secs := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, trueup.Errorf(trueup.ERATELIMIT,
		"too many token requests %s; retry in %d seconds, and reuse a token until it expires instead of requesting one per call", who, secs))
	return false
}

// remoteHost returns the host part of the request's remote address.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
