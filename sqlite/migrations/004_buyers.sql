-- Buyer adjustments (seed 002, product flow 3): survey buyers, their
-- surveys and transactions, and reconciliation (adjustment) processes. See
-- docs/buyer-adjustments.md. Times are Unix milliseconds (UTC) so that they
-- compare exactly on both engines.
CREATE TABLE buyers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    -- SHA-256 of the access token; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    -- The reject cap in hundredths of a percent; NULL: no cap.
    reject_cap INTEGER,
    created_ms INTEGER NOT NULL
);

-- A survey belongs to the buyer whose transaction file first named it.
-- list_version grows with every change of the survey's process list (a
-- process added, a status changed), in the transaction of the change, so
-- that a server may keep the list in memory while the version holds.
CREATE TABLE surveys (
    id           INTEGER PRIMARY KEY,
    buyer_id     TEXT NOT NULL REFERENCES buyers (id),
    status       INTEGER NOT NULL,
    list_version INTEGER NOT NULL DEFAULT 0,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX surveys_buyer ON surveys (buyer_id, id);

-- change_reason and adjustment_id name the last process that changed the
-- transaction's status ('' when none did).
CREATE TABLE survey_transactions (
    buyer_id       TEXT NOT NULL REFERENCES buyers (id),
    transaction_id TEXT NOT NULL,
    survey_id      INTEGER NOT NULL REFERENCES surveys (id),
    status         INTEGER NOT NULL,
    test           BOOLEAN NOT NULL,
    invoiced       BOOLEAN NOT NULL,
    started_ms     INTEGER,
    finished_ms    INTEGER,
    change_reason  TEXT NOT NULL DEFAULT '',
    adjustment_id  TEXT NOT NULL DEFAULT '',
    updated_ms     INTEGER NOT NULL,
    PRIMARY KEY (buyer_id, transaction_id)
) WITHOUT ROWID;
-- Covers a survey's counts and its completes.
CREATE INDEX survey_transactions_survey ON survey_transactions (survey_id, status, test, invoiced);

-- seq orders processes (newest first in lists); id is the public UUID.
-- summary and surveys are JSON (the Summary and the touched survey ids).
CREATE TABLE adjustments (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    buyer_id       TEXT NOT NULL REFERENCES buyers (id),
    survey_id      INTEGER NOT NULL,
    mode           TEXT NOT NULL,
    desired_status INTEGER NOT NULL,
    is_api         BOOLEAN NOT NULL,
    status         INTEGER NOT NULL,
    items          INTEGER NOT NULL,
    surveys        TEXT NOT NULL,
    summary        TEXT NOT NULL,
    failure        TEXT NOT NULL DEFAULT '',
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    finished_ms    INTEGER
);
CREATE INDEX adjustments_buyer ON adjustments (buyer_id, seq);
CREATE INDEX adjustments_status ON adjustments (status, created_ms);

-- The surveys each process touches: the per-survey process list, newest
-- first by seq. adjustment_id and status are copied from adjustments (every
-- status change updates both in one transaction) so that a survey's list is
-- one range scan of this narrow table, without reading the processes'
-- summaries. row_version is the survey's list_version when the row last
-- changed: a server holding the list at version v reads only the rows past
-- v.
CREATE TABLE adjustment_surveys (
    survey_id      INTEGER NOT NULL,
    adjustment_seq INTEGER NOT NULL REFERENCES adjustments (seq),
    adjustment_id  TEXT NOT NULL,
    status         INTEGER NOT NULL,
    row_version    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (survey_id, adjustment_seq)
) WITHOUT ROWID;
CREATE INDEX adjustment_surveys_seq ON adjustment_surveys (adjustment_seq);
CREATE INDEX adjustment_surveys_version ON adjustment_surveys (survey_id, row_version);

-- A process's list as sent, a JSON array of {transaction_id, change_reason}.
CREATE TABLE adjustment_lists (
    adjustment_seq INTEGER PRIMARY KEY REFERENCES adjustments (seq),
    items          TEXT NOT NULL
);
