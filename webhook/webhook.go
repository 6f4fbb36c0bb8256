// Package webhook delivers trueup's events to the URLs operators subscribe,
// following the Standard Webhooks convention: a JSON body, the headers
// webhook-id (the message id, the same on every retry and redelivery),
// webhook-timestamp (Unix seconds) and webhook-signature ("v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under the subscription's
// whsec_ secret). A subscription belongs to one carrier (that carrier's
// events) or to the operators (every carrier's events, and those of no
// carrier). Each message is a delivery, sent by a job of the durable queue
// and retried with exponential backoff for a day; every attempt is logged.
package webhook

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trueup/trueup"
)

// SubscriptionID names a subscription (whs_...).
type SubscriptionID string

// DeliveryID names a delivery (msg_...); it is the webhook-id header.
type DeliveryID string

// The event types a subscription may ask for. The adjustment types are
// trueup.EventAdjustmentStatus events, typed by the status they reach.
var EventTypes = []string{
	trueup.EventBatchSucceeded, trueup.EventBatchFailed,
	trueup.EventCaseOpened, trueup.EventCaseResolved, trueup.EventCycleClosed,
	"adjustment.pending", "adjustment.declined", "adjustment.in_flight", "adjustment.processing",
	"adjustment.error", "adjustment.success", "adjustment.interrupted", "adjustment.cap_reached",
}

// Subscription asks for events of some types to be posted to a URL.
type Subscription struct {
	ID SubscriptionID `json:"id"`
	// CarrierID is the carrier whose events are sent; empty for an
	// operators' subscription, which receives every carrier's.
	CarrierID   trueup.CarrierID `json:"carrierId,omitempty"`
	URL         string           `json:"url"`
	EventTypes  []string         `json:"eventTypes"`
	Description string           `json:"description,omitempty"`
	CreatedAt   time.Time        `json:"createdAt"`
	// DeletedAt is set once deleted: no new deliveries, the log stays.
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
	// Secret signs the deliveries; shown once, at creation or rotation.
	Secret string `json:"-"`
	// PreviousSecret, the secret before the last rotation, signs beside
	// Secret until PreviousSecretUntil.
	PreviousSecret      string     `json:"-"`
	PreviousSecretUntil *time.Time `json:"previousSecretUntil,omitempty"`
}

// Wants reports whether s, not deleted, receives an event of type typ of
// carrier.
func (s Subscription) Wants(typ string, carrier trueup.CarrierID) bool {
	if s.DeletedAt != nil || (s.CarrierID != "" && s.CarrierID != carrier) {
		return false
	}
	for _, t := range s.EventTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// Delivery states.
const (
	StatePending   = "pending"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// Delivery is one message to one subscription, with its attempts.
type Delivery struct {
	ID             DeliveryID     `json:"id"`
	SubscriptionID SubscriptionID `json:"subscriptionId"`
	EventType      string         `json:"eventType"`
	// Payload is the body posted.
	Payload json.RawMessage `json:"payload"`
	// State is pending (queued or retrying), succeeded (a 2xx answer) or
	// failed (retries used up).
	State string `json:"state"`
	// Attempts counts the attempts; LastStatus is the last one's status
	// code (0 when none answered).
	Attempts   int        `json:"attempts"`
	LastStatus int        `json:"lastStatus"`
	CreatedAt  time.Time  `json:"createdAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Log holds the attempts, first first (filled by Deliveries and
	// Delivery).
	Log []Attempt `json:"log,omitempty"`
	// EventKey is the key of the event delivered (trueup.Event.Key), when
	// it has one: a subscription gets one delivery of a key.
	EventKey string `json:"-"`
}

// Attempt is one post of a delivery.
type Attempt struct {
	Attempt int       `json:"attempt"`
	Time    time.Time `json:"time"`
	// StatusCode is the receiver's answer, 0 when none came.
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"durationMs"`
}

// Store keeps subscriptions and deliveries; sqlstore implements it.
type Store interface {
	// Carrier returns a carrier, or an ENOTFOUND error.
	Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error)
	CreateWebhookSubscription(ctx context.Context, s Subscription) error
	// WebhookSubscriptions returns every subscription, deleted ones too,
	// oldest first.
	WebhookSubscriptions(ctx context.Context) ([]Subscription, error)
	// WebhookSubscription returns one, or an ENOTFOUND error.
	WebhookSubscription(ctx context.Context, id SubscriptionID) (Subscription, error)
	// DeleteWebhookSubscription marks one deleted at at (keeping an
	// earlier deletion) and returns it, or an ENOTFOUND error.
	DeleteWebhookSubscription(ctx context.Context, id SubscriptionID, at time.Time) (Subscription, error)
	// CreateWebhookDeliveries stores p.Deliveries and enqueues the job of
	// each in one transaction; a delivery whose EventKey its subscription
	// has a delivery of already is left out, with its job.
	CreateWebhookDeliveries(ctx context.Context, p CreateDeliveriesParams) error
	// WebhookDelivery returns a delivery with its log, or an ENOTFOUND
	// error.
	WebhookDelivery(ctx context.Context, id DeliveryID) (Delivery, error)
	// WebhookDeliveries returns the deliveries of a subscription with
	// their logs, newest first.
	WebhookDeliveries(ctx context.Context, p DeliveriesParams) ([]Delivery, error)
	// RecordWebhookAttempt numbers and logs an attempt of a delivery and
	// sets its state; it returns the attempt's number.
	RecordWebhookAttempt(ctx context.Context, p AttemptParams) (int, error)
	// FinishWebhookDelivery sets a pending delivery's final state.
	FinishWebhookDelivery(ctx context.Context, id DeliveryID, state string, at time.Time) error
	// RotateWebhookSecret makes secret the subscription's secret, keeping
	// the one it replaces as PreviousSecret until until, and returns it;
	// ENOTFOUND, or ECONFLICT when it is deleted.
	RotateWebhookSecret(ctx context.Context, id SubscriptionID, secret string, until time.Time) (Subscription, error)
	// RedeliverWebhook makes a delivery pending again and enqueues its
	// job, in one transaction.
	RedeliverWebhook(ctx context.Context, p RedeliverParams) error
}

// Job is the queue work of one delivery.
type Job struct {
	Kind        string
	Args        string
	MaxAttempts int
}

// CreateDeliveriesParams are the inputs of Store.CreateWebhookDeliveries:
// each delivery with the job that sends it.
type CreateDeliveriesParams struct {
	Deliveries []Delivery
	Jobs       []Job
}

// DeliveriesParams select a subscription's deliveries: the newest Limit.
type DeliveriesParams struct {
	SubscriptionID SubscriptionID
	Limit          int
}

// AttemptParams are the inputs of Store.RecordWebhookAttempt.
type AttemptParams struct {
	DeliveryID DeliveryID
	Attempt    Attempt
	// State is the delivery's state after the attempt; FinishedAt is set
	// when it is final.
	State      string
	FinishedAt *time.Time
}

// RedeliverParams are the inputs of Store.RedeliverWebhook.
type RedeliverParams struct {
	ID  DeliveryID
	Job Job
}
