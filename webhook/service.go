package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/trueup/trueup"
)

// JobKind is the job kind of a delivery.
const JobKind = "webhook.deliver"

// Defaults of the Service's settings.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultFirstRetry       = 30 * time.Second
	DefaultMaxRetry         = 4 * time.Hour
	DefaultRetryFor         = 24 * time.Hour
	DefaultMaxSubscriptions = 20
	DefaultRotationGrace    = 24 * time.Hour
)

// Limits of a subscription.
const (
	MaxURLBytes         = 2048
	MaxDescriptionRunes = 200
	MaxDeliveriesPage   = 200
)

// Service keeps subscriptions and delivers events. It implements
// trueup.Recorder: Record enqueues one delivery per subscription that
// wants the event.
type Service struct {
	Store  Store
	Clock  trueup.Clock
	Logger *slog.Logger
	// Timeout bounds one attempt: connecting, sending and reading the
	// answer (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxResponseBytes is how much of an answer's body is read
	// (DefaultMaxResponseBytes when 0); the rest is dropped.
	MaxResponseBytes int64
	// FirstRetry is the wait before the first retry, doubled for each
	// next one up to MaxRetry; retries go on while their waits add up to
	// less than RetryFor (defaults 30s, 4h and 24h).
	FirstRetry, MaxRetry, RetryFor time.Duration
	// Notify, when set, wakes a worker after a delivery is queued.
	Notify func()
	// Transport sends the posts (http.DefaultTransport when nil).
	Transport http.RoundTripper
	// Events, when set, records subscriptions created and deleted (the
	// audit chain: webhook.changed is not itself delivered).
	Events trueup.Recorder
	// AllowPrivate lets deliveries connect to loopback, private,
	// link-local and unspecified addresses; by default such a connection
	// is refused when dialled (CheckDialAddress), whatever name led to it.
	// It applies to the default transport (Transport nil).
	AllowPrivate bool
	// MaxSubscriptions bounds the live subscriptions of one carrier, and
	// those of the operators (DefaultMaxSubscriptions when 0).
	MaxSubscriptions int
	// RotationGrace is how long a secret replaced by Rotate keeps signing
	// beside the new one (DefaultRotationGrace when 0).
	RotationGrace time.Duration

	transportOnce sync.Once
	transport     http.RoundTripper
}

// New returns a Service over store with the default settings.
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{Store: store, Logger: logger, Clock: trueup.SystemClock{}}
}

var _ trueup.Recorder = (*Service)(nil)

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Backoff returns the wait before retry n (1 for the first): FirstRetry
// doubled n-1 times, at most MaxRetry.
func (s *Service) Backoff(n int) time.Duration {
	d, max := or(s.FirstRetry, DefaultFirstRetry), or(s.MaxRetry, DefaultMaxRetry)
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// MaxAttempts returns how many attempts a delivery gets: the first and the
// retries whose waits add up to less than RetryFor, plus the one at or
// past it.
func (s *Service) MaxAttempts() int {
	total, n := time.Duration(0), 1
	for total < or(s.RetryFor, DefaultRetryFor) {
		total += s.Backoff(n)
		n++
	}
	return n
}

// Type returns the webhook event type of e: e.Type, except for an
// adjustment's status, typed adjustment.STATUS (e.Data["statusName"]).
func Type(e trueup.Event) string {
	if e.Type == trueup.EventAdjustmentStatus {
		if name, ok := e.Data["statusName"].(string); ok && name != "" {
			return "adjustment." + name
		}
	}
	return e.Type
}

// Payload is the body posted: the event type, its time and its data (the
// event's own data with its subject, carrier and actor).
type Payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Record enqueues a delivery of e to every subscription that wants it.
func (s *Service) Record(ctx context.Context, e trueup.Event) error {
	typ := Type(e)
	if !slices.Contains(EventTypes, typ) {
		return nil
	}
	subs, err := s.Store.WebhookSubscriptions(ctx)
	if err != nil {
		return fmt.Errorf("webhooks for %s: %w", typ, err)
	}
	at := e.Time
	if at.IsZero() {
		at = s.Clock.Now()
	}
	data := map[string]any{}
	for k, v := range e.Data {
		data[k] = v
	}
	actor := e.Actor
	if actor == "" {
		actor = trueup.ActorFrom(ctx)
	}
	data["subject"], data["actor"] = e.Subject, actor
	if e.CarrierID != "" {
		data["carrierId"] = e.CarrierID
	}
	body, err := json.Marshal(Payload{Type: typ, Timestamp: at.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("webhook payload of %s: %w", typ, err)
	}
	var p CreateDeliveriesParams
	for _, sub := range subs {
		if !sub.Wants(typ, e.CarrierID) {
			continue
		}
		d := Delivery{ID: DeliveryID(trueup.NewID("msg_")), SubscriptionID: sub.ID, EventType: typ, Payload: body, State: StatePending, CreatedAt: s.Clock.Now().UTC(), EventKey: e.Key}
		p.Deliveries = append(p.Deliveries, d)
		p.Jobs = append(p.Jobs, s.job(d.ID))
	}
	if len(p.Deliveries) == 0 {
		return nil
	}
	if err := s.Store.CreateWebhookDeliveries(ctx, p); err != nil {
		return fmt.Errorf("webhooks for %s: %w", typ, err)
	}
	if s.Notify != nil {
		s.Notify()
	}
	return nil
}

type jobArgs struct {
	DeliveryID DeliveryID `json:"deliveryId"`
}

func (s *Service) job(id DeliveryID) Job {
	args, _ := json.Marshal(jobArgs{DeliveryID: id})
	return Job{Kind: JobKind, Args: string(args), MaxAttempts: s.MaxAttempts()}
}

// CreateParams are the inputs of Create.
type CreateParams struct {
	// CarrierID, when set, limits the subscription to that carrier's
	// events; empty subscribes the operators to every carrier's.
	CarrierID   trueup.CarrierID
	URL         string
	EventTypes  []string
	Description string
}

// Created is a new subscription and its secret, shown once.
type Created struct {
	Subscription
	Secret string `json:"secret"`
}

func invalid(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, format, args...)
}

// Create stores a subscription with a new secret. Errors: EINVALID for a
// URL that is not an absolute http(s) URL, an unknown or missing event
// type, a description too long; ENOTFOUND for an unknown carrier.
func (s *Service) Create(ctx context.Context, p CreateParams) (Created, error) {
	if err := checkURL(p.URL); err != nil {
		return Created{}, err
	}
	if len(p.EventTypes) == 0 {
		return Created{}, invalid("eventTypes is empty; subscribe to one or more of %s", strings.Join(EventTypes, ", "))
	}
	var types []string
	for _, t := range p.EventTypes {
		if !slices.Contains(EventTypes, t) {
			return Created{}, invalid("event type %q is not one a webhook can receive; use %s", t, strings.Join(EventTypes, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if utf8.RuneCountInString(p.Description) > MaxDescriptionRunes {
		return Created{}, invalid("description is over %d characters; shorten it", MaxDescriptionRunes)
	}
	if p.CarrierID != "" {
		if _, err := s.Store.Carrier(ctx, p.CarrierID); err != nil {
			return Created{}, err
		}
	}
	if err := s.checkCap(ctx, p.CarrierID); err != nil {
		return Created{}, err
	}
	sub := Subscription{ID: SubscriptionID(trueup.NewID("whs_")), CarrierID: p.CarrierID, URL: p.URL, EventTypes: types,
		Description: p.Description, CreatedAt: s.Clock.Now().UTC().Truncate(time.Microsecond), Secret: NewSecret()}
	if err := s.Store.CreateWebhookSubscription(ctx, sub); err != nil {
		return Created{}, err
	}
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: trueup.EventWebhookChanged, CarrierID: sub.CarrierID, Subject: string(sub.ID),
		Data: map[string]any{"action": "created", "url": sub.URL, "eventTypes": sub.EventTypes}})
	return Created{Subscription: sub, Secret: sub.Secret}, nil
}

// checkCap returns an ECONFLICT error when carrier (the operators when
// empty) has MaxSubscriptions live subscriptions already. Two creations at
// the same instant may both pass it: the cap bounds an operator's
// mistakes, it is not a quota.
func (s *Service) checkCap(ctx context.Context, carrier trueup.CarrierID) error {
	subs, err := s.Store.WebhookSubscriptions(ctx)
	if err != nil {
		return err
	}
	n, max := 0, or(s.MaxSubscriptions, DefaultMaxSubscriptions)
	for _, sub := range subs {
		if sub.DeletedAt == nil && sub.CarrierID == carrier {
			n++
		}
	}
	if n >= max {
		who := "carrier " + string(carrier)
		if carrier == "" {
			who = "the operators (no carrierId)"
		}
		return trueup.Errorf(trueup.ECONFLICT, "%s has %d webhook subscriptions, the most allowed (serve --webhook-max-subscriptions); delete one first or subscribe an existing one to more event types", who, n)
	}
	return nil
}

// checkURL returns an EINVALID error unless u is an absolute http or https
// URL with a host and no user information.
func checkURL(u string) error {
	if len(u) > MaxURLBytes {
		return invalid("url is over %d bytes; use a shorter URL", MaxURLBytes)
	}
	p, err := url.Parse(u)
	switch {
	case strings.TrimSpace(u) == "":
		return invalid("url is required; send one like https://example.com/hooks/trueup")
	case err != nil:
		return invalid("url %q is not a URL; send one like https://example.com/hooks/trueup", u)
	case p.Scheme != "http" && p.Scheme != "https":
		return invalid("url %q is not an http or https URL; send one like https://example.com/hooks/trueup", u)
	case p.Hostname() == "":
		return invalid("url %q has no host; send one like https://example.com/hooks/trueup", u)
	}
	if p.User != nil {
		return invalid("url must not carry a user or password; the signature authenticates trueup to the receiver")
	}
	return nil
}

// Subscriptions returns every subscription, deleted ones too, oldest
// first.
func (s *Service) Subscriptions(ctx context.Context) ([]Subscription, error) {
	return s.Store.WebhookSubscriptions(ctx)
}

// Subscription returns one, or an ENOTFOUND error.
func (s *Service) Subscription(ctx context.Context, id SubscriptionID) (Subscription, error) {
	return s.Store.WebhookSubscription(ctx, id)
}

// Delete stops a subscription's deliveries (those queued are dropped when
// their turn comes) and returns it; its log stays.
func (s *Service) Delete(ctx context.Context, id SubscriptionID) (Subscription, error) {
	sub, err := s.Store.DeleteWebhookSubscription(ctx, id, s.Clock.Now().UTC())
	if err == nil {
		trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: trueup.EventWebhookChanged, CarrierID: sub.CarrierID, Subject: string(sub.ID),
			Data: map[string]any{"action": "deleted", "url": sub.URL}})
	}
	return sub, err
}

// Deliveries returns the newest limit deliveries of a subscription with
// their attempts (50 when 0). Errors: ENOTFOUND for an unknown
// subscription, EINVALID for a limit out of 0 to MaxDeliveriesPage.
func (s *Service) Deliveries(ctx context.Context, id SubscriptionID, limit int) ([]Delivery, error) {
	if limit < 0 || limit > MaxDeliveriesPage {
		return nil, invalid("limit %d is out of range; ask for 1 to %d deliveries", limit, MaxDeliveriesPage)
	}
	if limit == 0 {
		limit = 50
	}
	if _, err := s.Store.WebhookSubscription(ctx, id); err != nil {
		return nil, err
	}
	return s.Store.WebhookDeliveries(ctx, DeliveriesParams{SubscriptionID: id, Limit: limit})
}

// Delivery returns one delivery with its attempts, or an ENOTFOUND error.
func (s *Service) Delivery(ctx context.Context, id DeliveryID) (Delivery, error) {
	return s.Store.WebhookDelivery(ctx, id)
}

// Redeliver sends a delivery again, with the same webhook-id, as a new
// series of attempts, and returns it pending. Errors: ENOTFOUND;
// ECONFLICT when it is still pending or its subscription is deleted.
func (s *Service) Redeliver(ctx context.Context, id DeliveryID) (Delivery, error) {
	d, err := s.Store.WebhookDelivery(ctx, id)
	if err != nil {
		return d, err
	}
	if d.State == StatePending {
		return d, trueup.Errorf(trueup.ECONFLICT, "delivery %s is still pending (attempt %d made); wait until it succeeds or fails, then redeliver", id, d.Attempts)
	}
	sub, err := s.Store.WebhookSubscription(ctx, d.SubscriptionID)
	if err != nil {
		return d, err
	}
	if sub.DeletedAt != nil {
		return d, trueup.Errorf(trueup.ECONFLICT, "subscription %s of delivery %s is deleted; create a new subscription instead", sub.ID, id)
	}
	if err := s.Store.RedeliverWebhook(ctx, RedeliverParams{ID: id, Job: s.job(id)}); err != nil {
		return d, err
	}
	if s.Notify != nil {
		s.Notify()
	}
	return s.Store.WebhookDelivery(ctx, id)
}

// Deliver is the job handler of JobKind: it posts the delivery once and
// logs the attempt. A 2xx answer succeeds it; anything else (another
// status, a redirect, no answer within Timeout) returns an error so that
// the queue retries it after Backoff. A delivery no longer pending, or
// whose subscription was deleted, is not sent.
func (s *Service) Deliver(ctx context.Context, job trueup.Job) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	d, err := s.Store.WebhookDelivery(ctx, a.DeliveryID)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if d.State != StatePending {
		return nil
	}
	sub, err := s.Store.WebhookSubscription(ctx, d.SubscriptionID)
	if err != nil {
		return err
	}
	if sub.DeletedAt != nil {
		return s.Store.FinishWebhookDelivery(ctx, d.ID, StateFailed, s.Clock.Now().UTC())
	}
	at := s.Clock.Now().UTC()
	start := time.Now() // measures the attempt's duration only
	code, postErr := s.post(ctx, sub, d, at)
	att := Attempt{Time: at, StatusCode: code, DurationMS: time.Since(start).Milliseconds()}
	p := AttemptParams{DeliveryID: d.ID, State: StatePending}
	if postErr != nil {
		att.Error = postErr.Error()
	} else {
		p.State, p.FinishedAt = StateSucceeded, &at
	}
	p.Attempt = att
	n, err := s.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), p)
	if err != nil {
		return err
	}
	if postErr != nil {
		s.Logger.Warn("webhook delivery failed", "delivery_id", d.ID, "subscription_id", sub.ID, "attempt", n, "status", code, "err", postErr)
		return fmt.Errorf("deliver %s: %w", d.ID, postErr)
	}
	return nil
}

// GiveUp is the give-up function of JobKind: the delivery's retries are
// used up, it fails.
func (s *Service) GiveUp(ctx context.Context, job trueup.Job, cause error) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return nil // no delivery to finalise
	}
	return s.Store.FinishWebhookDelivery(ctx, a.DeliveryID, StateFailed, s.Clock.Now().UTC())
}

// errRedirect stops the client at a redirect: the 3xx is the answer.
var errRedirect = errors.New("redirect not followed")

// post sends d to sub.URL, signed at at, and returns the status code (0
// when no answer came) and an error unless the answer is 2xx.
func (s *Service) post(ctx context.Context, sub Subscription, d Delivery, at time.Time) (int, error) {
	sig, err := Sign(sub.Secret, string(d.ID), at, d.Payload)
	if err != nil {
		return 0, err
	}
	if sub.PreviousSecret != "" && sub.PreviousSecretUntil != nil && at.Before(*sub.PreviousSecretUntil) {
		// A rotation's grace: the receiver may still hold the old secret.
		old, err := Sign(sub.PreviousSecret, string(d.ID), at, d.Payload)
		if err != nil {
			return 0, err
		}
		sig += " " + old
	}
	ctx, cancel := context.WithTimeout(ctx, or(s.Timeout, DefaultTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trueup-webhooks")
	req.Header.Set("webhook-id", string(d.ID))
	req.Header.Set("webhook-timestamp", fmt.Sprint(at.Unix()))
	req.Header.Set("webhook-signature", sig)
	hc := &http.Client{Transport: s.roundTripper(), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return 0, fmt.Errorf("no answer within %s", or(s.Timeout, DefaultTimeout))
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	// Read a bounded part of the answer (so that the connection can be
	// reused), keep its start for the log.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, or(s.MaxResponseBytes, DefaultMaxResponseBytes)))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return resp.StatusCode, fmt.Errorf("status %d: %w to %q", resp.StatusCode, errRedirect, resp.Header.Get("Location"))
	}
	return resp.StatusCode, fmt.Errorf("status %d: %s", resp.StatusCode, excerpt(body))
}

// roundTripper returns Transport, or the default transport whose dialer
// refuses private addresses unless AllowPrivate.
func (s *Service) roundTripper() http.RoundTripper {
	if s.Transport != nil {
		return s.Transport
	}
	s.transportOnce.Do(func() { s.transport = newTransport(s.AllowPrivate) })
	return s.transport
}

// Rotate gives a subscription a new secret, returned once. The old one
// keeps signing beside it for RotationGrace (each message then carries
// both signatures, space-separated), so that the receiver can switch
// without missing a message. Errors: ENOTFOUND; ECONFLICT for a deleted
// subscription.
func (s *Service) Rotate(ctx context.Context, id SubscriptionID) (Created, error) {
	until := s.Clock.Now().UTC().Add(or(s.RotationGrace, DefaultRotationGrace)).Truncate(time.Microsecond)
	sub, err := s.Store.RotateWebhookSecret(ctx, id, NewSecret(), until)
	if err != nil {
		return Created{}, err
	}
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: trueup.EventWebhookChanged, CarrierID: sub.CarrierID, Subject: string(sub.ID),
		Data: map[string]any{"action": "rotated", "previousSecretUntil": trueup.FormatTime(until)}})
	return Created{Subscription: sub, Secret: sub.Secret}, nil
}

// excerpt returns the start of an answer's body, for the log.
func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		b = b[:n]
	}
	for !utf8.Valid(b) && len(b) > 0 {
		b = b[:len(b)-1]
	}
	return strings.TrimSpace(string(b))
}
