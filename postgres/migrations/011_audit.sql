-- The audit chain: every state change, appended in seq order. Each entry's
-- hash is the SHA-256 (hex) of the previous entry's hash and the entry's own
-- fields (see package audit); data is the canonical JSON of what changed.
-- audit_head holds the last entry's seq and hash in its one row: an append
-- locks it, so that appends are serialised and the chain stays linear, and
-- verify compares the chain's end with it (entries cut off the end or
-- added after it are found).
CREATE TABLE audit_entries (
    seq        BIGINT PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    type       TEXT NOT NULL,
    carrier_id TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL,
    data       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
