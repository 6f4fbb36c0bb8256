// Package storetest is trueup's storage test suite, written once and run
// against every engine (see sqlite and postgres tests).
package storetest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlstore"
)

// Opener returns a fresh, migrated, empty database for one test.
type Opener func(tb testing.TB) *sqlstore.DB

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"Carriers", testCarriers},
		{"ClientsAndTokens", testClientsAndTokens},
		{"TokenChecksClient", testTokenChecksClient},
		{"OrderImport", testOrderImport},
		{"OrderImportRollback", testOrderImportRollback},
		{"JobsClaimAndComplete", testJobsClaimAndComplete},
		{"JobsLeaseLapse", testJobsLeaseLapse},
		{"JobsRetry", testJobsRetry},
		{"Ready", testReady},
		{"BatchParts", testBatchParts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
	runBatches(t, open)
	runLifecycle(t, open)
	runBuyers(t, open)
	runRisk(t, open)
	runAdmin(t, open)
	runLedger(t, open)
	runCases(t, open)
	runAudit(t, open)
	runWebhooks(t, open)
	runOperators(t, open)
}

// MustCarrier creates a carrier named name and returns it.
func MustCarrier(tb testing.TB, db *sqlstore.DB, name string) trueup.Carrier {
	tb.Helper()
	c := trueup.Carrier{ID: trueup.CarrierID(trueup.NewID("car_")), Name: name, UserID: trueup.NewDigits(12), TimeZone: "UTC", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := db.CreateCarrier(context.Background(), c); err != nil {
		tb.Fatalf("create carrier: %v", err)
	}
	return c
}

func testCarriers(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Acme Mobile")
	got, err := db.Carrier(ctx, c.ID)
	if err != nil {
		t.Fatalf("Carrier: %v", err)
	}
	if got.Name != c.Name || got.UserID != c.UserID || got.Whitelisted || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("Carrier = %+v, want %+v", got, c)
	}
	dup := c
	dup.ID, dup.UserID = "car_other", "999"
	if err := db.CreateCarrier(ctx, dup); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("duplicate name: err = %v, want conflict", err)
	}
	if err := db.SetWhitelisted(ctx, c.ID, true); err != nil {
		t.Fatalf("SetWhitelisted: %v", err)
	}
	if got, _ := db.Carrier(ctx, c.ID); !got.Whitelisted {
		t.Errorf("whitelisted = false after SetWhitelisted(true)")
	}
	if err := db.SetWhitelisted(ctx, "car_missing", true); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("SetWhitelisted(missing) err = %v, want not found", err)
	}
	if _, err := db.Carrier(ctx, "car_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Carrier(missing) err = %v, want not found", err)
	}
	if err := db.SetTimeZone(ctx, c.ID, "Asia/Shanghai"); err != nil {
		t.Fatalf("SetTimeZone: %v", err)
	}
	if err := db.SetTimeZone(ctx, c.ID, "Mars/Base"); trueup.ErrorKind(err) != trueup.EINVALID {
		t.Errorf("SetTimeZone(bad) err = %v, want invalid", err)
	}
	all, err := db.Carriers(ctx)
	if err != nil || len(all) != 1 || all[0].TimeZone != "Asia/Shanghai" {
		t.Errorf("Carriers = %+v, %v", all, err)
	}
}

func testClientsAndTokens(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Beta")
	now := time.Now().UTC().Truncate(time.Millisecond)
	cl := trueup.Client{ID: "cli_1", CarrierID: c.ID, SecretHash: trueup.HashSecret("s1"), CreatedAt: now}
	if err := db.CreateClient(ctx, cl); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	tok := trueup.Token{Hash: trueup.HashSecret("t1"), ClientID: cl.ID, CarrierID: c.ID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateToken(ctx, tok, cl.SecretHash); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	got, carrier, err := db.TokenByHash(ctx, tok.Hash)
	if err != nil || got.CarrierID != c.ID || carrier.UserID != c.UserID || !got.ExpiresAt.Equal(tok.ExpiresAt) || got.RevokedAt != nil {
		t.Fatalf("TokenByHash = %+v, %v", got, err)
	}
	if err := db.RotateClient(ctx, cl.ID, trueup.HashSecret("s2")); err != nil {
		t.Fatalf("RotateClient: %v", err)
	}
	if got, _ := db.Client(ctx, cl.ID); got.SecretHash != trueup.HashSecret("s2") || got.RotatedAt == nil {
		t.Errorf("after rotate: %+v", got)
	}
	if got, _, _ := db.TokenByHash(ctx, tok.Hash); got.RevokedAt == nil {
		t.Errorf("token not revoked by rotation")
	}
	tok2 := trueup.Token{Hash: trueup.HashSecret("t2"), ClientID: cl.ID, CarrierID: c.ID, IssuedAt: now, ExpiresAt: now.Add(-time.Minute)}
	if err := db.CreateToken(ctx, tok2, trueup.HashSecret("s2")); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := db.RevokeClient(ctx, cl.ID); err != nil {
		t.Fatalf("RevokeClient: %v", err)
	}
	if got, _ := db.Client(ctx, cl.ID); got.RevokedAt == nil {
		t.Errorf("client not revoked")
	}
	if err := db.RotateClient(ctx, cl.ID, "x"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("rotate revoked client: err = %v, want not found", err)
	}
	if n, err := db.DeleteExpiredTokens(ctx, now); err != nil || n != 1 {
		t.Errorf("DeleteExpiredTokens = %d, %v; want 1", n, err)
	}
	if _, _, err := db.TokenByHash(ctx, "nope"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("TokenByHash(missing) err = %v", err)
	}
	list, err := db.Clients(ctx, c.ID)
	if err != nil || len(list) != 1 {
		t.Errorf("Clients = %v, %v", list, err)
	}
}

// testTokenChecksClient checks that a token is stored only for a live
// client with the given secret hash, and that the look-up refuses a token
// whose client was revoked or rotated after it was issued, whatever the
// token row says.
func testTokenChecksClient(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Gamma")
	now := time.Now().UTC().Truncate(time.Millisecond)
	newClient := func(id trueup.ClientID) trueup.Client {
		t.Helper()
		cl := trueup.Client{ID: id, CarrierID: c.ID, SecretHash: trueup.HashSecret("s"), CreatedAt: now}
		if err := db.CreateClient(ctx, cl); err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		return cl
	}
	token := func(cl trueup.Client, name string) trueup.Token {
		return trueup.Token{Hash: trueup.HashSecret(name), ClientID: cl.ID, CarrierID: c.ID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	cl := newClient("cli_live")
	if err := db.CreateToken(ctx, token(cl, "wrong"), trueup.HashSecret("other")); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("CreateToken with another secret hash: err = %v, want not found", err)
	}
	if err := db.CreateToken(ctx, token(cl, "missing"), cl.SecretHash); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	missing := token(cl, "missing")
	missing.ClientID = "cli_missing"
	if err := db.CreateToken(ctx, missing, cl.SecretHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("CreateToken for an unknown client: err = %v, want not found", err)
	}
	tests := []struct {
		name   string
		update string // run on the client row alone, leaving its tokens as they are
		arg    time.Time
		valid  bool
	}{
		{"untouched", `UPDATE clients SET created_at = created_at WHERE id = ?`, time.Time{}, true},
		{"rotated before issue", `UPDATE clients SET rotated_at = ? WHERE id = ?`, now.Add(-time.Minute), true},
		{"rotated after issue", `UPDATE clients SET rotated_at = ? WHERE id = ?`, now.Add(time.Minute), false},
		{"revoked", `UPDATE clients SET revoked_at = ? WHERE id = ?`, now.Add(time.Minute), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := newClient(trueup.ClientID("cli_" + strconv.Itoa(i)))
			tok := token(cl, tt.name)
			if err := db.CreateToken(ctx, tok, cl.SecretHash); err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
			args := []any{cl.ID}
			if !tt.arg.IsZero() {
				args = []any{tt.arg, cl.ID}
			}
			if _, err := db.SQL().ExecContext(ctx, rebind(db, tt.update), args...); err != nil {
				t.Fatalf("update client: %v", err)
			}
			got, _, err := db.TokenByHash(ctx, tok.Hash)
			if err != nil {
				t.Fatalf("TokenByHash: %v", err)
			}
			if valid := got.RevokedAt == nil; valid != tt.valid {
				t.Errorf("token valid = %v (revoked at %v), want %v", valid, got.RevokedAt, tt.valid)
			}
			if tt.name == "revoked" {
				if err := db.CreateToken(ctx, token(cl, "after"), cl.SecretHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
					t.Errorf("CreateToken for a revoked client: err = %v, want not found", err)
				}
			}
		})
	}
}

// rebind writes the ? placeholders of query as $1, $2 on PostgreSQL.
func rebind(db *sqlstore.DB, query string) string {
	if !db.Dialect().NumberedPlaceholders() {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Order returns a ledger order for tests.
func Order(id, cycle string) trueup.Order {
	t0 := time.Date(2025, 9, 3, 8, 0, 0, 0, time.UTC)
	return trueup.Order{
		CarrierOrderID: id, BillingCycle: cycle, KdOrderID: "kd" + id, CarrierUserID: "u" + id, KdUserID: "ku" + id,
		SkuCode: "1p500g", SkuPrice: decimal.RequireFromString("0.00012"), KdPackageID: "p1",
		KdActiveTime: t0, KdEndTime: t0.AddDate(0, 1, 0), KdOrderTime: t0.Add(-time.Hour),
		KdSaleTotal: decimal.RequireFromString("0.5"), Channel: "0",
	}
}

func importOrders(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, orders ...trueup.Order) {
	tb.Helper()
	ctx := context.Background()
	imp, err := db.BeginOrderImport(ctx, c)
	if err != nil {
		tb.Fatalf("BeginOrderImport: %v", err)
	}
	defer imp.Rollback()
	for _, o := range orders {
		if err := imp.Add(ctx, o); err != nil {
			tb.Fatalf("Add: %v", err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		tb.Fatalf("Commit: %v", err)
	}
}

func collect(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, cycle string) []trueup.Order {
	tb.Helper()
	var out []trueup.Order
	if err := db.EachOrder(context.Background(), c, cycle, func(o trueup.Order) error { out = append(out, o); return nil }); err != nil {
		tb.Fatalf("EachOrder: %v", err)
	}
	return out
}

func testOrderImport(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Gamma")
	other := MustCarrier(t, db, "Delta")
	a, b := Order("2", "2025-09"), Order("1", "2025-09")
	b.UserStatus = "3"
	importOrders(t, db, c.ID, a, b, Order("1", "2025-08"))
	importOrders(t, db, other.ID, Order("1", "2025-09"))
	got := collect(t, db, c.ID, "2025-09")
	if len(got) != 2 || got[0].CarrierOrderID != "1" || got[1].CarrierOrderID != "2" {
		t.Fatalf("EachOrder = %+v, want orders 1 and 2 in order", got)
	}
	if got[0].UserStatus != "3" || got[1].UserStatus != "1" {
		t.Errorf("user status = %q, %q; want 3 (given) and 1 (default)", got[0].UserStatus, got[1].UserStatus)
	}
	o := got[1]
	if !o.KdSaleTotal.Equal(a.KdSaleTotal) || !o.SkuPrice.Equal(a.SkuPrice) || !o.KdActiveTime.Equal(a.KdActiveTime) || o.KdPackageID != "p1" || o.Channel != "0" {
		t.Errorf("order round trip = %+v, want %+v", o, a)
	}
	// Re-import upserts by carrierOrderId and billingCycle.
	a.KdSaleTotal = decimal.RequireFromString("12.345678")
	a.KdPackageID = "p2"
	importOrders(t, db, c.ID, a)
	got = collect(t, db, c.ID, "2025-09")
	if len(got) != 2 || got[1].KdPackageID != "p2" || got[1].KdSaleTotal.String() != "12.345678" {
		t.Errorf("after upsert = %+v", got)
	}
	var keys []trueup.Order
	if err := db.EachOrderKey(context.Background(), c.ID, "2025-09", func(o trueup.Order) error { keys = append(keys, o); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[1].CarrierOrderID != "2" || keys[1].KdPackageID != "p2" || !keys[1].KdSaleTotal.Equal(a.KdSaleTotal) ||
		!keys[1].KdActiveTime.Equal(a.KdActiveTime) || keys[1].SkuCode != a.SkuCode {
		t.Errorf("EachOrderKey = %+v", keys)
	}
	var some []trueup.Order
	if err := db.OrdersByID(context.Background(), c.ID, "2025-09", []string{"2", "missing", "1"}, func(o trueup.Order) error { some = append(some, o); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(some) != 2 || some[0].CarrierOrderID != "1" || some[0].UserStatus != "3" || some[1].KdOrderID != "kd2" {
		t.Errorf("OrdersByID = %+v", some)
	}
	if n, _ := db.CountOrders(context.Background(), c.ID, ""); n != 3 {
		t.Errorf("CountOrders = %d, want 3", n)
	}
	if n, _ := db.CountOrders(context.Background(), other.ID, "2025-09"); n != 1 {
		t.Errorf("CountOrders(other) = %d, want 1", n)
	}
}

func testOrderImportRollback(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := MustCarrier(t, db, "Epsilon")
	imp, err := db.BeginOrderImport(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, Order("1", "2025-09")); err != nil {
		t.Fatal(err)
	}
	imp.Rollback()
	if got := collect(t, db, c.ID, "2025-09"); len(got) != 0 {
		t.Errorf("rolled back import left %d orders", len(got))
	}
	if _, err := db.BeginOrderImport(ctx, "car_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("import for missing carrier: err = %v", err)
	}
}

func testJobsClaimAndComplete(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db.Clock = clock
	id, err := db.EnqueueJob(ctx, nil, "k", `{"a":1}`, 3, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{"other"}, time.Minute); ok {
		t.Errorf("claimed a job of another kind")
	}
	job, ok, err := db.ClaimJob(ctx, "w1", []string{"k"}, time.Minute)
	if err != nil || !ok || job.ID != id || job.Attempt != 1 || job.Args != `{"a":1}` {
		t.Fatalf("ClaimJob = %+v, %v, %v", job, ok, err)
	}
	if _, ok, _ := db.ClaimJob(ctx, "w2", []string{"k"}, time.Minute); ok {
		t.Errorf("claimed a job that is held")
	}
	if err := db.CompleteJob(ctx, job); err != nil {
		t.Fatalf("CompleteJob: %v", err)
	}
	if err := db.CompleteJob(ctx, job); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Errorf("second CompleteJob err = %v, want ErrLeaseLost", err)
	}
	got, _ := db.Job(ctx, id)
	if got.State != trueup.JobCompleted {
		t.Errorf("state = %s, want completed", got.State)
	}
	// A job scheduled later is not claimed before its time.
	later, _ := db.EnqueueJob(ctx, nil, "k", `{}`, 1, clock.Now().Add(time.Hour))
	if _, ok, _ := db.ClaimJob(ctx, "w", []string{"k"}, time.Minute); ok {
		t.Errorf("claimed a job before its run_at")
	}
	clock.Advance(time.Hour)
	if j, ok, _ := db.ClaimJob(ctx, "w", []string{"k"}, time.Minute); !ok || j.ID != later {
		t.Errorf("did not claim the due job")
	}
}

func testJobsLeaseLapse(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db.Clock = clock
	id, _ := db.EnqueueJob(ctx, nil, "k", `{}`, 5, time.Time{})
	first, ok, _ := db.ClaimJob(ctx, "dead", []string{"k"}, 10*time.Second)
	if !ok {
		t.Fatal("no claim")
	}
	clock.Advance(5 * time.Second)
	if err := db.ExtendJob(ctx, first, 10*time.Second); err != nil {
		t.Fatalf("ExtendJob: %v", err)
	}
	clock.Advance(9 * time.Second)
	if _, ok, _ := db.ClaimJob(ctx, "w2", []string{"k"}, 10*time.Second); ok {
		t.Fatalf("claimed a job whose lease was extended")
	}
	clock.Advance(2 * time.Second) // the lease lapsed: the worker died
	second, ok, _ := db.ClaimJob(ctx, "w2", []string{"k"}, 10*time.Second)
	if !ok || second.ID != id || second.Attempt != 2 {
		t.Fatalf("re-claim = %+v, %v", second, ok)
	}
	if err := db.CompleteJob(ctx, first); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Errorf("stale worker completed the job: err = %v", err)
	}
	if err := db.ExtendJob(ctx, first, time.Minute); !errors.Is(err, trueup.ErrLeaseLost) {
		t.Errorf("stale worker extended the job: err = %v", err)
	}
	if err := db.CompleteJob(ctx, second); err != nil {
		t.Errorf("CompleteJob: %v", err)
	}
	if err := db.ExtendJob(ctx, second, time.Minute); err != nil {
		t.Errorf("ExtendJob of a job its own attempt completed = %v, want nil (not lost)", err)
	}
}

func testJobsRetry(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	db.Clock = clock
	id, _ := db.EnqueueJob(ctx, nil, "k", `{}`, 2, time.Time{})
	j, _, _ := db.ClaimJob(ctx, "w", []string{"k"}, time.Minute)
	if err := db.FailJob(ctx, j, "boom", clock.Now().Add(time.Second)); err != nil {
		t.Fatalf("FailJob: %v", err)
	}
	if got, _ := db.Job(ctx, id); got.State != trueup.JobAvailable || got.LastError != "boom" {
		t.Errorf("after first failure: %+v", got)
	}
	clock.Advance(time.Second)
	j, ok, _ := db.ClaimJob(ctx, "w", []string{"k"}, time.Minute)
	if !ok || j.Attempt != 2 {
		t.Fatalf("retry claim = %+v, %v", j, ok)
	}
	if err := db.FailJob(ctx, j, "boom again", clock.Now()); err != nil {
		t.Fatalf("FailJob: %v", err)
	}
	if got, _ := db.Job(ctx, id); got.State != trueup.JobFailed {
		t.Errorf("state = %s, want failed after the last attempt", got.State)
	}
	counts, err := db.JobCounts(ctx)
	if err != nil || counts[trueup.JobFailed] != 1 {
		t.Errorf("JobCounts = %v, %v", counts, err)
	}
}

func testReady(t *testing.T, db *sqlstore.DB) {
	if err := db.Ready(context.Background()); err != nil {
		t.Errorf("Ready: %v", err)
	}
	// Migrate is idempotent.
	if err := db.Migrate(context.Background()); err != nil {
		t.Errorf("second Migrate: %v", err)
	}
	// A database behind the binary's migrations is told apart from one
	// that does not answer.
	if _, err := db.SQL().ExecContext(context.Background(), `DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`); err != nil {
		t.Fatalf("forget a migration: %v", err)
	}
	if err := db.Ready(context.Background()); !errors.Is(err, trueup.ErrPendingMigrations) {
		t.Errorf("Ready with a migration pending = %v, want ErrPendingMigrations", err)
	}
}
