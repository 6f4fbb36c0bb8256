-- Statement batches, their stored uploads, row errors and discrepancies.
-- attempt is the job attempt whose results a batch shows: rows written by an
-- earlier, interrupted attempt are ignored and cleaned up.
CREATE TABLE batches (
    batch_no        TEXT PRIMARY KEY,
    carrier_id      TEXT NOT NULL REFERENCES carriers (id),
    billing_cycle   TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    format          TEXT NOT NULL,
    file_size       INTEGER NOT NULL,
    state           TEXT NOT NULL,
    attempt         INTEGER NOT NULL DEFAULT 0,
    rows_read       INTEGER NOT NULL DEFAULT 0,
    percent         INTEGER NOT NULL DEFAULT 0,
    count_1         INTEGER NOT NULL DEFAULT 0,
    count_2         INTEGER NOT NULL DEFAULT 0,
    count_3         INTEGER NOT NULL DEFAULT 0,
    count_4         INTEGER NOT NULL DEFAULT 0,
    row_error_count INTEGER NOT NULL DEFAULT 0,
    failure         TEXT NOT NULL DEFAULT '',
    trace_id        TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    started_at      TIMESTAMP,
    finished_at     TIMESTAMP
);
CREATE INDEX batches_carrier ON batches (carrier_id, created_at);

CREATE TABLE batch_files (
    batch_no TEXT NOT NULL REFERENCES batches (batch_no),
    chunk    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (batch_no, chunk)
);

CREATE TABLE batch_row_errors (
    batch_no    TEXT NOT NULL REFERENCES batches (batch_no),
    attempt     INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    row_no      INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    value       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (batch_no, attempt, seq)
);

CREATE TABLE discrepancies (
    batch_no            TEXT NOT NULL REFERENCES batches (batch_no),
    attempt             INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    diff_type           INTEGER NOT NULL,
    diff_reason         TEXT NOT NULL,
    carrier_order_id    TEXT NOT NULL,
    kd_order_id         TEXT NOT NULL,
    carrier_user_id     TEXT NOT NULL,
    carrier_order_time  TEXT NOT NULL,
    kd_user_id          TEXT NOT NULL,
    user_status         TEXT NOT NULL,
    sku_code            TEXT NOT NULL,
    sku_price           TEXT NOT NULL,
    billing_cycle       TEXT NOT NULL,
    carrier_sale        TEXT NOT NULL,
    carrier_sale_to_kd  TEXT NOT NULL,
    this_month_billing  TEXT NOT NULL,
    next_month_billing  TEXT NOT NULL,
    channel             TEXT NOT NULL,
    carrier_active_time TEXT NOT NULL,
    carrier_end_time    TEXT NOT NULL,
    carrier_package_id  TEXT NOT NULL,
    kd_active_time      TEXT NOT NULL,
    kd_end_time         TEXT NOT NULL,
    kd_order_time       TEXT NOT NULL,
    kd_package_id       TEXT NOT NULL,
    kd_sale_total       TEXT NOT NULL,
    PRIMARY KEY (batch_no, attempt, seq)
);

-- Server-wide secrets (the cursor signing key), shared by every replica.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
