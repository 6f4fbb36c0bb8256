package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trueup/trueup"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/webhook"
)

// runWebhooks runs the cases of the webhooks' storage.
func runWebhooks(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"WebhookSubscriptions", testWebhookSubscriptions},
		{"WebhookDeliveries", testWebhookDeliveries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func webhookService(db *sqlstore.DB) *webhook.Service {
	s := webhook.New(db, nil)
	s.Clock = testclock.At(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	return s
}

func testWebhookSubscriptions(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	svc := webhookService(db)
	c := MustCarrier(t, db, "Hooked")
	bad := []struct {
		name string
		p    webhook.CreateParams
		kind string
	}{
		{"relative url", webhook.CreateParams{URL: "/hooks", EventTypes: []string{trueup.EventBatchSucceeded}}, trueup.EINVALID},
		{"ftp url", webhook.CreateParams{URL: "ftp://example.com/x", EventTypes: []string{trueup.EventBatchSucceeded}}, trueup.EINVALID},
		{"no events", webhook.CreateParams{URL: "https://example.com/x"}, trueup.EINVALID},
		{"unknown event", webhook.CreateParams{URL: "https://example.com/x", EventTypes: []string{"batch.exploded"}}, trueup.EINVALID},
		{"unknown carrier", webhook.CreateParams{CarrierID: "car_nobody", URL: "https://example.com/x", EventTypes: []string{trueup.EventBatchFailed}}, trueup.ENOTFOUND},
	}
	for _, tt := range bad {
		if _, err := svc.Create(ctx, tt.p); trueup.ErrorKind(err) != tt.kind {
			t.Errorf("%s: Create = %v, want %s", tt.name, err, tt.kind)
		}
	}
	ops, err := svc.Create(ctx, webhook.CreateParams{URL: "https://ops.example.com/hooks", EventTypes: []string{trueup.EventBatchFailed, trueup.EventBatchFailed, "adjustment.success"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops.EventTypes) != 2 || len(ops.Secret) < 20 || ops.Secret[:6] != webhook.SecretPrefix {
		t.Errorf("Create = %+v; want the event types deduplicated and a whsec_ secret", ops)
	}
	mine, err := svc.Create(ctx, webhook.CreateParams{CarrierID: c.ID, URL: "https://carrier.example.com/hooks", EventTypes: []string{trueup.EventBatchSucceeded}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Subscription(ctx, mine.ID)
	if err != nil || got.CarrierID != c.ID || got.URL != mine.URL || got.Secret != mine.Secret || !got.CreatedAt.Equal(mine.CreatedAt) {
		t.Errorf("Subscription = %+v, %v; want %+v", got, err, mine.Subscription)
	}
	if !got.Wants(trueup.EventBatchSucceeded, c.ID) || got.Wants(trueup.EventBatchSucceeded, "car_other") || got.Wants(trueup.EventBatchFailed, c.ID) {
		t.Errorf("a carrier's subscription wants the wrong events")
	}
	if !ops.Wants(trueup.EventBatchFailed, "car_any") || !ops.Wants("adjustment.success", "") {
		t.Errorf("an operators' subscription does not want every carrier's events")
	}
	deleted, err := svc.Delete(ctx, ops.ID)
	if err != nil || deleted.DeletedAt == nil || deleted.Wants(trueup.EventBatchFailed, "car_any") {
		t.Errorf("Delete = %+v, %v; want it deleted and wanting nothing", deleted, err)
	}
	if _, err := svc.Delete(ctx, "whs_nobody"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Delete unknown = %v, want ENOTFOUND", err)
	}
	list, err := svc.Subscriptions(ctx)
	if err != nil || len(list) != 2 {
		t.Errorf("Subscriptions = %d, %v; want 2, deleted included", len(list), err)
	}
}

func testWebhookDeliveries(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	svc := webhookService(db)
	c := MustCarrier(t, db, "Hooked")
	mine, err := svc.Create(ctx, webhook.CreateParams{CarrierID: c.ID, URL: "https://carrier.example.com/hooks", EventTypes: []string{trueup.EventBatchSucceeded}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, webhook.CreateParams{URL: "https://ops.example.com/hooks", EventTypes: []string{"adjustment.success"}}); err != nil {
		t.Fatal(err)
	}
	// One event for mine, one for another carrier, one of a type nobody
	// wants: one delivery and its job.
	for _, e := range []trueup.Event{
		{Type: trueup.EventBatchSucceeded, CarrierID: c.ID, Subject: "b1", Data: map[string]any{"batchNo": "b1"}},
		{Type: trueup.EventBatchSucceeded, CarrierID: "car_other", Subject: "b2"},
		{Type: trueup.EventBatchUploaded, CarrierID: c.ID, Subject: "b1"},
	} {
		if err := svc.Record(ctx, e); err != nil {
			t.Fatalf("Record %s: %v", e.Type, err)
		}
	}
	list, err := svc.Deliveries(ctx, mine.ID, 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("Deliveries = %d, %v; want 1", len(list), err)
	}
	d := list[0]
	if d.State != webhook.StatePending || d.EventType != trueup.EventBatchSucceeded || d.Attempts != 0 {
		t.Errorf("delivery = %+v", d)
	}
	job, ok, err := db.ClaimJob(ctx, "w", []string{webhook.JobKind}, time.Minute)
	if err != nil || !ok || job.MaxAttempts != svc.MaxAttempts() {
		t.Fatalf("ClaimJob = %+v, %v, %v; want the delivery's job with %d attempts", job, ok, err, svc.MaxAttempts())
	}
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{webhook.JobKind}, time.Minute); ok {
		t.Errorf("a second delivery job was queued")
	}
	at := time.Date(2026, 3, 1, 10, 0, 1, 0, time.UTC)
	for i, a := range []webhook.AttemptParams{
		{DeliveryID: d.ID, State: webhook.StatePending, Attempt: webhook.Attempt{Time: at, StatusCode: 500, Error: "status 500: boom", DurationMS: 12}},
		{DeliveryID: d.ID, State: webhook.StateSucceeded, FinishedAt: &at, Attempt: webhook.Attempt{Time: at, StatusCode: 204, DurationMS: 3}},
	} {
		n, err := db.RecordWebhookAttempt(ctx, a)
		if err != nil || n != i+1 {
			t.Fatalf("RecordWebhookAttempt %d = %d, %v", i+1, n, err)
		}
	}
	got, err := svc.Delivery(ctx, d.ID)
	if err != nil || got.State != webhook.StateSucceeded || got.Attempts != 2 || got.LastStatus != 204 || got.FinishedAt == nil || len(got.Log) != 2 ||
		got.Log[0].StatusCode != 500 || got.Log[0].Error != "status 500: boom" || got.Log[0].DurationMS != 12 || got.Log[1].Attempt != 2 {
		t.Fatalf("Delivery = %+v, %v", got, err)
	}
	if _, err := svc.Redeliver(ctx, d.ID); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	if _, err := svc.Redeliver(ctx, d.ID); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("Redeliver of a pending delivery = %v, want ECONFLICT", err)
	}
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{webhook.JobKind}, time.Minute); !ok {
		t.Errorf("Redeliver queued no job")
	}
	if err := db.FinishWebhookDelivery(ctx, d.ID, webhook.StateFailed, at); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Delivery(ctx, d.ID); got.State != webhook.StateFailed {
		t.Errorf("after FinishWebhookDelivery state = %s, want failed", got.State)
	}
	if _, err := svc.Redeliver(ctx, "msg_nobody"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Redeliver unknown = %v, want ENOTFOUND", err)
	}
}
