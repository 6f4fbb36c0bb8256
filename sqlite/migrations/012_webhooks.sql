-- Webhook subscriptions, their deliveries and each delivery's attempts.
--
-- carrier_id is empty for an operators' subscription (every carrier's
-- events); event_types is a JSON array of event types. secret is the
-- signing secret (whsec_...), kept to sign each delivery. deleted_at set
-- stops new deliveries; the log is kept.
CREATE TABLE webhook_subscriptions (
    id          TEXT PRIMARY KEY,
    carrier_id  TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL,
    event_types TEXT NOT NULL,
    secret      TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    deleted_at  TIMESTAMP
);

-- A delivery is one message (its id is the webhook-id header, the same on
-- every attempt and redelivery) to one subscription. state is pending,
-- succeeded or failed.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);

-- One attempt of a delivery: the status code (0 when no response came),
-- the error, and how long it took.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
