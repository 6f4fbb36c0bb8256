-- The multiple-order risk list (seed 003) and the API clients that query it.
--
-- A record's mobile number is stored as the 16 bytes of its MD5 and its day
-- as days since 1970-01-01, so that the index on (mobile_md5, day) stays
-- small and a look-up is one index range scan. source is 1 seat, 2 voice,
-- 3 sms; duration is whole seconds, NULL when not given. id keeps the import
-- order, which orders the records of the same day.
CREATE TABLE risk_records (
    id         INTEGER PRIMARY KEY,
    mobile_md5 BLOB NOT NULL,
    day        INTEGER NOT NULL,
    source     INTEGER NOT NULL,
    cid        TEXT NOT NULL,
    duration   INTEGER,
    level      INTEGER NOT NULL
);
CREATE INDEX risk_records_mobile_day ON risk_records (mobile_md5, day);

-- The list's one-row summary, changed by every import in its transaction:
-- version tells servers that the list changed (they rebuild their in-memory
-- filter of the numbers on it), records is how many records it holds.
CREATE TABLE risk_list (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    records INTEGER NOT NULL
);
INSERT INTO risk_list (id, version, records) VALUES (1, 0, 0);

-- API clients (X-DF-API-ID / X-DF-API-SECRET). Only the secret's SHA-256 is
-- stored. quota 0 and rate 0 mean unlimited. quota_used counts the calls
-- granted so far (servers take them in small leases); rate_used counts the
-- calls granted in the second rate_window (Unix seconds).
CREATE TABLE risk_clients (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    apis        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    window_days INTEGER NOT NULL,
    quota       INTEGER NOT NULL DEFAULT 0,
    quota_used  INTEGER NOT NULL DEFAULT 0,
    rate        INTEGER NOT NULL DEFAULT 0,
    rate_window INTEGER NOT NULL DEFAULT 0,
    rate_used   INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL,
    rotated_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
