-- Partners, credentials, the carrier ledger and the job queue.
CREATE TABLE carriers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL UNIQUE,
    whitelisted BOOLEAN NOT NULL DEFAULT FALSE,
    time_zone   TEXT NOT NULL DEFAULT 'UTC',
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    carrier_id  TEXT NOT NULL REFERENCES carriers (id),
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX clients_carrier ON clients (carrier_id);

CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id),
    carrier_id TEXT NOT NULL REFERENCES carriers (id),
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX tokens_client ON tokens (client_id);

CREATE TABLE carrier_users (
    carrier_id      TEXT NOT NULL REFERENCES carriers (id),
    carrier_user_id TEXT NOT NULL,
    kd_user_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (carrier_id, carrier_user_id)
);

-- Times of the ledger are Unix milliseconds (UTC): a million-order cycle is
-- read back without parsing text.
CREATE TABLE orders (
    carrier_id       TEXT NOT NULL REFERENCES carriers (id),
    billing_cycle    TEXT NOT NULL,
    carrier_order_id TEXT NOT NULL,
    kd_order_id      TEXT NOT NULL,
    carrier_user_id  TEXT NOT NULL,
    kd_user_id       TEXT NOT NULL,
    sku_code         TEXT NOT NULL,
    sku_price        NUMERIC NOT NULL,
    kd_package_id    TEXT NOT NULL,
    kd_active_ms     BIGINT NOT NULL,
    kd_end_ms        BIGINT NOT NULL,
    kd_order_ms      BIGINT NOT NULL,
    kd_sale_total    NUMERIC NOT NULL,
    channel          TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (carrier_id, billing_cycle, carrier_order_id)
);

CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    args         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMPTZ NOT NULL,
    lease_until  TIMESTAMPTZ,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
