-- A batch's discrepancy counts move from one column per kind (count_1 to
-- count_4) to one JSON object keyed by the kind's number, {"1":n,"2":n,...},
-- the form the API writes. A new kind then needs no migration: a count
-- missing from the object is zero.
ALTER TABLE batches ADD COLUMN counts TEXT NOT NULL DEFAULT '{}';
UPDATE batches SET counts = json_build_object('1', count_1, '2', count_2, '3', count_3, '4', count_4)::text;
ALTER TABLE batches DROP COLUMN count_1;
ALTER TABLE batches DROP COLUMN count_2;
ALTER TABLE batches DROP COLUMN count_3;
ALTER TABLE batches DROP COLUMN count_4;
