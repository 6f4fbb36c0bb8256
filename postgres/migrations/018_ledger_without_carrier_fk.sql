-- The ledger's orders and carrier users no longer carry a foreign key to
-- carriers. A foreign key is checked row by row (a trigger and a query per
-- inserted row): for a bulk import of a million orders that check took
-- more than half of the merge's time (EXPLAIN ANALYZE: "Trigger for
-- constraint orders_carrier_id_fkey", 9.2 s of 16.8 s at 200,000 orders).
-- Only the ledger import writes these two tables: it checks that the
-- carrier exists and holds it (SELECT ... FOR KEY SHARE, what the trigger
-- took per row) for the whole import, and carriers are never deleted.
ALTER TABLE orders DROP CONSTRAINT orders_carrier_id_fkey;
ALTER TABLE carrier_users DROP CONSTRAINT carrier_users_carrier_id_fkey;
