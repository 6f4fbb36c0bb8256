package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/cases"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/http/admin"
	"github.com/trueup/trueup/http/console"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/webhook"
)

// Services are every service trueup runs, built once over one store and
// shared by the HTTP server, the job runner and the CLI commands.
type Services struct {
	// Clock is the services' clock.
	Clock     trueup.Clock
	Auth      *auth.Service
	Batches   *batch.Service
	Ledger    *ledger.Service
	Lifecycle *lifecycle.Service
	Buyers    *buyer.Service
	Risk      *risk.Service
	// Cases are the discrepancy cases and cycles.
	Cases *cases.Service
	// Imports runs the admin API's imports; Keys are its API keys and
	// Carriers its view of the carriers.
	Imports  *imports.Service
	Keys     *apikey.Service
	Carriers *auth.Admin
	// Operators are the console's operators and their sessions.
	Operators *operator.Service
	// Readers bound every file the services read: statements, and the
	// files of the imports (OpenFile of ledger, buyer and risk).
	Readers sheet.Limits
	// Audit is the audit chain and Webhooks the webhook deliveries; Events
	// hands every service's events to both.
	Audit    *audit.Service
	Webhooks *webhook.Service
	Events   trueup.Recorder

	notices *sqlstore.LifecycleStore
	risks   *sqlstore.RiskStore
}

// NewServices builds every service over store, reading files within
// readers (zero fields take the defaults of sheet.DefaultLimits). A nil
// logger means slog.Default(). Close releases what they hold; the store
// stays open.
func NewServices(store *sqlstore.DB, logger *slog.Logger, readers sheet.Limits) *Services {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Services{
		Clock:    trueup.SystemClock{},
		Auth:     auth.New(store),
		Batches:  batch.New(store, logger),
		Ledger:   ledger.New(store),
		Buyers:   buyer.New(store.BuyerStore(), logger),
		Imports:  imports.New(store, logger),
		Keys:     apikey.New(store),
		Carriers: &auth.Admin{Store: store},
		Readers:  readers,
		notices:  store.LifecycleStore(),
		risks:    store.RiskStore(),
	}
	s.Batches.Limits = readers
	s.Cases = cases.New(store, logger)
	s.Operators = operator.New(store, s.Carriers)
	s.Lifecycle = lifecycle.New(s.notices)
	s.Lifecycle.Log = store
	s.Risk = risk.New(s.risks)
	s.Risk.Logger = logger
	s.Audit, s.Webhooks = audit.New(store), webhook.New(store, logger)
	s.Events = trueup.Recorders{s.Audit, s.Webhooks}
	s.Batches.Events, s.Auth.Events, s.Carriers.Events, s.Keys.Events = s.Events, s.Events, s.Events, s.Events
	s.Buyers.Events, s.Risk.Events, s.Imports.Events = s.Events, s.Events, s.Events
	s.Webhooks.Events = s.Audit
	s.Cases.Events, s.Operators.Events = s.Events, s.Events
	return s
}

// SetClock makes c the clock of every service.
func (s *Services) SetClock(c trueup.Clock) {
	s.Clock = c
	s.Auth.Clock, s.Batches.Clock, s.Lifecycle.Clock, s.Buyers.Clock, s.Risk.Clock = c, c, c, c, c
	s.Imports.Clock, s.Keys.Clock, s.Operators.Clock = c, c, c
	s.Cases.Clock = c
	s.Audit.Clock, s.Webhooks.Clock = c, c
}

// Close stops the services' background work and releases their prepared
// statements.
func (s *Services) Close() error {
	err := s.Risk.Close()
	if cerr := s.notices.Close(); err == nil {
		err = cerr
	}
	if cerr := s.risks.Close(); err == nil {
		err = cerr
	}
	return err
}

// Main is the running server: storage, services, HTTP and workers. Tests
// reuse it.
type Main struct {
	Store  *sqlstore.DB
	Server *trueuphttp.Server
	Runner *jobs.Runner
	*Services
	Logger *slog.Logger
	Admin  *admin.Handler
	// Console is the web console at /console/.
	Console *console.Handler

	cancel context.CancelFunc
}

// ServeConfig are the server's settings.
type ServeConfig struct {
	Addr           string
	Workers        int
	JobLease       time.Duration
	TokenTTL       time.Duration
	MaxUploadBytes int64
	// TLSCert and TLSKey are PEM files; when set the server speaks HTTPS.
	TLSCert, TLSKey string
	// Limits bound slow bodies, concurrent uploads, header sizes and token
	// requests (zero fields take the http package's defaults).
	Limits trueuphttp.Limits
	// TempDir is the server's own folder of temporary files when uploads
	// are kept in the database (PostgreSQL); emptied of trueup's files at
	// start. With SQLite they live in DATA/uploads/tmp.
	TempDir string
	// JobBackoff is how long a failed job waits before retry n (the
	// runner's default, n*n seconds, when nil); tests shorten it.
	JobBackoff func(n int) time.Duration
	// Clock is the clock of the store, the services and the job runner
	// (the real one when nil); tests set it.
	Clock trueup.Clock
	// Readers bound the files read: statements at upload and in the
	// check, and the admin API's imports (zero fields take the defaults
	// of sheet.DefaultLimits).
	Readers sheet.Limits
	// WebhookTimeout bounds one webhook post (webhook.DefaultTimeout when
	// 0); WebhookFirstRetry is the wait before a failed delivery's first
	// retry (webhook.DefaultFirstRetry when 0), doubled for each next one.
	WebhookTimeout, WebhookFirstRetry time.Duration
	// WebhookAllowPrivate lets deliveries reach loopback, private,
	// link-local and unspecified addresses (tests with a local receiver).
	WebhookAllowPrivate bool
	// WebhookMaxSubscriptions bounds a carrier's live subscriptions
	// (webhook.DefaultMaxSubscriptions when 0); WebhookRotationGrace is how
	// long a rotated-out secret keeps signing (its default when 0).
	WebhookMaxSubscriptions int
	WebhookRotationGrace    time.Duration
	// MatchMemory bounds the statement rows a check holds in memory
	// (batch.Service.MatchMemory; its default when 0).
	MatchMemory int64
	// BatchPartitions, above 1, checks each batch in that many parts that
	// any replica sharing the database works (batch.Service.Partitions).
	BatchPartitions int
	// CaseNoteMaxBytes bounds the note of a case action
	// (cases.DefaultMaxNote when 0).
	CaseNoteMaxBytes int
	// Console are the console's sessions and sign-in limits.
	Console ConsoleConfig
}

// Open builds the services over store, then starts the server and the
// workers. Close closes store.
func (m *Main) Open(ctx context.Context, store *sqlstore.DB, cfg ServeConfig) error {
	m.Store = store
	metrics := trueuphttp.NewMetrics()
	m.Services = NewServices(store, m.Logger, cfg.Readers)
	if cfg.TokenTTL > 0 {
		m.Auth.TokenTTL = cfg.TokenTTL
	}
	if err := store.TempDir(cfg.TempDir); err != nil {
		m.Services.Close()
		return err
	}
	if n, err := store.CleanTemp(); err != nil {
		m.Services.Close()
		return err
	} else if n > 0 && m.Logger != nil {
		m.Logger.Info("removed temporary files left by an earlier run", "count", n, "dir", store.UploadTempDir())
	}
	m.Batches.TempDir = store.UploadTempDir()
	m.Batches.Limits.TempDir = store.UploadTempDir() // shared strings past --xlsx-strings-memory
	m.Batches.MatchMemory = cfg.MatchMemory
	m.Batches.Partitions = cfg.BatchPartitions
	m.Server = trueuphttp.NewServer(trueuphttp.Config{MaxUploadBytes: cfg.MaxUploadBytes, Limits: cfg.Limits, TLSCertFile: cfg.TLSCert, TLSKeyFile: cfg.TLSKey}, store, trueuphttp.Services{
		Auth: m.Auth, Batches: m.Batches, Lifecycle: m.Lifecycle, Buyers: m.Buyers, Risk: m.Risk,
	}, m.Logger, metrics)
	m.Runner = &jobs.Runner{
		Store: store, Logger: m.Logger, Workers: cfg.Workers, Lease: cfg.JobLease,
		Handlers: jobHandlers(m), Observe: metrics.ObserveJob, Backoff: cfg.JobBackoff,
	}
	m.Batches.Notify = m.Runner.Notify
	m.Buyers.Notify = m.Runner.Notify
	m.Webhooks.Notify = m.Runner.Notify
	m.Webhooks.Timeout, m.Webhooks.FirstRetry = cfg.WebhookTimeout, cfg.WebhookFirstRetry
	m.Webhooks.AllowPrivate, m.Webhooks.MaxSubscriptions, m.Webhooks.RotationGrace = cfg.WebhookAllowPrivate, cfg.WebhookMaxSubscriptions, cfg.WebhookRotationGrace
	m.Cases.MaxNote = cfg.CaseNoteMaxBytes
	if cfg.Clock != nil {
		if store.Clock != cfg.Clock {
			// Set once: a second server on the same store (tests) shares
			// the clock instead of writing it under the first's workers.
			store.Clock = cfg.Clock
		}
		m.Services.SetClock(cfg.Clock)
		m.Runner.Clock = cfg.Clock
	}
	m.Admin = newAdminAPI(ctx, m)
	m.Server.Admin = m.Admin
	m.Console = newConsole(m, cfg.Console)
	m.Server.Console = m.Console
	if err := m.Server.Open(cfg.Addr); err != nil {
		m.Services.Close()
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	m.Runner.Start(runCtx)
	return nil
}

// Close stops accepting requests, waits for those in flight and for the
// workers (a job cut short is resumed by the next start), then closes the
// services and the store.
func (m *Main) Close(ctx context.Context) error {
	err := m.Server.Close(ctx)
	if cerr := m.Admin.Close(ctx); err == nil {
		err = cerr
	}
	if m.cancel != nil {
		m.cancel()
		m.Runner.Wait()
	}
	if m.Services != nil {
		if cerr := m.Services.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := m.Store.Close(); err == nil {
		err = cerr
	}
	return err
}

// newServeCmd returns `trueup serve`, which runs the HTTP server and the
// background workers until SIGINT or SIGTERM. Every flag has a TRUEUP_*
// environment variable; a flag given beats its variable.
func newServeCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the HTTP server and background workers",
		Long: "Run the HTTP server and the background workers until SIGINT or SIGTERM, then stop\n" +
			"gracefully. Migrations are applied at start. Every flag may be set by its environment\n" +
			"variable, named in its help; a flag given on the command line beats its variable.",
		Args: exactArgs(),
	}
	db := addDBFlags(cmd, env)
	fs := cmd.Flags()
	var cfg ServeConfig
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address `HOST:PORT`")
	fs.IntVar(&cfg.Workers, "workers", 2, "background jobs run at once")
	fs.DurationVar(&cfg.JobLease, "job-lease", 30*time.Second, "how long a job's claim lasts without renewal; a crashed worker's job is resumed after it")
	fs.DurationVar(&cfg.TokenTTL, "token-ttl", time.Hour, "lifetime of issued access tokens")
	fs.Int64Var(&cfg.MaxUploadBytes, "max-upload-bytes", 256<<20, "largest statement upload accepted, in bytes")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain file; with --tls-key the server speaks HTTPS")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key file of --tls-cert")
	fs.DurationVar(&cfg.Limits.BodyTimeout, "body-timeout", trueuphttp.DefaultBodyTimeout, "time to receive a JSON or form body (408 after)")
	fs.DurationVar(&cfg.Limits.UploadIdleTimeout, "upload-idle-timeout", trueuphttp.DefaultUploadIdleTimeout, "an upload sending nothing this long is cut off (408)")
	fs.Int64Var(&cfg.Limits.UploadMinRate, "upload-min-rate", trueuphttp.DefaultUploadMinRate, "bytes a second an upload must average after --upload-idle-timeout (408 under it)")
	fs.IntVar(&cfg.Limits.MaxUploads, "max-uploads", trueuphttp.DefaultMaxUploads, "statement uploads read at once (503 over it)")
	fs.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", trueuphttp.DefaultMaxHeaderBytes, "largest request header block (431 over it)")
	fs.Float64Var(&cfg.Limits.TokenRate, "token-rate", trueuphttp.DefaultTokenRate, "token requests a second per client_id, after --token-burst (429 over it)")
	fs.IntVar(&cfg.Limits.TokenBurst, "token-burst", trueuphttp.DefaultTokenBurst, "token requests at once per client_id")
	fs.Float64Var(&cfg.Limits.TokenAddrRate, "token-addr-rate", trueuphttp.DefaultTokenAddrRate, "token requests a second per remote address, after --token-addr-burst (429 over it)")
	fs.IntVar(&cfg.Limits.TokenAddrBurst, "token-addr-burst", trueuphttp.DefaultTokenAddrBurst, "token requests at once per remote address")
	readerFlags(fs, &cfg.Readers)
	fs.DurationVar(&cfg.WebhookTimeout, "webhook-timeout", webhook.DefaultTimeout, "time a webhook receiver has to answer one delivery attempt")
	fs.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", false, "deliver webhooks to loopback, private, link-local and unspecified addresses too (refused by default, checked at each connection)")
	fs.IntVar(&cfg.WebhookMaxSubscriptions, "webhook-max-subscriptions", webhook.DefaultMaxSubscriptions, "live webhook subscriptions a carrier (or the operators) may have (409 over it)")
	fs.DurationVar(&cfg.WebhookRotationGrace, "webhook-rotation-grace", webhook.DefaultRotationGrace, "how long a webhook secret replaced by a rotation keeps signing beside the new one")
	fs.Int64Var(&cfg.MatchMemory, "match-memory", batch.DefaultMatchMemory, "bytes of statement rows a check holds in memory; a larger statement is matched through sorted runs in the temporary folder")
	fs.IntVar(&cfg.BatchPartitions, "batch-partitions", 1, fmt.Sprintf("parts a batch is checked in, each a job any replica sharing the database works (1 to %d; 1 checks a batch in one job)", batch.MaxPartitions))
	fs.IntVar(&cfg.CaseNoteMaxBytes, "case-note-max-bytes", cases.DefaultMaxNote, "longest note of a case action, in bytes (400 over it)")
	consoleFlags(fs, &cfg.Console)
	fs.StringVar(&cfg.TempDir, "temp-dir", "", "the server's own folder of temporary files with --database-url (default DATA/tmp, DATA from --data); emptied of trueup's files at start")
	demo := fs.Bool("demo", false, "provision a demo carrier with ledger orders and print ready-to-paste calls")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	memLimit := fs.Int64("memory-limit", 288<<20, "soft memory limit in bytes for the Go runtime (GOMEMLIMIT wins when set; 0 for none)")
	bindAllEnv(fs)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return serve(cmd.Context(), env, db, cfg, serveOptions{demo: *demo, logLevel: *logLevel, memLimit: *memLimit})
	}
	return cmd
}

// serveOptions are the serve flags that are not ServeConfig's.
type serveOptions struct {
	demo     bool
	logLevel string
	memLimit int64
}

// serve runs the server on the database db names until ctx ends.
func serve(ctx context.Context, env Env, db *dbFlags, cfg ServeConfig, opt serveOptions) error {
	if cfg.BatchPartitions < 1 || cfg.BatchPartitions > batch.MaxPartitions {
		return usagef("--batch-partitions %d: use 1 to %d", cfg.BatchPartitions, batch.MaxPartitions)
	}
	if cfg.TempDir == "" {
		cfg.TempDir = filepath.Join(db.dir(), "tmp")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(opt.logLevel)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", opt.logLevel)
	}
	logger := slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: level}))
	if env.Getenv("GOMEMLIMIT") == "" && opt.memLimit > 0 {
		// The garbage collector works harder near the limit instead of
		// letting a million-row check double its live heap.
		debug.SetMemoryLimit(opt.memLimit)
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	m := &Main{Logger: logger}
	if err := m.Open(ctx, store, cfg); err != nil {
		store.Close()
		return err
	}
	logger.Info("trueup serving", "addr", m.Server.Addr(), "database", store.Engine())
	if opt.demo {
		if err := runDemo(ctx, m, env); err != nil {
			m.Close(context.Background())
			return fmt.Errorf("demo: %w", err)
		}
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.Close(shutdown)
}
