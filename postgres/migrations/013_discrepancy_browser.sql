-- The console's discrepancy browser filters a batch's discrepancies by kind,
-- finds them by order or user id and sorts them by the amount difference,
-- with keyset pages that cost the same at any depth. amount_gap is the
-- absolute difference carrierSaleToKd - kdSaleTotal in millionths (see
-- batch.AmountGap), written with every discrepancy.
ALTER TABLE discrepancies ADD COLUMN amount_gap BIGINT NOT NULL DEFAULT 0;
-- Rows written before: the same gap in exact numeric arithmetic; a carrier
-- amount that is not a number counts zero, as in batch.AmountGap.
UPDATE discrepancies SET amount_gap = LEAST(9223372036854775807, ROUND(ABS(
    (CASE WHEN trim(carrier_sale_to_kd) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)$' THEN trim(carrier_sale_to_kd)::numeric ELSE 0 END)
  - (CASE WHEN trim(kd_sale_total) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)$' THEN trim(kd_sale_total)::numeric ELSE 0 END)) * 1000000))::bigint;
CREATE INDEX discrepancies_kind ON discrepancies (batch_no, attempt, diff_type, seq);
CREATE INDEX discrepancies_gap ON discrepancies (batch_no, attempt, amount_gap, seq);
CREATE INDEX discrepancies_kind_gap ON discrepancies (batch_no, attempt, diff_type, amount_gap, seq);
CREATE INDEX discrepancies_carrier_order ON discrepancies (batch_no, attempt, carrier_order_id);
CREATE INDEX discrepancies_kd_order ON discrepancies (batch_no, attempt, kd_order_id);
CREATE INDEX discrepancies_carrier_user ON discrepancies (batch_no, attempt, carrier_user_id);
CREATE INDEX discrepancies_kd_user ON discrepancies (batch_no, attempt, kd_user_id);
-- The money at stake of a succeeded batch (the sum of its discrepancies'
-- absolute amount differences, exact, written by the check); for batches
-- checked before, the sum of the gaps above.
ALTER TABLE batches ADD COLUMN at_stake TEXT NOT NULL DEFAULT '0';
UPDATE batches SET at_stake = COALESCE((SELECT (SUM(amount_gap::numeric) / 1000000)::text FROM discrepancies d
    WHERE d.batch_no = batches.batch_no AND d.attempt = batches.attempt), '0')
    WHERE state = 'succeeded';
