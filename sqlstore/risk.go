package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
)

// RiskStore is the storage of the multiple-order check: the risk list and
// its API clients. It implements risk.Store and keeps the look-up statement
// prepared. Its methods are safe for concurrent use.
type RiskStore struct {
	db *DB

	mu          sync.Mutex
	ready       atomic.Bool // the statements are prepared
	byDay       *sql.Stmt   // records of a number in a day range
	byDaySource *sql.Stmt   // the same, of one source
	client      *sql.Stmt
}

// RiskStore returns the risk list storage over db (risk.Store).
func (db *DB) RiskStore() *RiskStore { return &RiskStore{db: db} }

var _ risk.Store = (*RiskStore)(nil)

const riskRecordQuery = `SELECT day, source, cid, duration, level FROM risk_records
	WHERE mobile_md5 = ? AND day >= ? AND day <= ?`

// prepare prepares the look-up statements the first time it succeeds; a
// failure (the database unreachable) is tried again by the next call.
func (s *RiskStore) prepare(ctx context.Context) error {
	if s.ready.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return nil
	}
	db := s.db
	var stmts []*sql.Stmt
	for _, q := range []string{
		riskRecordQuery + ` ORDER BY day DESC, id`,
		riskRecordQuery + ` AND source = ? ORDER BY day DESC, id`,
		`SELECT ` + riskClientCols + ` FROM risk_clients WHERE id = ?`,
	} {
		st, err := db.sql.PrepareContext(ctx, db.q(q))
		if err != nil {
			for _, st := range stmts {
				st.Close()
			}
			return fmt.Errorf("prepare risk statements: %w", err)
		}
		stmts = append(stmts, st)
	}
	s.byDay, s.byDaySource, s.client = stmts[0], stmts[1], stmts[2]
	s.ready.Store(true)
	return nil
}

// Close releases the prepared statements.
func (s *RiskStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range []*sql.Stmt{s.byDay, s.byDaySource, s.client} {
		if st != nil {
			st.Close()
		}
	}
	return nil
}

const riskClientCols = `id, name, secret_hash, apis, time_zone, window_days, quota, quota_used, rate, expires_at, created_at, rotated_at, revoked_at`

func scanRiskClient(sc interface{ Scan(...any) error }) (risk.Client, error) {
	var c risk.Client
	var apis string
	var expires, rotated, revoked sql.NullTime
	err := sc.Scan(&c.ID, &c.Name, &c.SecretHash, &apis, &c.TimeZone, &c.WindowDays, &c.Quota, &c.QuotaUsed, &c.Rate,
		&expires, &c.CreatedAt, &rotated, &revoked)
	c.APIs = splitAPIs(apis)
	c.CreatedAt = c.CreatedAt.UTC()
	c.ExpiresAt, c.RotatedAt, c.RevokedAt = timePtr(expires), timePtr(rotated), timePtr(revoked)
	return c, err
}

func splitAPIs(s string) []risk.API {
	apis := []risk.API{}
	for _, a := range strings.Split(s, ",") {
		if a != "" {
			apis = append(apis, risk.API(a))
		}
	}
	return apis
}

// CreateRiskClient stores a new API client. A name already taken is an
// ECONFLICT error.
func (s *RiskStore) CreateRiskClient(ctx context.Context, c risk.Client) error {
	db := s.db
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO risk_clients (id, name, secret_hash, apis, time_zone, window_days, quota, rate, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, c.Name, c.SecretHash, risk.JoinAPIs(c.APIs, ","), c.TimeZone, c.WindowDays, c.Quota, c.Rate, nullTime(c.ExpiresAt), c.CreatedAt.UTC())
	if err != nil {
		if db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "a risk API client named %q already exists; choose another name", c.Name)
		}
		return fmt.Errorf("insert risk client: %w", err)
	}
	return nil
}

// RiskClient returns the API client with the given id, revoked or not, or
// an ENOTFOUND error.
func (s *RiskStore) RiskClient(ctx context.Context, id risk.ClientID) (risk.Client, error) {
	if err := s.prepare(ctx); err != nil {
		return risk.Client{}, err
	}
	c, err := scanRiskClient(s.client.QueryRowContext(ctx, id))
	if err != nil {
		return c, notFound(err, "risk API client %q not found; list them with `trueup admin riskclient list`", id)
	}
	return c, nil
}

// RiskClients returns every API client, oldest first.
func (s *RiskStore) RiskClients(ctx context.Context) ([]risk.Client, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+riskClientCols+` FROM risk_clients ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list risk clients: %w", err)
	}
	defer rows.Close()
	out := []risk.Client{}
	for rows.Next() {
		c, err := scanRiskClient(rows)
		if err != nil {
			return nil, fmt.Errorf("scan risk client: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list risk clients: %w", err)
	}
	return out, nil
}

func riskClientGone(id risk.ClientID) error {
	return trueup.NotFound("risk API client %q not found or revoked; list them with `trueup admin riskclient list`", id)
}

// UpdateRiskClient changes the settings of a client that is not revoked, or
// returns an ENOTFOUND error.
func (s *RiskStore) UpdateRiskClient(ctx context.Context, u risk.ClientUpdate) error {
	var set []string
	var args []any
	add := func(col string, v any) {
		set = append(set, col+" = ?")
		args = append(args, v)
	}
	if u.APIs != nil {
		add("apis", risk.JoinAPIs(*u.APIs, ","))
	}
	if u.TimeZone != nil {
		add("time_zone", *u.TimeZone)
	}
	if u.WindowDays != nil {
		add("window_days", *u.WindowDays)
	}
	if u.Quota != nil {
		add("quota", *u.Quota)
	}
	if u.Rate != nil {
		add("rate", *u.Rate)
	}
	if u.NoExpiry {
		add("expires_at", sql.NullTime{})
	} else if u.ExpiresAt != nil {
		add("expires_at", nullTime(u.ExpiresAt))
	}
	if len(set) == 0 {
		_, err := s.RiskClient(ctx, u.ID)
		return err
	}
	args = append(args, u.ID)
	res, err := s.db.sql.ExecContext(ctx, s.db.q(`UPDATE risk_clients SET `+strings.Join(set, ", ")+` WHERE id = ? AND revoked_at IS NULL`), args...)
	if err != nil {
		return fmt.Errorf("update risk client: %w", err)
	}
	return mustAffect(res, riskClientGone(u.ID))
}

// RotateRiskClient replaces the secret hash of a client that is not
// revoked, or returns an ENOTFOUND error.
func (s *RiskStore) RotateRiskClient(ctx context.Context, id risk.ClientID, secretHash string) error {
	res, err := s.db.sql.ExecContext(ctx, s.db.q(`UPDATE risk_clients SET secret_hash = ?, rotated_at = ? WHERE id = ? AND revoked_at IS NULL`),
		secretHash, s.db.now(), id)
	if err != nil {
		return fmt.Errorf("rotate risk client: %w", err)
	}
	return mustAffect(res, riskClientGone(id))
}

// RevokeRiskClient revokes a client, or returns an ENOTFOUND error when no
// such client is active.
func (s *RiskStore) RevokeRiskClient(ctx context.Context, id risk.ClientID) error {
	res, err := s.db.sql.ExecContext(ctx, s.db.q(`UPDATE risk_clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), s.db.now(), id)
	if err != nil {
		return fmt.Errorf("revoke risk client: %w", err)
	}
	return mustAffect(res, riskClientGone(id))
}

// forUpdate is the row lock a read-then-write transaction needs: FOR UPDATE
// on PostgreSQL; nothing on SQLite, whose write transactions start
// IMMEDIATE and so hold the database's write lock already.
func (db *DB) forUpdate() string {
	if db.dialect.SerializedWriters() {
		return ""
	}
	return " FOR UPDATE"
}

// LeaseRiskQuota grants up to want calls of the client's quota (all of want
// when the quota is 0, unlimited) and adds them to quota_used, atomically
// across servers. It returns the calls granted (0 when the quota is used
// up) and quota_used after the grant, or an ENOTFOUND error for an unknown
// client.
func (s *RiskStore) LeaseRiskQuota(ctx context.Context, id risk.ClientID, want int64) (granted, used int64, err error) {
	err = s.db.inTx(ctx, func(tx *sql.Tx) error {
		var quota int64
		err := tx.QueryRowContext(ctx, s.db.q(`SELECT quota, quota_used FROM risk_clients WHERE id = ?`+s.db.forUpdate()), id).Scan(&quota, &used)
		if err != nil {
			return notFound(err, "risk API client %q not found", id)
		}
		granted = max(0, want)
		if quota > 0 {
			granted = max(0, min(granted, quota-used))
		}
		if granted == 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE risk_clients SET quota_used = quota_used + ? WHERE id = ?`), granted, id); err != nil {
			return fmt.Errorf("lease risk quota: %w", err)
		}
		used += granted
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return granted, used, nil
}

// LeaseRiskRate grants up to want calls of the client's per-second rate in
// window (Unix seconds), atomically across servers: a window other than the
// stored one starts a new count. It returns the calls granted (want when
// the rate is 0, unlimited), 0 when the window's calls are used up, or an
// ENOTFOUND error for an unknown client.
func (s *RiskStore) LeaseRiskRate(ctx context.Context, id risk.ClientID, window, want int64) (int64, error) {
	if want <= 0 {
		return 0, nil
	}
	var granted int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var rate, win, used int64
		err := tx.QueryRowContext(ctx, s.db.q(`SELECT rate, rate_window, rate_used FROM risk_clients WHERE id = ?`+s.db.forUpdate()), id).Scan(&rate, &win, &used)
		if err != nil {
			return notFound(err, "risk API client %q not found", id)
		}
		if rate <= 0 {
			granted = want
			return nil
		}
		if win > window {
			// Another server's clock is ahead; this window is over there.
			granted = 0
			return nil
		}
		if win != window {
			used = 0
		}
		granted = min(want, rate-used)
		if granted <= 0 {
			granted = 0
			return nil
		}
		if _, err := tx.ExecContext(ctx, s.db.q(`UPDATE risk_clients SET rate_window = ?, rate_used = ? WHERE id = ?`), window, used+granted, id); err != nil {
			return fmt.Errorf("lease risk rate: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return granted, nil
}

// RiskRecords returns the records of q.Mobile whose day is within
// [q.From, q.To] (and of q.Source when it is not 0), newest day first and,
// within a day, in the order they were imported.
func (s *RiskStore) RiskRecords(ctx context.Context, q risk.Query) ([]risk.Record, error) {
	if err := s.prepare(ctx); err != nil {
		return nil, err
	}
	// A look-up takes microseconds: watching the caller's cancellation
	// would cost more (database/sql and the SQLite driver each start a
	// goroutine per query for a context that can end).
	ctx = context.WithoutCancel(ctx)
	var rows *sql.Rows
	var err error
	if q.Source != 0 {
		rows, err = s.byDaySource.QueryContext(ctx, q.Mobile[:], int64(q.From), int64(q.To), int64(q.Source))
	} else {
		rows, err = s.byDay.QueryContext(ctx, q.Mobile[:], int64(q.From), int64(q.To))
	}
	if err != nil {
		return nil, fmt.Errorf("query risk records: %w", err)
	}
	defer rows.Close()
	var out []risk.Record
	for rows.Next() {
		r := risk.Record{Mobile: q.Mobile}
		var day, source, level int64
		var duration sql.NullInt64
		if err := rows.Scan(&day, &source, &r.CID, &duration, &level); err != nil {
			return nil, fmt.Errorf("scan risk record: %w", err)
		}
		r.Day, r.Source, r.Level = risk.Day(day), risk.Source(source), risk.Level(level)
		r.Duration, r.HasDuration = duration.Int64, duration.Valid
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read risk records: %w", err)
	}
	return out, nil
}

// RiskList returns the list's version, changed by every import, and how
// many records it holds.
func (s *RiskStore) RiskList(ctx context.Context) (risk.ListState, error) {
	var l risk.ListState
	if err := s.db.sql.QueryRowContext(context.WithoutCancel(ctx), `SELECT version, records FROM risk_list WHERE id = 1`).Scan(&l.Version, &l.Records); err != nil {
		return l, fmt.Errorf("read risk list: %w", err)
	}
	return l, nil
}

// EachRiskMobile calls fn with the mobile number of every record, in one
// query (one consistent read). It stops at fn's first error and returns it.
func (s *RiskStore) EachRiskMobile(ctx context.Context, fn func(risk.MD5) error) error {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT mobile_md5 FROM risk_records`)
	if err != nil {
		return fmt.Errorf("scan risk numbers: %w", err)
	}
	defer rows.Close()
	var b []byte
	var m risk.MD5
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return fmt.Errorf("scan risk number: %w", err)
		}
		if len(b) != len(m) {
			return fmt.Errorf("risk number of %d bytes, want %d", len(b), len(m))
		}
		copy(m[:], b)
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan risk numbers: %w", err)
	}
	return nil
}

// riskBatch is how many records one INSERT statement of an import writes.
const riskBatch = 256

// riskCols is how many values a record has in the INSERT.
const riskCols = 6

const riskIndexDDL = `CREATE INDEX risk_records_mobile_day ON risk_records (mobile_md5, day)`

// RiskImport writes risk records in one transaction with a prepared
// multi-row INSERT: either every record of an import is stored or none is.
type RiskImport struct {
	db        *DB
	conn      *sql.Conn
	tx        *sql.Tx
	full      *sql.Stmt
	opts      risk.ImportOptions
	buf       []risk.Record
	args      []any
	count     int64
	finalized bool
	restore   func() // undoes the engine's bulk-load tuning of conn
}

// BeginRiskImport starts an import of risk records. The caller must Commit
// or Rollback it. On SQLite, readers keep seeing the list as it was until
// Commit (WAL), and other writers wait for the import to end. On
// PostgreSQL, RebuildIndex is not honoured: dropping the index would lock
// the table against checks until commit.
func (s *RiskStore) BeginRiskImport(ctx context.Context, o risk.ImportOptions) (risk.Importer, error) {
	db := s.db
	if db.dialect.DDLBlocksReaders() {
		o.RebuildIndex = false
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin risk import: %w", err)
	}
	imp := &RiskImport{db: db, conn: conn, opts: o, buf: make([]risk.Record, 0, riskBatch), args: make([]any, 0, riskBatch*riskCols)}
	fail := func(err error) (risk.Importer, error) {
		imp.Rollback()
		return nil, err
	}
	if imp.restore, err = db.dialect.BeginBulkLoad(ctx, conn); err != nil {
		return fail(fmt.Errorf("risk import: %w", err))
	}
	if imp.tx, err = conn.BeginTx(ctx, nil); err != nil {
		return fail(fmt.Errorf("begin risk import: %w", err))
	}
	if o.Replace {
		if _, err := imp.tx.ExecContext(ctx, `DELETE FROM risk_records`); err != nil {
			return fail(fmt.Errorf("clear risk records: %w", err))
		}
	}
	if o.RebuildIndex {
		if _, err := imp.tx.ExecContext(ctx, `DROP INDEX IF EXISTS risk_records_mobile_day`); err != nil {
			return fail(fmt.Errorf("drop risk index: %w", err))
		}
	}
	if imp.full, err = imp.tx.PrepareContext(ctx, insertRiskSQL(db, riskBatch)); err != nil {
		return fail(fmt.Errorf("prepare risk insert: %w", err))
	}
	return imp, nil
}

func insertRiskSQL(db *DB, n int) string {
	var b strings.Builder
	b.Grow(80 + n*16)
	b.WriteString(`INSERT INTO risk_records (mobile_md5, day, source, cid, duration, level) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?)`)
	}
	return db.q(b.String())
}

// Add adds one record to the import.
func (imp *RiskImport) Add(ctx context.Context, r risk.Record) error {
	if imp.finalized {
		return errors.New("risk import already finished")
	}
	imp.buf = append(imp.buf, r)
	if len(imp.buf) == riskBatch {
		return imp.flush(ctx)
	}
	return nil
}

func (imp *RiskImport) flush(ctx context.Context) error {
	if len(imp.buf) == 0 {
		return nil
	}
	args := imp.args[:0]
	for i := range imp.buf {
		r := &imp.buf[i]
		var duration any
		if r.HasDuration {
			duration = r.Duration
		}
		args = append(args, r.Mobile[:], int64(r.Day), int64(r.Source), r.CID, duration, int64(r.Level))
	}
	var err error
	if len(imp.buf) == riskBatch {
		_, err = imp.full.ExecContext(ctx, args...)
	} else {
		_, err = imp.tx.ExecContext(ctx, insertRiskSQL(imp.db, len(imp.buf)), args...)
	}
	if err != nil {
		return fmt.Errorf("insert risk records: %w", err)
	}
	imp.count += int64(len(imp.buf))
	imp.buf = imp.buf[:0]
	clear(args)
	imp.args = args[:0]
	return nil
}

// Commit writes the records still buffered, builds the index again when
// it was dropped, commits, and returns how many records the import wrote.
func (imp *RiskImport) Commit(ctx context.Context) (int64, error) {
	if imp.finalized {
		return 0, errors.New("risk import already finished")
	}
	if err := imp.flush(ctx); err != nil {
		imp.Rollback()
		return 0, err
	}
	if imp.opts.RebuildIndex {
		if _, err := imp.tx.ExecContext(ctx, riskIndexDDL); err != nil {
			imp.Rollback()
			return 0, fmt.Errorf("build risk index: %w", err)
		}
	}
	kept := "records"
	if imp.opts.Replace {
		kept = "0"
	}
	if _, err := imp.tx.ExecContext(ctx, imp.db.q(`UPDATE risk_list SET version = version + 1, records = `+kept+` + ? WHERE id = 1`), imp.count); err != nil {
		imp.Rollback()
		return 0, fmt.Errorf("update risk list: %w", err)
	}
	if err := imp.db.dialect.Analyze(ctx, imp.tx, "risk_records"); err != nil {
		imp.Rollback()
		return 0, fmt.Errorf("analyze risk records: %w", err)
	}
	imp.full.Close()
	if err := imp.tx.Commit(); err != nil {
		imp.Rollback()
		return 0, fmt.Errorf("commit risk import: %w", err)
	}
	imp.finish()
	return imp.count, nil
}

// Rollback discards the import. It is safe to call after Commit.
func (imp *RiskImport) Rollback() {
	if imp.finalized {
		return
	}
	if imp.full != nil {
		imp.full.Close()
	}
	if imp.tx != nil {
		imp.tx.Rollback()
	}
	imp.finish()
}

// finish gives the connection back to the pool with its usual cache.
func (imp *RiskImport) finish() {
	imp.finalized = true
	if imp.restore != nil {
		imp.restore()
	}
	imp.conn.Close()
}
