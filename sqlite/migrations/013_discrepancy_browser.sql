-- The console's discrepancy browser filters a batch's discrepancies by kind,
-- finds them by order or user id and sorts them by the amount difference,
-- with keyset pages that cost the same at any depth. amount_gap is the
-- absolute difference carrierSaleToKd - kdSaleTotal in millionths (see
-- batch.AmountGap), written with every discrepancy.
ALTER TABLE discrepancies ADD COLUMN amount_gap BIGINT NOT NULL DEFAULT 0;
-- Rows written before: the same gap, computed by SQLite in floating point
-- (an order key only; amounts are shown from the stored text).
UPDATE discrepancies SET amount_gap = CAST(ROUND(ABS(CAST(trim(carrier_sale_to_kd) AS REAL) - CAST(trim(kd_sale_total) AS REAL)) * 1000000) AS INTEGER);
CREATE INDEX discrepancies_kind ON discrepancies (batch_no, attempt, diff_type, seq);
CREATE INDEX discrepancies_gap ON discrepancies (batch_no, attempt, amount_gap, seq);
CREATE INDEX discrepancies_kind_gap ON discrepancies (batch_no, attempt, diff_type, amount_gap, seq);
CREATE INDEX discrepancies_carrier_order ON discrepancies (batch_no, attempt, carrier_order_id);
CREATE INDEX discrepancies_kd_order ON discrepancies (batch_no, attempt, kd_order_id);
CREATE INDEX discrepancies_carrier_user ON discrepancies (batch_no, attempt, carrier_user_id);
CREATE INDEX discrepancies_kd_user ON discrepancies (batch_no, attempt, kd_user_id);
-- The money at stake of a succeeded batch (the sum of its discrepancies'
-- absolute amount differences, exact, written by the check); for batches
-- checked before, the sum of the gaps above (floating point).
ALTER TABLE batches ADD COLUMN at_stake TEXT NOT NULL DEFAULT '0';
UPDATE batches SET at_stake = printf('%.2f', (SELECT TOTAL(amount_gap) FROM discrepancies d WHERE d.batch_no = batches.batch_no AND d.attempt = batches.attempt) / 1000000.0)
    WHERE state = 'succeeded';
