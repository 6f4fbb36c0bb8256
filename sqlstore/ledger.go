package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
)

// EachOrder calls fn for every ledger order of a carrier and cycle, ordered
// by carrierOrderId, with the user's current status. It stops at fn's first
// error and returns it.
func (db *DB) EachOrder(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(trueup.Order) error) error {
	return db.eachOrder(ctx, `SELECT o.carrier_order_id, o.kd_order_id, o.carrier_user_id, o.kd_user_id,
		COALESCE(u.status, ''), o.sku_code, o.sku_price, o.kd_package_id, o.kd_active_ms, o.kd_end_ms, o.kd_order_ms, o.kd_sale_total, o.channel
		FROM orders o LEFT JOIN carrier_users u ON u.carrier_id = o.carrier_id AND u.carrier_user_id = o.carrier_user_id
		WHERE o.carrier_id = ? AND o.billing_cycle = ? ORDER BY o.carrier_order_id`+db.dialect.CollateC(), []any{carrier, cycle}, carrier, cycle, fn)
}

func (db *DB) eachOrder(ctx context.Context, query string, args []any, carrier trueup.CarrierID, cycle string, fn func(trueup.Order) error) error {
	rows, err := db.sql.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return fmt.Errorf("query orders: %w", err)
	}
	defer rows.Close()
	o := trueup.Order{CarrierID: carrier, BillingCycle: cycle}
	var price, total string
	var active, end, ordered int64
	for rows.Next() {
		if err := rows.Scan(&o.CarrierOrderID, &o.KdOrderID, &o.CarrierUserID, &o.KdUserID, &o.UserStatus, &o.SkuCode, &price,
			&o.KdPackageID, &active, &end, &ordered, &total, &o.Channel); err != nil {
			return fmt.Errorf("scan order: %w", err)
		}
		if o.SkuPrice, err = decimal.NewFromString(price); err != nil {
			return fmt.Errorf("order %s sku_price %q: %w", o.CarrierOrderID, price, err)
		}
		if o.KdSaleTotal, err = decimal.NewFromString(total); err != nil {
			return fmt.Errorf("order %s kd_sale_total %q: %w", o.CarrierOrderID, total, err)
		}
		o.KdActiveTime = time.UnixMilli(active).UTC()
		o.KdEndTime = time.UnixMilli(end).UTC()
		o.KdOrderTime = time.UnixMilli(ordered).UTC()
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read orders: %w", err)
	}
	return nil
}

// EachOrderKey calls fn for every ledger order of a carrier and cycle,
// ordered by carrierOrderId, with only the fields a statement row is
// compared with: carrierOrderId, kdPackageId, skuCode, kdActiveTime,
// kdEndTime and kdSaleTotal. It reads a third of what EachOrder reads; the
// full orders of the few that differ come from OrdersByID.
func (db *DB) EachOrderKey(ctx context.Context, carrier trueup.CarrierID, cycle string, fn func(trueup.Order) error) error {
	return db.EachOrderKeyRange(ctx, batch.OrderRange{Carrier: carrier, Cycle: cycle}, fn)
}

// OrdersByID calls fn for the full ledger orders (with the user's current
// status) of a carrier and cycle whose carrierOrderIds are given, ordered
// by carrierOrderId when ids are sorted so. Unknown ids are skipped.
//
// Each id is looked up by the primary key (carrier_id, billing_cycle,
// carrier_order_id), in a plan that does not depend on statistics: on
// PostgreSQL the ids are one array parameter unnested and joined laterally,
// one index probe each, so a cycle loaded a moment ago (not analyzed yet)
// is never filtered whole; elsewhere an IN list of placeholders.
func (db *DB) OrdersByID(ctx context.Context, carrier trueup.CarrierID, cycle string, ids []string, fn func(trueup.Order) error) error {
	if db.dialect.ArrayParams() {
		for len(ids) > 0 {
			n := min(len(ids), ordersByIDArray)
			// LIMIT 1 keeps the lateral subquery from being flattened into
			// a join the planner could run as a scan of the cycle.
			err := db.eachOrder(ctx, `SELECT o.carrier_order_id, o.kd_order_id, o.carrier_user_id, o.kd_user_id,
				COALESCE((SELECT u.status FROM carrier_users u WHERE u.carrier_id = o.carrier_id AND u.carrier_user_id = o.carrier_user_id), ''),
				o.sku_code, o.sku_price, o.kd_package_id, o.kd_active_ms, o.kd_end_ms, o.kd_order_ms, o.kd_sale_total, o.channel
				FROM unnest(CAST(? AS TEXT[])) AS k (id) CROSS JOIN LATERAL (SELECT * FROM orders o
					WHERE o.carrier_id = ? AND o.billing_cycle = ? AND o.carrier_order_id = k.id LIMIT 1) o
				ORDER BY o.carrier_order_id`+db.dialect.CollateC(), []any{ids[:n], carrier, cycle}, carrier, cycle, fn)
			if err != nil {
				return err
			}
			ids = ids[n:]
		}
		return nil
	}
	for len(ids) > 0 {
		n := min(len(ids), inChunk)
		args := make([]any, 0, n+2)
		args = append(args, carrier, cycle)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		err := db.eachOrder(ctx, `SELECT o.carrier_order_id, o.kd_order_id, o.carrier_user_id, o.kd_user_id,
			COALESCE(u.status, ''), o.sku_code, o.sku_price, o.kd_package_id, o.kd_active_ms, o.kd_end_ms, o.kd_order_ms, o.kd_sale_total, o.channel
			FROM orders o LEFT JOIN carrier_users u ON u.carrier_id = o.carrier_id AND u.carrier_user_id = o.carrier_user_id
			WHERE o.carrier_id = ? AND o.billing_cycle = ? AND o.carrier_order_id IN (`+placeholders(n)+`) ORDER BY o.carrier_order_id`+db.dialect.CollateC(),
			args, carrier, cycle, fn)
		if err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// ordersByIDArray is how many ids one PostgreSQL array parameter of
// OrdersByID holds.
const ordersByIDArray = 5000

// CountOrders returns how many ledger orders a carrier has in a cycle, or in
// every cycle when cycle is empty.
func (db *DB) CountOrders(ctx context.Context, carrier trueup.CarrierID, cycle string) (int64, error) {
	var n int64
	var err error
	if cycle == "" {
		err = db.sql.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM orders WHERE carrier_id = ?`), carrier).Scan(&n)
	} else {
		err = db.sql.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM orders WHERE carrier_id = ? AND billing_cycle = ?`), carrier, cycle).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}
