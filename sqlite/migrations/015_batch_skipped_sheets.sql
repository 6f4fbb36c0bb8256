-- The sheets of a workbook a check skipped (their first row is not the
-- template header: notes, the template's Columns sheet), as a JSON array of
-- their names in workbook order; NULL when none was skipped.
ALTER TABLE batches ADD COLUMN skipped_sheets TEXT;
