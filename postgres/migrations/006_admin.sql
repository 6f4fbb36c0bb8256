-- Admin API keys and the imports sent through the admin API.
--
-- Only a key's SHA-256 (hex) is stored; the key itself is shown once.
CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

-- An import of ledger orders, buyer transactions or risk records. state is
-- running, succeeded or failed; row_errors holds the JSON array of the
-- reported row errors (at most 1000) and error_count how many there were in
-- all. target is the carrier or buyer id (empty for risk records).
CREATE TABLE imports (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    state       TEXT NOT NULL,
    rows_read   BIGINT NOT NULL DEFAULT 0,
    imported    BIGINT NOT NULL DEFAULT 0,
    error_count INTEGER NOT NULL DEFAULT 0,
    row_errors  TEXT NOT NULL DEFAULT '[]',
    reason      TEXT NOT NULL DEFAULT '',
    key_id      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX imports_created ON imports (created_at);
