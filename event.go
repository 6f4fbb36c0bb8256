package trueup

import (
	"context"
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
