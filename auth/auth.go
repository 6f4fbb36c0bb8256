// Package auth provisions carriers and their OAuth2 client credentials,
// issues bearer tokens, and checks the headers of carrier API calls
// (Authorization, X-Date, X-User-Id) as seeds 000, 001 and 004 describe.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trueup/trueup"
)

// Store is the storage auth needs.
type Store interface {
	CreateCarrier(ctx context.Context, c trueup.Carrier) error
	Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error)
	CreateClient(ctx context.Context, c trueup.Client) error
	Client(ctx context.Context, id trueup.ClientID) (trueup.Client, error)
	RotateClient(ctx context.Context, id trueup.ClientID, secretHash string) error
	CreateToken(ctx context.Context, t trueup.Token, secretHash string) error
	TokenByHash(ctx context.Context, hash string) (trueup.Token, trueup.Carrier, error)
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)
}

// DateLayout is the layout of X-Date: yyyyMMdd'T'HHmmss'Z' in UTC.
const DateLayout = "20060102T150405Z"

// MaxDateAge is how old an X-Date may be.
const MaxDateAge = 15 * time.Minute

// Service provisions credentials and authenticates carrier calls.
type Service struct {
	Store Store
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// TokenTTL is how long an issued token lasts (default one hour).
	TokenTTL time.Duration
	// SweepEvery is how often, at most, issuing a token also deletes the
	// tokens expired for over KeepExpired (default DefaultSweepEvery).
	SweepEvery time.Duration

	// Events, when set, records carriers created and secrets issued.
	Events trueup.Recorder

	sweepMu   sync.Mutex
	lastSweep time.Time
}

// New returns a Service over store with the real clock and one-hour tokens.
func New(store Store) *Service {
	return &Service{Store: store, Clock: trueup.SystemClock{}, TokenTTL: time.Hour}
}

// Credentials are what provisioning shows once: the secret is never stored.
type Credentials struct {
	CarrierID    trueup.CarrierID `json:"carrierId"`
	Name         string           `json:"name,omitempty"`
	UserID       string           `json:"userId"`
	Whitelisted  bool             `json:"whitelisted"`
	ClientID     trueup.ClientID  `json:"clientId"`
	ClientSecret string           `json:"clientSecret"`
}

// CreateCarrierParams are the inputs of CreateCarrier.
type CreateCarrierParams struct {
	Name        string
	Whitelisted bool
	TimeZone    string // IANA name; UTC when empty
}

// CreateCarrier creates a carrier with a bound user id and a first client.
func (s *Service) CreateCarrier(ctx context.Context, p CreateCarrierParams) (Credentials, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" {
		return Credentials{}, trueup.Errorf(trueup.EINVALID, "carrier name is empty; pass --name NAME")
	}
	zone := p.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return Credentials{}, trueup.Errorf(trueup.EINVALID, "time zone %q is unknown; use an IANA name such as Asia/Shanghai or UTC", zone)
	}
	c := trueup.Carrier{
		ID: trueup.CarrierID(trueup.NewID("car_")), Name: name, UserID: trueup.NewDigits(12),
		Whitelisted: p.Whitelisted, TimeZone: zone, CreatedAt: s.Clock.Now().UTC(),
	}
	if err := s.Store.CreateCarrier(ctx, c); err != nil {
		return Credentials{}, err
	}
	cred, err := s.CreateClient(ctx, c.ID)
	if err != nil {
		return Credentials{}, err
	}
	cred.Name = c.Name
	trueup.Emit(ctx, s.Events, nil, trueup.Event{Type: trueup.EventPartnerChanged, CarrierID: c.ID, Subject: string(c.ID),
		Data: map[string]any{"action": "carrier.created", "name": c.Name, "whitelisted": c.Whitelisted, "timeZone": c.TimeZone}})
	return cred, nil
}

// CreateClient adds a client to a carrier and returns its secret, shown once.
func (s *Service) CreateClient(ctx context.Context, carrier trueup.CarrierID) (Credentials, error) {
	c, err := s.Store.Carrier(ctx, carrier)
	if err != nil {
		return Credentials{}, err
	}
	secret := trueup.NewSecret()
	cl := trueup.Client{ID: trueup.ClientID(trueup.NewID("cli_")), CarrierID: c.ID, SecretHash: trueup.HashSecret(secret), CreatedAt: s.Clock.Now().UTC()}
	if err := s.Store.CreateClient(ctx, cl); err != nil {
		return Credentials{}, err
	}
	trueup.Emit(ctx, s.Events, nil, trueup.Event{Type: trueup.EventCredentialIssued, CarrierID: c.ID, Subject: string(cl.ID),
		Data: map[string]any{"action": "client.created", "clientId": cl.ID}})
	return Credentials{CarrierID: c.ID, UserID: c.UserID, Whitelisted: c.Whitelisted, ClientID: cl.ID, ClientSecret: secret}, nil
}

// RotateClient gives a client a new secret, shown once, and revokes the
// tokens issued under the old one.
func (s *Service) RotateClient(ctx context.Context, id trueup.ClientID) (Credentials, error) {
	cl, err := s.Store.Client(ctx, id)
	if err != nil {
		return Credentials{}, err
	}
	c, err := s.Store.Carrier(ctx, cl.CarrierID)
	if err != nil {
		return Credentials{}, err
	}
	secret := trueup.NewSecret()
	if err := s.Store.RotateClient(ctx, id, trueup.HashSecret(secret)); err != nil {
		return Credentials{}, err
	}
	trueup.Emit(ctx, s.Events, nil, trueup.Event{Type: trueup.EventCredentialIssued, CarrierID: c.ID, Subject: string(id),
		Data: map[string]any{"action": "client.rotated", "clientId": id}})
	return Credentials{CarrierID: c.ID, UserID: c.UserID, Whitelisted: c.Whitelisted, ClientID: id, ClientSecret: secret}, nil
}

// IssuedToken is the answer of the token endpoint.
type IssuedToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// IssueToken checks client credentials and issues a bearer token. Wrong or
// revoked credentials are an EUNAUTHORIZED error that does not say which
// part was wrong. The store re-checks the client and its secret in the
// transaction that stores the token, so a token is never issued with
// credentials that a concurrent revocation or rotation made void. Tokens
// expired for over KeepExpired are swept first, at most once per
// SweepEvery; a failed sweep fails the call.
func (s *Service) IssueToken(ctx context.Context, grantType string, id trueup.ClientID, secret string) (IssuedToken, error) {
	if grantType != "client_credentials" {
		return IssuedToken{}, trueup.Errorf(trueup.EINVALID, "grant_type %s is not supported; send grant_type=client_credentials", Quote(grantType))
	}
	if id == "" || secret == "" {
		return IssuedToken{}, trueup.Errorf(trueup.EINVALID, "client_id and client_secret are required form fields")
	}
	bad := trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonBadCredentials, "client_id or client_secret is wrong, or the client was revoked; ask the operator for valid credentials")
	cl, err := s.Store.Client(ctx, id)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return IssuedToken{}, bad
	} else if err != nil {
		return IssuedToken{}, err
	}
	hash := trueup.HashSecret(secret)
	if cl.RevokedAt != nil || subtle.ConstantTimeCompare([]byte(cl.SecretHash), []byte(hash)) != 1 {
		return IssuedToken{}, bad
	}
	tok := trueup.NewSecret()
	now := s.Clock.Now().UTC()
	ttl := s.TokenTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	if err := s.sweep(ctx, now); err != nil {
		return IssuedToken{}, err
	}
	err = s.Store.CreateToken(ctx, trueup.Token{Hash: trueup.HashSecret(tok), ClientID: cl.ID, CarrierID: cl.CarrierID, IssuedAt: now, ExpiresAt: now.Add(ttl)}, hash)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return IssuedToken{}, bad
	} else if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second)}, nil
}

// Request holds the authentication headers of a carrier call.
type Request struct {
	Authorization string
	XDate         string
	XUserID       string
}

// Authenticate checks a carrier call's headers and returns the caller. The
// checks run in this order: Authorization present and Bearer (any case);
// token known, not revoked, not expired; X-Date present and well formed;
// X-Date not in the future and at most 15 minutes old; X-User-Id present and
// the account bound to the token's carrier. Each failure is an *trueup.Error
// with its own code and a message that says how to fix it.
func (s *Service) Authenticate(ctx context.Context, r Request) (trueup.Carrier, error) {
	c, _, err := s.AuthenticateClient(ctx, r)
	return c, err
}

// AuthenticateClient is Authenticate that also returns the client the
// token was issued to, the actor of the call's events.
func (s *Service) AuthenticateClient(ctx context.Context, r Request) (trueup.Carrier, trueup.ClientID, error) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Authorization), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return trueup.Carrier{}, "", trueup.Errorf(trueup.EUNAUTHORIZED,
			"Authorization header is missing or not a bearer token; send Authorization: Bearer <access_token> from POST /koodrive/oauth2/v1/token")
	}
	t, c, err := s.Store.TokenByHash(ctx, trueup.HashSecret(token))
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return trueup.Carrier{}, "", trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonTokenInvalid, "access token is not valid; request a new one from POST /koodrive/oauth2/v1/token")
	} else if err != nil {
		return trueup.Carrier{}, "", fmt.Errorf("look up token: %w", err)
	}
	now := s.Clock.Now().UTC()
	if t.RevokedAt != nil {
		return trueup.Carrier{}, "", trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonTokenInvalid, "access token was revoked; request a new one from POST /koodrive/oauth2/v1/token")
	}
	if !now.Before(t.ExpiresAt) {
		return trueup.Carrier{}, "", trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonTokenExpired, "access token expired at %s; request a new one from POST /koodrive/oauth2/v1/token", t.ExpiresAt.Format(time.RFC3339))
	}
	if err := CheckDate(r.XDate, now); err != nil {
		return trueup.Carrier{}, "", err
	}
	if strings.TrimSpace(r.XUserID) == "" {
		return trueup.Carrier{}, "", trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonUserMissing, "X-User-Id header is missing; send the user id bound to your credentials")
	}
	if subtle.ConstantTimeCompare([]byte(r.XUserID), []byte(c.UserID)) != 1 {
		return trueup.Carrier{}, "", trueup.Reasonf(trueup.EFORBIDDEN, ReasonUserMismatch, "X-User-Id %s is not the user id bound to this access token; send the user id given with your credentials", Quote(r.XUserID))
	}
	return c, t.ClientID, nil
}

// ErrDate is wrapped by X-Date errors.
var ErrDate = errors.New("bad X-Date")

// CheckDate checks an X-Date value against now: the format
// yyyyMMdd'T'HHmmss'Z' (UTC), not after now, and at most MaxDateAge before
// it (exactly 15 minutes old is accepted).
func CheckDate(v string, now time.Time) error {
	if v == "" {
		return trueup.Reasonf(trueup.EINVALID, ReasonDateFormat, "X-Date header is missing; send the current UTC time as yyyyMMdd'T'HHmmss'Z', for example %s", now.UTC().Format(DateLayout))
	}
	d, err := time.Parse(DateLayout, v)
	if err != nil || len(v) != len(DateLayout) {
		return trueup.Reasonf(trueup.EINVALID, ReasonDateFormat, "X-Date %s is not yyyyMMdd'T'HHmmss'Z'; send the current UTC time, for example %s", Quote(v), now.UTC().Format(DateLayout))
	}
	now = now.UTC().Truncate(time.Second)
	if d.After(now) {
		return trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonDateWindow, "X-Date %s is in the future (server time %s); send the current UTC time and check your clock", v, now.Format(DateLayout))
	}
	if now.Sub(d) > MaxDateAge {
		return trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonDateWindow, "X-Date %s is more than 15 minutes old (server time %s); send the current UTC time and check your clock", v, now.Format(DateLayout))
	}
	return nil
}
