package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// WebhookParams are the fields of a new webhook subscription; CarrierID
// empty subscribes the operators to every carrier's events.
type WebhookParams struct {
	CarrierID   string   `json:"carrierId,omitempty"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"eventTypes"`
	Description string   `json:"description,omitempty"`
}

// Webhook is a subscription; Secret is set only in the answer of
// CreateWebhook.
type Webhook struct {
	ID          string     `json:"id"`
	CarrierID   string     `json:"carrierId,omitempty"`
	URL         string     `json:"url"`
	EventTypes  []string   `json:"eventTypes"`
	Description string     `json:"description,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	DeletedAt   *time.Time `json:"deletedAt,omitempty"`
	// Secret is shown once: by CreateWebhook and RotateWebhook.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretUntil, after a rotation, is when the secret it replaced
	// stops signing beside the new one.
	PreviousSecretUntil *time.Time `json:"previousSecretUntil,omitempty"`
}

// WebhookDelivery is one message to a subscription with its attempts.
type WebhookDelivery struct {
	ID             string          `json:"id"`
	SubscriptionID string          `json:"subscriptionId"`
	EventType      string          `json:"eventType"`
	Payload        json.RawMessage `json:"payload"`
	State          string          `json:"state"`
	Attempts       int             `json:"attempts"`
	LastStatus     int             `json:"lastStatus"`
	CreatedAt      time.Time       `json:"createdAt"`
	FinishedAt     *time.Time      `json:"finishedAt,omitempty"`
	Log            []struct {
		Attempt    int       `json:"attempt"`
		Time       time.Time `json:"time"`
		StatusCode int       `json:"statusCode"`
		Error      string    `json:"error,omitempty"`
		DurationMS int64     `json:"durationMs"`
	} `json:"log,omitempty"`
}

// CreateWebhook creates a subscription; the answer holds its signing
// secret, shown once.
func (c *AdminClient) CreateWebhook(ctx context.Context, p WebhookParams) (Webhook, error) {
	var out Webhook
	return out, c.send(ctx, http.MethodPost, PathAdmin+"webhooks", p, &out)
}

// Webhooks lists the subscriptions, deleted ones too.
func (c *AdminClient) Webhooks(ctx context.Context) ([]Webhook, error) {
	var out []Webhook
	return out, c.do(ctx, http.MethodGet, PathAdmin+"webhooks", nil, "", nil, &out)
}

// Webhook returns a subscription.
func (c *AdminClient) Webhook(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, http.MethodGet, PathAdmin+"webhooks/"+url.PathEscape(id), nil, "", nil, &out)
}

// RotateWebhook gives a subscription a new secret, returned once in
// Secret; the old one keeps signing beside it until PreviousSecretUntil.
func (c *AdminClient) RotateWebhook(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, http.MethodPost, PathAdmin+"webhooks/"+url.PathEscape(id)+"/rotate", nil, "", nil, &out)
}

// DeleteWebhook stops a subscription; its deliveries stay listed.
func (c *AdminClient) DeleteWebhook(ctx context.Context, id string) (Webhook, error) {
	var out Webhook
	return out, c.do(ctx, http.MethodDelete, PathAdmin+"webhooks/"+url.PathEscape(id), nil, "", nil, &out)
}

// WebhookDeliveries lists a subscription's newest deliveries (limit 0:
// the server's default).
func (c *AdminClient) WebhookDeliveries(ctx context.Context, id string, limit int) ([]WebhookDelivery, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []WebhookDelivery
	return out, c.do(ctx, http.MethodGet, PathAdmin+"webhooks/"+url.PathEscape(id)+"/deliveries", q, "", nil, &out)
}

// WebhookDelivery returns one delivery with its attempts.
func (c *AdminClient) WebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error) {
	var out WebhookDelivery
	return out, c.do(ctx, http.MethodGet, PathAdmin+"webhook-deliveries/"+url.PathEscape(id), nil, "", nil, &out)
}

// RedeliverWebhook sends a delivery again (same webhook-id) and returns it
// pending.
func (c *AdminClient) RedeliverWebhook(ctx context.Context, id string) (WebhookDelivery, error) {
	var out WebhookDelivery
	return out, c.send(ctx, http.MethodPost, PathAdmin+"webhook-deliveries/"+url.PathEscape(id)+"/redeliver", nil, &out)
}
