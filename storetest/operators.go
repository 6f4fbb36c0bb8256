package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trueup/trueup"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/sqlstore"
)

// runOperators runs the cases of the console's storage: operators, their
// sign-in failures and their sessions.
func runOperators(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"Operators", testOperators},
		{"OperatorSignInFailures", testOperatorSignInFailures},
		{"OperatorSessions", testOperatorSessions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// MustOperator stores an operator of role with email and returns it.
func MustOperator(tb testing.TB, s operator.Store, email string, role operator.Role) operator.Operator {
	tb.Helper()
	o := operator.Operator{ID: operator.ID(trueup.NewID("op_")), Email: email, Role: role, PasswordHash: "$argon2id$x",
		CreatedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	if err := s.CreateOperator(context.Background(), o); err != nil {
		tb.Fatalf("create operator: %v", err)
	}
	return o
}

func testOperators(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	a := MustOperator(t, db, "ana@example.com", operator.RoleAdmin)
	c := MustCarrier(t, db, "Operators Co")
	b := operator.Operator{ID: "op_b", Email: "bo@example.com", Role: operator.RoleCarrier, CarrierID: c.ID, PasswordHash: "h",
		CreatedAt: a.CreatedAt.Add(time.Minute)}
	if err := db.CreateOperator(ctx, b); err != nil {
		t.Fatalf("CreateOperator: %v", err)
	}
	dup := b
	dup.ID = "op_dup"
	if err := db.CreateOperator(ctx, dup); trueup.ErrorKind(err) != trueup.ECONFLICT {
		t.Errorf("duplicate email: err = %v, want conflict", err)
	}
	got, err := db.OperatorByEmail(ctx, "bo@example.com")
	if err != nil || got.ID != b.ID || got.CarrierID != c.ID || got.Role != operator.RoleCarrier || !got.CreatedAt.Equal(b.CreatedAt) || got.DisabledAt != nil {
		t.Errorf("OperatorByEmail = %+v, %v; want %+v", got, err, b)
	}
	if _, err := db.OperatorByEmail(ctx, "nobody@example.com"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("OperatorByEmail(missing) err = %v, want not found", err)
	}
	if _, err := db.Operator(ctx, "op_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Operator(missing) err = %v, want not found", err)
	}
	list, err := db.Operators(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Errorf("Operators = %+v, %v; want [%s %s]", list, err, a.ID, b.ID)
	}
	viewer, none, yes := operator.RoleViewer, trueup.CarrierID(""), true
	at := a.CreatedAt.Add(time.Hour)
	got, err = db.UpdateOperator(ctx, operator.UpdateParams{ID: b.ID, Role: &viewer, CarrierID: &none, Disabled: &yes, At: at})
	if err != nil || got.Role != viewer || got.CarrierID != "" || got.DisabledAt == nil || !got.DisabledAt.Equal(at) {
		t.Errorf("UpdateOperator = %+v, %v", got, err)
	}
	no := false
	if got, err = db.UpdateOperator(ctx, operator.UpdateParams{ID: b.ID, Disabled: &no}); err != nil || got.DisabledAt != nil {
		t.Errorf("enable: %+v, %v", got, err)
	}
	if _, err := db.UpdateOperator(ctx, operator.UpdateParams{ID: "op_missing", Role: &viewer}); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("UpdateOperator(missing) err = %v, want not found", err)
	}
}

func testOperatorSignInFailures(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	o := MustOperator(t, db, "fail@example.com", operator.RoleViewer)
	at := time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)
	until := at.Add(15 * time.Minute)
	for i := 1; i <= 3; i++ {
		got, err := db.RecordSignInFailure(ctx, operator.FailureParams{ID: o.ID, At: at, LockAt: 3, LockUntil: until})
		if err != nil {
			t.Fatalf("RecordSignInFailure %d: %v", i, err)
		}
		if got.FailedSignIns != i || got.LastFailedAt == nil || !got.LastFailedAt.Equal(at) {
			t.Errorf("failure %d: %+v", i, got)
		}
		if locked := got.LockedUntil != nil; locked != (i == 3) {
			t.Errorf("failure %d: locked until %v, want locked %v", i, got.LockedUntil, i == 3)
		}
	}
	got, err := db.UpdateOperator(ctx, operator.UpdateParams{ID: o.ID, ResetFailures: true})
	if err != nil || got.FailedSignIns != 0 || got.LockedUntil != nil || got.LastFailedAt != nil {
		t.Errorf("reset: %+v, %v", got, err)
	}
	if _, err := db.RecordSignInFailure(ctx, operator.FailureParams{ID: "op_missing", At: at}); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("RecordSignInFailure(missing) err = %v, want not found", err)
	}
}

func testOperatorSessions(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	o := MustOperator(t, db, "sess@example.com", operator.RoleOperator)
	now := clock.Now()
	s := operator.Session{TokenHash: trueup.HashSecret("tok"), OperatorID: o.ID, CSRFToken: "csrf", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	old := operator.Session{TokenHash: trueup.HashSecret("old"), OperatorID: o.ID, CSRFToken: "c2", CreatedAt: now.Add(-2 * time.Hour), LastSeenAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}
	if err := db.CreateSession(ctx, old); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	got, op, err := db.SessionByHash(ctx, s.TokenHash)
	if err != nil || got.OperatorID != o.ID || got.CSRFToken != "csrf" || !got.ExpiresAt.Equal(s.ExpiresAt) || op.Email != o.Email || op.Role != o.Role {
		t.Fatalf("SessionByHash = %+v, %+v, %v", got, op, err)
	}
	later := now.Add(5 * time.Minute)
	if err := db.TouchSession(ctx, s.TokenHash, later); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	if err := db.SetSessionFlash(ctx, s.TokenHash, "Saved."); err != nil {
		t.Fatalf("SetSessionFlash: %v", err)
	}
	if got, _, _ = db.SessionByHash(ctx, s.TokenHash); !got.LastSeenAt.Equal(later) || got.Flash != "Saved." {
		t.Errorf("after touch and flash: %+v", got)
	}
	n, err := db.DeleteExpiredSessions(ctx, operator.ExpireParams{Now: now, IdleSince: now.Add(-30 * time.Minute)})
	if err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if _, _, err := db.SessionByHash(ctx, old.TokenHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("expired session still there: %v", err)
	}
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if err := db.DeleteSession(ctx, s.TokenHash); err != nil {
		t.Errorf("DeleteSession twice: %v", err)
	}
	if _, _, err := db.SessionByHash(ctx, s.TokenHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("deleted session still there: %v", err)
	}
	s2 := s
	s2.TokenHash = trueup.HashSecret("tok2")
	if err := db.CreateSession(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteOperatorSessions(ctx, o.ID); err != nil {
		t.Fatalf("DeleteOperatorSessions: %v", err)
	}
	if _, _, err := db.SessionByHash(ctx, s2.TokenHash); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("operator's session still there: %v", err)
	}
}
