package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
)

// orderCols is how many values an order has in a multi-row INSERT.
const orderCols = 15

// orderInsertRows is how many orders one multi-row INSERT writes on
// engines without a bulk-copy protocol (15 values a row: 7,500 a
// statement, under SQLite's 32,766).
const orderInsertRows = 500

// orderCopyRows is how many orders one bulk copy into the staging table
// carries on engines with a bulk-copy protocol.
const orderCopyRows = 20000

// OrderImport writes ledger orders in one transaction: either every order of
// an import is stored or none is. It implements ledger.OrderImport.
//
// Orders are written in large pieces: where the engine has a bulk-copy
// protocol (Dialect.BulkCopy), into a staging table merged into orders at
// Commit in one statement; elsewhere with prepared multi-row upserts. The
// carrier users are gathered in memory (the last order of a user gives its
// kdUserId, its last non-empty status wins) and written at Commit in the
// same way.
type OrderImport struct {
	db        *DB
	conn      *sql.Conn
	tx        *sql.Tx
	restore   func() // undoes the engine's bulk-load tuning of conn
	upsert    *sql.Stmt
	carrier   trueup.CarrierID
	now       time.Time
	buf       []trueup.Order
	args      []any
	users     map[string]importUser
	count     int64
	finalized bool
}

// importUser is a carrier user as an import leaves it.
type importUser struct {
	kdUserID string
	status   string // empty: keep the stored status (1 for a new user)
}

// BeginOrderImport starts an import of ledger orders for a carrier. The
// caller must Commit or Rollback it. An unknown carrier is an ENOTFOUND
// error.
func (db *DB) BeginOrderImport(ctx context.Context, carrier trueup.CarrierID) (ledger.OrderImport, error) {
	if _, err := db.Carrier(ctx, carrier); err != nil {
		return nil, err
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	imp := &OrderImport{db: db, conn: conn, carrier: carrier, now: db.now(), users: map[string]importUser{}}
	fail := func(err error) (ledger.OrderImport, error) {
		imp.Rollback()
		return nil, err
	}
	if imp.restore, err = db.dialect.BeginBulkLoad(ctx, conn); err != nil {
		return fail(fmt.Errorf("begin import: %w", err))
	}
	if imp.tx, err = conn.BeginTx(ctx, nil); err != nil {
		return fail(fmt.Errorf("begin import: %w", err))
	}
	if db.dialect.BulkCopy() {
		imp.buf = make([]trueup.Order, 0, orderCopyRows)
		for _, ddl := range []string{
			`CREATE TEMP TABLE ledger_stage (carrier_order_id TEXT, billing_cycle TEXT, kd_order_id TEXT, carrier_user_id TEXT,
				kd_user_id TEXT, sku_code TEXT, sku_price TEXT, kd_package_id TEXT, kd_active_ms BIGINT, kd_end_ms BIGINT,
				kd_order_ms BIGINT, kd_sale_total TEXT, channel TEXT) ON COMMIT DROP`,
			`CREATE TEMP TABLE ledger_users_stage (carrier_user_id TEXT, kd_user_id TEXT, status TEXT) ON COMMIT DROP`,
		} {
			if _, err := imp.tx.ExecContext(ctx, ddl); err != nil {
				return fail(fmt.Errorf("create import staging table: %w", err))
			}
		}
		return imp, nil
	}
	imp.buf = make([]trueup.Order, 0, orderInsertRows)
	imp.args = make([]any, 0, orderInsertRows*orderCols)
	if imp.upsert, err = imp.tx.PrepareContext(ctx, upsertOrdersSQL(db, orderInsertRows)); err != nil {
		return fail(fmt.Errorf("prepare order upsert: %w", err))
	}
	return imp, nil
}

// orderUpdate is the SET list of an order upsert: every column but the key.
const orderUpdate = `kd_order_id = excluded.kd_order_id, carrier_user_id = excluded.carrier_user_id, kd_user_id = excluded.kd_user_id,
	sku_code = excluded.sku_code, sku_price = excluded.sku_price, kd_package_id = excluded.kd_package_id,
	kd_active_ms = excluded.kd_active_ms, kd_end_ms = excluded.kd_end_ms, kd_order_ms = excluded.kd_order_ms,
	kd_sale_total = excluded.kd_sale_total, channel = excluded.channel, updated_at = excluded.updated_at`

// userUpdate is the SET list of a carrier user upsert: keep is true for
// the users whose orders gave no status, whose stored status stays (a new
// one is inserted active, 1).
func userUpdate(keep bool) string {
	if keep {
		return `kd_user_id = excluded.kd_user_id, updated_at = excluded.updated_at`
	}
	return `kd_user_id = excluded.kd_user_id, status = excluded.status, updated_at = excluded.updated_at`
}

func upsertOrdersSQL(db *DB, n int) string {
	var b strings.Builder
	b.Grow(600 + n*34)
	b.WriteString(`INSERT INTO orders (carrier_id, billing_cycle, carrier_order_id, kd_order_id, carrier_user_id, kd_user_id,
		sku_code, sku_price, kd_package_id, kd_active_ms, kd_end_ms, kd_order_ms, kd_sale_total, channel, updated_at) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	}
	b.WriteString(` ON CONFLICT (carrier_id, billing_cycle, carrier_order_id) DO UPDATE SET ` + orderUpdate)
	return db.q(b.String())
}

func upsertUsersSQL(db *DB, n int, keep bool) string {
	var b strings.Builder
	b.Grow(300 + n*12)
	b.WriteString(`INSERT INTO carrier_users (carrier_id, carrier_user_id, kd_user_id, status, updated_at) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?)`)
	}
	b.WriteString(` ON CONFLICT (carrier_id, carrier_user_id) DO UPDATE SET ` + userUpdate(keep))
	return db.q(b.String())
}

// Add upserts one order (by carrierOrderId and billingCycle) and its user.
// An empty UserStatus keeps the user's current status (1, active, for a new
// user). An import holds each order once: ledger.Service refuses a file
// that repeats one, and a store may refuse an import that does.
func (imp *OrderImport) Add(ctx context.Context, o trueup.Order) error {
	if imp.finalized {
		return errors.New("order import already finished")
	}
	u := imp.users[o.CarrierUserID]
	u.kdUserID = o.KdUserID
	if o.UserStatus != "" {
		u.status = o.UserStatus
	}
	imp.users[o.CarrierUserID] = u
	imp.buf = append(imp.buf, o)
	if len(imp.buf) == cap(imp.buf) {
		return imp.flush(ctx)
	}
	return nil
}

// flush writes the buffered orders.
func (imp *OrderImport) flush(ctx context.Context) error {
	if len(imp.buf) == 0 {
		return nil
	}
	if imp.db.dialect.BulkCopy() {
		rows := make([][]any, len(imp.buf))
		vals := make([]any, len(imp.buf)*13)
		for i := range imp.buf {
			o := &imp.buf[i]
			row := vals[i*13 : (i+1)*13 : (i+1)*13]
			row[0], row[1], row[2], row[3], row[4] = o.CarrierOrderID, o.BillingCycle, o.KdOrderID, o.CarrierUserID, o.KdUserID
			row[5], row[6], row[7] = o.SkuCode, o.SkuPrice.String(), o.KdPackageID
			row[8], row[9], row[10] = o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli()
			row[11], row[12] = o.KdSaleTotal.String(), o.Channel
			rows[i] = row
		}
		if _, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "ledger_stage", stageColumns, rows); err != nil {
			return fmt.Errorf("copy orders: %w", err)
		}
	} else {
		args := imp.args[:0]
		for i := range imp.buf {
			o := &imp.buf[i]
			args = append(args, imp.carrier, o.BillingCycle, o.CarrierOrderID, o.KdOrderID, o.CarrierUserID, o.KdUserID,
				o.SkuCode, o.SkuPrice.String(), o.KdPackageID, o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli(),
				o.KdSaleTotal.String(), o.Channel, imp.now)
		}
		var err error
		if len(imp.buf) == orderInsertRows {
			_, err = imp.upsert.ExecContext(ctx, args...)
		} else {
			_, err = imp.tx.ExecContext(ctx, upsertOrdersSQL(imp.db, len(imp.buf)), args...)
		}
		clear(args)
		imp.args = args[:0]
		if err != nil {
			return fmt.Errorf("upsert orders: %w", err)
		}
	}
	imp.count += int64(len(imp.buf))
	clear(imp.buf)
	imp.buf = imp.buf[:0]
	return nil
}

// stageColumns are the columns of ledger_stage in the order flush copies
// them.
var stageColumns = []string{"carrier_order_id", "billing_cycle", "kd_order_id", "carrier_user_id", "kd_user_id", "sku_code",
	"sku_price", "kd_package_id", "kd_active_ms", "kd_end_ms", "kd_order_ms", "kd_sale_total", "channel"}

// writeUsers upserts the users the import gathered: those given a status
// take it, the others keep theirs (new ones are active, 1).
func (imp *OrderImport) writeUsers(ctx context.Context) error {
	if imp.db.dialect.BulkCopy() {
		rows := make([][]any, 0, len(imp.users))
		for id, u := range imp.users {
			rows = append(rows, []any{id, u.kdUserID, u.status})
		}
		if _, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "ledger_users_stage", []string{"carrier_user_id", "kd_user_id", "status"}, rows); err != nil {
			return fmt.Errorf("copy users: %w", err)
		}
		for _, keep := range []bool{false, true} {
			cond := map[bool]string{false: `status <> ''`, true: `status = ''`}[keep]
			_, err := imp.tx.ExecContext(ctx, imp.db.q(`INSERT INTO carrier_users (carrier_id, carrier_user_id, kd_user_id, status, updated_at)
				SELECT ?, carrier_user_id, kd_user_id, CASE WHEN status = '' THEN '1' ELSE status END, ? FROM ledger_users_stage WHERE `+cond+`
				ON CONFLICT (carrier_id, carrier_user_id) DO UPDATE SET `+userUpdate(keep)), imp.carrier, imp.now)
			if err != nil {
				return fmt.Errorf("merge users: %w", err)
			}
		}
		return nil
	}
	const per = orderInsertRows
	for _, keep := range []bool{false, true} {
		stmt, err := imp.tx.PrepareContext(ctx, upsertUsersSQL(imp.db, per, keep))
		if err != nil {
			return fmt.Errorf("prepare user upsert: %w", err)
		}
		args := make([]any, 0, per*5)
		write := func() error {
			var err error
			if len(args) == per*5 {
				_, err = stmt.ExecContext(ctx, args...)
			} else {
				_, err = imp.tx.ExecContext(ctx, upsertUsersSQL(imp.db, len(args)/5, keep), args...)
			}
			args = args[:0]
			if err != nil {
				return fmt.Errorf("upsert users: %w", err)
			}
			return nil
		}
		for id, u := range imp.users {
			if (u.status == "") != keep {
				continue
			}
			status := u.status
			if keep {
				status = "1"
			}
			args = append(args, imp.carrier, id, u.kdUserID, status, imp.now)
			if len(args) == per*5 {
				if err = write(); err != nil {
					break
				}
			}
		}
		if err == nil && len(args) > 0 {
			err = write()
		}
		stmt.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Commit writes the orders still buffered, merges the staged ones, writes
// the users, brings the planner's statistics up to date and commits. It
// returns how many orders the import wrote; on any error nothing is
// stored.
func (imp *OrderImport) Commit() (int64, error) {
	if imp.finalized {
		return 0, errors.New("order import already finished")
	}
	ctx := context.Background()
	fail := func(err error) (int64, error) {
		imp.Rollback()
		return 0, err
	}
	if err := imp.flush(ctx); err != nil {
		return fail(err)
	}
	if imp.upsert != nil {
		imp.upsert.Close()
		imp.upsert = nil
	}
	if imp.db.dialect.BulkCopy() {
		_, err := imp.tx.ExecContext(ctx, imp.db.q(`INSERT INTO orders (carrier_id, billing_cycle, carrier_order_id, kd_order_id,
			carrier_user_id, kd_user_id, sku_code, sku_price, kd_package_id, kd_active_ms, kd_end_ms, kd_order_ms, kd_sale_total, channel, updated_at)
			SELECT ?, billing_cycle, carrier_order_id, kd_order_id, carrier_user_id, kd_user_id, sku_code, CAST(sku_price AS NUMERIC), kd_package_id,
			kd_active_ms, kd_end_ms, kd_order_ms, CAST(kd_sale_total AS NUMERIC), channel, ? FROM ledger_stage
			ON CONFLICT (carrier_id, billing_cycle, carrier_order_id) DO UPDATE SET `+orderUpdate), imp.carrier, imp.now)
		if err != nil {
			return fail(fmt.Errorf("merge orders: %w", err))
		}
	}
	if err := imp.writeUsers(ctx); err != nil {
		return fail(err)
	}
	if err := imp.db.dialect.Analyze(ctx, imp.tx, "orders", "carrier_users"); err != nil {
		return fail(fmt.Errorf("analyze after import: %w", err))
	}
	if err := imp.tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit import: %w", err))
	}
	imp.finish()
	return imp.count, nil
}

// Rollback discards the import. It is safe to call after Commit.
func (imp *OrderImport) Rollback() {
	if imp.finalized {
		return
	}
	if imp.upsert != nil {
		imp.upsert.Close()
	}
	if imp.tx != nil {
		imp.tx.Rollback()
	}
	imp.finish()
}

// finish gives the connection back to the pool with its usual settings.
func (imp *OrderImport) finish() {
	imp.finalized = true
	imp.buf, imp.users = nil, nil
	if imp.restore != nil {
		imp.restore()
	}
	imp.conn.Close()
}
