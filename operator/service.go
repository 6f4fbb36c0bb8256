package operator

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/trueup/trueup"
)

// Defaults of the Service's settings (each is a serve flag).
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultIdleTimeout = 30 * time.Minute
	DefaultSlowAfter   = 3
	DefaultMaxFailures = 10
	DefaultLockout     = 15 * time.Minute
	// MaxSlowDelay caps the wait between failed sign-ins.
	MaxSlowDelay = time.Minute
	// MinPasswordLen and MaxPasswordLen bound a chosen password.
	MinPasswordLen = 12
	MaxPasswordLen = 128
	maxEmailLen    = 254
	// concurrentHashes bounds the argon2id computations running at once:
	// each holds Params.Memory.
	concurrentHashes = 4
)

// Reasons of the sign-in refusals.
const (
	ReasonBadCredentials trueup.Reason = "signin_refused"
	ReasonLocked         trueup.Reason = "account_locked"
	ReasonSlowed         trueup.Reason = "signin_slowed"
	ReasonDisabled       trueup.Reason = "account_disabled"
	ReasonSessionEnded   trueup.Reason = "session_ended"
)

// CarrierReader finds carriers; *auth.Admin implements it.
type CarrierReader interface {
	Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error)
}

// Service manages operators, signs them in and checks their sessions.
type Service struct {
	Store Store
	// Carriers checks the carrier of a carrier user.
	Carriers CarrierReader
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Events, when set, records sign-ins, failed sign-ins and changes to
	// operators.
	Events trueup.Recorder
	// Params are the argon2id costs of new password hashes.
	Params Params
	// SessionTTL is a session's longest life; IdleTimeout ends a session
	// not used for that long.
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// SlowAfter failed sign-ins in a row, each further attempt must wait
	// 1 s, then 2 s, 4 s ... (at most MaxSlowDelay) after the last
	// failure; at MaxFailures the account is locked for Lockout (0 never
	// locks).
	SlowAfter   int
	MaxFailures int
	Lockout     time.Duration

	hashes    chan struct{}
	dummyOnce sync.Once
	dummy     string
}

// New returns a Service over store with the real clock and the defaults.
func New(store Store, carriers CarrierReader) *Service {
	return &Service{Store: store, Carriers: carriers, Clock: trueup.SystemClock{}, Params: DefaultParams,
		SessionTTL: DefaultSessionTTL, IdleTimeout: DefaultIdleTimeout,
		SlowAfter: DefaultSlowAfter, MaxFailures: DefaultMaxFailures, Lockout: DefaultLockout,
		hashes: make(chan struct{}, concurrentHashes)}
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

// hash runs fn holding one of the argon2id slots, or returns ctx's error.
func (s *Service) hash(ctx context.Context, fn func()) error {
	if s.hashes == nil {
		fn()
		return nil
	}
	select {
	case s.hashes <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait for password check: %w", ctx.Err())
	}
	defer func() { <-s.hashes }()
	fn()
	return nil
}

func (s *Service) record(ctx context.Context, e trueup.Event) error {
	if s.Events == nil {
		return nil
	}
	if e.Actor == "" {
		e.Actor = trueup.ActorFrom(ctx)
	}
	e.Time = s.now()
	if err := s.Events.Record(ctx, e); err != nil {
		return fmt.Errorf("record %s: %w", e.Type, err)
	}
	return nil
}

// CreateParams are the inputs of Create.
type CreateParams struct {
	Email string
	Role  Role
	// CarrierID is required for RoleCarrier and refused for the others.
	CarrierID trueup.CarrierID
	// Password is the operator's password; empty generates one.
	Password string
}

// Created is a new operator. Password is set only when it was generated:
// it is shown once.
type Created struct {
	OperatorID ID               `json:"operatorId"`
	Email      string           `json:"email"`
	Role       Role             `json:"role"`
	CarrierID  trueup.CarrierID `json:"carrierId,omitempty"`
	Password   string           `json:"password,omitempty"`
}

// NormalizeEmail returns email trimmed and lower-cased, or an EINVALID
// *trueup.Error saying how to write it.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" {
		return "", trueup.Errorf(trueup.EINVALID, "email is empty; enter the operator's email address, for example ana@example.com")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > maxEmailLen {
		return "", trueup.Errorf(trueup.EINVALID, "email %q is not an email address; enter one like ana@example.com (at most %d characters)", email, maxEmailLen)
	}
	return e, nil
}

// CheckPasswordPolicy returns an EINVALID *trueup.Error when password is
// too short or too long.
func CheckPasswordPolicy(password string) error {
	if n := len([]rune(password)); n < MinPasswordLen || len(password) > MaxPasswordLen {
		return trueup.Errorf(trueup.EINVALID, "the password has %d characters; choose one of %d to %d characters (a passphrase of a few words is good)", n, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// checkRole validates a role and its carrier.
func (s *Service) checkRole(ctx context.Context, role Role, carrier trueup.CarrierID) error {
	if !role.Valid() {
		return trueup.Errorf(trueup.EINVALID, "role %q is not a role; use viewer, operator, admin or carrier", role)
	}
	if role == RoleCarrier {
		if carrier == "" {
			return trueup.Errorf(trueup.EINVALID, "a carrier user needs its carrier; pass the carrier id (see `trueup admin carrier list`)")
		}
		if s.Carriers != nil {
			if _, err := s.Carriers.Carrier(ctx, carrier); trueup.ErrorKind(err) == trueup.ENOTFOUND {
				return trueup.Errorf(trueup.EINVALID, "carrier %q does not exist; use a carrier id from `trueup admin carrier list`", carrier)
			} else if err != nil {
				return err
			}
		}
	} else if carrier != "" {
		return trueup.Errorf(trueup.EINVALID, "only a carrier user has a carrier; leave the carrier empty for role %s, or use role carrier", role)
	}
	return nil
}

// Create makes an operator and returns it, with the password when it was
// generated. A malformed email, a bad role or carrier, or a password
// outside the policy are EINVALID; an email already taken is ECONFLICT.
func (s *Service) Create(ctx context.Context, p CreateParams) (Created, error) {
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return Created{}, err
	}
	if err := s.checkRole(ctx, p.Role, p.CarrierID); err != nil {
		return Created{}, err
	}
	password, generated := p.Password, false
	if password == "" {
		password, generated = NewPassword(), true
	} else if err := CheckPasswordPolicy(password); err != nil {
		return Created{}, err
	}
	var hash string
	if err := s.hash(ctx, func() { hash = HashPassword(password, s.params()) }); err != nil {
		return Created{}, err
	}
	o := Operator{ID: ID(trueup.NewID("op_")), Email: email, Role: p.Role, CarrierID: p.CarrierID, PasswordHash: hash, CreatedAt: s.now()}
	if err := s.Store.CreateOperator(ctx, o); err != nil {
		return Created{}, err
	}
	c := Created{OperatorID: o.ID, Email: o.Email, Role: o.Role, CarrierID: o.CarrierID}
	if generated {
		c.Password = password
	}
	return c, s.record(ctx, trueup.Event{Type: trueup.EventOperatorChanged, CarrierID: o.CarrierID, Subject: string(o.ID),
		Data: map[string]any{"change": "created", "email": o.Email, "role": string(o.Role)}})
}

func (s *Service) params() Params {
	if s.Params.Memory == 0 {
		return DefaultParams
	}
	return s.Params
}

// List returns every operator, oldest first; an empty list is a non-nil
// slice.
func (s *Service) List(ctx context.Context) ([]Operator, error) {
	list, err := s.Store.Operators(ctx)
	if list == nil {
		list = []Operator{}
	}
	return list, err
}

// Get returns an operator; an unknown id is ENOTFOUND.
func (s *Service) Get(ctx context.Context, id ID) (Operator, error) {
	return s.Store.Operator(ctx, id)
}

// SetRoleParams are the inputs of SetRole.
type SetRoleParams struct {
	ID        ID
	Role      Role
	CarrierID trueup.CarrierID
}

// SetRole changes an operator's role (and carrier, for a carrier user)
// and returns the operator. Its sessions stay, with the new role from
// their next request.
func (s *Service) SetRole(ctx context.Context, p SetRoleParams) (Operator, error) {
	if err := s.checkRole(ctx, p.Role, p.CarrierID); err != nil {
		return Operator{}, err
	}
	o, err := s.Store.UpdateOperator(ctx, UpdateParams{ID: p.ID, Role: &p.Role, CarrierID: &p.CarrierID})
	if err != nil {
		return Operator{}, err
	}
	return o, s.record(ctx, trueup.Event{Type: trueup.EventOperatorChanged, CarrierID: o.CarrierID, Subject: string(o.ID),
		Data: map[string]any{"change": "role", "role": string(o.Role)}})
}

// SetDisabled disables an operator (ending its sessions) or enables it
// again (clearing its failed sign-ins and any lockout), and returns it.
func (s *Service) SetDisabled(ctx context.Context, id ID, disabled bool) (Operator, error) {
	o, err := s.Store.UpdateOperator(ctx, UpdateParams{ID: id, Disabled: &disabled, At: s.now(), ResetFailures: !disabled})
	if err != nil {
		return Operator{}, err
	}
	if disabled {
		if err := s.Store.DeleteOperatorSessions(ctx, id); err != nil {
			return Operator{}, err
		}
	}
	change := "enabled"
	if disabled {
		change = "disabled"
	}
	return o, s.record(ctx, trueup.Event{Type: trueup.EventOperatorChanged, CarrierID: o.CarrierID, Subject: string(o.ID),
		Data: map[string]any{"change": change}})
}

// SignInParams are the inputs of SignIn.
type SignInParams struct {
	Email    string
	Password string
}

// SignedIn is a new session: the token for the browser's cookie (shown
// nowhere else), the session and its operator.
type SignedIn struct {
	Token    string
	Session  Session
	Operator Operator
}

var errBadCredentials = trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonBadCredentials,
	"the email or the password is wrong; check both (the password is case-sensitive) and sign in again, or ask an admin to reset your account")

// SignIn checks an email and password and opens a session. A wrong email
// or password is EUNAUTHORIZED (the same answer for both); an account
// slowed down by recent failures is ERATELIMIT, a locked one EFORBIDDEN,
// each saying when to retry; a disabled one EFORBIDDEN.
func (s *Service) SignIn(ctx context.Context, p SignInParams) (SignedIn, error) {
	now := s.now()
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return SignedIn{}, err
	}
	if p.Password == "" || len(p.Password) > MaxPasswordLen {
		return SignedIn{}, trueup.Errorf(trueup.EINVALID, "the password is empty or longer than %d characters; type your password", MaxPasswordLen)
	}
	o, err := s.Store.OperatorByEmail(ctx, email)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		// Spend the time of a check, so that an unknown email answers as
		// slowly as a known one.
		if err := s.hash(ctx, func() { CheckPassword(s.dummyHash(), p.Password) }); err != nil {
			return SignedIn{}, err
		}
		return SignedIn{}, s.failed(ctx, email, "unknown_email", errBadCredentials)
	} else if err != nil {
		return SignedIn{}, err
	}
	if o.LockedUntil != nil && now.Before(*o.LockedUntil) {
		return SignedIn{}, s.failed(ctx, email, "locked", trueup.Reasonf(trueup.EFORBIDDEN, ReasonLocked,
			"this account is locked after %d failed sign-ins until %s; wait until then, or ask an admin to enable it again",
			o.FailedSignIns, trueup.FormatTime(*o.LockedUntil)))
	}
	if wait := s.slowDelay(o, now); wait > 0 {
		return SignedIn{}, s.failed(ctx, email, "slowed", trueup.Reasonf(trueup.ERATELIMIT, ReasonSlowed,
			"too many failed sign-ins for this account; wait %d seconds, then sign in again", int((wait+time.Second-1)/time.Second)))
	}
	var ok bool
	if err := s.hash(ctx, func() { ok = CheckPassword(o.PasswordHash, p.Password) }); err != nil {
		return SignedIn{}, err
	}
	if !ok {
		fp := FailureParams{ID: o.ID, At: now}
		if s.MaxFailures > 0 && s.Lockout > 0 {
			fp.LockAt, fp.LockUntil = s.MaxFailures, now.Add(s.Lockout)
		}
		if _, err := s.Store.RecordSignInFailure(ctx, fp); err != nil {
			return SignedIn{}, err
		}
		return SignedIn{}, s.failed(ctx, email, "wrong_password", errBadCredentials)
	}
	if o.DisabledAt != nil {
		return SignedIn{}, s.failed(ctx, email, "disabled", trueup.Reasonf(trueup.EFORBIDDEN, ReasonDisabled,
			"this account is disabled; ask an admin to enable it"))
	}
	if o.FailedSignIns > 0 || o.LockedUntil != nil {
		if o, err = s.Store.UpdateOperator(ctx, UpdateParams{ID: o.ID, ResetFailures: true}); err != nil {
			return SignedIn{}, err
		}
	}
	exp := ExpireParams{Now: now}
	if s.IdleTimeout > 0 {
		exp.IdleSince = now.Add(-s.IdleTimeout)
	}
	if _, err := s.Store.DeleteExpiredSessions(ctx, exp); err != nil {
		return SignedIn{}, err
	}
	token := trueup.NewSecret()
	sess := Session{TokenHash: trueup.HashSecret(token), OperatorID: o.ID, CSRFToken: trueup.NewSecret(),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.SessionTTL)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return SignedIn{}, err
	}
	return SignedIn{Token: token, Session: sess, Operator: o}, s.record(ctx, trueup.Event{Type: trueup.EventSignIn, Actor: o.Actor(),
		CarrierID: o.CarrierID, Subject: string(o.ID), Data: map[string]any{"email": o.Email}})
}

// slowDelay returns how long o must still wait before its next attempt.
func (s *Service) slowDelay(o Operator, now time.Time) time.Duration {
	if s.SlowAfter <= 0 || o.FailedSignIns < s.SlowAfter || o.LastFailedAt == nil {
		return 0
	}
	d := time.Second << min(o.FailedSignIns-s.SlowAfter, 6)
	d = min(d, MaxSlowDelay)
	return o.LastFailedAt.Add(d).Sub(now)
}

// failed records a failed sign-in and returns refusal.
func (s *Service) failed(ctx context.Context, email, why string, refusal error) error {
	if err := s.record(ctx, trueup.Event{Type: trueup.EventSignInFailed, Actor: trueup.ActorSystem, Subject: email,
		Data: map[string]any{"reason": why}}); err != nil {
		return err
	}
	return refusal
}

// dummyHash returns a hash of the service's parameters that no password
// is checked against for real.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = HashPassword(NewPassword(), s.params()) })
	return s.dummy
}

var errSessionEnded = trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonSessionEnded, "your session has ended; sign in again")

// Authenticate returns the session of a cookie's token and its operator,
// and marks the session used. A missing, unknown, expired or idle session,
// or one of a disabled operator, is an EUNAUTHORIZED *trueup.Error.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, Operator, error) {
	if token == "" {
		return Session{}, Operator{}, errSessionEnded
	}
	now := s.now()
	sess, o, err := s.Store.SessionByHash(ctx, trueup.HashSecret(token))
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return Session{}, Operator{}, errSessionEnded
	} else if err != nil {
		return Session{}, Operator{}, err
	}
	if !now.Before(sess.ExpiresAt) || (s.IdleTimeout > 0 && !now.Before(sess.LastSeenAt.Add(s.IdleTimeout))) || o.DisabledAt != nil {
		if err := s.Store.DeleteSession(ctx, sess.TokenHash); err != nil {
			return Session{}, Operator{}, err
		}
		return Session{}, Operator{}, errSessionEnded
	}
	// A write a minute at most, not one a request.
	if now.Sub(sess.LastSeenAt) >= time.Minute {
		if err := s.Store.TouchSession(ctx, sess.TokenHash, now); err != nil {
			return Session{}, Operator{}, err
		}
		sess.LastSeenAt = now
	}
	return sess, o, nil
}

// SignOut ends the session of token; an unknown token is no error.
func (s *Service) SignOut(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.Store.DeleteSession(ctx, trueup.HashSecret(token))
}

// CheckCSRF reports whether token is the session's CSRF token, comparing
// in constant time.
func CheckCSRF(sess Session, token string) bool {
	return token != "" && sess.CSRFToken != "" && subtle.ConstantTimeCompare([]byte(sess.CSRFToken), []byte(token)) == 1
}

// SetFlash keeps msg to show on the session's next page.
func (s *Service) SetFlash(ctx context.Context, sess Session, msg string) error {
	return s.Store.SetSessionFlash(ctx, sess.TokenHash, msg)
}

// ClearFlash forgets the session's flash once shown.
func (s *Service) ClearFlash(ctx context.Context, sess Session) error {
	return s.Store.SetSessionFlash(ctx, sess.TokenHash, "")
}

// ResetPassword gives an operator a new password, ends its sessions and
// clears its failed sign-ins, and returns the password: password when
// given (checked against the policy), else a generated one, to show once.
// An unknown id is ENOTFOUND.
func (s *Service) ResetPassword(ctx context.Context, id ID, password string) (string, error) {
	if password == "" {
		password = NewPassword()
	} else if err := CheckPasswordPolicy(password); err != nil {
		return "", err
	}
	var hash string
	if err := s.hash(ctx, func() { hash = HashPassword(password, s.params()) }); err != nil {
		return "", err
	}
	o, err := s.Store.UpdateOperator(ctx, UpdateParams{ID: id, PasswordHash: &hash, ResetFailures: true})
	if err != nil {
		return "", err
	}
	if err := s.Store.DeleteOperatorSessions(ctx, id); err != nil {
		return "", err
	}
	return password, s.record(ctx, trueup.Event{Type: trueup.EventOperatorChanged, CarrierID: o.CarrierID, Subject: string(o.ID),
		Data: map[string]any{"change": "password"}})
}
