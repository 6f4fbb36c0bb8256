package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
)

// OrderImport writes ledger orders in one transaction: either every order of
// an import is stored or none is. It implements ledger.OrderImport.
type OrderImport struct {
	db        *DB
	tx        *sql.Tx
	order     *sql.Stmt
	user      *sql.Stmt
	carrier   trueup.CarrierID
	now       time.Time
	count     int64
	finalized bool
}

// BeginOrderImport starts an import of ledger orders for a carrier. The
// caller must Commit or Rollback it.
func (db *DB) BeginOrderImport(ctx context.Context, carrier trueup.CarrierID) (ledger.OrderImport, error) {
	if _, err := db.Carrier(ctx, carrier); err != nil {
		return nil, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	imp := &OrderImport{db: db, tx: tx, carrier: carrier, now: db.now()}
	imp.order, err = tx.PrepareContext(ctx, db.q(`INSERT INTO orders (carrier_id, billing_cycle, carrier_order_id, kd_order_id,
		carrier_user_id, kd_user_id, sku_code, sku_price, kd_package_id, kd_active_ms, kd_end_ms, kd_order_ms, kd_sale_total, channel, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (carrier_id, billing_cycle, carrier_order_id) DO UPDATE SET
		kd_order_id = excluded.kd_order_id, carrier_user_id = excluded.carrier_user_id, kd_user_id = excluded.kd_user_id,
		sku_code = excluded.sku_code, sku_price = excluded.sku_price, kd_package_id = excluded.kd_package_id,
		kd_active_ms = excluded.kd_active_ms, kd_end_ms = excluded.kd_end_ms, kd_order_ms = excluded.kd_order_ms,
		kd_sale_total = excluded.kd_sale_total, channel = excluded.channel, updated_at = excluded.updated_at`))
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("prepare order upsert: %w", err)
	}
	imp.user, err = tx.PrepareContext(ctx, db.q(`INSERT INTO carrier_users (carrier_id, carrier_user_id, kd_user_id, status, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (carrier_id, carrier_user_id) DO UPDATE SET kd_user_id = excluded.kd_user_id,
		status = CASE WHEN excluded.status = '' THEN carrier_users.status ELSE excluded.status END, updated_at = excluded.updated_at`))
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("prepare user upsert: %w", err)
	}
	return imp, nil
}

// Add upserts one order (by carrierOrderId and billingCycle) and its user.
// An empty UserStatus keeps the user's current status (1, active, for a new
// user).
func (imp *OrderImport) Add(ctx context.Context, o trueup.Order) error {
	if _, err := imp.order.ExecContext(ctx, imp.carrier, o.BillingCycle, o.CarrierOrderID, o.KdOrderID, o.CarrierUserID, o.KdUserID,
		o.SkuCode, o.SkuPrice.String(), o.KdPackageID, o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli(),
		o.KdSaleTotal.String(), o.Channel, imp.now); err != nil {
		return fmt.Errorf("upsert order %s: %w", o.CarrierOrderID, err)
	}
	status := o.UserStatus
	if _, err := imp.user.ExecContext(ctx, imp.carrier, o.CarrierUserID, o.KdUserID, status, imp.now); err != nil {
		return fmt.Errorf("upsert user %s: %w", o.CarrierUserID, err)
	}
	imp.count++
	return nil
}

// Commit stores the import and returns how many orders it wrote.
func (imp *OrderImport) Commit() (int64, error) {
	imp.finalized = true
	imp.order.Close()
	imp.user.Close()
	// New users imported without a status are active.
	if _, err := imp.tx.Exec(imp.db.q(`UPDATE carrier_users SET status = '1' WHERE carrier_id = ? AND status = ''`), imp.carrier); err != nil {
		imp.tx.Rollback()
		return 0, fmt.Errorf("default user status: %w", err)
	}
	if err := imp.tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit import: %w", err)
	}
	return imp.count, nil
}

// Rollback discards the import. It is safe to call after Commit.
func (imp *OrderImport) Rollback() {
	if imp.finalized {
		return
	}
	imp.finalized = true
	imp.order.Close()
	imp.user.Close()
	imp.tx.Rollback()
}

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
	rows, err := db.sql.QueryContext(ctx, db.q(`SELECT carrier_order_id, sku_code, kd_package_id, kd_active_ms, kd_end_ms, kd_sale_total
		FROM orders WHERE carrier_id = ? AND billing_cycle = ? ORDER BY carrier_order_id`+db.dialect.CollateC()), carrier, cycle)
	if err != nil {
		return fmt.Errorf("query orders: %w", err)
	}
	defer rows.Close()
	o := trueup.Order{CarrierID: carrier, BillingCycle: cycle}
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

// OrdersByID calls fn for the full ledger orders (with the user's current
// status) of a carrier and cycle whose carrierOrderIds are given, ordered
// by carrierOrderId. Unknown ids are skipped.
func (db *DB) OrdersByID(ctx context.Context, carrier trueup.CarrierID, cycle string, ids []string, fn func(trueup.Order) error) error {
	const chunk = 500
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args := make([]any, 0, n+2)
		args = append(args, carrier, cycle)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		in := strings.Repeat("?, ", n-1) + "?"
		err := db.eachOrder(ctx, `SELECT o.carrier_order_id, o.kd_order_id, o.carrier_user_id, o.kd_user_id,
			COALESCE(u.status, ''), o.sku_code, o.sku_price, o.kd_package_id, o.kd_active_ms, o.kd_end_ms, o.kd_order_ms, o.kd_sale_total, o.channel
			FROM orders o LEFT JOIN carrier_users u ON u.carrier_id = o.carrier_id AND u.carrier_user_id = o.carrier_user_id
			WHERE o.carrier_id = ? AND o.billing_cycle = ? AND o.carrier_order_id IN (`+in+`) ORDER BY o.carrier_order_id`+db.dialect.CollateC(),
			args, carrier, cycle, fn)
		if err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

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
