package risk

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/trueup/trueup"
)

// DefaultWindowDays is the look-back window of a client created without
// one: a check of date D sees the records of days D-89 through D.
const DefaultWindowDays = 90

// MaxWindowDays is the longest look-back window a client may have.
const MaxWindowDays = 3660

// DefaultClientTTL is how long a server trusts an API client it read from
// the store before reading it again: a busy key costs the store four reads
// a second, and a rotation, revocation or change of settings reaches every
// server within it.
const DefaultClientTTL = 250 * time.Millisecond

// maxLease caps how many calls of a quota or rate a server takes from the
// store at once.
const maxLease = 8192

// Service provisions API clients and answers checks. Its methods are safe
// for concurrent use.
type Service struct {
	Store Store
	// Clock tells the time; tests set their own. It decides the default
	// date of a check, whether a key has expired, the second a call counts
	// against the rate limit, and when a cached client, the list's filter
	// and a busy store are looked at again.
	Clock trueup.Clock
	// ClientTTL is how long a client read from the store is trusted before
	// it is read again (DefaultClientTTL when 0; negative reads it on
	// every call). A rotation, revocation or change of settings made
	// elsewhere (the CLI, another server) takes effect within it; a new
	// secret is accepted at once.
	ClientTTL time.Duration
	// Logger receives warnings; slog.Default() when nil.
	Logger *slog.Logger
	// Events, when set, records clients created, changed and revoked.
	Events trueup.Recorder
	// NoFilter turns off the in-memory filter of the numbers on the list
	// (see FilterRecheck): every check then looks the number up in the
	// store.
	NoFilter bool

	filter  listFilter
	mu      sync.RWMutex
	clients map[ClientID]*clientState

	bgMu     sync.Mutex
	bgWG     sync.WaitGroup
	bgCtx    context.Context // of the background work; nil until first used
	bgCancel context.CancelFunc
	closed   bool
}

// background runs fn in a goroutine of its own that Close cancels and waits
// for. It returns false, running nothing, once the service is closed.
func (s *Service) background(fn func(ctx context.Context)) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closed {
		return false
	}
	if s.bgCtx == nil {
		s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	}
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		fn(s.bgCtx)
	}()
	return true
}

// Close stops the service's background work (the build of the list's
// filter) and waits for it to end. Checks after Close still answer, from
// the store.
func (s *Service) Close() error {
	s.bgMu.Lock()
	s.closed = true
	if s.bgCancel != nil {
		s.bgCancel()
	}
	s.bgMu.Unlock()
	s.bgWG.Wait()
	return nil
}

// New returns a Service over store with the real clock.
func New(store Store) *Service {
	return &Service{Store: store, Clock: trueup.SystemClock{}}
}

// clientState is what a server keeps of one API client: the client as last
// read, and the calls of its quota and rate taken from the store and not yet
// used.
type clientState struct {
	mu      sync.Mutex
	c       Client
	loc     *time.Location
	fetched time.Time // real time of the read; zero forces a read
	quota   lease
	rate    lease
}

// lease is a block of calls taken from the store in advance, so that a
// busy client costs the store a write now and then, not one per call. Its
// size adapts: it doubles while blocks last less than 50 ms and halves when
// they last more than 200 ms, so a server holds about 50-200 ms of a
// client's calls at most; a quiet client takes one call at a time.
//
// When the store does not grant a block within LeaseTimeout (on SQLite an
// import holds the write lock until it commits), the server stops asking
// it for StoreBusyBackoff and counts the calls itself: a rate against the
// calls it made in the second, a quota against the key's used count as last
// read (at most DefaultClientTTL old) and the calls it served meanwhile,
// which it records with its next block.
type lease struct {
	left      int64
	size      int64     // the next block's size
	last      time.Time // real time of the last block
	busyUntil time.Time // real time before which the store is not asked
	// quota
	exhausted time.Time // real time the store last refused, zero if not
	debt      int64     // calls served without a block, to record
	usedKnown int64     // the key's used count after this server's last block
	// rate
	window    int64 // the Unix second left and usedInWin belong to
	usedInWin int64 // calls this server made in window
	spentWin  int64 // the window the store refused, 0 if none
}

// LeaseTimeout is how long a check waits for the store to grant a block of
// a key's quota or rate.
const LeaseTimeout = 100 * time.Millisecond

// StoreBusyBackoff is how long a server counts a key's calls itself after
// the store did not grant a block in time.
const StoreBusyBackoff = time.Second

func (l *lease) nextSize() int64 {
	now := time.Now()
	switch {
	case l.size == 0:
		l.size = 1
	case now.Sub(l.last) < 50*time.Millisecond:
		l.size = min(l.size*2, maxLease)
	case now.Sub(l.last) > 200*time.Millisecond:
		l.size = max(l.size/2, 1)
	}
	l.last = now
	return l.size
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return time.Now()
	}
	return s.Clock.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Service) ttl() time.Duration {
	if s.ClientTTL == 0 {
		return DefaultClientTTL
	}
	return s.ClientTTL
}

// Arg is one argument of a check as the client sent it.
type Arg struct {
	// Present is false when the argument is absent or null.
	Present bool
	// Text is the argument's value when it is a string.
	Text string
	// NotText is true when the argument is present but not a string.
	NotText bool
}

// Text returns a present string argument.
func Text(s string) Arg { return Arg{Present: true, Text: s} }

// CheckRequest is a multiple-order check as the client sent it.
type CheckRequest struct {
	APIID     string // X-DF-API-ID
	APISecret string // X-DF-API-SECRET
	MobileNo  Arg
	Source    Arg
	Date      Arg
	// Malformed, when not empty, says why the body could not be read; the
	// check refuses it as EINVALID where the arguments are checked.
	Malformed string
}

// CheckResult is the answer of a check: the matching records, newest
// first. The number is on the list (target) when there is at least one.
type CheckResult struct {
	Query   Query
	Records []Record
}

// Target reports whether the number is on the list.
func (r CheckResult) Target() bool { return len(r.Records) > 0 }

// mobileHint says what mobile_no must be.
const mobileHint = "must be the MD5 of the mobile number with country code as 32 hexadecimal digits, " +
	"for example 29c1ebf81909046ca6adcf8200e71189 for md5(915586685366)"

// Check answers a multiple-order check. The checks run in this order, the
// first failure answering: the key (EUNAUTHORIZED, with ReasonKeyExpired
// for an expired one), its permission (EFORBIDDEN), its rate limit
// (ERATELIMIT; every authenticated call counts), the arguments (EINVALID),
// its quota (EFORBIDDEN with ReasonOutOfQuota; only valid calls count). It
// returns an *trueup.Error for each of these and any other error for a
// fault of trueup's.
func (s *Service) Check(ctx context.Context, req CheckRequest) (CheckResult, error) {
	st, c, loc, err := s.authenticate(ctx, req.APIID, req.APISecret)
	if err != nil {
		return CheckResult{}, err
	}
	if !c.Allows(APIMultipleOrder) {
		return CheckResult{}, trueup.Errorf(trueup.EFORBIDDEN, "API ID %s is not authorized to use the multiple_order API; ask the operator to grant it", c.ID)
	}
	now := s.now()
	if err := s.takeRate(ctx, st, c, now.Unix()); err != nil {
		return CheckResult{}, err
	}
	if req.Malformed != "" {
		return CheckResult{}, trueup.Errorf(trueup.EINVALID, "%s", req.Malformed)
	}
	q, err := parseQuery(req, c, now.In(loc))
	if err != nil {
		return CheckResult{}, err
	}
	if err := s.takeQuota(ctx, st, c); err != nil {
		return CheckResult{}, err
	}
	if !s.NoFilter {
		if f := s.filterFor(ctx); f != nil && !f.mayContain(q.Mobile) {
			return CheckResult{Query: q}, nil // certainly not on the list
		}
	}
	recs, err := s.Store.RiskRecords(ctx, q)
	if err != nil {
		st.mu.Lock()
		if st.quota.debt > 0 { // the call was not answered: give it back
			st.quota.debt--
		} else {
			st.quota.left++
		}
		st.mu.Unlock()
		return CheckResult{}, err
	}
	return CheckResult{Query: q, Records: recs}, nil
}

// parseQuery applies the argument rules of seed 003.
func parseQuery(req CheckRequest, c Client, now time.Time) (Query, error) {
	var q Query
	m := req.MobileNo
	switch {
	case !m.Present || (!m.NotText && m.Text == ""):
		return q, argError("mobile_no", "not found")
	case m.NotText:
		return q, argError("mobile_no", "is not a string; it %s", mobileHint)
	}
	var ok bool
	if q.Mobile, ok = ParseMD5(m.Text); !ok {
		return q, argError("mobile_no", "%q is not an MD5; it %s", clip(m.Text), mobileHint)
	}
	if src := req.Source; src.NotText {
		return q, argError("source", "is not a string; send one of seat, voice, sms, or leave it out for every source")
	} else if src.Present && src.Text != "" {
		if q.Source, ok = ParseSource(strings.ToLower(src.Text)); !ok {
			return q, argError("source", "%q is not a source; send one of seat, voice, sms, or leave it out for every source", clip(src.Text))
		}
	}
	q.To = DayOf(now)
	if d := req.Date; d.NotText {
		return q, argError("date", "is not a string; send the day the look-back starts from as YYYY-MM-DD, such as 2022-10-03, or leave it out for today")
	} else if d.Present && d.Text != "" {
		if q.To, ok = ParseDay(d.Text); !ok {
			return q, argError("date", "%q is not a date; send the day the look-back starts from as YYYY-MM-DD, such as 2022-10-03, or leave it out for today", clip(d.Text))
		}
	}
	window := c.WindowDays
	if window <= 0 {
		window = DefaultWindowDays
	}
	q.From = q.To - Day(window) + 1
	return q, nil
}

// clip shortens a value quoted in a reason.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// unauthorized is the answer to an unknown API ID, a wrong secret and a
// revoked key alike, so that nothing is learned about which it was.
var unauthorized = &trueup.Error{Kind: trueup.EUNAUTHORIZED, Message: "X-DF-API-ID and X-DF-API-SECRET do not match an active API key; check both headers"}

// dummyHash is compared with when the API ID is unknown, so that an unknown
// ID costs what a known one does.
var dummyHash = trueup.HashSecret("trueup risk: no such client")

// authenticate returns the client whose id and secret these are, with its
// state and time zone.
func (s *Service) authenticate(ctx context.Context, id, secret string) (*clientState, Client, *time.Location, error) {
	switch {
	case id == "":
		return nil, Client{}, nil, trueup.Errorf(trueup.EUNAUTHORIZED, "header 'X-DF-API-ID': not found; send your API ID")
	case secret == "":
		return nil, Client{}, nil, trueup.Errorf(trueup.EUNAUTHORIZED, "header 'X-DF-API-SECRET': not found; send your API secret")
	case len(id) > 128:
		return nil, Client{}, nil, unauthorized
	}
	hash := trueup.HashSecret(secret)
	st, c, loc, err := s.client(ctx, ClientID(id), false)
	if err != nil {
		return nil, Client{}, nil, err
	}
	if st == nil {
		subtle.ConstantTimeCompare([]byte(hash), []byte(dummyHash))
		return nil, Client{}, nil, unauthorized
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(c.SecretHash)) != 1 {
		// The secret may have been rotated since the client was read.
		if st, c, loc, err = s.client(ctx, ClientID(id), true); err != nil {
			return nil, Client{}, nil, err
		}
		if st == nil || subtle.ConstantTimeCompare([]byte(hash), []byte(c.SecretHash)) != 1 {
			return nil, Client{}, nil, unauthorized
		}
	}
	if c.RevokedAt != nil {
		return nil, Client{}, nil, unauthorized
	}
	if c.ExpiresAt != nil && !s.now().Before(*c.ExpiresAt) {
		return nil, Client{}, nil, trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonKeyExpired, "API ID %s expired at %s; ask the operator to renew it", c.ID, trueup.FormatTime(*c.ExpiresAt))
	}
	return st, c, loc, nil
}

// client returns the state of the client with id, read from the store when
// the cached copy is older than the TTL or fresh is set. It returns a nil
// state for an unknown client.
func (s *Service) client(ctx context.Context, id ClientID, fresh bool) (*clientState, Client, *time.Location, error) {
	s.mu.RLock()
	st := s.clients[id]
	s.mu.RUnlock()
	if st != nil && !fresh {
		st.mu.Lock()
		if !st.fetched.IsZero() && time.Since(st.fetched) < s.ttl() {
			c, loc := st.c, st.loc
			st.mu.Unlock()
			return st, c, loc, nil
		}
		st.mu.Unlock()
	}
	c, err := s.Store.RiskClient(ctx, id)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return nil, Client{}, nil, nil
	}
	if err != nil {
		return nil, Client{}, nil, fmt.Errorf("read risk client: %w", err)
	}
	if st == nil {
		s.mu.Lock()
		if s.clients == nil {
			s.clients = map[ClientID]*clientState{}
		}
		if st = s.clients[id]; st == nil {
			st = &clientState{}
			s.clients[id] = st
		}
		s.mu.Unlock()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loc == nil || st.c.TimeZone != c.TimeZone {
		st.loc = c.Location()
	}
	st.c, st.fetched = c, s.now()
	return st, c, st.loc, nil
}

// takeRate counts one call against the client's rate limit in the second
// window, taking a block of the window's calls from the store when the
// server has none left.
func (s *Service) takeRate(ctx context.Context, st *clientState, c Client, window int64) error {
	if c.Rate <= 0 {
		return nil // unlimited: nothing to count
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	l := &st.rate
	if l.window != window {
		l.window, l.left, l.usedInWin = window, 0, 0
	}
	if l.left == 0 {
		if l.spentWin == window || l.usedInWin >= c.Rate {
			return rateExceeded(c)
		}
		if s.now().After(l.busyUntil) {
			lctx, cancel := context.WithTimeout(ctx, LeaseTimeout)
			n, err := s.Store.LeaseRiskRate(lctx, c.ID, window, min(l.nextSize(), c.Rate-l.usedInWin))
			cancel()
			switch {
			case err == nil && n == 0:
				l.spentWin = window
				return rateExceeded(c)
			case err == nil:
				l.left = n
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				s.storeBusy(l, c, "rate", err)
			}
		}
	}
	if l.left > 0 {
		l.left--
	}
	l.usedInWin++
	return nil
}

// storeBusy notes that the store did not grant a block in time.
func (s *Service) storeBusy(l *lease, c Client, what string, err error) {
	l.busyUntil = s.now().Add(StoreBusyBackoff)
	s.logger().Warn("risk: the store did not grant a block in time; counting calls in this server", "api_id", c.ID, "counter", what, "err", err)
}

func rateExceeded(c Client) error {
	return trueup.Errorf(trueup.ERATELIMIT, "API ID %s may make %d calls per second; slow down and retry in the next second", c.ID, c.Rate)
}

// quotaRecheck is how long a server refuses with ReasonOutOfQuota without asking the
// store again after the store refused (the operator may raise the quota).
const quotaRecheck = DefaultClientTTL

// takeQuota counts one call against the client's quota, taking a block of
// it from the store when the server has none left. Calls of a client
// without a quota are counted too, as its usage.
func (s *Service) takeQuota(ctx context.Context, st *clientState, c Client) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	l := &st.quota
	if l.left > 0 {
		l.left--
		return nil
	}
	if !l.exhausted.IsZero() && time.Since(l.exhausted) < quotaRecheck {
		return quotaExceeded(c)
	}
	if s.now().After(l.busyUntil) {
		lctx, cancel := context.WithTimeout(ctx, LeaseTimeout)
		n, used, err := s.Store.LeaseRiskQuota(lctx, c.ID, l.nextSize()+l.debt)
		cancel()
		if err == nil {
			l.usedKnown = used
			paid := min(n, l.debt) // record the calls served meanwhile
			l.debt -= paid
			if n -= paid; n == 0 {
				l.exhausted = s.now()
				return quotaExceeded(c)
			}
			l.exhausted, l.left = time.Time{}, n-1
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.storeBusy(l, c, "quota", err)
	}
	if c.Quota > 0 && c.Quota-max(c.QuotaUsed, l.usedKnown)-l.debt <= 0 {
		return quotaExceeded(c)
	}
	l.debt++
	return nil
}

func quotaExceeded(c Client) error {
	return trueup.Reasonf(trueup.EFORBIDDEN, ReasonOutOfQuota, "API ID %s has used its quota of %d calls; ask the operator to raise it", c.ID, c.Quota)
}

// CreateClientParams are the inputs of CreateClient.
type CreateClientParams struct {
	Name string
	// APIs the client may call; every API when nil.
	APIs []API
	// TimeZone is an IANA zone name; UTC when empty.
	TimeZone string
	// WindowDays is the look-back window; DefaultWindowDays when 0.
	WindowDays int
	// Quota is the number of calls allowed in all; 0 is unlimited.
	Quota int64
	// Rate is the number of calls allowed per second; 0 is unlimited.
	Rate int64
	// ExpiresAt is when the key stops working; never when nil.
	ExpiresAt *time.Time
}

// Credentials are an API key as shown once: the secret is never stored.
type Credentials struct {
	Client
	APISecret string `json:"apiSecret"`
}

// CreateClient creates an API client with a fresh secret. It returns an
// EINVALID *trueup.Error for a bad parameter and ECONFLICT for a name
// already taken.
func (s *Service) CreateClient(ctx context.Context, p CreateClientParams) (Credentials, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" || len(name) > 128 {
		return Credentials{}, invalid("the client name must be 1 to 128 characters; pass --name NAME")
	}
	apis := p.APIs
	if apis == nil {
		apis = APIs
	}
	zone := p.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	window := p.WindowDays
	if window == 0 {
		window = DefaultWindowDays
	}
	if err := checkSettings(&apis, &zone, &window, &p.Quota, &p.Rate); err != nil {
		return Credentials{}, err
	}
	secret := trueup.NewSecret()
	c := Client{
		ID: ClientID(trueup.NewID("rk_")), Name: name, SecretHash: trueup.HashSecret(secret), APIs: apis,
		TimeZone: zone, WindowDays: window, Quota: p.Quota, Rate: p.Rate, CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if p.ExpiresAt != nil {
		t := p.ExpiresAt.UTC()
		c.ExpiresAt = &t
	}
	if err := s.Store.CreateRiskClient(ctx, c); err != nil {
		return Credentials{}, err
	}
	s.changed(ctx, trueup.EventPartnerChanged, c.ID, "riskclient.created")
	return Credentials{Client: c, APISecret: secret}, nil
}

func invalid(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, format, args...)
}

// checkSettings validates the settings given (nil pointers are skipped).
func checkSettings(apis *[]API, zone *string, window *int, quota, rate *int64) error {
	if apis != nil {
		seen := map[API]bool{}
		out := []API{}
		for _, a := range *apis {
			known := false
			for _, k := range APIs {
				known = known || a == k
			}
			if !known {
				return invalid("API %q is unknown; the APIs are %s", a, JoinAPIs(APIs, ", "))
			}
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
		*apis = out
	}
	if zone != nil {
		if _, err := time.LoadLocation(*zone); err != nil || *zone == "" || *zone == "Local" {
			return invalid("time zone %q is unknown; use an IANA name such as Asia/Kolkata or UTC", *zone)
		}
	}
	if window != nil && (*window < 1 || *window > MaxWindowDays) {
		return invalid("the look-back window must be 1 to %d days; got %d", MaxWindowDays, *window)
	}
	if quota != nil && *quota < 0 {
		return invalid("the quota must be 0 (unlimited) or more calls; got %d", *quota)
	}
	if rate != nil && *rate < 0 {
		return invalid("the rate must be 0 (unlimited) or more calls per second; got %d", *rate)
	}
	return nil
}

// JoinAPIs returns the names of apis separated by sep.
func JoinAPIs(apis []API, sep string) string {
	s := make([]string, len(apis))
	for i, a := range apis {
		s[i] = string(a)
	}
	return strings.Join(s, sep)
}

// ParseAPIs parses a comma-separated list of API names ("" is none).
func ParseAPIs(s string) ([]API, error) {
	apis := []API{}
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			apis = append(apis, API(a))
		}
	}
	if err := checkSettings(&apis, nil, nil, nil, nil); err != nil {
		return nil, err
	}
	return apis, nil
}

// RotateClient gives an active client a fresh secret; the old one stops
// working at once on this server and within ClientTTL on others. It
// returns an ENOTFOUND *trueup.Error for an unknown or revoked client.
func (s *Service) RotateClient(ctx context.Context, id ClientID) (Credentials, error) {
	secret := trueup.NewSecret()
	if err := s.Store.RotateRiskClient(ctx, id, trueup.HashSecret(secret)); err != nil {
		return Credentials{}, err
	}
	s.forget(id)
	s.changed(ctx, trueup.EventCredentialIssued, id, "riskclient.rotated")
	c, err := s.Store.RiskClient(ctx, id)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Client: c, APISecret: secret}, nil
}

// RevokeClient revokes a client for good. It returns an ENOTFOUND
// *trueup.Error for an unknown or already revoked client.
func (s *Service) RevokeClient(ctx context.Context, id ClientID) error {
	if err := s.Store.RevokeRiskClient(ctx, id); err != nil {
		return err
	}
	s.forget(id)
	s.changed(ctx, trueup.EventCredentialRevoked, id, "riskclient.revoked")
	return nil
}

// UpdateClient changes an active client's settings and returns the client
// as updated. It returns an EINVALID *trueup.Error for a bad setting and
// ENOTFOUND for an unknown or revoked client.
func (s *Service) UpdateClient(ctx context.Context, u ClientUpdate) (Client, error) {
	if err := checkSettings(u.APIs, u.TimeZone, u.WindowDays, u.Quota, u.Rate); err != nil {
		return Client{}, err
	}
	if u.ExpiresAt != nil {
		t := u.ExpiresAt.UTC()
		u.ExpiresAt = &t
	}
	if err := s.Store.UpdateRiskClient(ctx, u); err != nil {
		return Client{}, err
	}
	s.forget(u.ID)
	s.changed(ctx, trueup.EventPartnerChanged, u.ID, "riskclient.settings")
	return s.Store.RiskClient(ctx, u.ID)
}

// changed records a change to risk client id: action names it.
func (s *Service) changed(ctx context.Context, typ string, id ClientID, action string) {
	trueup.Emit(ctx, s.Events, s.logger(), trueup.Event{Type: typ, Subject: string(id), Data: map[string]any{"action": action, "apiId": id}})
}

// Client returns a client with its usage so far, or an ENOTFOUND
// *trueup.Error.
func (s *Service) Client(ctx context.Context, id ClientID) (Client, error) {
	return s.Store.RiskClient(ctx, id)
}

// Clients returns every client, oldest first.
func (s *Service) Clients(ctx context.Context) ([]Client, error) {
	return s.Store.RiskClients(ctx)
}

// forget makes the next call of a client read it from the store.
func (s *Service) forget(id ClientID) {
	s.mu.RLock()
	st := s.clients[id]
	s.mu.RUnlock()
	if st != nil {
		st.mu.Lock()
		st.fetched, st.quota.exhausted, st.rate.spentWin = time.Time{}, time.Time{}, 0
		st.mu.Unlock()
	}
}
