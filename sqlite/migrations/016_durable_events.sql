-- Durable events. A finished batch's events (its outcome, the cases it
-- opened, resolved and reopened) are recorded by a job the batch's own
-- transaction enqueues (kind batch.events). The job may run again after a
-- crash: each event carries a key (batch, case, change), and the audit
-- chain and the webhook deliveries take an event of a key once. NULL (the
-- events of the other services) is never a duplicate.
ALTER TABLE audit_entries ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX audit_entries_event_key ON audit_entries (event_key);
ALTER TABLE webhook_deliveries ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (subscription_id, event_key);

-- Secret rotation: the secret a subscription had before its last rotation
-- keeps signing, beside the new one, until previous_secret_until.
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret_until TIMESTAMP;
