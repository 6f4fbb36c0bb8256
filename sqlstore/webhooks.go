package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/webhook"
)

var _ webhook.Store = (*DB)(nil)

const webhookSubCols = `id, carrier_id, url, event_types, secret, description, created_at, deleted_at`

// webhookSubReadCols are webhookSubCols and the rotation's columns.
const webhookSubReadCols = webhookSubCols + `, previous_secret, previous_secret_until`

func scanWebhookSub(s interface{ Scan(...any) error }) (webhook.Subscription, error) {
	var sub webhook.Subscription
	var carrier, types string
	var deleted, prevUntil sql.NullTime
	if err := s.Scan(&sub.ID, &carrier, &sub.URL, &types, &sub.Secret, &sub.Description, &sub.CreatedAt, &deleted, &sub.PreviousSecret, &prevUntil); err != nil {
		return sub, err
	}
	sub.CarrierID, sub.CreatedAt, sub.DeletedAt = trueup.CarrierID(carrier), sub.CreatedAt.UTC(), timePtr(deleted)
	sub.PreviousSecretUntil = timePtr(prevUntil)
	if err := json.Unmarshal([]byte(types), &sub.EventTypes); err != nil {
		return sub, fmt.Errorf("event types of %s: %w", sub.ID, err)
	}
	return sub, nil
}

// CreateWebhookSubscription stores a subscription.
func (db *DB) CreateWebhookSubscription(ctx context.Context, s webhook.Subscription) error {
	types, err := json.Marshal(s.EventTypes)
	if err != nil {
		return fmt.Errorf("encode event types: %w", err)
	}
	_, err = db.sql.ExecContext(ctx, db.q(`INSERT INTO webhook_subscriptions (`+webhookSubCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		s.ID, string(s.CarrierID), s.URL, string(types), s.Secret, s.Description, s.CreatedAt.UTC(), nullTime(s.DeletedAt))
	if err != nil {
		return fmt.Errorf("insert webhook subscription: %w", err)
	}
	return nil
}

// WebhookSubscriptions returns every subscription, deleted ones too,
// oldest first.
func (db *DB) WebhookSubscriptions(ctx context.Context) ([]webhook.Subscription, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+webhookSubReadCols+` FROM webhook_subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []webhook.Subscription
	for rows.Next() {
		s, err := scanWebhookSub(rows)
		if err != nil {
			return nil, fmt.Errorf("scan webhook subscription: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// WebhookSubscription returns one subscription, or an ENOTFOUND error.
func (db *DB) WebhookSubscription(ctx context.Context, id webhook.SubscriptionID) (webhook.Subscription, error) {
	s, err := scanWebhookSub(db.sql.QueryRowContext(ctx, db.q(`SELECT `+webhookSubReadCols+` FROM webhook_subscriptions WHERE id = ?`), id))
	if err != nil {
		return s, notFound(err, "webhook subscription %q not found; list them with `trueup webhooks list`", id)
	}
	return s, nil
}

// DeleteWebhookSubscription marks a subscription deleted at at, keeping an
// earlier deletion, and returns it, or an ENOTFOUND error.
func (db *DB) DeleteWebhookSubscription(ctx context.Context, id webhook.SubscriptionID, at time.Time) (webhook.Subscription, error) {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE webhook_subscriptions SET deleted_at = COALESCE(deleted_at, ?) WHERE id = ?`), at.UTC(), id)
	if err != nil {
		return webhook.Subscription{}, fmt.Errorf("delete webhook subscription: %w", err)
	}
	if err := mustAffect(res, trueup.NotFound("webhook subscription %q not found; list them with `trueup webhooks list`", id)); err != nil {
		return webhook.Subscription{}, err
	}
	return db.WebhookSubscription(ctx, id)
}

// RotateWebhookSecret makes secret a live subscription's secret, keeping the
// one it replaces signing until until, and returns the subscription.
func (db *DB) RotateWebhookSecret(ctx context.Context, id webhook.SubscriptionID, secret string, until time.Time) (webhook.Subscription, error) {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE webhook_subscriptions SET previous_secret = secret, previous_secret_until = ?, secret = ?
		WHERE id = ? AND deleted_at IS NULL`), until.UTC(), secret, id)
	if err != nil {
		return webhook.Subscription{}, fmt.Errorf("rotate webhook secret: %w", err)
	}
	sub, err := db.WebhookSubscription(ctx, id)
	if err != nil {
		return sub, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return sub, fmt.Errorf("rotate webhook secret: %w", err)
	} else if n == 0 {
		return sub, trueup.Errorf(trueup.ECONFLICT, "webhook subscription %s is deleted; create a new subscription instead", id)
	}
	return sub, nil
}

// CreateWebhookDeliveries stores deliveries and enqueues the job of each,
// in one transaction.
func (db *DB) CreateWebhookDeliveries(ctx context.Context, p webhook.CreateDeliveriesParams) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for i, d := range p.Deliveries {
			var key sql.NullString // NULL: never a duplicate
			if d.EventKey != "" {
				key = sql.NullString{String: d.EventKey, Valid: true}
			}
			res, err := tx.ExecContext(ctx, db.q(`INSERT INTO webhook_deliveries (id, subscription_id, event_type, payload, state, created_at, event_key)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_key) DO NOTHING`),
				d.ID, d.SubscriptionID, d.EventType, string(d.Payload), d.State, d.CreatedAt.UTC(), key)
			if err != nil {
				return fmt.Errorf("insert webhook delivery: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("insert webhook delivery: %w", err)
			} else if n == 0 {
				continue // this event was delivered to this subscription already
			}
			j := p.Jobs[i]
			if _, err := db.EnqueueJob(ctx, tx, j.Kind, j.Args, j.MaxAttempts, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
}

const webhookDeliveryCols = `id, subscription_id, event_type, payload, state, attempts, last_status, created_at, finished_at`

func scanWebhookDelivery(s interface{ Scan(...any) error }) (webhook.Delivery, error) {
	var d webhook.Delivery
	var payload string
	var finished sql.NullTime
	err := s.Scan(&d.ID, &d.SubscriptionID, &d.EventType, &payload, &d.State, &d.Attempts, &d.LastStatus, &d.CreatedAt, &finished)
	d.Payload, d.CreatedAt, d.FinishedAt = json.RawMessage(payload), d.CreatedAt.UTC(), timePtr(finished)
	return d, err
}

// WebhookDelivery returns a delivery with its attempts, or an ENOTFOUND
// error.
func (db *DB) WebhookDelivery(ctx context.Context, id webhook.DeliveryID) (webhook.Delivery, error) {
	d, err := scanWebhookDelivery(db.sql.QueryRowContext(ctx, db.q(`SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE id = ?`), id))
	if err != nil {
		return d, notFound(err, "webhook delivery %q not found; list a subscription's with `trueup webhooks deliveries`", id)
	}
	logs, err := db.webhookAttempts(ctx, []webhook.DeliveryID{id})
	d.Log = logs[id]
	return d, err
}

// WebhookDeliveries returns the newest p.Limit deliveries of a
// subscription with their attempts, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, p webhook.DeliveriesParams) ([]webhook.Delivery, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT `+webhookDeliveryCols+` FROM webhook_deliveries WHERE subscription_id = ?
		ORDER BY created_at DESC, id DESC LIMIT ?`), p.SubscriptionID, p.Limit)
	if err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	var out []webhook.Delivery
	var ids []webhook.DeliveryID
	for rows.Next() {
		d, err := scanWebhookDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan webhook delivery: %w", err)
		}
		out = append(out, d)
		ids = append(ids, d.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhook deliveries: %w", err)
	}
	logs, err := db.webhookAttempts(ctx, ids)
	for i := range out {
		out[i].Log = logs[out[i].ID]
	}
	return out, err
}

// webhookAttempts returns the attempts of deliveries, first first.
func (db *DB) webhookAttempts(ctx context.Context, ids []webhook.DeliveryID) (map[webhook.DeliveryID][]webhook.Attempt, error) {
	out := map[webhook.DeliveryID][]webhook.Attempt{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := "?", []any{ids[0]}
	for _, id := range ids[1:] {
		in += ", ?"
		args = append(args, id)
	}
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT delivery_id, attempt, at, status_code, error, duration_ms FROM webhook_attempts
		WHERE delivery_id IN (`+in+`) ORDER BY delivery_id, attempt`), args...)
	if err != nil {
		return nil, fmt.Errorf("list webhook attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id webhook.DeliveryID
		var a webhook.Attempt
		if err := rows.Scan(&id, &a.Attempt, &a.Time, &a.StatusCode, &a.Error, &a.DurationMS); err != nil {
			return nil, fmt.Errorf("scan webhook attempt: %w", err)
		}
		a.Time = a.Time.UTC()
		out[id] = append(out[id], a)
	}
	return out, rows.Err()
}

// RecordWebhookAttempt numbers and logs an attempt of a delivery and sets
// the delivery's state, in one transaction; it returns the attempt's
// number.
func (db *DB) RecordWebhookAttempt(ctx context.Context, p webhook.AttemptParams) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, db.q(`UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = ?, state = ?, finished_at = ?
			WHERE id = ? RETURNING attempts`), p.Attempt.StatusCode, p.State, nullTime(p.FinishedAt), p.DeliveryID).Scan(&n)
		if err != nil {
			return notFound(err, "webhook delivery %q not found", p.DeliveryID)
		}
		a := p.Attempt
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)`),
			p.DeliveryID, n, a.Time.UTC(), a.StatusCode, a.Error, a.DurationMS); err != nil {
			return fmt.Errorf("insert webhook attempt: %w", err)
		}
		return nil
	})
	return n, err
}

// FinishWebhookDelivery sets a pending delivery's final state; a delivery
// no longer pending is left as it is.
func (db *DB) FinishWebhookDelivery(ctx context.Context, id webhook.DeliveryID, state string, at time.Time) error {
	if _, err := db.sql.ExecContext(ctx, db.q(`UPDATE webhook_deliveries SET state = ?, finished_at = ? WHERE id = ? AND state = ?`),
		state, at.UTC(), id, webhook.StatePending); err != nil {
		return fmt.Errorf("finish webhook delivery: %w", err)
	}
	return nil
}

// RedeliverWebhook makes a delivery that is not pending pending again and
// enqueues its job, in one transaction; ECONFLICT when it is pending.
func (db *DB) RedeliverWebhook(ctx context.Context, p webhook.RedeliverParams) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE webhook_deliveries SET state = ?, finished_at = NULL WHERE id = ? AND state <> ?`),
			webhook.StatePending, p.ID, webhook.StatePending)
		if err != nil {
			return fmt.Errorf("redeliver webhook: %w", err)
		}
		if err := mustAffect(res, trueup.Errorf(trueup.ECONFLICT, "delivery %s is pending already; wait until it succeeds or fails", p.ID)); err != nil {
			return err
		}
		_, err = db.EnqueueJob(ctx, tx, p.Job.Kind, p.Job.Args, p.Job.MaxAttempts, time.Time{})
		return err
	})
}
