package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
)

// enqueueBatchEvents enqueues, in tx, the job that records the events of
// the batch no once its transaction commits (cases.EventsJobKind): the
// outbox of a batch's events.
func (db *DB) enqueueBatchEvents(ctx context.Context, tx *sql.Tx, no trueup.BatchNo) error {
	_, err := db.EnqueueJob(ctx, tx, cases.EventsJobKind, cases.EventsJobArgs(no), cases.EventsJobMaxAttempts, time.Time{})
	return err
}

// BatchCaseEvents calls fn for each case the batch no opened, resolved
// (fixed) or reopened, by case id, reading what later batches leave as it
// is: the cases whose opened_batch it is, and the history lines it wrote.
// A case a batch uploaded before the applied one adds already resolved
// (fixed by the applied batch, with no history line of that) is not
// counted as opened.
func (db *DB) BatchCaseEvents(ctx context.Context, no trueup.BatchNo, fn func(trueup.CarrierID, cases.Change) error) error {
	var carrier trueup.CarrierID
	var cycle string
	if err := db.sql.QueryRowContext(ctx, db.q(`SELECT carrier_id, billing_cycle FROM batches WHERE batch_no = ?`), no).Scan(&carrier, &cycle); err != nil {
		return notFound(err, "batch %s not found", no)
	}
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT c.id, c.carrier_order_id, c.diff_type, '`+cases.ChangeOpened+`' FROM cases c
			WHERE c.carrier_id = ? AND c.billing_cycle = ? AND c.opened_batch = ?
				AND NOT (c.resolution = ? AND NOT EXISTS (SELECT 1 FROM case_history h
					WHERE h.case_id = c.id AND h.action = ? AND h.batch_no = c.fixed_by))
		UNION ALL
		SELECT c.id, c.carrier_order_id, c.diff_type, CASE WHEN h.action = ? THEN '`+cases.ChangeResolved+`' ELSE '`+cases.ChangeReopened+`' END FROM case_history h JOIN cases c ON c.id = h.case_id
			WHERE c.carrier_id = ? AND c.billing_cycle = ? AND h.batch_no = ? AND h.actor = ? AND h.action IN (?, ?)
		ORDER BY 1, 4`),
		carrier, cycle, no, cases.Fixed, cases.Fixed,
		cases.Fixed, carrier, cycle, no, trueup.ActorSystem, cases.Fixed, cases.ChangeReopened)
	if err != nil {
		return fmt.Errorf("case events of batch %s: %w", no, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c cases.Change
		var typ int
		if err := rows.Scan(&id, &c.CarrierOrderID, &typ, &c.Change); err != nil {
			return fmt.Errorf("case events of batch %s: %w", no, err)
		}
		c.ID, c.DiffType = cases.ID(strconv.FormatInt(id, 10)), trueup.DiffType(typ)
		if err := fn(carrier, c); err != nil {
			return err
		}
	}
	return rows.Err()
}
