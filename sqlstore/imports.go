package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/imports"
)

const importCols = `id, kind, target, file_name, state, rows_read, imported, error_count, row_errors, reason, key_id, created_at, finished_at`

func scanImport(s interface{ Scan(...any) error }) (imports.Import, error) {
	var im imports.Import
	var rowErrors string
	var fin sql.NullTime
	err := s.Scan(&im.ID, &im.Kind, &im.Target, &im.FileName, &im.State, &im.RowsRead, &im.Imported, &im.ErrorCount,
		&rowErrors, &im.Reason, &im.KeyID, &im.CreatedAt, &fin)
	if err != nil {
		return im, err
	}
	im.CreatedAt, im.FinishedAt = im.CreatedAt.UTC(), timePtr(fin)
	if err := json.Unmarshal([]byte(rowErrors), &im.RowErrors); err != nil {
		return im, fmt.Errorf("import %s row errors: %w", im.ID, err)
	}
	if im.RowErrors == nil {
		im.RowErrors = []trueup.RowError{}
	}
	return im, nil
}

// CreateImport stores a new import.
func (db *DB) CreateImport(ctx context.Context, im imports.Import) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO imports (id, kind, target, file_name, state, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		im.ID, im.Kind, im.Target, im.FileName, im.State, im.KeyID, im.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert import: %w", err)
	}
	return nil
}

// FinishImport records an import's outcome, or returns an ENOTFOUND error.
func (db *DB) FinishImport(ctx context.Context, p imports.FinishParams) error {
	rowErrors := p.RowErrors
	if rowErrors == nil {
		rowErrors = []trueup.RowError{}
	}
	b, err := json.Marshal(rowErrors)
	if err != nil {
		return fmt.Errorf("encode row errors: %w", err)
	}
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE imports SET state = ?, rows_read = ?, imported = ?, error_count = ?, row_errors = ?, reason = ?, finished_at = ? WHERE id = ?`),
		p.State, p.RowsRead, p.Imported, p.ErrorCount, string(b), p.Reason, p.At.UTC(), p.ID)
	if err != nil {
		return fmt.Errorf("finish import: %w", err)
	}
	return mustAffect(res, trueup.NotFound("import %q not found", p.ID))
}

// Import returns the import with the given id, or an ENOTFOUND error.
func (db *DB) Import(ctx context.Context, id imports.ID) (imports.Import, error) {
	im, err := scanImport(db.sql.QueryRowContext(ctx, db.q(`SELECT `+importCols+` FROM imports WHERE id = ?`), id))
	if err != nil {
		return im, notFound(err, "import %q not found; use the importId answered by the import call", id)
	}
	return im, nil
}

// Imports returns the most recent imports, newest first, at most limit.
func (db *DB) Imports(ctx context.Context, limit int) ([]imports.Import, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT `+importCols+` FROM imports ORDER BY created_at DESC, id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	var out []imports.Import
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, fmt.Errorf("scan import: %w", err)
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// AbandonImports marks the imports still running and created before
// p.Before as failed, and returns how many.
func (db *DB) AbandonImports(ctx context.Context, p imports.AbandonParams) (int64, error) {
	res, err := db.sql.ExecContext(ctx, db.q(`UPDATE imports SET state = ?, reason = ?, finished_at = ? WHERE state = ? AND created_at < ?`),
		imports.Failed, p.Reason, p.At.UTC(), imports.Running, p.Before.UTC())
	if err != nil {
		return 0, fmt.Errorf("abandon imports: %w", err)
	}
	return res.RowsAffected()
}
