package main

import (
	"time"

	"github.com/spf13/pflag"
	"github.com/trueup/trueup/http/console"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/operator"
)

// ConsoleConfig are the console's session and sign-in settings (zero
// fields take the operator package's defaults).
type ConsoleConfig struct {
	// SessionTTL is a session's longest life, IdleTimeout how long an
	// unused session lasts.
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// SlowAfter failed sign-ins in a row slow an account down; at
	// MaxFailures it is locked for Lockout. For both, 0 takes the default
	// and a negative number turns it off.
	SlowAfter   int
	MaxFailures int
	Lockout     time.Duration
	// SecureCookies marks the console's cookies Secure on plain HTTP too
	// (behind a TLS proxy); under --tls-cert they always are.
	SecureCookies bool
	// ProgressStreams bounds the live-progress streams (server-sent
	// events) served at once; 0 or less takes
	// console.DefaultMaxProgressStreams.
	ProgressStreams int
}

// consoleFlags adds the console's serve flags to fs.
func consoleFlags(fs *pflag.FlagSet, c *ConsoleConfig) {
	fs.DurationVar(&c.SessionTTL, "session-ttl", operator.DefaultSessionTTL, "longest life of a console session")
	fs.DurationVar(&c.IdleTimeout, "session-idle-timeout", operator.DefaultIdleTimeout, "a console session unused this long ends (checked to the minute)")
	fs.IntVar(&c.SlowAfter, "signin-slow-after", operator.DefaultSlowAfter, "failed console sign-ins in a row after which each retry waits 1 s, 2 s, 4 s ... (negative: never)")
	fs.IntVar(&c.MaxFailures, "signin-max-failures", operator.DefaultMaxFailures, "failed console sign-ins in a row that lock the account for --signin-lockout (negative: never)")
	fs.DurationVar(&c.Lockout, "signin-lockout", operator.DefaultLockout, "how long an account stays locked after --signin-max-failures")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", false, "mark console cookies Secure on plain HTTP too (behind a TLS proxy); always so with --tls-cert")
	fs.IntVar(&c.ProgressStreams, "console-progress-streams", console.DefaultMaxProgressStreams, "console live-progress streams (server-sent events) served at once (503 over it; the page keeps the state it was drawn with)")
}

// newConsole applies cfg to the operators' service and assembles the
// console from m's services.
func newConsole(m *Main, cfg ConsoleConfig) *console.Handler {
	o := m.Operators
	if cfg.SessionTTL > 0 {
		o.SessionTTL = cfg.SessionTTL
	}
	if cfg.IdleTimeout > 0 {
		o.IdleTimeout = cfg.IdleTimeout
	}
	if cfg.SlowAfter != 0 {
		o.SlowAfter = max(cfg.SlowAfter, 0)
	}
	if cfg.MaxFailures != 0 {
		o.MaxFailures = max(cfg.MaxFailures, 0)
	}
	if cfg.Lockout > 0 {
		o.Lockout = cfg.Lockout
	}
	return console.New(console.Services{
		Operators: o, Carriers: m.Carriers, Auth: m.Auth, Batches: m.Batches, Lifecycle: m.Lifecycle,
		Buyers: m.Buyers, Risk: m.Risk, Keys: m.Keys, Imports: m.Imports, Ledger: m.Ledger,
		Cases: m.Cases, Audit: m.Audit, Webhooks: m.Webhooks,
		Logger: m.Logger, Clock: m.Clock, SecureCookies: cfg.SecureCookies, MaxProgressStreams: cfg.ProgressStreams,
		MaxUploadBytes: m.Server.Config.MaxUploadBytes, TempDir: m.Store.UploadTempDir(), Readers: m.Readers,
		Jobs: &jobs.Queue{Store: m.Store},
	})
}
