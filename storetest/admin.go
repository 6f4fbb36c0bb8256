package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/sqlstore"
)

// runAdmin runs the cases of the admin API's storage: keys and imports.
func runAdmin(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"APIKeys", testAPIKeys},
		{"Imports", testImports},
		{"AbandonImports", testAbandonImports},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func testAPIKeys(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	clock := testclock.At(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	svc := &apikey.Service{Store: db, Clock: clock}
	a, err := svc.Create(ctx, apikey.CreateParams{Name: "billing-sync"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	clock.Advance(time.Minute)
	b, err := svc.Create(ctx, apikey.CreateParams{Name: "console"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if a.Key == b.Key || a.KeyID == b.KeyID || len(a.Key) != len(apikey.Prefix)+43 {
		t.Errorf("keys %q and %q: want two distinct 256-bit keys", a.Key, b.Key)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.KeyID || list[1].ID != b.KeyID {
		t.Fatalf("List = %+v, %v; want %s then %s", list, err, a.KeyID, b.KeyID)
	}
	if list[0].Hash != trueup.HashSecret(a.Key) || list[0].Hash == a.Key {
		t.Errorf("stored hash %q is not the SHA-256 of the key", list[0].Hash)
	}
	got, err := svc.Authenticate(ctx, "Bearer "+a.Key)
	if err != nil || got.ID != a.KeyID || got.Name != "billing-sync" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	clock.Advance(time.Minute)
	rev, err := svc.Revoke(ctx, a.KeyID)
	if err != nil || rev.RevokedAt == nil || !rev.RevokedAt.Equal(clock.Now()) {
		t.Fatalf("Revoke = %+v, %v; want revoked at %s", rev, err, clock.Now())
	}
	clock.Advance(time.Minute)
	again, err := svc.Revoke(ctx, a.KeyID)
	if err != nil || !again.RevokedAt.Equal(*rev.RevokedAt) {
		t.Errorf("second Revoke = %+v, %v; want the first revocation time kept", again, err)
	}
	if _, err := svc.Revoke(ctx, "key_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Revoke(missing) err = %v, want not found", err)
	}
	for _, tt := range []struct{ name, header string }{
		{"revoked", "Bearer " + a.Key},
		{"unknown", "Bearer tuk_nothing"},
		{"missing", ""},
		{"basic", "Basic " + b.Key},
	} {
		if _, err := svc.Authenticate(ctx, tt.header); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("Authenticate(%s) err = %v, want unauthorized", tt.name, err)
		}
	}
	if _, err := svc.Authenticate(ctx, "bearer "+b.Key); err != nil {
		t.Errorf("Authenticate(lowercase scheme) err = %v, want nil", err)
	}
	if _, err := svc.Create(ctx, apikey.CreateParams{Name: "  "}); trueup.ErrorKind(err) != trueup.EINVALID {
		t.Errorf("Create(blank name) err = %v, want invalid", err)
	}
}

func testImports(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	im := imports.Import{ID: "imp_1", Kind: imports.KindOrders, Target: "car_1", FileName: "orders.csv", State: imports.Running, KeyID: "key_1", CreatedAt: at}
	if err := db.CreateImport(ctx, im); err != nil {
		t.Fatalf("CreateImport: %v", err)
	}
	got, err := db.Import(ctx, "imp_1")
	if err != nil || got.State != imports.Running || got.Kind != imports.KindOrders || got.Target != "car_1" || !got.CreatedAt.Equal(at) || got.RowErrors == nil || got.FinishedAt != nil {
		t.Fatalf("Import = %+v, %v", got, err)
	}
	errs := []trueup.RowError{{Row: 3, Column: "kdSaleTotal", Value: "x", Reason: "not a decimal"}}
	if err := db.FinishImport(ctx, imports.FinishParams{ID: "imp_1", State: imports.Failed, RowsRead: 10, ErrorCount: 1, RowErrors: errs, Reason: "1 row error(s)", At: at.Add(time.Second)}); err != nil {
		t.Fatalf("FinishImport: %v", err)
	}
	got, err = db.Import(ctx, "imp_1")
	if err != nil || got.State != imports.Failed || got.RowsRead != 10 || got.ErrorCount != 1 || len(got.RowErrors) != 1 || got.RowErrors[0] != errs[0] || got.FinishedAt == nil {
		t.Fatalf("Import after finish = %+v, %v", got, err)
	}
	if err := db.CreateImport(ctx, imports.Import{ID: "imp_2", Kind: imports.KindRisk, FileName: "risk.jsonl", State: imports.Running, KeyID: "key_1", CreatedAt: at.Add(time.Minute)}); err != nil {
		t.Fatalf("CreateImport: %v", err)
	}
	list, err := db.Imports(ctx, 10)
	if err != nil || len(list) != 2 || list[0].ID != "imp_2" || list[1].ID != "imp_1" {
		t.Errorf("Imports = %+v, %v; want imp_2 then imp_1", list, err)
	}
	if _, err := db.Import(ctx, "imp_missing"); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("Import(missing) err = %v, want not found", err)
	}
	if err := db.FinishImport(ctx, imports.FinishParams{ID: "imp_missing", State: imports.Succeeded, At: at}); trueup.ErrorKind(err) != trueup.ENOTFOUND {
		t.Errorf("FinishImport(missing) err = %v, want not found", err)
	}
}

func testAbandonImports(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i, st := range []imports.State{imports.Running, imports.Succeeded, imports.Running} {
		im := imports.Import{ID: imports.ID("imp_" + string(rune('a'+i))), Kind: imports.KindRisk, FileName: "f", State: st, KeyID: "k", CreatedAt: at.Add(time.Duration(i) * time.Minute)}
		if err := db.CreateImport(ctx, im); err != nil {
			t.Fatalf("CreateImport: %v", err)
		}
	}
	n, err := db.AbandonImports(ctx, imports.AbandonParams{Before: at.Add(90 * time.Second), Reason: "stopped", At: at.Add(time.Hour)})
	if err != nil || n != 1 {
		t.Fatalf("AbandonImports = %d, %v; want 1 (the running import created before the cut-off)", n, err)
	}
	for id, want := range map[imports.ID]imports.State{"imp_a": imports.Failed, "imp_b": imports.Succeeded, "imp_c": imports.Running} {
		if got, err := db.Import(ctx, id); err != nil || got.State != want {
			t.Errorf("Import(%s) state = %s, %v; want %s", id, got.State, err, want)
		}
	}
}
