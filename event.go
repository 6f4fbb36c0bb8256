package trueup

import (
	"context"
	"log/slog"
	"time"
)

// Event types: every state change trueup records in its audit chain, and
// the subset a webhook subscription can ask for. A feature declares the
// type it emits here, so that the audit chain, webhooks and the console
// read one list.
const (
	EventBatchUploaded     = "batch.uploaded"
	EventBatchSucceeded    = "batch.succeeded"
	EventBatchFailed       = "batch.failed"
	EventCaseOpened        = "case.opened"
	EventCaseResolved      = "case.resolved"
	EventCaseReopened      = "case.reopened"
	EventCaseAction        = "case.action" // assign, comment, and the resolving actions
	EventCycleClosed       = "cycle.closed"
	EventCycleReopened     = "cycle.reopened"
	EventAdjustmentStatus  = "adjustment.status" // Data["status"] holds the new status
	EventPartnerChanged    = "partner.changed"   // carriers, buyers, risk clients and their settings
	EventCredentialIssued  = "credential.issued" // client secrets created or rotated
	EventCredentialRevoked = "credential.revoked"
	EventAPIKeyCreated     = "apikey.created"
	EventAPIKeyRevoked     = "apikey.revoked"
	EventOperatorChanged   = "operator.changed"
	EventSignIn            = "operator.signin"
	EventSignInFailed      = "operator.signin_failed"
	EventImportFinished    = "import.finished"
	EventWebhookChanged    = "webhook.changed" // subscriptions created or deleted
)

// Actor is who caused an event: an operator of the console ("operator:ID"),
// an admin API key ("apikey:ID"), a carrier client ("client:ID"), the CLI on
// the server's host ("cli") or trueup itself ("system").
type Actor string

// ActorSystem is trueup itself: a job, a sweep, a batch finishing.
const ActorSystem Actor = "system"

// ActorCLI is an operator at the server's host, running the CLI.
const ActorCLI Actor = "cli"

// Event is one state change: what happened, to what, by whom, and a small
// map of what changed. Subject names the thing (a batch number, a case id,
// "CARRIER/2025-10" for a cycle); CarrierID is set when the event belongs
// to one carrier, so that a carrier's webhook subscription receives it.
type Event struct {
	Type      string         `json:"type"`
	Actor     Actor          `json:"actor"`
	CarrierID CarrierID      `json:"carrierId,omitempty"`
	Subject   string         `json:"subject"`
	Data      map[string]any `json:"data,omitempty"`
	Time      time.Time      `json:"time"`
	// Key, when set, names the event uniquely (a batch's events: batch,
	// case and change): a recorder given an event whose key it has taken
	// already takes it no more, so that a job recording events can run
	// again after a crash without duplicating them.
	Key string `json:"-"`
}

// Recorder takes the events of the services: the audit chain appends them,
// webhooks deliver them. A service with a nil Recorder records nothing.
type Recorder interface {
	Record(ctx context.Context, e Event) error
}

type actorKey struct{}

// WithActor returns ctx carrying who acts; services read it with ActorFrom
// when they record an event.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or ActorSystem when it carries
// none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a != "" {
		return a
	}
	return ActorSystem
}

// Recorders is a Recorder that hands each event to each of its recorders
// in turn (the audit chain, then webhooks); every one is called, and the
// first error is returned.
type Recorders []Recorder

// Record hands e to every recorder of rs.
func (rs Recorders) Record(ctx context.Context, e Event) error {
	var first error
	for _, r := range rs {
		if r == nil {
			continue
		}
		if err := r.Record(ctx, e); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Emit hands e to r when r is not nil, with its actor (ActorFrom(ctx)
// when e has none). A service calls it after the change e describes has
// committed: a failure is logged with logger (slog.Default when nil), not
// returned, since the change stands.
func Emit(ctx context.Context, r Recorder, logger *slog.Logger, e Event) {
	if r == nil {
		return
	}
	if e.Actor == "" {
		e.Actor = ActorFrom(ctx)
	}
	if err := r.Record(context.WithoutCancel(ctx), e); err != nil {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Error("record event", "type", e.Type, "subject", e.Subject, "err", err)
	}
}
