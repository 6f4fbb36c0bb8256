-- A job's attempts count only the runs that returned an error or panicked
-- (failures); a claim taken over after its lease lapsed (the worker died) is
-- counted apart (lost), against a larger bound of its own. attempt stays the
-- number of claims: it fences each claim's writes.
ALTER TABLE jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
