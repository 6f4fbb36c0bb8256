-- A batch checked in partitions (serve --batch-partitions N above 1): the
-- check's first job reads and validates the statement, then splits its rows
-- by carrierOrderId range into parts, each a job of its own that any replica
-- may work; the last part done queues the job that assembles the outcome.
-- These rows live while the batch is processing and are removed when it ends.

-- One row a split batch: the attempt (of the batch's first job) that split
-- it, how many parts it has and how many are done, and what the read found.
CREATE TABLE batch_splits (
    batch_no       TEXT PRIMARY KEY REFERENCES batches (batch_no),
    attempt        INTEGER NOT NULL,
    parts          INTEGER NOT NULL,
    parts_done     INTEGER NOT NULL DEFAULT 0,
    rows_read      INTEGER NOT NULL,
    skipped_sheets TEXT
);

-- One row a part: the carrierOrderIds it covers are from_id (inclusive) up to
-- the next part's from_id (the last part has no upper bound); counts and
-- at_stake are written with its discrepancies, in the transaction that marks
-- it done.
CREATE TABLE batch_parts (
    batch_no TEXT NOT NULL REFERENCES batches (batch_no),
    attempt  INTEGER NOT NULL,
    part     INTEGER NOT NULL,
    from_id  TEXT NOT NULL,
    done     INTEGER NOT NULL DEFAULT 0,
    counts   TEXT NOT NULL DEFAULT '{}',
    at_stake TEXT NOT NULL DEFAULT '0',
    PRIMARY KEY (batch_no, attempt, part)
);

-- The validated statement rows of each part, in carrierOrderId order, as
-- length-prefixed records in chunks of about 1 MiB.
CREATE TABLE batch_part_rows (
    batch_no TEXT NOT NULL REFERENCES batches (batch_no),
    attempt  INTEGER NOT NULL,
    part     INTEGER NOT NULL,
    chunk    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (batch_no, attempt, part, chunk)
);
