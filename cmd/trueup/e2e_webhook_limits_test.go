package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/http/admin"
)

// TestE2EWebhookLimits checks through the admin API, the Go client and the
// CLI on each engine: a subscription with a bad URL is refused naming the
// url, a carrier's subscriptions are capped by --webhook-max-subscriptions,
// and a secret is rotated (shown once, the old one signing until a time).
func TestE2EWebhookLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{WebhookMaxSubscriptions: 2, WebhookRotationGrace: 2 * time.Hour})
		var k struct{ KeyID, Key string }
		s.cliJSON(t, &k, "admin", "apikey", "create", "--name", "ops", "--json")
		api := client.NewAdminClient(s.base, k.Key, s.http)
		c := s.newCarrier(t, "Hook Telecom")
		ctx := context.Background()
		carrierID := string(c.cred.CarrierID)
		params := func(u string) client.WebhookParams {
			return client.WebhookParams{CarrierID: carrierID, URL: u, EventTypes: []string{trueup.EventBatchSucceeded}}
		}
		for _, tt := range []struct{ url, word string }{
			{"ftp://example.com/hooks", "not an http or https URL"},
			{"https:///hooks", "has no host"},
			{"", "url is required"},
		} {
			_, err := api.CreateWebhook(ctx, params(tt.url))
			wantAPIError(t, err, 400, admin.CodeInvalidParam, "url", tt.word)
		}
		first, err := api.CreateWebhook(ctx, params("https://example.com/hooks/1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := api.CreateWebhook(ctx, params("https://example.com/hooks/2")); err != nil {
			t.Fatal(err)
		}
		_, err = api.CreateWebhook(ctx, params("https://example.com/hooks/3"))
		wantAPIError(t, err, 409, admin.CodeConflict, carrierID, "--webhook-max-subscriptions")

		// Rotation through the API: a new secret, shown once.
		before := time.Now()
		rot, err := api.RotateWebhook(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rot.Secret == "" || rot.Secret == first.Secret || rot.PreviousSecretUntil == nil ||
			rot.PreviousSecretUntil.Before(before.Add(2*time.Hour-time.Minute)) || rot.PreviousSecretUntil.After(time.Now().Add(2*time.Hour)) {
			t.Errorf("rotate = %+v; want a new secret, the old one signing for --webhook-rotation-grace (2h)", rot)
		}
		if got, err := api.Webhook(ctx, first.ID); err != nil || got.Secret != "" || got.PreviousSecretUntil == nil {
			t.Errorf("webhook after rotation = %+v, %v; want no secret shown, the grace's end", got, err)
		}
		_, err = api.RotateWebhook(ctx, "whs_nobody")
		wantAPIError(t, err, 404, admin.CodeNotFound)

		// Through the CLI.
		var cli struct {
			ID                  string     `json:"id"`
			Secret              string     `json:"secret"`
			PreviousSecretUntil *time.Time `json:"previousSecretUntil"`
		}
		s.cliJSON(t, &cli, "webhooks", "rotate", first.ID, "--grace", "30m", "--json")
		if cli.ID != first.ID || cli.Secret == "" || cli.Secret == rot.Secret || cli.PreviousSecretUntil == nil ||
			cli.PreviousSecretUntil.After(time.Now().Add(31*time.Minute)) {
			t.Errorf("webhooks rotate --json = %+v", cli)
		}
		if out := s.cli(t, "webhooks", "rotate", first.ID); !strings.Contains(out, "secret: whsec_") || !strings.Contains(out, "shown once") {
			t.Errorf("webhooks rotate prints %q", out)
		}
		if code, _, stderr := s.cliResult("webhooks", "rotate", first.ID, "--grace", "0s"); code != 2 || !strings.Contains(stderr, "--grace") {
			t.Errorf("rotate --grace 0s: exit %d, %q; want 2 naming --grace", code, stderr)
		}
		if code, _, stderr := s.cliResult("webhooks", "rotate", "whs_nobody"); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("rotate unknown: exit %d, %q", code, stderr)
		}
		if _, err := api.DeleteWebhook(ctx, first.ID); err != nil {
			t.Fatal(err)
		}
		_, err = api.RotateWebhook(ctx, first.ID)
		wantAPIError(t, err, 409, admin.CodeConflict, "deleted")
		// A deleted subscription frees its place under the cap.
		if _, err := api.CreateWebhook(ctx, params("https://example.com/hooks/3")); err != nil {
			t.Errorf("create after a delete: %v", err)
		}
	})
}
