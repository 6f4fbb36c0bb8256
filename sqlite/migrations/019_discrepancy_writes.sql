-- Writing a batch's discrepancies costs less (BenchmarkDiscrepancyWriter).
-- The table loses its foreign key to batches: an immediate foreign key
-- makes SQLite keep a statement journal for every multi-row INSERT (each
-- page it changes copied to a temporary file first, about a fifth of the
-- writer's time); only the check writes this table, for the batch whose job
-- it holds, and batches are never deleted. SQLite cannot drop a foreign key
-- in place, so the table is rebuilt with the same columns in the same
-- order. discrepancies_carrier_order (batch_no, attempt, carrier_order_id)
-- is not made again: it is a prefix of discrepancies_case, which serves the
-- same searches.
CREATE TABLE discrepancies_new (
    batch_no            TEXT NOT NULL,
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
    amount_gap          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (batch_no, attempt, seq)
);
INSERT INTO discrepancies_new SELECT * FROM discrepancies;
DROP TABLE discrepancies;
ALTER TABLE discrepancies_new RENAME TO discrepancies;
CREATE INDEX discrepancies_case ON discrepancies (batch_no, attempt, carrier_order_id, diff_type);
CREATE INDEX discrepancies_kind ON discrepancies (batch_no, attempt, diff_type, seq);
CREATE INDEX discrepancies_gap ON discrepancies (batch_no, attempt, amount_gap, seq);
CREATE INDEX discrepancies_kind_gap ON discrepancies (batch_no, attempt, diff_type, amount_gap, seq);
CREATE INDEX discrepancies_kd_order ON discrepancies (batch_no, attempt, kd_order_id);
CREATE INDEX discrepancies_carrier_user ON discrepancies (batch_no, attempt, carrier_user_id);
CREATE INDEX discrepancies_kd_user ON discrepancies (batch_no, attempt, kd_user_id);
