package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
)

// The storage of a batch checked in partitions (batch/partition.go;
// migration 017).

// PutBatchPartRows stores one chunk of a part's statement rows.
func (db *DB) PutBatchPartRows(ctx context.Context, p batch.PartRowsParams) error {
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO batch_part_rows (batch_no, attempt, part, chunk, data) VALUES (?, ?, ?, ?, ?)`),
		p.No, p.Attempt, p.Part, p.Chunk, p.Data)
	if err != nil {
		return fmt.Errorf("store rows of part %d of batch %s: %w", p.Part, p.No, err)
	}
	return nil
}

// SplitBatch records the parts of a batch's attempt, queues their jobs and
// completes the splitting job, in one transaction; the splits of other
// attempts go. It returns ErrLeaseLost, changing nothing, when the attempt
// is no longer the batch's current one or its job is no longer held.
func (db *DB) SplitBatch(ctx context.Context, p batch.SplitBatchParams) error {
	if len(p.From) == 0 || len(p.From) != len(p.PartJobArgs) {
		return fmt.Errorf("split batch %s: %d parts, %d job arguments", p.No, len(p.From), len(p.PartJobArgs))
	}
	var skipped sql.NullString
	if len(p.SkippedSheets) > 0 {
		b, err := json.Marshal(p.SkippedSheets)
		if err != nil {
			return fmt.Errorf("batch %s skipped sheets: %w", p.No, err)
		}
		skipped = sql.NullString{String: string(b), Valid: true}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE batches SET rows_read = ?, percent = 90 WHERE batch_no = ? AND attempt = ? AND state = ?`),
			p.RowsRead, p.No, p.Attempt, trueup.BatchProcessing)
		if err != nil {
			return fmt.Errorf("split batch %s: %w", p.No, err)
		}
		if err := mustAffect(res, ErrLeaseLost); err != nil {
			return err
		}
		if err := db.completeJob(ctx, tx, p.Job); err != nil {
			return err
		}
		if err := db.dropSplit(ctx, tx, p.No, p.Attempt); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO batch_splits (batch_no, attempt, parts, rows_read, skipped_sheets) VALUES (?, ?, ?, ?, ?)`),
			p.No, p.Attempt, len(p.From), p.RowsRead, skipped); err != nil {
			return fmt.Errorf("split batch %s: %w", p.No, err)
		}
		now := db.now()
		for k, from := range p.From {
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO batch_parts (batch_no, attempt, part, from_id) VALUES (?, ?, ?, ?)`),
				p.No, p.Attempt, k, from); err != nil {
				return fmt.Errorf("split batch %s: part %d: %w", p.No, k, err)
			}
			if _, err := db.EnqueueJob(ctx, tx, p.PartJobKind, p.PartJobArgs[k], 5, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// dropSplit removes the split rows of a batch but those of attempt keep
// (every attempt's when keep is 0).
func (db *DB) dropSplit(ctx context.Context, tx *sql.Tx, no trueup.BatchNo, keep int) error {
	for _, table := range []string{"batch_part_rows", "batch_parts", "batch_splits"} {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM `+table+` WHERE batch_no = ? AND attempt <> ?`), no, keep); err != nil {
			return fmt.Errorf("clear %s of batch %s: %w", table, no, err)
		}
	}
	return nil
}

// DropBatchSplit removes the split of a batch, its parts and their rows,
// of every attempt.
func (db *DB) DropBatchSplit(ctx context.Context, no trueup.BatchNo) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return db.dropSplit(ctx, tx, no, 0) })
}

// BatchSplit returns the split of a batch's attempt, or an ENOTFOUND error.
func (db *DB) BatchSplit(ctx context.Context, no trueup.BatchNo, attempt int) (batch.Split, error) {
	sp := batch.Split{Attempt: attempt}
	var parts int
	var skipped sql.NullString
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT parts, parts_done, rows_read, skipped_sheets FROM batch_splits WHERE batch_no = ? AND attempt = ?`), no, attempt).
		Scan(&parts, &sp.PartsDone, &sp.RowsRead, &skipped)
	if err != nil {
		return sp, notFound(err, "batch %s attempt %d is not split", no, attempt)
	}
	if skipped.Valid && skipped.String != "" {
		if err := json.Unmarshal([]byte(skipped.String), &sp.SkippedSheets); err != nil {
			return sp, fmt.Errorf("batch %s skipped sheets: %w", no, err)
		}
	}
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT part, from_id, done, counts, at_stake FROM batch_parts WHERE batch_no = ? AND attempt = ? ORDER BY part`), no, attempt)
	if err != nil {
		return sp, fmt.Errorf("query parts of batch %s: %w", no, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, done int
		var pt batch.Part
		var counts, stake string
		if err := rows.Scan(&k, &pt.From, &done, &counts, &stake); err != nil {
			return sp, fmt.Errorf("scan part of batch %s: %w", no, err)
		}
		if k != len(sp.Parts) {
			return sp, fmt.Errorf("batch %s: part %d where %d was expected", no, k, len(sp.Parts))
		}
		pt.Done = done != 0
		if err := json.Unmarshal([]byte(counts), &pt.Counts); err != nil {
			return sp, fmt.Errorf("batch %s part %d counts: %w", no, k, err)
		}
		if pt.AtStake, err = decimal.NewFromString(stake); err != nil {
			return sp, fmt.Errorf("batch %s part %d at stake: %w", no, k, err)
		}
		if k > 0 {
			sp.Parts[k-1].To = pt.From
		}
		sp.Parts = append(sp.Parts, pt)
	}
	if err := rows.Err(); err != nil {
		return sp, fmt.Errorf("read parts of batch %s: %w", no, err)
	}
	if len(sp.Parts) != parts {
		return sp, fmt.Errorf("batch %s: %d parts stored, %d recorded", no, len(sp.Parts), parts)
	}
	return sp, nil
}

// CopyBatchPartRows writes the chunks of a part's rows to w, in order, one
// query a chunk.
func (db *DB) CopyBatchPartRows(ctx context.Context, no trueup.BatchNo, attempt, part int, w io.Writer) error {
	for n := 0; ; n++ {
		var data []byte
		err := db.sql.QueryRowContext(ctx, db.q(`SELECT data FROM batch_part_rows WHERE batch_no = ? AND attempt = ? AND part = ? AND chunk = ?`),
			no, attempt, part, n).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read chunk %d of part %d of batch %s: %w", n, part, no, err)
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("copy chunk %d of part %d of batch %s: %w", n, part, no, err)
		}
	}
}

// EachOrderKeyRange is EachOrderKey for the orders whose carrier order id
// lies in r, bytewise (from the first order when r.From is empty, to the
// last when r.To is).
func (db *DB) EachOrderKeyRange(ctx context.Context, r batch.OrderRange, fn func(trueup.Order) error) error {
	c := db.dialect.CollateC()
	query := `SELECT carrier_order_id, sku_code, kd_package_id, kd_active_ms, kd_end_ms, kd_sale_total
		FROM orders WHERE carrier_id = ? AND billing_cycle = ?`
	args := []any{r.Carrier, r.Cycle}
	if r.From != "" {
		query += ` AND carrier_order_id` + c + ` >= ?`
		args = append(args, r.From)
	}
	if r.To != "" {
		query += ` AND carrier_order_id` + c + ` < ?`
		args = append(args, r.To)
	}
	rows, err := db.sql.QueryContext(ctx, db.q(query+` ORDER BY carrier_order_id`+c), args...)
	if err != nil {
		return fmt.Errorf("query orders: %w", err)
	}
	defer rows.Close()
	o := trueup.Order{CarrierID: r.Carrier, BillingCycle: r.Cycle}
	var total string
	var active, end int64
	for rows.Next() {
		if err := rows.Scan(&o.CarrierOrderID, &o.SkuCode, &o.KdPackageID, &active, &end, &total); err != nil {
			return fmt.Errorf("scan order: %w", err)
		}
		if o.KdSaleTotal, err = decimal.NewFromString(total); err != nil {
			return fmt.Errorf("order %s kd_sale_total %q: %w", o.CarrierOrderID, total, err)
		}
		o.KdActiveTime = time.UnixMilli(active).UTC()
		o.KdEndTime = time.UnixMilli(end).UTC()
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read orders: %w", err)
	}
	return nil
}

// FinishPart stores a part's discrepancies, marks it done, completes its
// job and removes its statement rows in one transaction, so that a part is either done with its whole
// list or not at all: a part retaken after its worker died starts from
// nothing. When the part is the last of the split to be done, the same
// transaction queues the job that assembles the batch (assembled true). It
// returns ErrLeaseLost, storing nothing, when the part's job is no longer
// held or the batch no longer runs the attempt.
func (db *DB) FinishPart(ctx context.Context, p batch.FinishPartParams) (assembled bool, err error) {
	counts, err := json.Marshal(p.Counts)
	if err != nil {
		return false, fmt.Errorf("batch %s part %d counts: %w", p.No, p.Part, err)
	}
	err = db.inConnTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		assembled = false
		if err := db.completeJob(ctx, tx, p.Job); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.q(`UPDATE batch_parts SET done = 1, counts = ?, at_stake = ? WHERE batch_no = ? AND attempt = ? AND part = ? AND done = 0`),
			string(counts), p.AtStake.String(), p.No, p.Attempt, p.Part)
		if err != nil {
			return fmt.Errorf("finish part %d of batch %s: %w", p.Part, p.No, err)
		}
		if err := mustAffect(res, ErrLeaseLost); err != nil {
			return err
		}
		// The part's statement rows are of no more use.
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM batch_part_rows WHERE batch_no = ? AND attempt = ? AND part = ?`), p.No, p.Attempt, p.Part); err != nil {
			return fmt.Errorf("clear rows of part %d of batch %s: %w", p.Part, p.No, err)
		}
		buf := make([]trueup.Discrepancy, 0, discrepancyFlush)
		err = p.Discrepancies(func(d trueup.Discrepancy) error {
			buf = append(buf, d)
			if len(buf) < discrepancyFlush {
				return nil
			}
			err := db.insertDiscrepancyRows(ctx, conn, tx, p.No, p.Attempt, buf)
			buf = buf[:0]
			return err
		})
		if err != nil {
			return err
		}
		if err := db.insertDiscrepancyRows(ctx, conn, tx, p.No, p.Attempt, buf); err != nil {
			return err
		}
		// The rows every part's transaction shares come last: parts
		// insert their lists at once and queue here only for the count.
		var done, parts int
		if err := tx.QueryRowContext(ctx, db.q(`UPDATE batch_splits SET parts_done = parts_done + 1 WHERE batch_no = ? AND attempt = ? RETURNING parts_done, parts`),
			p.No, p.Attempt).Scan(&done, &parts); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrLeaseLost
			}
			return fmt.Errorf("count parts of batch %s: %w", p.No, err)
		}
		res, err = tx.ExecContext(ctx, db.q(`UPDATE batches SET percent = ? WHERE batch_no = ? AND attempt = ? AND state = ?`),
			90+9*done/parts, p.No, p.Attempt, trueup.BatchProcessing)
		if err != nil {
			return fmt.Errorf("batch %s progress: %w", p.No, err)
		}
		if err := mustAffect(res, ErrLeaseLost); err != nil {
			return err
		}
		if done == parts {
			if _, err := db.EnqueueJob(ctx, tx, p.AssembleJobKind, p.AssembleJobArgs, 5, db.now()); err != nil {
				return err
			}
			assembled = true
		}
		return nil
	})
	return assembled, err
}
