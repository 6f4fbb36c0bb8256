package risk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/storetest"
)

// countingStore counts the look-ups and leases that reach the store.
type countingStore struct {
	*sqlstore.RiskStore
	lookups, leases atomic.Int64
}

func (s *countingStore) RiskRecords(ctx context.Context, q risk.Query) ([]risk.Record, error) {
	s.lookups.Add(1)
	return s.RiskStore.RiskRecords(ctx, q)
}

func (s *countingStore) LeaseRiskQuota(ctx context.Context, id risk.ClientID, want int64) (int64, int64, error) {
	s.leases.Add(1)
	return s.RiskStore.LeaseRiskQuota(ctx, id, want)
}

func openService(t *testing.T) (*risk.Service, *countingStore) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &countingStore{RiskStore: db.RiskStore()}
	svc := risk.New(st)
	svc.Clock = clock.At(time.Date(2022, 10, 3, 12, 0, 0, 0, time.UTC))
	svc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return svc, st
}

func newKey(t *testing.T, svc *risk.Service, p risk.CreateClientParams) risk.Credentials {
	t.Helper()
	cred, err := svc.CreateClient(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func check(t *testing.T, svc *risk.Service, cred risk.Credentials, number string) risk.CheckResult {
	t.Helper()
	res, err := svc.Check(context.Background(), risk.CheckRequest{APIID: string(cred.ID), APISecret: cred.APISecret, MobileNo: risk.Text(risk.HashMobile(number).String())})
	if err != nil {
		t.Fatalf("check %s: %v", number, err)
	}
	return res
}

// TestRiskFilter checks that misses are answered from the filter once it
// is built, that hits still reach the store, and that an import reaches
// the checks within FilterRecheck.
func TestRiskFilter(t *testing.T) {
	svc, st := openService(t)
	var recs []risk.Record
	for i := range 1000 {
		recs = append(recs, storetest.RiskRecord(fmt.Sprint(910000000000+i), "2022-10-01", risk.SourceSMS, "c", -1, 4))
	}
	storetest.MustImportRisk(t, st.RiskStore, risk.ImportOptions{}, recs...)
	cred := newKey(t, svc, risk.CreateClientParams{Name: "filter"})

	deadline := time.Now().Add(5 * time.Second)
	for i := 0; ; i++ {
		before := st.lookups.Load()
		check(t, svc, cred, fmt.Sprint(920000000000+i))
		if st.lookups.Load() == before {
			break // answered without the store: the filter is in use
		}
		if time.Now().After(deadline) {
			t.Fatal("the filter was not in use after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := st.lookups.Load()
	for i := range 200 {
		if res := check(t, svc, cred, fmt.Sprint(930000000000+i)); res.Target() {
			t.Fatalf("number not on the list answered %+v", res)
		}
	}
	if n := st.lookups.Load() - before; n > 10 {
		t.Errorf("%d of 200 misses reached the store, want about 2", n)
	}
	for i := range 1000 {
		if res := check(t, svc, cred, fmt.Sprint(910000000000+i)); !res.Target() {
			t.Fatalf("number %d on the list answered a miss", i)
		}
	}

	storetest.MustImportRisk(t, st.RiskStore, risk.ImportOptions{}, storetest.RiskRecord("447900000001", "2022-10-02", risk.SourceSeat, "n", 3, 5))
	svc.Clock.(*clock.Settable).Advance(risk.FilterRecheck)
	if res := check(t, svc, cred, "447900000001"); len(res.Records) != 1 {
		t.Errorf("%v after an import, want the new record", res)
	}

	// A clock set back makes the recheck due at once.
	storetest.MustImportRisk(t, st.RiskStore, risk.ImportOptions{}, storetest.RiskRecord("447900000002", "2022-10-02", risk.SourceSeat, "n", 3, 5))
	svc.Clock.(*clock.Settable).Advance(-time.Hour)
	if res := check(t, svc, cred, "447900000002"); len(res.Records) != 1 {
		t.Errorf("%v after an import and the clock set back, want the new record", res)
	}
}

// TestRiskLeases checks that a busy key takes its quota from the store in
// growing blocks, and that the quota is never exceeded.
func TestRiskLeases(t *testing.T) {
	svc, st := openService(t)
	svc.NoFilter = true
	cred := newKey(t, svc, risk.CreateClientParams{Name: "busy"})
	for range 2000 {
		check(t, svc, cred, "1")
	}
	if n := st.leases.Load(); n > 100 {
		t.Errorf("2000 calls took %d leases, want far fewer", n)
	}
	c, _ := svc.Client(context.Background(), cred.ID)
	if c.QuotaUsed < 2000 || c.QuotaUsed > 2000+8192 {
		t.Errorf("quotaUsed %d after 2000 calls", c.QuotaUsed)
	}

	limited := newKey(t, svc, risk.CreateClientParams{Name: "limited", Quota: 1500})
	ok := 0
	for range 1600 {
		_, err := svc.Check(context.Background(), risk.CheckRequest{APIID: string(limited.ID), APISecret: limited.APISecret, MobileNo: risk.Text(risk.HashMobile("1").String())})
		if err == nil {
			ok++
		} else if trueup.ErrorReason(err) != risk.ReasonOutOfQuota {
			t.Fatal(err)
		}
	}
	if ok != 1500 {
		t.Errorf("%d calls answered with a quota of 1500", ok)
	}
}

// TestRiskStoreBusy holds the SQLite write lock with an open import, as a
// long import does, and checks that calls go on: counted by the server
// against the rate and the quota it knows, and recorded once the lock is
// released.
func TestRiskStoreBusy(t *testing.T) {
	svc, st := openService(t)
	svc.NoFilter = true
	ctx := context.Background()
	free := newKey(t, svc, risk.CreateClientParams{Name: "free"})
	quota := newKey(t, svc, risk.CreateClientParams{Name: "quota", Quota: 3})
	rate := newKey(t, svc, risk.CreateClientParams{Name: "rate", Rate: 2})
	check(t, svc, quota, "1") // one call recorded before the import

	imp, err := st.BeginRiskImport(ctx, risk.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	outcomes := func(cred risk.Credentials, n int) map[string]int {
		got := map[string]int{}
		for range n {
			_, err := svc.Check(ctx, risk.CheckRequest{APIID: string(cred.ID), APISecret: cred.APISecret, MobileNo: risk.Text(risk.HashMobile("1").String())})
			status := "ok"
			if k := trueup.ErrorKind(err); k != "" && k != trueup.EINTERNAL {
				status = k + "/" + string(trueup.ErrorReason(err))
			} else if err != nil {
				t.Fatal(err)
			}
			got[status]++
		}
		return got
	}
	if got := outcomes(free, 5); got["ok"] != 5 {
		t.Errorf("unlimited key while the store is busy: %v", got)
	}
	if got := outcomes(quota, 4); got["ok"] != 2 || got[trueup.EFORBIDDEN+"/"+string(risk.ReasonOutOfQuota)] != 2 {
		t.Errorf("quota 3 (1 used) while the store is busy: %v, want 2 OK and 2 OUT_OF_QUOTA", got)
	}
	if got := outcomes(rate, 4); got["ok"] != 2 || got[trueup.ERATELIMIT+"/"] != 2 {
		t.Errorf("rate 2 while the store is busy: %v, want 2 OK and 2 RATE_LIMIT_EXCEEDED", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("13 calls took %s while the store was busy", d)
	}
	imp.Rollback()

	// Once the store answers again, the calls served meanwhile are recorded.
	svc.Clock.(*clock.Settable).Advance(risk.StoreBusyBackoff + time.Millisecond)
	check(t, svc, free, "1")
	if c, _ := svc.Client(ctx, free.ID); c.QuotaUsed < 6 {
		t.Errorf("unlimited key used %d, want at least the 6 calls made", c.QuotaUsed)
	}
	if got := outcomes(quota, 1); got[trueup.EFORBIDDEN+"/"+string(risk.ReasonOutOfQuota)] != 1 {
		t.Errorf("quota key after the import: %v, want OUT_OF_QUOTA", got)
	}
	if c, _ := svc.Client(ctx, quota.ID); c.QuotaUsed != 3 {
		t.Errorf("quota key used %d, want 3", c.QuotaUsed)
	}
}
