-- The console's operators and their sessions.
--
-- role is viewer, operator, admin or carrier; carrier_id is the carrier of
-- a carrier user ('' for staff). password_hash is argon2id in the PHC
-- string format. failed_signins counts the failed sign-ins since the last
-- good one; locked_until ends a lockout.
CREATE TABLE operators (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    carrier_id     TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    disabled_at    TIMESTAMP,
    failed_signins INTEGER NOT NULL DEFAULT 0,
    last_failed_at TIMESTAMP,
    locked_until   TIMESTAMP
);

-- A signed-in browser. Only the SHA-256 (hex) of the cookie's token is
-- stored; csrf_token is the secret the session's forms carry; flash is a
-- message for the next page.
CREATE TABLE operator_sessions (
    token_hash   TEXT PRIMARY KEY,
    operator_id  TEXT NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    flash        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX operator_sessions_operator ON operator_sessions (operator_id);
CREATE INDEX operator_sessions_expires ON operator_sessions (expires_at);
