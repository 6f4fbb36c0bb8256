-- Discrepancy cases: one per carrier, billing cycle, carrierOrderId and
-- kind, kept across the batches of the cycle. The latest succeeded batch of
-- a cycle (case_cycles.applied_batch) is its truth: it opens, updates,
-- resolves ("fixed" by it) and reopens cases, set-based, in the transaction
-- that finishes it. seen_batch is the batch whose values a case shows;
-- change and change_batch mark what the last applied batch did to a case
-- (opened, reopened, resolved), for the events sent after the commit.
CREATE TABLE cases (
    id                  INTEGER PRIMARY KEY,
    carrier_id          TEXT NOT NULL REFERENCES carriers (id),
    billing_cycle       TEXT NOT NULL,
    carrier_order_id    TEXT NOT NULL,
    diff_type           INTEGER NOT NULL,
    kd_order_id         TEXT NOT NULL,
    diff_reason         TEXT NOT NULL,
    kd_sale_total       TEXT NOT NULL,
    carrier_sale_to_kd  TEXT NOT NULL,
    this_month_billing  TEXT NOT NULL,
    next_month_billing  TEXT NOT NULL,
    carrier_active_time TEXT NOT NULL,
    carrier_end_time    TEXT NOT NULL,
    state               TEXT NOT NULL,
    resolution          TEXT NOT NULL DEFAULT '',
    note                TEXT NOT NULL DEFAULT '',
    assignee            TEXT NOT NULL DEFAULT '',
    opened_batch        TEXT NOT NULL,
    seen_batch          TEXT NOT NULL,
    fixed_by            TEXT NOT NULL DEFAULT '',
    resolved_by         TEXT NOT NULL DEFAULT '',
    opened_at           TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    resolved_at         TIMESTAMP,
    change              TEXT NOT NULL DEFAULT '',
    change_batch        TEXT NOT NULL DEFAULT '',
    UNIQUE (carrier_id, billing_cycle, carrier_order_id, diff_type)
);
CREATE INDEX cases_cycle_state ON cases (carrier_id, billing_cycle, state, id);

-- What happened to a case after it opened: operator actions and the
-- batches that resolved or reopened it.
CREATE TABLE case_history (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    at       TIMESTAMP NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    note     TEXT NOT NULL DEFAULT '',
    batch_no TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_history_case ON case_history (case_id, id);

-- The discrepancies of a batch by order and kind: applying a batch asks,
-- for each open case, whether the batch shows it.
CREATE INDEX discrepancies_case ON discrepancies (batch_no, attempt, carrier_order_id, diff_type);

-- A carrier's billing cycle: the batch whose discrepancies the cases show
-- (ordered by upload: created_at, then batch_no), and whether the cycle is
-- closed to uploads, with the settlement it closed at.
CREATE TABLE case_cycles (
    carrier_id         TEXT NOT NULL REFERENCES carriers (id),
    billing_cycle      TEXT NOT NULL,
    applied_batch      TEXT NOT NULL DEFAULT '',
    applied_created_at TIMESTAMP,
    applied_count      INTEGER NOT NULL DEFAULT 0,
    applied_missing    INTEGER NOT NULL DEFAULT 0,
    closed_at          TIMESTAMP,
    closed_by          TEXT NOT NULL DEFAULT '',
    closed_summary     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (carrier_id, billing_cycle)
);

-- Per-carrier settings of cases: the SLA in days after which an open case
-- is overdue (and a kind-1 case "missing").
CREATE TABLE case_settings (
    carrier_id TEXT PRIMARY KEY REFERENCES carriers (id),
    sla_days   INTEGER NOT NULL
);
