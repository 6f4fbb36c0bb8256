-- Partners, credentials, the carrier ledger and the job queue.
CREATE TABLE carriers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL UNIQUE,
    whitelisted BOOLEAN NOT NULL DEFAULT FALSE,
    time_zone   TEXT NOT NULL DEFAULT 'UTC',
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    carrier_id  TEXT NOT NULL REFERENCES carriers (id),
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    rotated_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX clients_carrier ON clients (carrier_id);

CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients (id),
    carrier_id TEXT NOT NULL REFERENCES carriers (id),
    issued_at  TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX tokens_client ON tokens (client_id);

CREATE TABLE carrier_users (
    carrier_id      TEXT NOT NULL REFERENCES carriers (id),
    carrier_user_id TEXT NOT NULL,
    kd_user_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
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
    sku_price        TEXT NOT NULL,
    kd_package_id    TEXT NOT NULL,
    kd_active_ms     INTEGER NOT NULL,
    kd_end_ms        INTEGER NOT NULL,
    kd_order_ms      INTEGER NOT NULL,
    kd_sale_total    TEXT NOT NULL,
    channel          TEXT NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (carrier_id, billing_cycle, carrier_order_id)
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    args         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TIMESTAMP NOT NULL,
    lease_until  TIMESTAMP,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP
);
CREATE INDEX jobs_ready ON jobs (state, run_at);
