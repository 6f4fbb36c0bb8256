package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
)

// FileChunk is the size of the pieces an upload is stored in.
const FileChunk = 1 << 20

const batchCols = `batch_no, carrier_id, billing_cycle, file_name, format, file_size, state, attempt, rows_read, percent,
	counts, row_error_count, failure, created_at, started_at, finished_at, skipped_sheets`

func scanBatch(s interface{ Scan(...any) error }) (trueup.Batch, int, error) {
	var b trueup.Batch
	var attempt int
	var started, finished sql.NullTime
	var counts string
	var skipped sql.NullString
	err := s.Scan(&b.No, &b.CarrierID, &b.Cycle, &b.FileName, &b.Format, &b.FileSize, &b.State, &attempt, &b.RowsRead, &b.Percent,
		&counts, &b.RowErrors, &b.Failure, &b.CreatedAt, &started, &finished, &skipped)
	if err != nil {
		return b, attempt, err
	}
	if err := json.Unmarshal([]byte(counts), &b.Counts); err != nil {
		return b, attempt, fmt.Errorf("batch %s counts: %w", b.No, err)
	}
	if skipped.Valid && skipped.String != "" {
		if err := json.Unmarshal([]byte(skipped.String), &b.SkippedSheets); err != nil {
			return b, attempt, fmt.Errorf("batch %s skipped sheets: %w", b.No, err)
		}
	}
	b.CreatedAt = b.CreatedAt.UTC()
	b.StartedAt, b.FinishedAt = timePtr(started), timePtr(finished)
	return b, attempt, nil
}

// UploadDir makes the store keep uploads as files in dir (SQLite, one
// machine) rather than in the database (PostgreSQL, shared by replicas).
func (db *DB) UploadDir(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o750); err != nil {
		return fmt.Errorf("upload directory: %w", err)
	}
	db.uploadDir = dir
	return nil
}

// TempDir makes dir, created when needed, the folder of the store's
// temporary files when it keeps uploads in the database (PostgreSQL):
// uploads spooled by the server and the workers' copies of stored uploads.
// It must be a folder of this server's own (not the shared system
// temporary folder): CleanTemp empties it at start. A store keeping uploads
// in a directory ignores it: its temporary files live in that directory's
// tmp folder, on the same file system, so that an upload is moved, not
// copied.
func (db *DB) TempDir(dir string) error {
	if db.uploadDir != "" || dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	db.tempDir = dir
	return nil
}

// UploadTempDir returns where uploads should be spooled (so that
// CreateBatch can move them rather than copy them) and where workers copy
// uploads kept in the database: the upload directory's tmp folder, else the
// folder set with TempDir ("" for the system's temporary directory when
// neither is set).
func (db *DB) UploadTempDir() string {
	if db.uploadDir == "" {
		return db.tempDir
	}
	return filepath.Join(db.uploadDir, "tmp")
}

// CleanTemp removes trueup's files (named trueup-*) from UploadTempDir,
// left there by a process that died (an upload cut short, a worker's copy),
// and returns how many it removed. The server calls it at start, before it
// accepts uploads or runs jobs: every such file belongs to the one server
// process of that folder (a data directory, or a TempDir, serves one
// server; commands such as import and admin never write there), so all of
// them are leftovers, whatever their age, and none is in flight. Other
// files are left alone, in case the folder is shared by mistake. With no
// such folder it does nothing.
func (db *DB) CleanTemp() (int, error) {
	dir := db.UploadTempDir()
	if dir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("clean temporary files: %w", err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "trueup-") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return n, fmt.Errorf("clean temporary files: %w", err)
		}
		n++
	}
	return n, nil
}

func (db *DB) uploadPath(no trueup.BatchNo) string {
	return filepath.Join(db.uploadDir, string(no))
}

// keepUpload puts the upload in the upload directory.
func (db *DB) keepUpload(no trueup.BatchNo, r io.Reader) error {
	dst := db.uploadPath(no)
	if f, ok := r.(*os.File); ok {
		if err := os.Rename(f.Name(), dst); err == nil {
			return nil
		}
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("store upload: %w", err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("store upload: %w", err)
	}
	if err := out.Close(); err != nil {
		os.Remove(dst)
		return fmt.Errorf("store upload: %w", err)
	}
	return nil
}

// CreateBatch stores a queued batch, its file and the job that will check
// it, in one transaction.
func (db *DB) CreateBatch(ctx context.Context, p batch.CreateBatchParams) error {
	b := p.Batch
	if db.uploadDir != "" {
		if err := db.keepUpload(b.No, p.File); err != nil {
			return err
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO batches (batch_no, carrier_id, billing_cycle, file_name, format, file_size, state, trace_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), b.No, b.CarrierID, b.Cycle, b.FileName, b.Format, b.FileSize, trueup.BatchQueued, p.TraceID, b.CreatedAt.UTC()); err != nil {
			if db.dialect.IsUniqueViolation(err) {
				return trueup.Errorf(trueup.ECONFLICT, "batch %s already exists; upload again", b.No)
			}
			return fmt.Errorf("insert batch: %w", err)
		}
		if db.uploadDir != "" {
			_, err := db.EnqueueJob(ctx, tx, p.JobKind, p.JobArgs, 5, b.CreatedAt)
			return err
		}
		stmt, err := tx.PrepareContext(ctx, db.q(`INSERT INTO batch_files (batch_no, chunk, data) VALUES (?, ?, ?)`))
		if err != nil {
			return fmt.Errorf("prepare file insert: %w", err)
		}
		defer stmt.Close()
		buf := make([]byte, FileChunk)
		for n := 0; ; n++ {
			k, err := io.ReadFull(p.File, buf)
			if k > 0 {
				if _, err := stmt.ExecContext(ctx, b.No, n, buf[:k]); err != nil {
					return fmt.Errorf("store file chunk %d: %w", n, err)
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("read upload: %w", err)
			}
		}
		if _, err := db.EnqueueJob(ctx, tx, p.JobKind, p.JobArgs, 5, b.CreatedAt); err != nil {
			return err
		}
		return nil
	})
	if err != nil && db.uploadDir != "" {
		os.Remove(db.uploadPath(b.No))
	}
	return err
}

// Batch returns a batch and the attempt whose results it shows, or an
// ENOTFOUND error.
func (db *DB) Batch(ctx context.Context, no trueup.BatchNo) (trueup.Batch, int, error) {
	b, attempt, err := scanBatch(db.sql.QueryRowContext(ctx, db.q(`SELECT `+batchCols+` FROM batches WHERE batch_no = ?`), no))
	if err != nil {
		return b, 0, notFound(err, "batch %s not found; use the batchNo returned by the data check API", no)
	}
	return b, attempt, nil
}

// Batches returns a carrier's latest batches, newest first.
func (db *DB) Batches(ctx context.Context, carrier trueup.CarrierID, limit int) ([]trueup.Batch, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT `+batchCols+` FROM batches WHERE carrier_id = ? ORDER BY created_at DESC, batch_no DESC LIMIT ?`), carrier, limit)
	if err != nil {
		return nil, fmt.Errorf("list batches: %w", err)
	}
	defer rows.Close()
	var out []trueup.Batch
	for rows.Next() {
		b, _, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("scan batch: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// OpenBatchFile opens a batch's stored upload and returns it with its
// size. From the database it is first copied to a temporary file in
// tmpDir, removed on Close.
func (db *DB) OpenBatchFile(ctx context.Context, no trueup.BatchNo, tmpDir string) (batch.File, int64, error) {
	if db.uploadDir != "" {
		f, err := os.Open(db.uploadPath(no))
		if err != nil {
			return nil, 0, fmt.Errorf("open upload of batch %s: %w", no, err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("open upload of batch %s: %w", no, err)
		}
		return f, st.Size(), nil
	}
	tmp, err := os.CreateTemp(tmpDir, "trueup-batch-*")
	if err != nil {
		return nil, 0, fmt.Errorf("temp file: %w", err)
	}
	f := &tempFile{tmp}
	var total int64
	for n := 0; ; n++ {
		var data []byte
		err := db.sql.QueryRowContext(ctx, db.q(`SELECT data FROM batch_files WHERE batch_no = ? AND chunk = ?`), no, n).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			if n == 0 { // a stored upload is never empty
				f.Close()
				return nil, 0, fmt.Errorf("open upload of batch %s: no stored chunk: %w", no, fs.ErrNotExist)
			}
			return f, total, nil
		}
		if err == nil {
			var k int
			k, err = tmp.Write(data)
			total += int64(k)
		}
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("read upload chunk %d of batch %s: %w", n, no, err)
		}
	}
}

// tempFile is removed when closed.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	os.Remove(t.File.Name())
	return err
}

// StartBatch marks a batch processing under the given attempt and removes
// what earlier attempts wrote. It returns ECONFLICT when the batch already
// finished.
func (db *DB) StartBatch(ctx context.Context, no trueup.BatchNo, attempt int) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE batches SET state = ?, attempt = ?, started_at = ?, rows_read = 0, percent = 0
			WHERE batch_no = ? AND state IN (?, ?)`), trueup.BatchProcessing, attempt, db.now(), no, trueup.BatchQueued, trueup.BatchProcessing)
		if err != nil {
			return fmt.Errorf("start batch: %w", err)
		}
		if err := mustAffect(res, trueup.Errorf(trueup.ECONFLICT, "batch %s already finished", no)); err != nil {
			return err
		}
		for _, table := range []string{"discrepancies", "batch_row_errors"} {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM `+table+` WHERE batch_no = ? AND attempt <> ?`), no, attempt); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		return nil
	})
}

// SetBatchProgress records how far the attempt has read.
func (db *DB) SetBatchProgress(ctx context.Context, no trueup.BatchNo, attempt int, rows int64, percent int) error {
	_, err := db.sql.ExecContext(ctx, db.q(`UPDATE batches SET rows_read = ?, percent = ? WHERE batch_no = ? AND attempt = ? AND state = ?`),
		rows, percent, no, attempt, trueup.BatchProcessing)
	if err != nil {
		return fmt.Errorf("batch progress: %w", err)
	}
	return nil
}

const discrepancyCols = `seq, diff_type, diff_reason, carrier_order_id, kd_order_id, carrier_user_id, carrier_order_time, kd_user_id, user_status,
	sku_code, sku_price, billing_cycle, carrier_sale, carrier_sale_to_kd, this_month_billing, next_month_billing, channel,
	carrier_active_time, carrier_end_time, carrier_package_id, kd_active_time, kd_end_time, kd_order_time, kd_package_id, kd_sale_total`

// DiscrepancyWriter appends a batch attempt's discrepancies in
// transactions of a few thousand rows. A full buffer is written by a
// goroutine of its own while the caller goes on producing the next one, so
// on two cores matching and writing overlap. It is not safe for concurrent
// use.
type DiscrepancyWriter struct {
	db      *DB
	no      trueup.BatchNo
	attempt int
	buf     []trueup.Discrepancy
	seq     int64

	pending chan []trueup.Discrepancy // buffers on their way to the database
	done    chan error                // the writer goroutine's outcome
	spare   chan []trueup.Discrepancy // written buffers, for reuse
	err     error                     // the first error of the goroutine
}

// Batch size of DiscrepancyWriter's transactions.
const discrepancyFlush = 5000

// NewDiscrepancyWriter returns a writer of the attempt's discrepancies.
func (db *DB) NewDiscrepancyWriter(no trueup.BatchNo, attempt int) batch.DiscrepancyWriter {
	return &DiscrepancyWriter{db: db, no: no, attempt: attempt, buf: make([]trueup.Discrepancy, 0, discrepancyFlush)}
}

// Write buffers d, numbering it, and hands a full buffer to the background
// writer. It returns the background writer's error once there is one.
func (w *DiscrepancyWriter) Write(ctx context.Context, d trueup.Discrepancy) error {
	if w.err != nil {
		return w.err
	}
	w.seq++
	d.Seq = w.seq
	w.buf = append(w.buf, d)
	if len(w.buf) < discrepancyFlush {
		return nil
	}
	if w.pending == nil {
		w.pending = make(chan []trueup.Discrepancy, 1)
		w.done = make(chan error, 1)
		w.spare = make(chan []trueup.Discrepancy, 2)
		go w.background(ctx, w.pending, w.done, w.spare)
	}
	select {
	case w.pending <- w.buf:
	case err := <-w.done: // the goroutine stopped on an error
		w.err = err
		return err
	}
	select {
	case b := <-w.spare:
		w.buf = b[:0]
	default:
		w.buf = make([]trueup.Discrepancy, 0, discrepancyFlush)
	}
	return nil
}

// background writes the buffers handed to it, stopping at the first error.
// It gets its channels as arguments: the writer's fields change under it.
func (w *DiscrepancyWriter) background(ctx context.Context, pending <-chan []trueup.Discrepancy, done chan<- error, spare chan<- []trueup.Discrepancy) {
	for b := range pending {
		if err := w.insert(ctx, b); err != nil {
			done <- err
			for range pending { // let Write and Flush go on to see it
			}
			return
		}
		select {
		case spare <- b:
		default:
		}
	}
	done <- nil
}

// stop ends the background writer, after it has written what it was given.
func (w *DiscrepancyWriter) stop() {
	if w.pending == nil {
		return
	}
	close(w.pending)
	if w.err == nil { // else Write already took the goroutine's error
		w.err = <-w.done
	}
	w.pending = nil
}

// Close ends the background writer without writing the buffer; a writer
// abandoned on an error must be closed. It is safe after Flush.
func (w *DiscrepancyWriter) Close() { w.stop() }

// Flush writes everything buffered and waits until it is stored.
func (w *DiscrepancyWriter) Flush(ctx context.Context) error {
	w.stop()
	if w.err != nil {
		return w.err
	}
	err := w.insert(ctx, w.buf)
	w.buf = w.buf[:0]
	return err
}

// insert writes buf in one transaction.
func (w *DiscrepancyWriter) insert(ctx context.Context, buf []trueup.Discrepancy) error {
	if len(buf) == 0 {
		return nil
	}
	return w.db.inConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		return w.db.insertDiscrepancyRows(ctx, conn, tx, w.no, w.attempt, buf)
	})
}

// insertDiscrepancyRows writes buf, discrepancies of a batch attempt
// numbered already, in tx open on conn: with the engine's bulk copy where
// it has one (PostgreSQL's COPY), else many rows per INSERT.
func (db *DB) insertDiscrepancyRows(ctx context.Context, conn *sql.Conn, tx *sql.Tx, no trueup.BatchNo, attempt int, buf []trueup.Discrepancy) error {
	if len(buf) == 0 {
		return nil
	}
	if db.dialect.BulkCopy() {
		rows := make([][]any, len(buf))
		vals := make([]any, 0, len(buf)*discrepancyParams)
		for i, d := range buf {
			vals = appendDiscrepancy(vals, no, attempt, d)
			rows[i] = vals[len(vals)-discrepancyParams:]
		}
		if _, err := db.dialect.CopyFrom(ctx, conn, "discrepancies", discrepancyColumns, rows); err != nil {
			return fmt.Errorf("copy discrepancies %d-%d: %w", buf[0].Seq, buf[len(buf)-1].Seq, err)
		}
		return nil
	}
	var full *sql.Stmt
	args := make([]any, 0, discrepancyRows*discrepancyParams)
	for rest := buf; len(rest) > 0; {
		n := min(len(rest), discrepancyRows)
		args = args[:0]
		for _, d := range rest[:n] {
			args = appendDiscrepancy(args, no, attempt, d)
		}
		var err error
		if n == discrepancyRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, db.insertDiscrepancies(n)); err != nil {
					return fmt.Errorf("prepare discrepancy insert: %w", err)
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, db.insertDiscrepancies(n), args...)
		}
		if err != nil {
			return fmt.Errorf("insert discrepancies %d-%d: %w", rest[0].Seq, rest[n-1].Seq, err)
		}
		rest = rest[n:]
	}
	return nil
}

// appendDiscrepancy appends the values of d's row, in the order of
// discrepancyColumns, to vals.
func appendDiscrepancy(vals []any, no trueup.BatchNo, attempt int, d trueup.Discrepancy) []any {
	return append(vals, string(no), int64(attempt), batch.AmountGap(d), d.Seq, int64(d.DiffType), d.DiffReason, d.CarrierOrderID, d.KdOrderID, d.CarrierUserID,
		d.CarrierOrderTime, d.KdUserID, d.UserStatus, d.SkuCode, decString(d.SkuPrice), d.BillingCycle, d.CarrierSale, d.CarrierSaleToKd,
		d.ThisMonthBilling, d.NextMonthBilling, d.Channel, d.CarrierActiveTime, d.CarrierEndTime, d.CarrierPackageID,
		d.KdActiveTime, d.KdEndTime, d.KdOrderTime, d.KdPackageID, decString(d.KdSaleTotal))
}

// Rows per INSERT of DiscrepancyWriter, and parameters per row.
const (
	discrepancyRows   = 32
	discrepancyParams = 28
)

// discrepancyColumns are the columns of a discrepancy row as
// appendDiscrepancy gives their values.
var discrepancyColumns = append([]string{"batch_no", "attempt", "amount_gap"}, strings.Fields(strings.ReplaceAll(discrepancyCols, ",", " "))...)

// insertDiscrepancies returns an INSERT of n discrepancy rows. OR FAIL
// rather than the default (ABORT): a statement that would undo its own
// rows on a failed constraint makes SQLite copy every page it changes to a
// statement journal first, and on any error the whole transaction is
// rolled back anyway.
func (db *DB) insertDiscrepancies(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR FAIL INTO discrepancies (` + strings.Join(discrepancyColumns, ", ") + `) VALUES `)
	row := "(" + strings.Repeat("?, ", discrepancyParams-1) + "?)"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return db.q(b.String())
}

func decString(d decimal.Decimal) string { return d.String() }

// FinishBatch records a batch's outcome and completes its job in one
// transaction. It returns ErrLeaseLost, changing nothing, when the attempt
// is no longer the batch's current one.
func (db *DB) FinishBatch(ctx context.Context, p batch.FinishBatchParams) error {
	err := db.finishBatch(ctx, p)
	if err == nil && p.State == trueup.BatchSucceeded {
		// Only the columns the discrepancy browser filters and sorts on
		// (its indexes, migration 013): the other columns' statistics
		// plan nothing and cost most of the time.
		if stmt := db.dialect.RefreshStats("discrepancies (batch_no, attempt, diff_type, amount_gap, carrier_order_id, kd_order_id, carrier_user_id, kd_user_id)"); stmt != "" {
			// Best effort, after the commit: the batch is finished; stale
			// statistics only slow the discrepancy browser's searches
			// until autovacuum refreshes them.
			if _, err := db.sql.ExecContext(ctx, stmt); err != nil {
				slog.Warn("refresh discrepancy statistics", "batch_no", p.No, "err", err)
			}
		}
	}
	return err
}

func (db *DB) finishBatch(ctx context.Context, p batch.FinishBatchParams) error {
	// A succeeded batch updates its cycle's cases in this transaction
	// (cases.go), on a connection with the engine's ordinary settings: the
	// bulk settings of imports (SQLite: a 256 MiB page cache) would keep
	// every page the update dirties in memory until the commit, 256 MiB
	// more resident at 400,000 discrepancies; with the ordinary cache
	// SQLite spills them to the write-ahead log as it goes.
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if len(p.RowErrors) > 0 {
			stmt, err := tx.PrepareContext(ctx, db.q(`INSERT INTO batch_row_errors (batch_no, attempt, seq, row_no, column_name, value, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`))
			if err != nil {
				return fmt.Errorf("prepare row error insert: %w", err)
			}
			defer stmt.Close()
			for i, e := range p.RowErrors {
				if _, err := stmt.ExecContext(ctx, p.No, p.Attempt, i+1, e.Row, e.Column, e.Value, e.Reason); err != nil {
					return fmt.Errorf("insert row error: %w", err)
				}
			}
		}
		if p.State == trueup.BatchFailed {
			// A failed batch shows no discrepancies, never a partial match.
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM discrepancies WHERE batch_no = ?`), p.No); err != nil {
				return fmt.Errorf("clear discrepancies: %w", err)
			}
			p.Counts = trueup.DiffCounts{}
			p.AtStake = decimal.Zero
		}
		counts, err := json.Marshal(p.Counts)
		if err != nil {
			return fmt.Errorf("batch %s counts: %w", p.No, err)
		}
		var skipped sql.NullString // NULL when no sheet was skipped
		if len(p.SkippedSheets) > 0 {
			b, err := json.Marshal(p.SkippedSheets)
			if err != nil {
				return fmt.Errorf("batch %s skipped sheets: %w", p.No, err)
			}
			skipped = sql.NullString{String: string(b), Valid: true}
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE batches SET state = ?, rows_read = ?, percent = 100, counts = ?,
			row_error_count = ?, failure = ?, finished_at = ?, at_stake = ?, skipped_sheets = ? WHERE batch_no = ? AND attempt = ? AND state = ?`),
			p.State, p.RowsRead, string(counts), p.ErrTotal, p.Failure, db.now(), p.AtStake.String(), skipped, p.No, p.Attempt, trueup.BatchProcessing)
		if err != nil {
			return fmt.Errorf("finish batch: %w", err)
		}
		if err := mustAffect(res, ErrLeaseLost); err != nil {
			return err
		}
		if p.State == trueup.BatchSucceeded {
			// The cases follow the batch in its transaction (cases.go).
			if err := db.applyCases(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := db.enqueueBatchEvents(ctx, tx, p.No); err != nil { // the outbox (outbox.go)
			return err
		}
		if p.Job.ID != 0 {
			return db.completeJob(ctx, tx, p.Job)
		}
		return nil
	})
}

// AbandonBatch fails a batch that is still queued or processing, with the
// failure message, and removes what its attempts wrote: the batch's job was
// given up. A batch already final is left as it is.
func (db *DB) AbandonBatch(ctx context.Context, no trueup.BatchNo, failure string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE batches SET state = ?, percent = 100, counts = '{}',
			row_error_count = 0, failure = ?, finished_at = ? WHERE batch_no = ? AND state IN (?, ?)`),
			trueup.BatchFailed, failure, db.now(), no, trueup.BatchQueued, trueup.BatchProcessing)
		if err != nil {
			return fmt.Errorf("abandon batch %s: %w", no, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // already final (or not found): nothing to do
		}
		for _, table := range []string{"discrepancies", "batch_row_errors"} {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM `+table+` WHERE batch_no = ?`), no); err != nil {
				return fmt.Errorf("clear %s: %w", table, err)
			}
		}
		// Its batch.failed event, through the outbox as a finished
		// batch's (outbox.go): recorded even if the process dies now.
		return db.enqueueBatchEvents(ctx, tx, no)
	})
}

// DiscrepancyPage returns up to limit discrepancies of a batch attempt
// after seq (0 for the first page), in order.
func (db *DB) DiscrepancyPage(ctx context.Context, no trueup.BatchNo, attempt int, after int64, limit int) ([]trueup.Discrepancy, error) {
	out := make([]trueup.Discrepancy, 0, limit)
	err := db.eachDiscrepancy(ctx, db.q(`SELECT `+discrepancyCols+` FROM discrepancies WHERE batch_no = ? AND attempt = ? AND seq > ? ORDER BY seq LIMIT ?`),
		[]any{no, attempt, after, limit}, func(d trueup.Discrepancy) error { out = append(out, d); return nil })
	return out, err
}

// EachDiscrepancy calls fn for every discrepancy of a batch attempt in order.
func (db *DB) EachDiscrepancy(ctx context.Context, no trueup.BatchNo, attempt int, fn func(trueup.Discrepancy) error) error {
	return db.eachDiscrepancy(ctx, db.q(`SELECT `+discrepancyCols+` FROM discrepancies WHERE batch_no = ? AND attempt = ? ORDER BY seq`), []any{no, attempt}, fn)
}

func (db *DB) eachDiscrepancy(ctx context.Context, query string, args []any, fn func(trueup.Discrepancy) error) error {
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("query discrepancies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d trueup.Discrepancy
		var typ int
		var price, total string
		if err := rows.Scan(&d.Seq, &typ, &d.DiffReason, &d.CarrierOrderID, &d.KdOrderID, &d.CarrierUserID, &d.CarrierOrderTime, &d.KdUserID,
			&d.UserStatus, &d.SkuCode, &price, &d.BillingCycle, &d.CarrierSale, &d.CarrierSaleToKd, &d.ThisMonthBilling, &d.NextMonthBilling,
			&d.Channel, &d.CarrierActiveTime, &d.CarrierEndTime, &d.CarrierPackageID, &d.KdActiveTime, &d.KdEndTime, &d.KdOrderTime,
			&d.KdPackageID, &total); err != nil {
			return fmt.Errorf("scan discrepancy: %w", err)
		}
		d.DiffType = trueup.DiffType(typ)
		d.SkuPrice, _ = decimal.NewFromString(strings.TrimSpace(price))
		d.KdSaleTotal, _ = decimal.NewFromString(strings.TrimSpace(total))
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// BatchRowErrors returns up to limit row errors of a batch attempt.
func (db *DB) BatchRowErrors(ctx context.Context, no trueup.BatchNo, attempt int, limit int) ([]trueup.RowError, error) {
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT row_no, column_name, value, reason FROM batch_row_errors WHERE batch_no = ? AND attempt = ? ORDER BY seq LIMIT ?`), no, attempt, limit)
	if err != nil {
		return nil, fmt.Errorf("query row errors: %w", err)
	}
	defer rows.Close()
	out := []trueup.RowError{}
	for rows.Next() {
		var e trueup.RowError
		if err := rows.Scan(&e.Row, &e.Column, &e.Value, &e.Reason); err != nil {
			return nil, fmt.Errorf("scan row error: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
