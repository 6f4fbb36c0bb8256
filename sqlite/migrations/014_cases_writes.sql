-- PostgreSQL's migration 014 drops the foreign key of cases.carrier_id (a
-- trigger per case written). SQLite keeps it: its check is one probe of
-- the primary key of carriers, and dropping it would rebuild the table of
-- cases. Nothing changes here.
SELECT 1;
