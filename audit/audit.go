// Package audit keeps trueup's audit chain: every state change the services
// record (trueup.Event) is appended as an entry whose hash covers the
// previous entry's hash and the entry's own fields, so that an entry
// changed, removed or inserted afterwards breaks the chain where it was
// touched. Verify walks the chain and names the first entry that breaks it.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trueup/trueup"
)

// Entry is one link of the chain.
type Entry struct {
	Seq       int64            `json:"seq"`
	Time      time.Time        `json:"time"`
	Actor     trueup.Actor     `json:"actor"`
	Type      string           `json:"type"`
	CarrierID trueup.CarrierID `json:"carrierId,omitempty"`
	Subject   string           `json:"subject"`
	// Data is the canonical JSON of what changed ({} when nothing more
	// than the type and subject is told).
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

// Head is the chain's end as the store keeps it: the last entry's seq and
// hash (0 and "" for an empty chain).
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Store keeps the chain; sqlstore implements it.
type Store interface {
	// AppendAudit appends p.Entry after the chain's head, serialised with
	// every other append: it sets the entry's Seq (head+1) and PrevHash
	// (the head's hash), calls p.Seal to compute its Hash, stores it and
	// moves the head, all in one transaction. It returns the stored entry;
	// when p.Key is set and an entry of that key is in the chain already,
	// that entry, appending nothing.
	AppendAudit(ctx context.Context, p AppendParams) (Entry, error)
	// AuditEntries returns up to p.Limit entries with seq > p.After, in
	// seq order.
	AuditEntries(ctx context.Context, p ListParams) ([]Entry, error)
	// AuditHead returns the chain's head, or an ENOTFOUND error when its
	// row is missing.
	AuditHead(ctx context.Context) (Head, error)
}

// AppendParams are the inputs of Store.AppendAudit.
type AppendParams struct {
	Entry Entry
	// Seal returns the hash of e, whose Seq and PrevHash are set.
	Seal func(e Entry) string
	// Key, when set, is the event's unique key: an entry of that key
	// appended already is returned instead of appending another.
	Key string
}

// ListParams select a page of entries: those after seq After, at most
// Limit of them.
type ListParams struct {
	After int64
	Limit int
}

// MaxPage is the largest page List returns.
const MaxPage = 1000

// Service appends to and verifies the chain. It implements trueup.Recorder.
type Service struct {
	Store Store
	Clock trueup.Clock
	// VerifyPage is how many entries Verify reads at a time (1000 when
	// 0): its memory is bounded by one page.
	VerifyPage int
}

// New returns a Service over store.
func New(store Store) *Service { return &Service{Store: store, Clock: trueup.SystemClock{}} }

var _ trueup.Recorder = (*Service)(nil)

// Record appends e to the chain. Its time is the service's clock (e.Time
// when set), its actor e.Actor or, when empty, the one ctx carries.
func (s *Service) Record(ctx context.Context, e trueup.Event) error {
	data, err := Canonical(e.Data)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Type, err)
	}
	at := e.Time
	if at.IsZero() {
		at = s.Clock.Now()
	}
	actor := e.Actor
	if actor == "" {
		actor = trueup.ActorFrom(ctx)
	}
	entry := Entry{Time: at.UTC().Truncate(time.Microsecond), Actor: actor, Type: e.Type, CarrierID: e.CarrierID, Subject: e.Subject, Data: data}
	if _, err := s.Store.AppendAudit(ctx, AppendParams{Entry: entry, Seal: Hash, Key: e.Key}); err != nil {
		return fmt.Errorf("audit %s: %w", e.Type, err)
	}
	return nil
}

// List returns a page of entries after seq after, in seq order; limit is
// capped at MaxPage (and 100 when 0 or less).
func (s *Service) List(ctx context.Context, after int64, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	if limit > MaxPage {
		return nil, trueup.Errorf(trueup.EINVALID, "limit %d is over %d; ask for at most %d entries a page and follow the next cursor", limit, MaxPage, MaxPage)
	}
	if after < 0 {
		return nil, trueup.Errorf(trueup.EINVALID, "after %d is negative; give the seq of the last entry you have, or 0 for the start", after)
	}
	return s.Store.AuditEntries(ctx, ListParams{After: after, Limit: limit})
}

// Canonical returns the canonical JSON of data: object keys sorted, no
// insignificant space, numbers as written; {} for an empty map.
func Canonical(data map[string]any) (json.RawMessage, error) {
	if len(data) == 0 {
		return json.RawMessage("{}"), nil
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	// A round trip through generic values sorts the keys of nested
	// objects too (structs given as values keep their own order
	// otherwise).
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode data: %w", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	return out, nil
}

// Hash returns the hex SHA-256 of e's chained fields: the JSON array
// [prevHash, seq, time (RFC 3339, UTC, microseconds), actor, type,
// carrierId, subject, data]. Data enters as stored, so the hash covers its
// exact bytes.
func Hash(e Entry) string {
	fields := []any{e.PrevHash, e.Seq, e.Time.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		string(e.Actor), e.Type, string(e.CarrierID), e.Subject, string(e.Data)}
	b, _ := json.Marshal(fields) // strings and an int: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
