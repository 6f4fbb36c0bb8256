// Package http serves trueup's APIs: the carrier API of seeds 000, 001 and
// 004 with its OAuth2 token endpoint, the operations endpoints (/healthz,
// /readyz, /metrics) and the OpenAPI document, and beside it the buyer
// API of seed 002 and the risk API of seed 003. Each API family maps error
// kinds and reasons to its own documented codes and statuses in one table
// of its own: the carrier API in error.go, the buyer API in buyer.go, the
// risk API in risk.go (the admin API in package admin's errors.go).
package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/risk"
)

// Config holds the server's settings.
type Config struct {
	// MaxBodyBytes limits JSON and form bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes limits statement uploads (default 256 MiB).
	MaxUploadBytes int64
	// Limits bound slow bodies, concurrent uploads, header sizes and the
	// token endpoint's rate (limits.go).
	Limits Limits
	// TLSCertFile and TLSKeyFile, when both set, make Open serve HTTPS
	// with that PEM certificate chain and key.
	TLSCertFile, TLSKeyFile string
}

// Store is what the server reads from storage itself: readiness, batch
// results and its settings; sqlstore implements it.
type Store interface {
	// Ready returns nil when the database answers and is migrated; an
	// error wrapping trueup.ErrPendingMigrations when it answers but is
	// not migrated.
	Ready(ctx context.Context) error
	// Engine names the database engine.
	Engine() string
	// UploadTempDir is where uploads are written before they are stored.
	UploadTempDir() string
	// Setting returns the named setting, storing create() first when it
	// has none.
	Setting(ctx context.Context, name string, create func() string) (string, error)
}

// Services are the services the server calls, built once by main and
// shared with the job runner and the CLI.
type Services struct {
	Auth      *auth.Service
	Batches   *batch.Service
	Lifecycle *lifecycle.Service
	Buyers    *buyer.Service
	Risk      *risk.Service
}

// Server is trueup's HTTP server.
type Server struct {
	Config    Config
	Store     Store
	Auth      *auth.Service
	Logger    *slog.Logger
	Metrics   *Metrics
	Batches   *batch.Service
	Lifecycle *lifecycle.Service
	Buyers    *buyer.Service
	Risk      *risk.Service
	// Admin serves /admin/v1/ (an *admin.Handler); nil answers 404.
	Admin http.Handler
	// Console serves /console/ (a *console.Handler); nil answers 404.
	Console http.Handler

	lim     *limiter // the running bounds of Config.Limits
	keyMu   sync.Mutex
	key     []byte // the cursor key, once read
	mux     *http.ServeMux
	methods map[string][]string // literal path → methods served
	server  *http.Server
	ln      net.Listener
}

// NewServer returns a server over store and svc with its routes registered.
func NewServer(cfg Config, store Store, svc Services, logger *slog.Logger, metrics *Metrics) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 256 << 20
	}
	cfg.Limits = cfg.Limits.withDefaults()
	s := &Server{Config: cfg, Store: store, Auth: svc.Auth, Batches: svc.Batches, Lifecycle: svc.Lifecycle, Buyers: svc.Buyers, Risk: svc.Risk,
		Logger: logger, Metrics: metrics, mux: http.NewServeMux()}
	s.lim = newLimiter(cfg.Limits)
	s.routes()
	return s
}

func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handle("GET /readyz", s.handleReadyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))
	s.handle("GET /openapi.json", s.handleOpenAPI)
	s.handle("GET /docs", s.handleDocs)
	s.handle("/", s.handleNotFound)
	s.handle("POST /koodrive/oauth2/v1/token", s.handleToken)
	s.carrierRoutes()
	s.lifecycleRoutes()
	s.buyerRoutes()
	s.riskRoutes()
	s.adminRoutes()
	s.consoleRoutes()
}

// handle registers h for pattern with the common middleware and the JSON
// body limits (size and time).
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.remember(pattern)
	s.mux.Handle(pattern, s.instrument(pattern, s.Config.MaxBodyBytes, s.bodyDeadline(h)))
}

// remember notes which methods a literal path is served with, for the 405
// of another method.
func (s *Server) remember(pattern string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || strings.Contains(path, "{") {
		return
	}
	if s.methods == nil {
		s.methods = map[string][]string{}
	}
	s.methods[path] = append(s.methods[path], method)
}

// handleUpload registers h for pattern with the upload body limits (size
// and minimum rate).
func (s *Server) handleUpload(pattern string, h http.HandlerFunc) {
	s.remember(pattern)
	s.mux.Handle(pattern, s.instrument(pattern, s.Config.MaxUploadBytes+1<<20, s.uploadDeadline(h)))
}

// Handler returns the server's root handler, which sets the browser-facing
// headers (headers.go) on every response.
func (s *Server) Handler() http.Handler { return secureHeaders(s.mux) }

// Open listens on addr and serves in the background, over TLS when
// Config.TLSCertFile and TLSKeyFile are set. Use Addr for the bound address
// (addr may use port 0). It returns an error when the certificate cannot
// be loaded or addr cannot be listened on.
func (s *Server) Open(addr string) error {
	tlsConfig, err := s.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = ln
	s.server = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    max(s.Config.Limits.MaxHeaderBytes, 0),
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	go func() {
		serve := s.server.Serve
		if tlsConfig != nil {
			serve = func(ln net.Listener) error { return s.server.ServeTLS(ln, "", "") }
		}
		if err := serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	if s.server == nil {
		return nil
	}
	return s.server.Shutdown(ctx)
}

type ctxKey int

const traceKey ctxKey = 1

// TraceID returns the trace id of the request context.
func TraceID(ctx context.Context) string {
	v, _ := ctx.Value(traceKey).(string)
	return v
}

// NewTraceID returns a fresh trace id of 58 hexadecimal characters.
func NewTraceID() string {
	b := make([]byte, 29)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func validTraceID(v string) bool {
	if v == "" || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument adds the trace id, the access log, metrics, the body limit and
// panic recovery.
func (s *Server) instrument(route string, limit int64, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		trace := r.Header.Get("x-traceid")
		if !validTraceID(trace) {
			trace = NewTraceID()
		}
		w.Header().Set("x-traceid", trace)
		ctx := context.WithValue(r.Context(), traceKey, trace)
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.Logger.Error("panic", "trace_id", trace, "panic", fmt.Sprint(p))
				if sw.status == 0 {
					s.writeError(sw, r, fmt.Errorf("panic: %v", p))
				}
			}
			d := time.Since(start)
			s.Metrics.observe(route, sw.status, d)
			s.Logger.Info("request", "trace_id", trace, "method", r.Method, "path", r.URL.Path, "route", route,
				"status", sw.status, "ms", d.Milliseconds(), "bytes", sw.bytes, "remote", r.RemoteAddr)
		}()
		h(sw, r)
	})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", "trace_id", TraceID(r.Context()), "err", err)
		reason := "database not reachable"
		if errors.Is(err, trueup.ErrPendingMigrations) {
			reason = "migrations not current"
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "database": s.Store.Engine()})
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if methods, ok := s.methods[r.URL.Path]; ok {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		s.writeError(w, r, trueup.Errorf(trueup.EMETHOD, "%s is served with %s, not %s; see /docs",
			r.URL.Path, strings.Join(methods, " or "), r.Method))
		return
	}
	s.writeError(w, r, trueup.NotFound("no endpoint %s %s; the endpoints are listed at /docs", r.Method, r.URL.Path))
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if !s.limitToken(w, r, "") {
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		s.writeError(w, r, trueup.Errorf(trueup.EINVALID,
			"Content-Type %s is not a form; send grant_type, client_id and client_secret as application/x-www-form-urlencoded", auth.Quote(ct)))
		return
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, r, bodyError(err, "send the form fields grant_type, client_id and client_secret as application/x-www-form-urlencoded"))
		return
	}
	if !s.limitToken(w, r, r.PostForm.Get("client_id")) {
		return
	}
	tok, err := s.Auth.IssueToken(r.Context(), r.PostForm.Get("grant_type"), trueup.ClientID(r.PostForm.Get("client_id")), r.PostForm.Get("client_secret"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tok)
}

// Metrics are the server's Prometheus collectors.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	Jobs     *prometheus.CounterVec
	JobTime  *prometheus.HistogramVec
}

// NewMetrics returns the collectors registered on a fresh registry, with the
// Go and process collectors and the trueup_build_info gauge.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trueup_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trueup_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "trueup_jobs_total", Help: "Background jobs finished, by kind and outcome."}, []string{"kind", "outcome"}),
		JobTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "trueup_job_duration_seconds", Help: "Background job run time by kind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10)}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.Jobs, m.JobTime, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerBuildInfo(m.Registry, ReadBuildInfo())
	return m
}

func (m *Metrics) observe(route string, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	m.requests.WithLabelValues(route, fmt.Sprint(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveJob records a finished job.
func (m *Metrics) ObserveJob(kind, outcome string, d time.Duration) {
	m.Jobs.WithLabelValues(kind, outcome).Inc()
	m.JobTime.WithLabelValues(kind).Observe(d.Seconds())
}
