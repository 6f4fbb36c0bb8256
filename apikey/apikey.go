// Package apikey provisions and checks the admin API keys: 256-bit random
// keys, shown once, stored as their SHA-256, compared in constant time and
// revocable. A key is sent as Authorization: Bearer KEY.
package apikey

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/trueup/trueup"
)

// ID names a key; it is not secret.
type ID string

// Prefix starts every key, so that a leaked one is recognised.
const Prefix = "tuk_"

// Key is a stored admin API key: its hash, never the key.
type Key struct {
	ID        ID         `json:"keyId"`
	Name      string     `json:"name"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// Store is the storage the service needs. Not-found answers are ENOTFOUND
// *trueup.Errors.
type Store interface {
	// CreateAPIKey stores a new key.
	CreateAPIKey(ctx context.Context, k Key) error
	// APIKeyByHash returns the key (revoked or not) whose hash is hash.
	APIKeyByHash(ctx context.Context, hash string) (Key, error)
	// APIKeys returns every key, oldest first.
	APIKeys(ctx context.Context) ([]Key, error)
	// RevokeAPIKey revokes a key at the given time; revoking a revoked key
	// keeps its first revocation time. An unknown id is ENOTFOUND.
	RevokeAPIKey(ctx context.Context, p RevokeParams) (Key, error)
}

// RevokeParams are the inputs of Store.RevokeAPIKey.
type RevokeParams struct {
	ID ID
	At time.Time
}

// Service creates, lists, revokes and checks admin API keys.
type Service struct {
	Store Store
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Events, when set, records keys created and revoked.
	Events trueup.Recorder
}

// New returns a Service over store with the real clock.
func New(store Store) *Service { return &Service{Store: store, Clock: trueup.SystemClock{}} }

// Created is a new key: its id and the key itself, shown once.
type Created struct {
	KeyID ID     `json:"keyId"`
	Name  string `json:"name"`
	Key   string `json:"key"`
}

// CreateParams are the inputs of Create.
type CreateParams struct {
	// Name says who or what uses the key; 1 to 128 characters.
	Name string
}

// Create makes a key and returns it; only its hash is stored. An empty or
// overlong name is an EINVALID *trueup.Error.
func (s *Service) Create(ctx context.Context, p CreateParams) (Created, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" || len(name) > 128 {
		return Created{}, trueup.Errorf(trueup.EINVALID, "key name %q is empty or longer than 128 characters; pass --name with who uses the key, for example \"billing-sync\"", p.Name)
	}
	key := Prefix + trueup.NewSecret()
	k := Key{ID: ID(trueup.NewID("key_")), Name: name, Hash: trueup.HashSecret(key), CreatedAt: s.Clock.Now().UTC()}
	if err := s.Store.CreateAPIKey(ctx, k); err != nil {
		return Created{}, err
	}
	trueup.Emit(ctx, s.Events, nil, trueup.Event{Type: trueup.EventAPIKeyCreated, Subject: string(k.ID), Data: map[string]any{"name": name}})
	return Created{KeyID: k.ID, Name: name, Key: key}, nil
}

// List returns every key, oldest first, never empty-handed: an empty list
// is a non-nil slice.
func (s *Service) List(ctx context.Context) ([]Key, error) {
	keys, err := s.Store.APIKeys(ctx)
	if keys == nil {
		keys = []Key{}
	}
	return keys, err
}

// Revoke revokes a key for good and returns it; an unknown id is an
// ENOTFOUND *trueup.Error.
func (s *Service) Revoke(ctx context.Context, id ID) (Key, error) {
	k, err := s.Store.RevokeAPIKey(ctx, RevokeParams{ID: id, At: s.Clock.Now().UTC()})
	if err == nil {
		trueup.Emit(ctx, s.Events, nil, trueup.Event{Type: trueup.EventAPIKeyRevoked, Subject: string(id), Data: map[string]any{"name": k.Name}})
	}
	return k, err
}

// Authenticate checks an Authorization header value and returns the key it
// names. A missing or non-Bearer header, an unknown key and a revoked key
// are EUNAUTHORIZED *trueup.Errors saying how to fix the call.
func (s *Service) Authenticate(ctx context.Context, authorization string) (Key, error) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return Key{}, trueup.Errorf(trueup.EUNAUTHORIZED,
			"Authorization header is missing or not a bearer key; send Authorization: Bearer KEY with a key from `trueup admin apikey create --name NAME`")
	}
	hash := trueup.HashSecret(key)
	k, err := s.Store.APIKeyByHash(ctx, hash)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return Key{}, errBadKey
	} else if err != nil {
		return Key{}, err
	}
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
		return Key{}, errBadKey
	}
	if k.RevokedAt != nil {
		return Key{}, trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonKeyInvalid, "admin API key %s was revoked; ask the operator for a new key", k.ID)
	}
	return k, nil
}

var errBadKey = trueup.Reasonf(trueup.EUNAUTHORIZED, ReasonKeyInvalid, "admin API key is not valid; send a key from `trueup admin apikey create --name NAME`, exactly as shown")

// ReasonKeyInvalid is the reason of the EUNAUTHORIZED error for an admin
// API key that is unknown or revoked (a missing key has no reason).
const ReasonKeyInvalid trueup.Reason = "key_invalid"
