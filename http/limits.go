package http

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/trueup/trueup"
)

// Limits are the bounds the server puts on what a client may hold or ask
// for. A zero field takes its default; a negative one turns the bound off.
type Limits struct {
	// BodyTimeout bounds the time to read a JSON or form body, from the
	// moment its handler starts (default 30 s). A client still sending
	// then gets 408, code 40801.
	BodyTimeout time.Duration
	// UploadIdleTimeout cuts off an upload that sends nothing for this long
	// (default 30 s).
	UploadIdleTimeout time.Duration
	// UploadMinRate is the average rate, in bytes a second, an upload must
	// keep once UploadIdleTimeout has passed since it started (default
	// 16 KiB/s: 256 MiB in under 5 hours).
	UploadMinRate int64
	// MaxUploads bounds the statement uploads read at once; another gets
	// 503, code 50301, with Retry-After (default 8).
	MaxUploads int
	// MaxHeaderBytes bounds a request's header block; over it the client
	// gets 431 (default 64 KiB; negative leaves net/http's 1 MiB).
	MaxHeaderBytes int
	// TokenRate and TokenBurst bound token requests per client_id: a
	// bucket of TokenBurst refilled at TokenRate a second (defaults 1 and
	// 10). Over it: 429, code 42901, with Retry-After.
	TokenRate  float64
	TokenBurst int
	// TokenAddrRate and TokenAddrBurst bound token requests per remote
	// address likewise (defaults 5 and 50).
	TokenAddrRate  float64
	TokenAddrBurst int
}

// The defaults of Limits.
const (
	DefaultBodyTimeout       = 30 * time.Second
	DefaultUploadIdleTimeout = 30 * time.Second
	DefaultUploadMinRate     = 16 << 10
	DefaultMaxUploads        = 8
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultTokenRate         = 1.0
	DefaultTokenBurst        = 10
	DefaultTokenAddrRate     = 5.0
	DefaultTokenAddrBurst    = 50
)

// busyRetryAfter is the Retry-After, in seconds, of a 503 for an upload
// over MaxUploads.
const busyRetryAfter = 10

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	orDefault(&l.BodyTimeout, DefaultBodyTimeout)
	orDefault(&l.UploadIdleTimeout, DefaultUploadIdleTimeout)
	orDefault(&l.UploadMinRate, DefaultUploadMinRate)
	orDefault(&l.MaxUploads, DefaultMaxUploads)
	orDefault(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	orDefault(&l.TokenRate, DefaultTokenRate)
	orDefault(&l.TokenBurst, DefaultTokenBurst)
	orDefault(&l.TokenAddrRate, DefaultTokenAddrRate)
	orDefault(&l.TokenAddrBurst, DefaultTokenAddrBurst)
	return l
}

// orDefault sets *v to d when *v is the zero value.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// limiter holds the server's running bounds: the upload slots and the
// token endpoint's buckets.
type limiter struct {
	uploads   chan struct{} // nil: no bound
	tokenByID *rateLimiter  // nil: no bound
	tokenAddr *rateLimiter
}

func newLimiter(l Limits) *limiter {
	lim := &limiter{}
	if l.MaxUploads > 0 {
		lim.uploads = make(chan struct{}, l.MaxUploads)
	}
	if l.TokenRate > 0 && l.TokenBurst > 0 {
		lim.tokenByID = newRateLimiter(l.TokenRate, l.TokenBurst)
	}
	if l.TokenAddrRate > 0 && l.TokenAddrBurst > 0 {
		lim.tokenAddr = newRateLimiter(l.TokenAddrRate, l.TokenAddrBurst)
	}
	return lim
}

// uploadsInFlight returns how many upload slots are taken.
func (s *Server) uploadsInFlight() int { return len(s.lim.uploads) }

// uploadSlot runs h while holding one of MaxUploads slots; when none is
// free the caller gets 503, code 50301, with Retry-After.
func (s *Server) uploadSlot(h carrierHandler) carrierHandler {
	return func(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
		if s.lim.uploads == nil {
			h(w, r, c)
			return
		}
		select {
		case s.lim.uploads <- struct{}{}:
			defer func() { <-s.lim.uploads }()
			h(w, r, c)
		default:
			w.Header().Set("Retry-After", strconv.Itoa(busyRetryAfter))
			s.writeError(w, r, trueup.Errorf(trueup.EUNAVAILABLE,
				"the server is reading %d statement uploads already, its limit; retry in %d seconds", cap(s.lim.uploads), busyRetryAfter))
		}
	}
}

// bodyDeadline bounds the time to read a JSON or form body to BodyTimeout
// from now. A request without a body is left alone: its connection is
// already watched for the client going away.
func (s *Server) bodyDeadline(h http.HandlerFunc) http.HandlerFunc {
	d := s.Config.Limits.BodyTimeout
	if d <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			h(w, r)
			return
		}
		rc := http.NewResponseController(w)
		deadline := time.Now().Add(d)
		if err := s.setReadDeadline(rc, r, deadline); err != nil {
			h(w, r)
			return
		}
		r.Body = &deadlineBody{body: r.Body, rc: rc, limit: d, deadline: func(int64) time.Time { return deadline }}
		h(w, r)
	}
}

// uploadDeadline cuts off an upload that sends nothing for
// UploadIdleTimeout or, once that long has passed since it started,
// averages less than UploadMinRate bytes a second: each read's deadline
// is the earlier of the two, extended as bytes arrive.
func (s *Server) uploadDeadline(h http.HandlerFunc) http.HandlerFunc {
	idle, rate := s.Config.Limits.UploadIdleTimeout, s.Config.Limits.UploadMinRate
	if idle <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength == 0 {
			h(w, r)
			return
		}
		rc := http.NewResponseController(w)
		start := time.Now()
		next := func(read int64) time.Time {
			d := time.Now().Add(idle)
			if rate > 0 {
				if byRate := start.Add(idle + time.Duration(float64(read)/float64(rate)*float64(time.Second))); byRate.Before(d) {
					d = byRate
				}
			}
			return d
		}
		if err := s.setReadDeadline(rc, r, next(0)); err != nil {
			h(w, r)
			return
		}
		r.Body = &deadlineBody{body: r.Body, rc: rc, limit: idle, rate: rate, deadline: next}
		h(w, r)
	}
}

// setReadDeadline sets the connection's read deadline. A connection that
// cannot have one (not a net/http server's) returns the error unlogged;
// any other failure is logged.
func (s *Server) setReadDeadline(rc *http.ResponseController, r *http.Request, t time.Time) error {
	err := rc.SetReadDeadline(t)
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.Logger.Warn("set read deadline", "trace_id", TraceID(r.Context()), "err", err)
	}
	return err
}

// deadlineBody is a request body read under a deadline that deadline
// computes from the bytes read so far. At the end of the body the deadline
// is cleared, so that the server's watch for the client going away does
// not fire while the handler works. A read cut off by the deadline
// returns an ETIMEOUT error.
type deadlineBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	deadline func(read int64) time.Time
	limit    time.Duration // for the message
	rate     int64         // for the message; 0 for JSON and form bodies
	read     int64
	done     bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.read > 0 && !b.done {
		if err := b.rc.SetReadDeadline(b.deadline(b.read)); err != nil {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	n, err := b.body.Read(p)
	b.read += int64(n)
	if err == io.EOF && !b.done {
		b.done = true
		if derr := b.rc.SetReadDeadline(time.Time{}); derr != nil {
			return n, fmt.Errorf("clear read deadline: %w", derr)
		}
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if b.rate > 0 {
			return n, trueup.Errorf(trueup.ETIMEOUT,
				"the upload stalled after %d bytes: nothing arrived for %s, or it fell under %d bytes a second; send the file again over a steadier connection", b.read, b.limit, b.rate)
		}
		return n, trueup.Errorf(trueup.ETIMEOUT,
			"the request body did not arrive within %s (%d bytes read); send the whole body at once", b.limit, b.read)
	}
	return n, err
}

func (b *deadlineBody) Close() error { return b.body.Close() }
