-- PostgreSQL's migration 014 drops the foreign key of cases.carrier_id (a
-- trigger per case written) and takes state out of the index of a cycle's
-- cases (so that resolving a case is a HOT update). SQLite keeps both: its
-- key check is one probe of the primary key of carriers, dropping it would
-- rebuild the table of cases, and an SQLite update rewrites the row in its
-- b-tree whatever is indexed. Nothing changes here.
SELECT 1;
