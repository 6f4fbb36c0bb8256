package sqlstore

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
)

// stageCols is how many values of an order a piece carries: the row
// number and the 13 fields of the file (the carrier and the time of the
// import are the same for all).
const stageCols = 14

// orderInsertRows is how many orders one multi-row upsert writes on
// engines without a bulk-copy protocol: 15 values a row, 15,000
// variables, under SQLite's 32,766.
const orderInsertRows = 1000

// orderCacheKiB is the page cache (KiB) of an import's connection on
// engines without a bulk-copy protocol (SQLite).
const orderCacheKiB = 64 << 10

// orderCopyRows is how many orders one bulk copy into the staging table
// carries on engines with a bulk-copy protocol.
const orderCopyRows = 20000

// OrderImport writes ledger orders in one transaction: either every order
// of an import is stored or none is. It implements ledger.OrderImport.
//
// Orders are written in pieces as they are added: a writer goroutine
// writes one piece while the next is filled, and memory holds those two
// pieces, never the whole file:
//
//   - where the engine has a bulk-copy protocol (Dialect.BulkCopy), the
//     orders of a billing cycle in which the carrier had no order are
//     copied straight into orders (a repeated key is refused by the
//     primary key), their keys and rows into a narrow staging table for
//     the report; the orders of the other cycles are copied into a
//     staging table with their row numbers, to be merged at the end (see
//     mergeOrders); the piece's users (one row a user: the last
//     kdUserId, the last non-empty status) go to a third one, merged at
//     Commit (see mergeUsers);
//   - elsewhere each piece is one prepared multi-row upsert into orders;
//     while the keys come in order no key can repeat, and they only go
//     to a spill file; from the first key out of order they go into a
//     temporary key table (a key already there is a repeated order,
//     noted with its row in a table of duplicates; see noteKeys); the
//     piece's users are upserted at once.
//
// Either way an order or a user that would not change is left as it is
// (a re-import of the same file rewrites no row), and the users are
// written piece after piece in file order, so the last order of a user
// gives its kdUserId and its last non-empty status wins.
type OrderImport struct {
	db      *DB
	conn    *sql.Conn
	tx      *sql.Tx
	restore func() // undoes the engine's bulk-load tuning of conn
	bulk    bool   // the engine copies (Dialect.BulkCopy)
	carrier trueup.CarrierID
	now     time.Time
	buf     []stagedOrder
	args    []any
	users   map[string]importUser // the users of the piece being written
	userIDs []string              // users' keys in first-seen order
	piece   []stagedOrder         // the piece being written
	lastRow int64
	count   int64 // written by the writer: read after drain
	pieces  int64
	checked bool // Duplicates ran on the whole import
	dups    int  // how many duplicates it found
	merged  bool // with bulk copy: the staged orders are merged
	// With bulk copy: whether the carrier had orders in the file's
	// cycles, and users, before the import.
	stored, storedUsers bool
	finalized           bool

	// Without bulk copy: the prepared statements of a full piece and of
	// a group of users (given a status: false; keeping theirs: true).
	upsert, keys *sql.Stmt
	userUpserts  map[bool]*sql.Stmt
	// With bulk copy: reused buffers of the copied values.
	vals []any
	rows [][]any
	// With bulk copy: for each billing cycle seen, whether its orders are
	// copied straight into orders (the carrier had none in it) rather
	// than staged; direct and staged count the orders each way, and
	// refused notes that a direct copy met a key already there.
	// Without bulk copy: whether a key came out of order, the last key
	// (while none has), and the spill file of the keys so far (noteKeys).
	unsorted          bool
	lastKeyed         bool
	lastCycle, lastID string
	spill             *os.File
	spillW            *bufio.Writer
	spillNamed        bool // the spill file still has its name

	cycleDirect      map[string]bool
	nDirect, nStaged int64
	refused          bool
	keyVals          []any
	keyRows          [][]any

	// The writer: pieces go to it on work, empty buffers come back on
	// spare, stopped closes when it ends; werr is its first error.
	work    chan piece
	spare   chan []stagedOrder
	stopped chan struct{}
	mu      sync.Mutex
	werr    error
}

// stagedOrder is an order and the row of the file it was read from.
type stagedOrder struct {
	row int64
	o   trueup.Order
}

// importUser is a carrier user as a piece of an import leaves it.
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
	imp := &OrderImport{db: db, conn: conn, carrier: carrier, now: db.now(), bulk: db.dialect.BulkCopy(), users: map[string]importUser{}}
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
	if imp.bulk {
		imp.buf = make([]stagedOrder, 0, orderCopyRows)
		for _, ddl := range []string{
			`CREATE TEMP TABLE ledger_stage (row_no BIGINT, carrier_order_id TEXT, billing_cycle TEXT, kd_order_id TEXT, carrier_user_id TEXT,
				kd_user_id TEXT, sku_code TEXT, sku_price TEXT, kd_package_id TEXT, kd_active_ms BIGINT, kd_end_ms BIGINT,
				kd_order_ms BIGINT, kd_sale_total TEXT, channel TEXT) ON COMMIT DROP`,
			`CREATE TEMP TABLE ledger_users_stage (piece BIGINT, carrier_user_id TEXT, kd_user_id TEXT, status TEXT) ON COMMIT DROP`,
			`CREATE TEMP TABLE ledger_keys_stage (row_no BIGINT, billing_cycle TEXT, carrier_order_id TEXT) ON COMMIT DROP`,
			// The GROUP BYs over the staging tables hash in memory.
			`SET LOCAL work_mem = '64MB'`,
		} {
			if _, err := imp.tx.ExecContext(ctx, ddl); err != nil {
				return fail(fmt.Errorf("create import staging table: %w", err))
			}
		}
		// orders and carrier_users have no foreign key to carriers here
		// (checked row by row, it cost more than half of a first load):
		// the import holds the carrier instead, as each row's check did.
		var one int
		if err := imp.tx.QueryRowContext(ctx, `SELECT 1 FROM carriers WHERE id = $1 FOR KEY SHARE`, carrier).Scan(&one); err != nil {
			return fail(fmt.Errorf("hold carrier: %w", err))
		}
		imp.cycleDirect = map[string]bool{}
		imp.startWriter()
		return imp, nil
	}
	imp.buf = make([]stagedOrder, 0, orderInsertRows)
	imp.args = make([]any, 0, orderInsertRows*15+5*userUpsertRows)
	imp.userUpserts = map[bool]*sql.Stmt{}
	for _, ddl := range []string{
		// Less page cache than the bulk load's: the orders of a ledger file
		// come mostly in key order, so a piece touches the right edge of
		// each B-tree, and the server stays within its memory bound.
		fmt.Sprintf(`PRAGMA main.cache_size = -%d`, orderCacheKiB),
		`CREATE TEMP TABLE ledger_keys (billing_cycle TEXT, carrier_order_id TEXT, row_no INTEGER,
			PRIMARY KEY (billing_cycle, carrier_order_id)) WITHOUT ROWID`,
		`CREATE TEMP TABLE ledger_dups (row_no INTEGER PRIMARY KEY, first_row INTEGER, billing_cycle TEXT, carrier_order_id TEXT)`,
	} {
		if _, err := imp.tx.ExecContext(ctx, ddl); err != nil {
			return fail(fmt.Errorf("create import key table: %w", err))
		}
	}
	if imp.upsert, err = imp.tx.PrepareContext(ctx, upsertOrdersSQL(orderInsertRows)); err != nil {
		return fail(fmt.Errorf("prepare order upsert: %w", err))
	}
	if imp.keys, err = imp.tx.PrepareContext(ctx, insertKeysSQL(orderInsertRows)); err != nil {
		return fail(fmt.Errorf("prepare key insert: %w", err))
	}
	imp.startWriter()
	return imp, nil
}

// orderUpdate is the SET list of an order upsert, every column but the
// key, and the condition that skips an upsert that would change nothing.
const orderUpdate = `kd_order_id = excluded.kd_order_id, carrier_user_id = excluded.carrier_user_id, kd_user_id = excluded.kd_user_id,
	sku_code = excluded.sku_code, sku_price = excluded.sku_price, kd_package_id = excluded.kd_package_id,
	kd_active_ms = excluded.kd_active_ms, kd_end_ms = excluded.kd_end_ms, kd_order_ms = excluded.kd_order_ms,
	kd_sale_total = excluded.kd_sale_total, channel = excluded.channel, updated_at = excluded.updated_at
	WHERE orders.kd_order_id <> excluded.kd_order_id OR orders.carrier_user_id <> excluded.carrier_user_id
	OR orders.kd_user_id <> excluded.kd_user_id OR orders.sku_code <> excluded.sku_code OR orders.sku_price <> excluded.sku_price
	OR orders.kd_package_id <> excluded.kd_package_id OR orders.kd_active_ms <> excluded.kd_active_ms
	OR orders.kd_end_ms <> excluded.kd_end_ms OR orders.kd_order_ms <> excluded.kd_order_ms
	OR orders.kd_sale_total <> excluded.kd_sale_total OR orders.channel <> excluded.channel`

// userUpdate is the SET list of a carrier user upsert and the condition
// that skips an upsert that would change nothing: keep is true for the
// users whose orders gave no status, whose stored status stays (a new one
// is inserted active, 1).
func userUpdate(keep bool) string {
	if keep {
		return `kd_user_id = excluded.kd_user_id, updated_at = excluded.updated_at
			WHERE carrier_users.kd_user_id <> excluded.kd_user_id`
	}
	return `kd_user_id = excluded.kd_user_id, status = excluded.status, updated_at = excluded.updated_at
		WHERE carrier_users.kd_user_id <> excluded.kd_user_id OR carrier_users.status <> excluded.status`
}

// upsertOrdersSQL returns the upsert of n orders, 15 values each. (Each
// order repeats the carrier and the time: SQLite's driver looks numbered
// parameters up by a linear scan, too slow to share them.)
func upsertOrdersSQL(n int) string {
	return `INSERT INTO orders (carrier_id, billing_cycle, carrier_order_id, kd_order_id, carrier_user_id, kd_user_id,
		sku_code, sku_price, kd_package_id, kd_active_ms, kd_end_ms, kd_order_ms, kd_sale_total, channel, updated_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", n), ",") +
		` ON CONFLICT (carrier_id, billing_cycle, carrier_order_id) DO UPDATE SET ` + orderUpdate
}

// insertKeysSQL returns the insert of n keys into ledger_keys, a key
// already there left as it is.
func insertKeysSQL(n int) string {
	return `INSERT INTO ledger_keys (billing_cycle, carrier_order_id, row_no) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?),", n), ",") + ` ON CONFLICT DO NOTHING`
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

// Add upserts one order (by carrierOrderId and billingCycle) and its user,
// numbered as the row after the last one added. An empty UserStatus keeps
// the user's current status (1, active, for a new user).
func (imp *OrderImport) Add(ctx context.Context, o trueup.Order) error {
	return imp.AddRow(ctx, imp.lastRow+1, o)
}

// AddRow upserts the order of row n and its user. Rows must increase.
func (imp *OrderImport) AddRow(ctx context.Context, n int64, o trueup.Order) error {
	if imp.finalized {
		return errors.New("order import already finished")
	}
	if n <= imp.lastRow {
		return fmt.Errorf("order import: row %d added after row %d", n, imp.lastRow)
	}
	if imp.merged {
		return errors.New("order import: order added after Duplicates")
	}
	imp.lastRow = n
	imp.buf = append(imp.buf, stagedOrder{row: n, o: o})
	imp.checked = false
	if len(imp.buf) == cap(imp.buf) {
		return imp.flush(ctx)
	}
	return nil
}

// flush hands the buffered orders to the writer, which writes them while
// the next piece is read, and takes an empty buffer back; with no writer
// running (after drain) it writes them itself. It returns the writer's
// first error.
func (imp *OrderImport) flush(ctx context.Context) error {
	if len(imp.buf) == 0 {
		return imp.writerErr()
	}
	if imp.work == nil {
		if err := imp.writePiece(ctx, imp.buf); err != nil {
			return err
		}
		clear(imp.buf)
		imp.buf = imp.buf[:0]
		return nil
	}
	if err := imp.writerErr(); err != nil {
		return err
	}
	imp.work <- piece{ctx: ctx, orders: imp.buf}
	imp.buf = <-imp.spare
	return nil
}

// piece is a piece of orders handed to the writer.
type piece struct {
	ctx    context.Context
	orders []stagedOrder
}

// startWriter starts the goroutine that writes the pieces handed to it,
// with a second buffer for the reader to fill meanwhile.
func (imp *OrderImport) startWriter() {
	imp.work, imp.spare, imp.stopped = make(chan piece), make(chan []stagedOrder, 1), make(chan struct{})
	imp.spare <- make([]stagedOrder, 0, cap(imp.buf))
	go func() {
		defer close(imp.stopped)
		for p := range imp.work {
			if imp.writerErr() == nil {
				if err := imp.writePiece(p.ctx, p.orders); err != nil {
					imp.mu.Lock()
					imp.werr = err
					imp.mu.Unlock()
				}
			}
			clear(p.orders)
			imp.spare <- p.orders[:0]
		}
	}()
}

// drain waits until the writer has written every piece handed to it and
// stops it; later pieces are written by flush itself. It returns the
// writer's first error.
func (imp *OrderImport) drain() error {
	if imp.work != nil {
		close(imp.work)
		<-imp.stopped
		imp.work = nil
	}
	return imp.writerErr()
}

// writerErr returns the first error of the writer.
func (imp *OrderImport) writerErr() error {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	return imp.werr
}

// writePiece writes a piece of orders and their users.
func (imp *OrderImport) writePiece(ctx context.Context, orders []stagedOrder) error {
	imp.piece = orders
	defer func() {
		imp.piece = nil
		clear(imp.users)
		clear(imp.userIDs)
		imp.userIDs = imp.userIDs[:0]
	}()
	for i := range orders {
		o := &orders[i].o
		u, seen := imp.users[o.CarrierUserID]
		if !seen {
			imp.userIDs = append(imp.userIDs, o.CarrierUserID)
		}
		u.kdUserID = o.KdUserID
		if o.UserStatus != "" {
			u.status = o.UserStatus
		}
		imp.users[o.CarrierUserID] = u
	}
	var err error
	if imp.bulk {
		err = imp.copyPiece(ctx)
	} else {
		err = imp.upsertPiece(ctx)
	}
	if err != nil {
		return err
	}
	imp.count += int64(len(orders))
	imp.pieces++
	return nil
}

// stageColumns are the columns of ledger_stage in the order copyPiece
// copies them.
var stageColumns = []string{"row_no", "carrier_order_id", "billing_cycle", "kd_order_id", "carrier_user_id", "kd_user_id", "sku_code",
	"sku_price", "kd_package_id", "kd_active_ms", "kd_end_ms", "kd_order_ms", "kd_sale_total", "channel"}

// orderColumns are the columns of orders in the order copyPiece copies
// them straight into it.
var orderColumns = []string{"carrier_id", "billing_cycle", "carrier_order_id", "kd_order_id", "carrier_user_id", "kd_user_id", "sku_code",
	"sku_price", "kd_package_id", "kd_active_ms", "kd_end_ms", "kd_order_ms", "kd_sale_total", "channel", "updated_at"}

// copyPiece copies the buffered orders and their users. The orders of a
// billing cycle in which the carrier had no order when the import first
// met it go straight into orders, and their keys with their rows into
// ledger_keys_stage (for the report of repeated rows); the others go to
// ledger_stage, to be merged at the end. A straight copy runs in a
// savepoint: when the primary key refuses a key (the file repeats an
// order, or another import wrote it meanwhile) it is undone, and the
// orders of later pieces are no longer copied into orders, as the import
// will be refused.
func (imp *OrderImport) copyPiece(ctx context.Context) error {
	n := len(imp.piece)
	if cap(imp.vals) < n*15 {
		imp.vals = make([]any, orderCopyRows*15)
		imp.rows = make([][]any, orderCopyRows)
		imp.keyVals = make([]any, orderCopyRows*3)
		imp.keyRows = make([][]any, orderCopyRows)
	}
	staged, direct := 0, 0
	for i := range imp.piece {
		s := &imp.piece[i]
		o := &s.o
		straight, seen := imp.cycleDirect[o.BillingCycle]
		if !seen {
			var stored bool
			err := imp.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE carrier_id = $1 AND billing_cycle = $2)`,
				imp.carrier, o.BillingCycle).Scan(&stored)
			if err != nil {
				return fmt.Errorf("look for stored orders: %w", err)
			}
			straight = !stored
			imp.cycleDirect[o.BillingCycle] = straight
		}
		// Straight orders fill vals from the front, staged ones from the
		// back: rows holds the former at [0, direct), the latter at
		// [n-staged, n).
		if straight {
			row := imp.vals[direct*15 : (direct+1)*15 : (direct+1)*15]
			row[0], row[1], row[2], row[3], row[4], row[5] = imp.carrier, o.BillingCycle, o.CarrierOrderID, o.KdOrderID, o.CarrierUserID, o.KdUserID
			row[6], row[7], row[8] = o.SkuCode, o.SkuPrice.String(), o.KdPackageID
			row[9], row[10], row[11] = o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli()
			row[12], row[13], row[14] = o.KdSaleTotal.String(), o.Channel, imp.now
			imp.rows[direct] = row
			key := imp.keyVals[direct*3 : (direct+1)*3 : (direct+1)*3]
			key[0], key[1], key[2] = s.row, o.BillingCycle, o.CarrierOrderID
			imp.keyRows[direct] = key
			direct++
			continue
		}
		staged++
		j := n - staged
		row := imp.vals[j*15 : j*15+stageCols : j*15+stageCols]
		row[0], row[1], row[2], row[3], row[4], row[5] = s.row, o.CarrierOrderID, o.BillingCycle, o.KdOrderID, o.CarrierUserID, o.KdUserID
		row[6], row[7], row[8] = o.SkuCode, o.SkuPrice.String(), o.KdPackageID
		row[9], row[10], row[11] = o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli()
		row[12], row[13] = o.KdSaleTotal.String(), o.Channel
		imp.rows[j] = row
	}
	defer func() {
		clear(imp.vals[:n*15])
		clear(imp.keyVals[:direct*3])
	}()
	if staged > 0 {
		if _, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "ledger_stage", stageColumns, imp.rows[n-staged:n]); err != nil {
			return fmt.Errorf("copy orders: %w", err)
		}
		imp.nStaged += int64(staged)
	}
	if direct > 0 {
		if _, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "ledger_keys_stage", []string{"row_no", "billing_cycle", "carrier_order_id"}, imp.keyRows[:direct]); err != nil {
			return fmt.Errorf("copy order keys: %w", err)
		}
		imp.nDirect += int64(direct)
		if !imp.refused {
			if err := imp.copyOrders(ctx, imp.rows[:direct]); err != nil {
				return err
			}
		}
	}
	users := make([][]any, 0, len(imp.userIDs))
	for _, id := range imp.userIDs {
		u := imp.users[id]
		users = append(users, []any{imp.pieces, id, u.kdUserID, u.status})
	}
	if _, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "ledger_users_stage", []string{"piece", "carrier_user_id", "kd_user_id", "status"}, users); err != nil {
		return fmt.Errorf("copy users: %w", err)
	}
	return nil
}

// copyOrders copies rows straight into orders in a savepoint; a key the
// primary key refuses undoes the copy and sets refused.
func (imp *OrderImport) copyOrders(ctx context.Context, rows [][]any) error {
	if _, err := imp.tx.ExecContext(ctx, `SAVEPOINT ledger_piece`); err != nil {
		return fmt.Errorf("copy orders: %w", err)
	}
	_, err := imp.db.dialect.CopyFrom(ctx, imp.conn, "orders", orderColumns, rows)
	if imp.db.dialect.IsUniqueViolation(err) {
		if _, err := imp.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT ledger_piece`); err != nil {
			return fmt.Errorf("copy orders: %w", err)
		}
		imp.refused = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("copy orders: %w", err)
	}
	if _, err := imp.tx.ExecContext(ctx, `RELEASE SAVEPOINT ledger_piece`); err != nil {
		return fmt.Errorf("copy orders: %w", err)
	}
	return nil
}

// upsertPiece upserts the buffered orders, notes their keys (and the
// repeated ones) and upserts their users.
func (imp *OrderImport) upsertPiece(ctx context.Context) error {
	n := len(imp.piece)
	args := imp.args[:0]
	for i := range imp.piece {
		o := &imp.piece[i].o
		args = append(args, imp.carrier, o.BillingCycle, o.CarrierOrderID, o.KdOrderID, o.CarrierUserID, o.KdUserID,
			o.SkuCode, o.SkuPrice.String(), o.KdPackageID, o.KdActiveTime.UnixMilli(), o.KdEndTime.UnixMilli(), o.KdOrderTime.UnixMilli(),
			o.KdSaleTotal.String(), o.Channel, imp.now)
	}
	var err error
	if n == orderInsertRows {
		_, err = imp.upsert.ExecContext(ctx, args...)
	} else {
		_, err = imp.tx.ExecContext(ctx, upsertOrdersSQL(n), args...)
	}
	if err != nil {
		return fmt.Errorf("upsert orders: %w", err)
	}
	clear(args)
	imp.args = args[:0]
	if err := imp.noteKeys(ctx); err != nil {
		return err
	}
	return imp.upsertUsers(ctx)
}

// noteKeys notes the keys of the buffered orders, and the rows that
// repeat one. While every key of the import comes after the one before
// (in billing cycle and carrierOrderId order, as ledger exports mostly
// come) no key can repeat: the keys go to a spill file, a fraction of the
// cost of a table. At the first key out of order the spill file is loaded
// into ledger_keys, and from then on each piece's keys go there.
func (imp *OrderImport) noteKeys(ctx context.Context) error {
	if !imp.unsorted {
		ascending := true
		for i := range imp.piece {
			o := &imp.piece[i].o
			if imp.lastKeyed && (o.BillingCycle < imp.lastCycle || o.BillingCycle == imp.lastCycle && o.CarrierOrderID <= imp.lastID) {
				ascending = false
				break
			}
			imp.lastCycle, imp.lastID, imp.lastKeyed = o.BillingCycle, o.CarrierOrderID, true
		}
		if ascending {
			return imp.spillKeys()
		}
		imp.unsorted = true
		if err := imp.loadSpill(ctx); err != nil {
			return err
		}
	}
	return imp.insertKeys(ctx, imp.piece, true)
}

// spillKeys appends the buffered orders' keys and rows to the spill
// file, creating it on first use.
func (imp *OrderImport) spillKeys() error {
	if imp.spill == nil {
		f, err := os.CreateTemp("", "trueup-ledger-keys-*")
		if err != nil {
			return fmt.Errorf("spill order keys: %w", err)
		}
		// Unlinked at once where the system allows it, so that a process
		// killed mid-import leaves no file behind.
		imp.spillNamed = os.Remove(f.Name()) != nil
		imp.spill, imp.spillW = f, bufio.NewWriterSize(f, 1<<16)
	}
	var b [3 * binary.MaxVarintLen64]byte
	for i := range imp.piece {
		s := &imp.piece[i]
		r := binary.AppendUvarint(b[:0], uint64(s.row))
		r = binary.AppendUvarint(r, uint64(len(s.o.BillingCycle)))
		r = binary.AppendUvarint(r, uint64(len(s.o.CarrierOrderID)))
		imp.spillW.Write(r)
		imp.spillW.WriteString(s.o.BillingCycle)
		if _, err := imp.spillW.WriteString(s.o.CarrierOrderID); err != nil {
			return fmt.Errorf("spill order keys: %w", err)
		}
	}
	return nil
}

// loadSpill inserts the keys of the spill file into ledger_keys, a full
// piece at a time, and removes the file.
func (imp *OrderImport) loadSpill(ctx context.Context) error {
	if imp.spill == nil {
		return nil
	}
	defer imp.removeSpill()
	if err := imp.spillW.Flush(); err != nil {
		return fmt.Errorf("spill order keys: %w", err)
	}
	if _, err := imp.spill.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read spilled order keys: %w", err)
	}
	r := bufio.NewReaderSize(imp.spill, 1<<16)
	keys := make([]stagedOrder, 0, orderInsertRows)
	var text []byte
	for {
		row, err := binary.ReadUvarint(r)
		if errors.Is(err, io.EOF) {
			break
		}
		var nc, ni uint64
		if err == nil {
			nc, err = binary.ReadUvarint(r)
		}
		if err == nil {
			ni, err = binary.ReadUvarint(r)
		}
		if err == nil {
			text = slices.Grow(text[:0], int(nc+ni))[:nc+ni]
			_, err = io.ReadFull(r, text)
		}
		if err != nil {
			return fmt.Errorf("read spilled order keys: %w", err)
		}
		keys = append(keys, stagedOrder{row: int64(row), o: trueup.Order{BillingCycle: string(text[:nc]), CarrierOrderID: string(text[nc:])}})
		if len(keys) == cap(keys) {
			if err := imp.insertKeys(ctx, keys, false); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
	return imp.insertKeys(ctx, keys, false)
}

// removeSpill closes and removes the spill file, if any.
func (imp *OrderImport) removeSpill() {
	if imp.spill != nil {
		imp.spill.Close()
		if imp.spillNamed {
			os.Remove(imp.spill.Name())
		}
		imp.spill, imp.spillW = nil, nil
	}
}

// insertKeys inserts the keys of orders into ledger_keys; with repeats,
// a key already there is noted in ledger_dups with the row of orders
// that repeats it (orders is then the piece being written).
func (imp *OrderImport) insertKeys(ctx context.Context, orders []stagedOrder, repeats bool) error {
	n := len(orders)
	if n == 0 {
		return nil
	}
	args := imp.args[:0]
	for i := range orders {
		s := &orders[i]
		args = append(args, s.o.BillingCycle, s.o.CarrierOrderID, s.row)
	}
	var res sql.Result
	var err error
	if n == orderInsertRows {
		res, err = imp.keys.ExecContext(ctx, args...)
	} else {
		res, err = imp.tx.ExecContext(ctx, insertKeysSQL(n), args...)
	}
	clear(args)
	imp.args = args[:0]
	if err != nil {
		return fmt.Errorf("note order keys: %w", err)
	}
	if !repeats {
		return nil
	}
	if added, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("note order keys: %w", err)
	} else if added < int64(n) {
		if err := imp.noteDuplicates(ctx); err != nil {
			return err
		}
	}
	return nil
}

// noteDuplicates records in ledger_dups the buffered orders whose key an
// earlier row holds: a piece with fewer new keys than orders.
func (imp *OrderImport) noteDuplicates(ctx context.Context) error {
	for i := range imp.piece {
		s := &imp.piece[i]
		var first int64
		err := imp.tx.QueryRowContext(ctx, `SELECT row_no FROM ledger_keys WHERE billing_cycle = ? AND carrier_order_id = ?`,
			s.o.BillingCycle, s.o.CarrierOrderID).Scan(&first)
		if err != nil {
			return fmt.Errorf("find repeated order: %w", err)
		}
		if first == s.row {
			continue
		}
		if _, err := imp.tx.ExecContext(ctx, `INSERT INTO ledger_dups (row_no, first_row, billing_cycle, carrier_order_id) VALUES (?, ?, ?, ?)`,
			s.row, first, s.o.BillingCycle, s.o.CarrierOrderID); err != nil {
			return fmt.Errorf("note repeated order: %w", err)
		}
	}
	return nil
}

// userUpsertRows is how many users one prepared user upsert writes. A
// piece's last group is filled up by repeating its last user: upserting
// a user twice in one statement writes it once (the second finds nothing
// to change).
const userUpsertRows = 64

// upsertUsers upserts the users of the buffered orders: those given a
// status take it, the others keep theirs (new ones are active, 1).
func (imp *OrderImport) upsertUsers(ctx context.Context) error {
	args := imp.args[:0]
	defer func() { clear(args); imp.args = args[:0] }()
	for _, keep := range []bool{false, true} {
		args = args[:0]
		for _, id := range imp.userIDs {
			u := imp.users[id]
			if (u.status == "") != keep {
				continue
			}
			status := u.status
			if keep {
				status = "1"
			}
			args = append(args, imp.carrier, id, u.kdUserID, status, imp.now)
		}
		if len(args) == 0 {
			continue
		}
		for len(args)%(5*userUpsertRows) != 0 {
			args = append(args, args[len(args)-5:]...)
		}
		stmt := imp.userUpserts[keep]
		if stmt == nil {
			var err error
			if stmt, err = imp.tx.PrepareContext(ctx, upsertUsersSQL(imp.db, userUpsertRows, keep)); err != nil {
				return fmt.Errorf("prepare user upsert: %w", err)
			}
			imp.userUpserts[keep] = stmt
		}
		for i := 0; i < len(args); i += 5 * userUpsertRows {
			if _, err := stmt.ExecContext(ctx, args[i:i+5*userUpsertRows]...); err != nil {
				return fmt.Errorf("upsert users: %w", err)
			}
		}
	}
	return nil
}

// Duplicates writes the orders still buffered and returns the rows whose
// order an earlier row holds, ordered by row, at most limit, and how many
// there are.
//
// With bulk copy it also merges the staged orders into orders (see
// mergeOrders), since that is where a first load finds repeated keys for
// free: its plain INSERT fails on the primary key, inside a savepoint,
// and only then is the staging table searched. Orders cannot be added
// after that.
func (imp *OrderImport) Duplicates(ctx context.Context, limit int) ([]ledger.Duplicate, int, error) {
	if imp.finalized {
		return nil, 0, errors.New("order import already finished")
	}
	if imp.checked {
		return imp.repeats(ctx, limit)
	}
	if err := imp.flush(ctx); err != nil {
		return nil, 0, err
	}
	if err := imp.drain(); err != nil {
		return nil, 0, err
	}
	if !imp.bulk {
		return imp.repeats(ctx, limit)
	}
	repeated, err := imp.mergeOrders(ctx)
	if err != nil {
		return nil, 0, err
	}
	imp.merged = true
	if !repeated {
		imp.checked, imp.dups = true, 0
		return nil, 0, nil
	}
	dups, total, err := imp.repeats(ctx, limit)
	if err == nil && total == 0 {
		// The primary key refused a key no row repeats: another import
		// wrote it meanwhile. This import can only be rolled back.
		imp.Rollback()
		err = trueup.Errorf(trueup.ECONFLICT, "another import wrote orders of the same carrier meanwhile; nothing was imported: import the file again")
	}
	return dups, total, err
}

// repeats returns the repeated rows noted (SQLite) or found in the
// staging table, at most limit, and how many there are.
func (imp *OrderImport) repeats(ctx context.Context, limit int) ([]ledger.Duplicate, int, error) {
	if imp.checked && imp.dups == 0 {
		return nil, 0, nil
	}
	query := `SELECT row_no, first_row, billing_cycle, carrier_order_id, (SELECT COUNT(*) FROM ledger_dups) FROM ledger_dups ORDER BY row_no LIMIT ?`
	if imp.bulk {
		query = `SELECT row_no, first_row, billing_cycle, carrier_order_id, COUNT(*) OVER () FROM (
			SELECT row_no, MIN(row_no) OVER (PARTITION BY billing_cycle, carrier_order_id) AS first_row, billing_cycle, carrier_order_id
			FROM (SELECT row_no, billing_cycle, carrier_order_id FROM ledger_stage
				UNION ALL SELECT row_no, billing_cycle, carrier_order_id FROM ledger_keys_stage) k) s
			WHERE row_no <> first_row ORDER BY row_no LIMIT $1`
	}
	rows, err := imp.tx.QueryContext(ctx, query, max(limit, 1))
	if err != nil {
		return nil, 0, fmt.Errorf("find repeated orders: %w", err)
	}
	defer rows.Close()
	var dups []ledger.Duplicate
	total := 0
	for rows.Next() {
		var d ledger.Duplicate
		if err := rows.Scan(&d.Row, &d.FirstRow, &d.BillingCycle, &d.CarrierOrderID, &total); err != nil {
			return nil, 0, fmt.Errorf("scan repeated order: %w", err)
		}
		if len(dups) < limit {
			dups = append(dups, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("find repeated orders: %w", err)
	}
	imp.checked, imp.dups = true, total
	return dups, total, nil
}

// Commit writes the orders still buffered, merges the staged ones and
// their users, brings the planner's statistics up to date and commits. It
// returns how many orders the import wrote; on any error nothing is
// stored. An import whose orders repeat a key is refused (an EINVALID
// error): Duplicates lists them.
func (imp *OrderImport) Commit() (int64, error) {
	if imp.finalized {
		return 0, errors.New("order import already finished")
	}
	ctx := context.Background()
	fail := func(err error) (int64, error) {
		imp.Rollback()
		return 0, err
	}
	if !imp.checked {
		if _, _, err := imp.Duplicates(ctx, 0); err != nil {
			return fail(err)
		}
	}
	if err := imp.drain(); err != nil {
		return fail(err)
	}
	if imp.dups > 0 {
		return fail(trueup.Errorf(trueup.EINVALID, "%d order(s) appear more than once in the import; each order (carrierOrderId and billingCycle) must appear once", imp.dups))
	}
	if imp.bulk {
		if err := imp.mergeUsers(ctx); err != nil {
			return fail(err)
		}
	} else {
		imp.closeStatements()
		for _, t := range []string{"ledger_keys", "ledger_dups"} {
			if _, err := imp.tx.ExecContext(ctx, `DROP TABLE temp.`+t); err != nil {
				return fail(fmt.Errorf("drop import key table: %w", err))
			}
		}
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

// mergeOrders merges the staged orders into orders and reports whether
// a key repeats, in which case it writes nothing: either a straight copy
// was refused (copyPiece) or a key repeats in the staging table (one
// hashed GROUP BY). The staged orders are of cycles in which the carrier
// had orders: one UPDATE rewrites the stored orders that the import
// changes (an unchanged one is not touched, not even locked, as an ON
// CONFLICT upsert would) and one INSERT adds the others. A key another
// import wrote meanwhile is an ECONFLICT error.
func (imp *OrderImport) mergeOrders(ctx context.Context) (bool, error) {
	err := imp.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM carrier_users WHERE carrier_id = $1)`, imp.carrier).Scan(&imp.storedUsers)
	if err != nil {
		return false, fmt.Errorf("merge orders: %w", err)
	}
	imp.stored = imp.nStaged > 0
	if imp.stored || imp.storedUsers {
		// The joins with the stored rows need the staged rows' numbers;
		// the straight copies and a first load of users do not.
		if _, err := imp.tx.ExecContext(ctx, `ANALYZE ledger_stage, ledger_users_stage`); err != nil {
			return false, fmt.Errorf("analyze staged orders: %w", err)
		}
	}
	if imp.refused {
		return true, nil
	}
	if !imp.stored {
		return false, nil
	}
	var repeated bool
	if err := imp.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ledger_stage GROUP BY billing_cycle, carrier_order_id HAVING COUNT(*) > 1)`).Scan(&repeated); err != nil {
		return false, fmt.Errorf("find repeated orders: %w", err)
	}
	if repeated {
		return true, nil
	}
	conflict := func(err error) error {
		if imp.db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "another import wrote orders of the same carrier meanwhile; nothing was imported: import the file again")
		}
		return fmt.Errorf("merge orders: %w", err)
	}
	_, err = imp.tx.ExecContext(ctx, `UPDATE orders o SET kd_order_id = s.kd_order_id, carrier_user_id = s.carrier_user_id,
		kd_user_id = s.kd_user_id, sku_code = s.sku_code, sku_price = CAST(s.sku_price AS NUMERIC), kd_package_id = s.kd_package_id,
		kd_active_ms = s.kd_active_ms, kd_end_ms = s.kd_end_ms, kd_order_ms = s.kd_order_ms,
		kd_sale_total = CAST(s.kd_sale_total AS NUMERIC), channel = s.channel, updated_at = $2
		FROM ledger_stage s WHERE o.carrier_id = $1 AND o.billing_cycle = s.billing_cycle AND o.carrier_order_id = s.carrier_order_id
		AND (o.kd_order_id <> s.kd_order_id OR o.carrier_user_id <> s.carrier_user_id OR o.kd_user_id <> s.kd_user_id
		OR o.sku_code <> s.sku_code OR o.sku_price <> CAST(s.sku_price AS NUMERIC) OR o.kd_package_id <> s.kd_package_id
		OR o.kd_active_ms <> s.kd_active_ms OR o.kd_end_ms <> s.kd_end_ms OR o.kd_order_ms <> s.kd_order_ms
		OR o.kd_sale_total <> CAST(s.kd_sale_total AS NUMERIC) OR o.channel <> s.channel)`, imp.carrier, imp.now)
	if err != nil {
		return false, conflict(err)
	}
	_, err = imp.tx.ExecContext(ctx, `INSERT INTO orders (carrier_id, billing_cycle, carrier_order_id, kd_order_id,
		carrier_user_id, kd_user_id, sku_code, sku_price, kd_package_id, kd_active_ms, kd_end_ms, kd_order_ms, kd_sale_total, channel, updated_at)
		SELECT $1, billing_cycle, carrier_order_id, kd_order_id, carrier_user_id, kd_user_id, sku_code, CAST(sku_price AS NUMERIC), kd_package_id,
		kd_active_ms, kd_end_ms, kd_order_ms, CAST(kd_sale_total AS NUMERIC), channel, $2 FROM ledger_stage s
		WHERE NOT EXISTS (SELECT 1 FROM orders o
		WHERE o.carrier_id = $1 AND o.billing_cycle = s.billing_cycle AND o.carrier_order_id = s.carrier_order_id)`, imp.carrier, imp.now)
	if err != nil {
		return false, conflict(err)
	}
	return false, nil
}

// mergeUsers writes the staged users into carrier_users: the users of
// each piece carry their last kdUserId and their last non-empty status,
// and the last piece wins. Where the carrier has users, one UPDATE
// rewrites those that change and one INSERT adds the new ones.
func (imp *OrderImport) mergeUsers(ctx context.Context) error {
	conflict := func(err error) error {
		if imp.db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "another import wrote users of the same carrier meanwhile; nothing was imported: import the file again")
		}
		return fmt.Errorf("merge users: %w", err)
	}
	const last = `SELECT carrier_user_id, (array_agg(kd_user_id ORDER BY piece DESC))[1] AS kd_user_id,
		COALESCE((array_agg(status ORDER BY piece DESC) FILTER (WHERE status <> ''))[1], '') AS status
		FROM ledger_users_stage GROUP BY carrier_user_id`
	newOnly := ``
	if imp.storedUsers {
		// One user is one row of l: an empty status keeps the stored one.
		_, err := imp.tx.ExecContext(ctx, `UPDATE carrier_users u SET kd_user_id = l.kd_user_id,
			status = CASE WHEN l.status = '' THEN u.status ELSE l.status END, updated_at = $2
			FROM (`+last+`) l WHERE u.carrier_id = $1 AND u.carrier_user_id = l.carrier_user_id
			AND (u.kd_user_id <> l.kd_user_id OR (l.status <> '' AND u.status <> l.status))`, imp.carrier, imp.now)
		if err != nil {
			return conflict(err)
		}
		newOnly = ` WHERE NOT EXISTS (SELECT 1 FROM carrier_users u WHERE u.carrier_id = $1 AND u.carrier_user_id = l.carrier_user_id)`
	}
	_, err := imp.tx.ExecContext(ctx, `INSERT INTO carrier_users (carrier_id, carrier_user_id, kd_user_id, status, updated_at)
		SELECT $1, carrier_user_id, kd_user_id, CASE WHEN status = '' THEN '1' ELSE status END, $2 FROM (`+last+`) l`+newOnly, imp.carrier, imp.now)
	if err != nil {
		return conflict(err)
	}
	return nil
}

// Rollback discards the import. It is safe to call after Commit.
func (imp *OrderImport) Rollback() {
	if imp.finalized {
		return
	}
	imp.drain()
	imp.closeStatements()
	if imp.tx != nil {
		imp.tx.Rollback()
	}
	imp.finish()
}

// closeStatements closes the prepared statements of the import.
func (imp *OrderImport) closeStatements() {
	for _, s := range []*sql.Stmt{imp.upsert, imp.keys, imp.userUpserts[false], imp.userUpserts[true]} {
		if s != nil {
			s.Close()
		}
	}
	imp.upsert, imp.keys, imp.userUpserts = nil, nil, nil
}

// finish gives the connection back to the pool with its usual settings.
func (imp *OrderImport) finish() {
	imp.finalized = true
	imp.removeSpill()
	imp.buf, imp.users, imp.userIDs, imp.vals, imp.rows, imp.keyVals, imp.keyRows = nil, nil, nil, nil, nil, nil, nil
	if imp.restore != nil {
		imp.restore()
	}
	imp.conn.Close()
}
