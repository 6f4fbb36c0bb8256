package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
)

// BuyerStore is the storage of buyer adjustments: buyers, their surveys and
// transactions, and reconciliation processes. It implements buyer.Store.
// Its methods are safe for concurrent use.
type BuyerStore struct {
	db *DB
}

var _ buyer.Store = (*BuyerStore)(nil)

// BuyerStore returns the buyer adjustments storage over db.
func (db *DB) BuyerStore() *BuyerStore { return &BuyerStore{db: db} }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// inChunk is how many values an IN list of a batched statement holds.
const inChunk = 1000

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func msPtr(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := msTime(ms.Int64)
	return &t
}

func nullMs(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func nullPercent(p *buyer.Percent) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func percentPtr(v sql.NullInt64) *buyer.Percent {
	if !v.Valid {
		return nil
	}
	p := buyer.Percent(v.Int64)
	return &p
}

const buyerCols = `id, name, token_hash, reject_cap, created_ms`

func scanBuyer(s interface{ Scan(...any) error }) (buyer.Buyer, error) {
	var b buyer.Buyer
	var cap sql.NullInt64
	var created int64
	err := s.Scan(&b.ID, &b.Name, &b.TokenHash, &cap, &created)
	b.RejectCap, b.CreatedAt = percentPtr(cap), msTime(created)
	return b, err
}

// CreateBuyer stores a new buyer. A name already taken is an ECONFLICT
// error.
func (s *BuyerStore) CreateBuyer(ctx context.Context, b buyer.Buyer) error {
	db := s.db
	_, err := db.sql.ExecContext(ctx, db.q(`INSERT INTO buyers (`+buyerCols+`) VALUES (?, ?, ?, ?, ?)`),
		b.ID, b.Name, b.TokenHash, nullPercent(b.RejectCap), b.CreatedAt.UnixMilli())
	if err != nil {
		if db.dialect.IsUniqueViolation(err) {
			return trueup.Errorf(trueup.ECONFLICT, "a buyer named %q already exists; choose another name", b.Name)
		}
		return fmt.Errorf("insert buyer: %w", err)
	}
	return nil
}

// Buyer returns the buyer with the given id, or an ENOTFOUND error.
func (s *BuyerStore) Buyer(ctx context.Context, id buyer.BuyerID) (buyer.Buyer, error) {
	b, err := scanBuyer(s.db.sql.QueryRowContext(ctx, s.db.q(`SELECT `+buyerCols+` FROM buyers WHERE id = ?`), id))
	if err != nil {
		return b, notFound(err, "buyer %q not found; list buyers with `trueup admin buyer list`", id)
	}
	return b, nil
}

// BuyerByTokenHash returns the buyer whose token hashes to hash, or an
// ENOTFOUND error.
func (s *BuyerStore) BuyerByTokenHash(ctx context.Context, hash string) (buyer.Buyer, error) {
	b, err := scanBuyer(s.db.sql.QueryRowContext(ctx, s.db.q(`SELECT `+buyerCols+` FROM buyers WHERE token_hash = ?`), hash))
	if err != nil {
		return b, notFound(err, "no buyer has this access token")
	}
	return b, nil
}

// Buyers returns every buyer, oldest first.
func (s *BuyerStore) Buyers(ctx context.Context) ([]buyer.Buyer, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+buyerCols+` FROM buyers ORDER BY created_ms, id`)
	if err != nil {
		return nil, fmt.Errorf("list buyers: %w", err)
	}
	defer rows.Close()
	var out []buyer.Buyer
	for rows.Next() {
		b, err := scanBuyer(rows)
		if err != nil {
			return nil, fmt.Errorf("scan buyer: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// SetBuyerToken replaces a buyer's token hash.
func (s *BuyerStore) SetBuyerToken(ctx context.Context, id buyer.BuyerID, hash string) error {
	res, err := s.db.sql.ExecContext(ctx, s.db.q(`UPDATE buyers SET token_hash = ? WHERE id = ?`), hash, id)
	if err != nil {
		return fmt.Errorf("update buyer token: %w", err)
	}
	return mustAffect(res, trueup.NotFound("buyer %q not found; list buyers with `trueup admin buyer list`", id))
}

// SetBuyerRejectCap sets a buyer's reject cap; nil removes it.
func (s *BuyerStore) SetBuyerRejectCap(ctx context.Context, id buyer.BuyerID, cap *buyer.Percent) error {
	res, err := s.db.sql.ExecContext(ctx, s.db.q(`UPDATE buyers SET reject_cap = ? WHERE id = ?`), nullPercent(cap), id)
	if err != nil {
		return fmt.Errorf("update buyer cap: %w", err)
	}
	return mustAffect(res, trueup.NotFound("buyer %q not found; list buyers with `trueup admin buyer list`", id))
}

const surveyCols = `id, buyer_id, status, created_ms`

const surveySelect = `SELECT id, buyer_id, status, created_ms, list_version FROM surveys`

func scanSurvey(s interface{ Scan(...any) error }) (buyer.Survey, error) {
	var v buyer.Survey
	var created int64
	err := s.Scan(&v.ID, &v.BuyerID, &v.Status, &created, &v.ListVersion)
	v.CreatedAt = msTime(created)
	return v, err
}

// Survey returns the survey with the given id, or an ENOTFOUND error.
func (s *BuyerStore) Survey(ctx context.Context, id buyer.SurveyID) (buyer.Survey, error) {
	v, err := scanSurvey(s.db.sql.QueryRowContext(ctx, s.db.q(surveySelect+` WHERE id = ?`), id))
	if err != nil {
		return v, notFound(err, "survey %d not found", id)
	}
	return v, nil
}

// Surveys returns the buyer's surveys by id.
func (s *BuyerStore) Surveys(ctx context.Context, b buyer.BuyerID) ([]buyer.Survey, error) {
	rows, err := s.db.sql.QueryContext(ctx, s.db.q(surveySelect+` WHERE buyer_id = ? ORDER BY id`), b)
	if err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	defer rows.Close()
	var out []buyer.Survey
	for rows.Next() {
		v, err := scanSurvey(rows)
		if err != nil {
			return nil, fmt.Errorf("scan survey: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const txCols = `buyer_id, transaction_id, survey_id, status, test, invoiced, started_ms, finished_ms, change_reason, adjustment_id`

func scanTransaction(s interface{ Scan(...any) error }) (buyer.Transaction, error) {
	var t buyer.Transaction
	var started, finished sql.NullInt64
	err := s.Scan(&t.BuyerID, &t.ID, &t.SurveyID, &t.Status, &t.Test, &t.Invoiced, &started, &finished, &t.ChangeReason, &t.AdjustmentID)
	t.StartedAt, t.FinishedAt = msPtr(started), msPtr(finished)
	return t, err
}

// TransactionsByID returns the buyer's transactions among ids.
func (s *BuyerStore) TransactionsByID(ctx context.Context, b buyer.BuyerID, ids []string) ([]buyer.Transaction, error) {
	return s.db.transactionsByID(ctx, s.db.sql, b, ids)
}

// idChunks calls fn with ids in chunks, each with the SQL condition that
// matches transaction_id against the chunk and its arguments: an IN list of
// placeholders on SQLite, one text[] parameter on PostgreSQL (whose planner
// is slow with long IN lists).
func (db *DB) idChunks(ids []string, fn func(cond string, args []any) error) error {
	if db.dialect.ArrayParams() {
		for start := 0; start < len(ids); start += pgChunk {
			if err := fn(`transaction_id = ANY(?)`, []any{ids[start:min(start+pgChunk, len(ids))]}); err != nil {
				return err
			}
		}
		return nil
	}
	args := make([]any, 0, inChunk)
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		args = args[:0]
		for _, id := range chunk {
			args = append(args, id)
		}
		if err := fn(`transaction_id IN (`+placeholders(len(chunk))+`)`, args); err != nil {
			return err
		}
	}
	return nil
}

// pgChunk is how many ids one PostgreSQL array parameter holds.
const pgChunk = 20000

func (db *DB) transactionsByID(ctx context.Context, q querier, b buyer.BuyerID, ids []string) ([]buyer.Transaction, error) {
	out := make([]buyer.Transaction, 0, len(ids))
	err := db.idChunks(ids, func(cond string, ids []any) error {
		rows, err := q.QueryContext(ctx, db.q(`SELECT `+txCols+` FROM survey_transactions WHERE buyer_id = ? AND `+cond), append([]any{b}, ids...)...)
		if err != nil {
			return fmt.Errorf("query transactions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTransaction(rows)
			if err != nil {
				return fmt.Errorf("scan transaction: %w", err)
			}
			out = append(out, t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read transactions: %w", err)
		}
		return nil
	})
	return out, err
}

// SurveyCounts returns each survey's status, non-test completes and
// reconciliation rejects. A survey that does not exist is left out.
func (s *BuyerStore) SurveyCounts(ctx context.Context, surveys []buyer.SurveyID) (map[buyer.SurveyID]buyer.SurveyCounts, error) {
	return s.db.surveyCounts(ctx, s.db.sql, surveys)
}

func (db *DB) surveyCounts(ctx context.Context, q querier, surveys []buyer.SurveyID) (map[buyer.SurveyID]buyer.SurveyCounts, error) {
	out := make(map[buyer.SurveyID]buyer.SurveyCounts, len(surveys))
	for _, id := range surveys {
		c := buyer.SurveyCounts{Survey: id}
		err := q.QueryRowContext(ctx, db.q(`SELECT buyer_id, status FROM surveys WHERE id = ?`), id).Scan(&c.BuyerID, &c.Status)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read survey %d: %w", id, err)
		}
		rows, err := q.QueryContext(ctx, db.q(`SELECT status, COUNT(*) FROM survey_transactions WHERE survey_id = ? AND status IN (?, ?) AND test = ? GROUP BY status`),
			id, buyer.TxComplete, buyer.TxReconciliationReject, false)
		if err != nil {
			return nil, fmt.Errorf("count survey %d: %w", id, err)
		}
		for rows.Next() {
			var st buyer.TxStatus
			var n int64
			if err := rows.Scan(&st, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan survey count: %w", err)
			}
			if st == buyer.TxComplete {
				c.Completes = n
			} else {
				c.Rejects = n
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("count survey %d: %w", id, err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count survey %d: %w", id, err)
		}
		out[id] = c
	}
	return out, nil
}

// SurveyCompletes returns the survey's non-test transactions at 21.
func (s *BuyerStore) SurveyCompletes(ctx context.Context, survey buyer.SurveyID) ([]buyer.Transaction, error) {
	return s.db.surveyCompletes(ctx, s.db.sql, survey)
}

func (db *DB) surveyCompletes(ctx context.Context, q querier, survey buyer.SurveyID) ([]buyer.Transaction, error) {
	rows, err := q.QueryContext(ctx, db.q(`SELECT buyer_id, transaction_id, invoiced FROM survey_transactions WHERE survey_id = ? AND status = ? AND test = ?`),
		survey, buyer.TxComplete, false)
	if err != nil {
		return nil, fmt.Errorf("query completes of survey %d: %w", survey, err)
	}
	defer rows.Close()
	var out []buyer.Transaction
	for rows.Next() {
		t := buyer.Transaction{SurveyID: survey, Status: buyer.TxComplete}
		if err := rows.Scan(&t.BuyerID, &t.ID, &t.Invoiced); err != nil {
			return nil, fmt.Errorf("scan complete: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// lockBuyer serialises, on PostgreSQL, the transactions that change a
// buyer's transactions (imports and applies); SQLite's writers are
// serialised already.
func (db *DB) lockBuyer(ctx context.Context, tx *sql.Tx, id buyer.BuyerID) error {
	if db.dialect.SerializedWriters() {
		return nil
	}
	var got string
	err := tx.QueryRowContext(ctx, db.q(`SELECT id FROM buyers WHERE id = ? FOR UPDATE`), id).Scan(&got)
	if err != nil {
		return notFound(err, "buyer %q not found", id)
	}
	return nil
}

// TransactionImport writes a buyer's transactions in one transaction, in
// batches of importBatch rows. It implements buyer.TransactionImport.
type TransactionImport struct {
	db        *DB
	tx        *sql.Tx
	buyer     buyer.BuyerID
	now       int64
	survey    *sql.Stmt
	owner     *sql.Stmt
	owned     map[buyer.SurveyID]bool
	statuses  map[buyer.SurveyID]buyer.SurveyStatus
	queued    []buyer.Transaction
	conflicts []buyer.ImportConflict
	count     int64
	finalized bool
}

// importBatch is how many rows one upsert statement writes.
const importBatch = 500

// BeginTransactionImport starts an import of a buyer's transactions. The
// caller must Commit or Rollback it. A missing buyer is an ENOTFOUND error.
func (s *BuyerStore) BeginTransactionImport(ctx context.Context, b buyer.BuyerID) (buyer.TransactionImport, error) {
	db := s.db
	if _, err := s.Buyer(ctx, b); err != nil {
		return nil, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin import: %w", err)
	}
	imp := &TransactionImport{db: db, tx: tx, buyer: b, now: db.now().UnixMilli(),
		owned: map[buyer.SurveyID]bool{}, statuses: map[buyer.SurveyID]buyer.SurveyStatus{}}
	if err := db.lockBuyer(ctx, tx, b); err != nil {
		imp.Rollback()
		return nil, err
	}
	if imp.survey, err = tx.PrepareContext(ctx, db.q(`INSERT INTO surveys (`+surveyCols+`) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)); err == nil {
		imp.owner, err = tx.PrepareContext(ctx, db.q(`SELECT buyer_id FROM surveys WHERE id = ?`))
	}
	if err != nil {
		imp.Rollback()
		return nil, fmt.Errorf("prepare import: %w", err)
	}
	return imp, nil
}

// Add queues one transaction for upsert, creating its survey when new. It
// returns a *buyer.ImportConflict at once for a survey of another buyer;
// transactions of another survey are found when the queue is written (see
// Conflicts).
func (imp *TransactionImport) Add(ctx context.Context, t buyer.Transaction, surveyStatus buyer.SurveyStatus) error {
	ok, known := imp.owned[t.SurveyID]
	if !known {
		st := surveyStatus
		if !st.Valid() {
			st = buyer.SurveyLive
		}
		if _, err := imp.survey.ExecContext(ctx, t.SurveyID, imp.buyer, st, imp.now); err != nil {
			return fmt.Errorf("insert survey %d: %w", t.SurveyID, err)
		}
		var owner buyer.BuyerID
		if err := imp.owner.QueryRowContext(ctx, t.SurveyID).Scan(&owner); err != nil {
			return fmt.Errorf("read survey %d: %w", t.SurveyID, err)
		}
		ok = owner == imp.buyer
		imp.owned[t.SurveyID] = ok
	}
	if !ok {
		return &buyer.ImportConflict{Column: "survey_id", TransactionID: t.ID,
			Reason: fmt.Sprintf("survey %d belongs to another buyer; check the survey id", t.SurveyID)}
	}
	if surveyStatus.Valid() {
		imp.statuses[t.SurveyID] = surveyStatus // the last one given wins, written at Commit
	}
	imp.queued = append(imp.queued, t)
	if len(imp.queued) >= importBatch {
		return imp.flush(ctx)
	}
	return nil
}

// flush upserts the queued rows in one statement; the rows it does not
// return are transactions of another survey.
func (imp *TransactionImport) flush(ctx context.Context) error {
	if len(imp.queued) == 0 {
		return nil
	}
	db := imp.db
	var b strings.Builder
	b.WriteString(`INSERT INTO survey_transactions (` + txCols + `, updated_ms) VALUES `)
	args := make([]any, 0, 9*len(imp.queued))
	for i, t := range imp.queued {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, '', '', ?)`)
		args = append(args, imp.buyer, t.ID, t.SurveyID, t.Status, t.Test, t.Invoiced, nullMs(t.StartedAt), nullMs(t.FinishedAt), imp.now)
	}
	b.WriteString(` ON CONFLICT (buyer_id, transaction_id) DO UPDATE SET status = excluded.status, test = excluded.test, invoiced = excluded.invoiced,
		started_ms = excluded.started_ms, finished_ms = excluded.finished_ms, updated_ms = excluded.updated_ms
		WHERE survey_transactions.survey_id = excluded.survey_id RETURNING transaction_id`)
	rows, err := imp.tx.QueryContext(ctx, db.q(b.String()), args...)
	if err != nil {
		return fmt.Errorf("upsert transactions: %w", err)
	}
	written := make(map[string]bool, len(imp.queued))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("upsert transactions: %w", err)
		}
		written[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("upsert transactions: %w", err)
	}
	imp.count += int64(len(written))
	var missing []string
	wanted := map[string]buyer.SurveyID{}
	for _, t := range imp.queued {
		if !written[t.ID] {
			missing = append(missing, t.ID)
			wanted[t.ID] = t.SurveyID
		}
	}
	imp.queued = imp.queued[:0]
	if len(missing) == 0 {
		return nil
	}
	stored, err := db.transactionsByID(ctx, imp.tx, imp.buyer, missing)
	if err != nil {
		return err
	}
	for _, t := range stored {
		imp.conflicts = append(imp.conflicts, buyer.ImportConflict{Column: "transaction_id", TransactionID: t.ID,
			Reason: fmt.Sprintf("transaction %s belongs to survey %d, not %d; a transaction stays in its survey", t.ID, t.SurveyID, wanted[t.ID])})
	}
	return nil
}

// Conflicts writes the queued rows and returns every transaction of another
// survey found so far.
func (imp *TransactionImport) Conflicts(ctx context.Context) ([]buyer.ImportConflict, error) {
	if err := imp.flush(ctx); err != nil {
		return nil, err
	}
	return imp.conflicts, nil
}

// Commit writes the queued rows, stores the import and returns how many
// rows it wrote. It refuses (rolling back) when a row conflicts.
func (imp *TransactionImport) Commit() (int64, error) {
	ctx := context.Background()
	if err := imp.flush(ctx); err != nil {
		imp.Rollback()
		return 0, err
	}
	if len(imp.conflicts) > 0 {
		imp.Rollback()
		c := imp.conflicts[0]
		return 0, &c
	}
	// Survey rows are locked in ascending id order, as every other
	// transaction that changes several surveys does.
	ids := make([]buyer.SurveyID, 0, len(imp.statuses))
	for id := range imp.statuses {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := imp.tx.ExecContext(ctx, imp.db.q(`UPDATE surveys SET status = ? WHERE id = ? AND buyer_id = ?`), imp.statuses[id], id, imp.buyer); err != nil {
			imp.Rollback()
			return 0, fmt.Errorf("update survey %d: %w", id, err)
		}
	}
	imp.close()
	if err := imp.tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit import: %w", err)
	}
	return imp.count, nil
}

// Rollback discards the import. It is safe to call after Commit.
func (imp *TransactionImport) Rollback() {
	if imp.finalized {
		return
	}
	imp.close()
	imp.tx.Rollback()
}

func (imp *TransactionImport) close() {
	imp.finalized = true
	for _, st := range []*sql.Stmt{imp.survey, imp.owner} {
		if st != nil {
			st.Close()
		}
	}
}
