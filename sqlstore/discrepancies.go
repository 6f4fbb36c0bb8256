package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
)

// BatchAtStake returns the money at stake FinishBatch recorded for a
// batch.
func (db *DB) BatchAtStake(ctx context.Context, no trueup.BatchNo) (decimal.Decimal, error) {
	var s string
	err := db.sql.QueryRowContext(ctx, db.q(`SELECT at_stake FROM batches WHERE batch_no = ?`), no).Scan(&s)
	if err != nil {
		return decimal.Zero, notFound(err, "batch %s not found", no)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("batch %s at stake %q: %w", no, s, err)
	}
	return d, nil
}

// FindDiscrepancies calls fn for the discrepancies q selects, in q's
// order, after q.After, at most q.Limit (all when 0). The indexes of
// migration 013 serve every combination of kind and order as a range scan
// that starts at the cursor, so a page costs the same at any depth. A
// search is a union of one query per id column, each served by its id's
// index (an OR of the four makes SQLite scan the batch in order, and an
// IN subquery makes PostgreSQL join the whole batch), sorted after.
func (db *DB) FindDiscrepancies(ctx context.Context, q batch.Query, fn func(trueup.Discrepancy) error) error {
	var b strings.Builder
	var args []any
	// where writes the conditions every branch shares. In a search's
	// branches the cursor's columns carry a unary + so that no engine
	// takes the order's index for them (SQLite, without statistics, would
	// scan the batch from the cursor rather than look the id up).
	where := func(search bool) {
		p := ""
		if search {
			p = "+"
		}
		b.WriteString(` WHERE batch_no = ? AND attempt = ?`)
		args = append(args, q.No, q.Attempt)
		if q.Kind != 0 {
			b.WriteString(` AND ` + p + `diff_type = ?`)
			args = append(args, int(q.Kind))
		}
		switch q.Order {
		case batch.ByGapDesc:
			if !q.After.IsZero() {
				b.WriteString(` AND (` + p + `amount_gap, ` + p + `seq) < (?, ?)`)
				args = append(args, q.After.Gap, q.After.Seq)
			}
		case batch.ByGapAsc:
			if !q.After.IsZero() {
				b.WriteString(` AND (` + p + `amount_gap, ` + p + `seq) > (?, ?)`)
				args = append(args, q.After.Gap, q.After.Seq)
			}
		default:
			b.WriteString(` AND ` + p + `seq > ?`)
			args = append(args, q.After.Seq)
		}
	}
	if q.Search == "" {
		b.WriteString(`SELECT ` + discrepancyCols + ` FROM discrepancies`)
		where(false)
	} else {
		// MATERIALIZED keeps the engines from pushing the order into the
		// branches (SQLite would merge them in seq order off the primary
		// key, scanning the batch).
		b.WriteString(`WITH found AS MATERIALIZED (`)
		cols := []string{"carrier_order_id", "kd_order_id", "carrier_user_id", "kd_user_id"}
		for i, col := range cols {
			if i > 0 {
				b.WriteString(` UNION ALL `)
			}
			b.WriteString(`SELECT amount_gap, ` + discrepancyCols + ` FROM discrepancies`)
			where(true)
			b.WriteString(` AND ` + col + ` = ?`)
			args = append(args, q.Search)
			// A row is found by its first matching column only.
			for _, earlier := range cols[:i] {
				b.WriteString(` AND ` + earlier + ` <> ?`)
				args = append(args, q.Search)
			}
		}
		b.WriteString(`) SELECT ` + discrepancyCols + ` FROM found`)
	}
	switch q.Order {
	case batch.ByGapDesc:
		b.WriteString(` ORDER BY amount_gap DESC, seq DESC`)
	case batch.ByGapAsc:
		b.WriteString(` ORDER BY amount_gap, seq`)
	default:
		b.WriteString(` ORDER BY seq`)
	}
	if q.Limit > 0 {
		b.WriteString(` LIMIT ?`)
		args = append(args, q.Limit)
	}
	return db.eachDiscrepancy(ctx, db.q(b.String()), args, fn)
}
