package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/sqlstore"
)

// runLedger runs the tests of the bulk ledger import.
func runLedger(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"LedgerBulkImport", testLedgerBulkImport},
		{"LedgerUserStatus", testLedgerUserStatus},
		{"LedgerDuplicateInFile", testLedgerDuplicateInFile},
		{"LedgerWriteFailureRollsBack", testLedgerWriteFailureRollsBack},
		{"LedgerRepeatedRows", testLedgerRepeatedRows},
		{"LedgerReimportMixed", testLedgerReimportMixed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// bulkOrders is how many orders the bulk tests write: more than one
// multi-row INSERT, with a tail.
const bulkOrders = 1234

// writeLedgerCSV writes the orders of spec as an order file and returns its
// path.
func writeLedgerCSV(tb testing.TB, spec gen.Spec, extra ...string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "orders.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := spec.WriteLedgerCSV(f); err != nil {
		tb.Fatalf("write ledger: %v", err)
	}
	for _, line := range extra {
		if _, err := f.WriteString(line + "\n"); err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// importFile imports the order file at path through ledger.Service.
func importFile(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, path string) (int64, error) {
	tb.Helper()
	src, err := ledger.OpenFile(path, sheet.Limits{})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer src.Close()
	return ledger.New(db).Import(context.Background(), ledger.ImportParams{Carrier: c, Source: src})
}

func testLedgerBulkImport(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Bulk")
	spec := gen.Spec{Orders: bulkOrders, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 7}
	n, err := importFile(t, db, c.ID, writeLedgerCSV(t, spec))
	if err != nil || n != bulkOrders {
		t.Fatalf("import = %d, %v; want %d orders", n, err, bulkOrders)
	}
	check := func(spec gen.Spec) {
		t.Helper()
		got := collect(t, db, c.ID, "2025-09")
		if len(got) != spec.Orders {
			t.Fatalf("stored %d orders, want %d", len(got), spec.Orders)
		}
		for i, o := range got {
			want := spec.Order(i)
			if o.CarrierOrderID != want.CarrierOrderID || o.KdOrderID != want.KdOrderID || o.CarrierUserID != want.CarrierUserID ||
				o.KdUserID != want.KdUserID || o.SkuCode != want.SkuCode || !o.SkuPrice.Equal(want.SkuPrice) || o.KdPackageID != want.KdPackageID ||
				!o.KdActiveTime.Equal(want.KdActiveTime) || !o.KdEndTime.Equal(want.KdEndTime) || !o.KdOrderTime.Equal(want.KdOrderTime) ||
				!o.KdSaleTotal.Equal(want.KdSaleTotal) || o.Channel != want.Channel || o.UserStatus != "1" {
				t.Fatalf("order %d = %+v, want %+v with status 1", i, o, want)
			}
		}
	}
	check(spec)
	// Re-importing the same file changes nothing; a file with other
	// values (another seed) replaces them, order by order.
	if n, err := importFile(t, db, c.ID, writeLedgerCSV(t, spec)); err != nil || n != bulkOrders {
		t.Fatalf("re-import = %d, %v", n, err)
	}
	check(spec)
	spec.Seed = 8
	if n, err := importFile(t, db, c.ID, writeLedgerCSV(t, spec)); err != nil || n != bulkOrders {
		t.Fatalf("re-import with changed values = %d, %v", n, err)
	}
	check(spec)
	if n, _ := db.CountOrders(context.Background(), c.ID, ""); n != bulkOrders {
		t.Errorf("CountOrders = %d after re-imports, want %d", n, bulkOrders)
	}
	// OrdersByID finds every order, in order, across its chunks.
	ids := make([]string, 0, bulkOrders+1)
	for i := 0; i < bulkOrders; i++ {
		ids = append(ids, spec.Order(i).CarrierOrderID)
	}
	ids = append(ids, "CO999999999999")
	var found []string
	if err := db.OrdersByID(context.Background(), c.ID, "2025-09", ids, func(o trueup.Order) error {
		found = append(found, o.CarrierOrderID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(found) != bulkOrders || found[0] != ids[0] || found[bulkOrders-1] != ids[bulkOrders-1] {
		t.Errorf("OrdersByID found %d orders, want %d in order", len(found), bulkOrders)
	}
}

func testLedgerUserStatus(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Status")
	order := func(id, user, kdUser, status string) trueup.Order {
		o := Order(id, "2025-09")
		o.CarrierUserID, o.KdUserID, o.UserStatus = user, kdUser, status
		return o
	}
	// The last non-empty status of a user in an import wins, its last
	// order gives kdUserId; a new user without one is active (1).
	importOrders(t, db, c.ID, order("1", "ua", "k1", "2"), order("2", "ua", "k2", ""), order("3", "ub", "k3", ""), order("4", "uc", "k4", "3"), order("5", "uc", "k5", "4"))
	statuses := func() map[string]string {
		t.Helper()
		m := map[string]string{}
		for _, o := range collect(t, db, c.ID, "2025-09") {
			m[o.CarrierOrderID] = o.CarrierUserID + ":" + o.KdUserID + ":" + o.UserStatus
		}
		return m
	}
	want := map[string]string{"1": "ua:k1:2", "2": "ua:k2:2", "3": "ub:k3:1", "4": "uc:k4:4", "5": "uc:k5:4"}
	if got := statuses(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after first import = %v, want %v", got, want)
	}
	// Re-import: an empty status keeps the stored one, a given one
	// replaces it.
	importOrders(t, db, c.ID, order("1", "ua", "k1", ""), order("3", "ub", "k3", "5"))
	want = map[string]string{"1": "ua:k1:2", "2": "ua:k2:2", "3": "ub:k3:5", "4": "uc:k4:4", "5": "uc:k5:4"}
	if got := statuses(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after re-import = %v, want %v", got, want)
	}
}

func testLedgerDuplicateInFile(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Duplicates")
	spec := gen.Spec{Orders: 600, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 1}
	var dup strings.Builder
	if err := (gen.Spec{Orders: 1, Cycle: spec.Cycle, Seed: 2}).WriteLedgerCSV(&dup); err != nil {
		t.Fatal(err)
	}
	line := strings.Split(strings.TrimSpace(dup.String()), "\n")[1]
	_, err := importFile(t, db, c.ID, writeLedgerCSV(t, spec, line))
	var bad *ledger.ImportError
	if !errors.As(err, &bad) || bad.Total != 1 || bad.Rows[0].Row != 602 || bad.Rows[0].Column != "carrierOrderId" ||
		!strings.Contains(bad.Rows[0].Reason, "already appears in row 2") {
		t.Fatalf("import with a repeated order: err = %v, want one row error at row 602 naming row 2", err)
	}
	if n, _ := db.CountOrders(context.Background(), c.ID, ""); n != 0 {
		t.Errorf("a refused file stored %d orders, want 0", n)
	}
}

func testLedgerWriteFailureRollsBack(t *testing.T, db *sqlstore.DB) {
	c := MustCarrier(t, db, "Failure")
	before := Order("kept", "2025-09")
	importOrders(t, db, c.ID, before)
	ctx, cancel := context.WithCancel(context.Background())
	imp, err := db.BeginOrderImport(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Rollback()
	changed := before
	changed.KdSaleTotal = decimal.RequireFromString("99")
	if err := imp.Add(ctx, changed); err != nil {
		t.Fatal(err)
	}
	// Writes happen in pieces: cancel, then add until a piece is written
	// and fails.
	cancel()
	var addErr error
	for i := 0; i < 100000 && addErr == nil; i++ {
		addErr = imp.Add(ctx, Order(fmt.Sprintf("x%06d", i), "2025-09"))
	}
	if addErr == nil {
		t.Fatal("Add with a cancelled context never failed")
	}
	imp.Rollback()
	got := collect(t, db, c.ID, "2025-09")
	if len(got) != 1 || !got[0].KdSaleTotal.Equal(before.KdSaleTotal) {
		t.Errorf("after a failed import the ledger holds %+v, want only the order imported before, unchanged", got)
	}
}

// BenchOrders is how many orders each run of BenchmarkLedgerImport imports.
const BenchOrders = 200_000

// BenchmarkLedgerImport measures `trueup import orders` without the
// command: ledger.Service reading a generated CSV of BenchOrders orders
// into a fresh carrier (insert), then the same file again (re-import,
// every order an upsert). It reports orders/s.
func BenchmarkLedgerImport(b *testing.B, open Opener) {
	db := open(b)
	spec := gen.Spec{Orders: BenchOrders, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 1}
	path := writeLedgerCSV(b, spec)
	carriers := 0
	for _, reimport := range []bool{false, true} {
		name := map[bool]string{false: "insert", true: "reimport"}[reimport]
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				carriers++
				c := MustCarrier(b, db, fmt.Sprintf("Bench %d", carriers))
				if reimport {
					if _, err := importFile(b, db, c.ID, path); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if n, err := importFile(b, db, c.ID, path); err != nil || n != BenchOrders {
					b.Fatalf("import = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*BenchOrders)/b.Elapsed().Seconds(), "orders/s")
			if kib := peakRSSKiB(); kib > 0 {
				b.ReportMetric(float64(kib)/1024, "peak-RSS-MiB")
			}
		})
	}
}

// peakRSSKiB returns the process's peak resident set (VmHWM, KiB) where
// /proc tells it, else 0. Within a benchmark run it is the peak of every
// import so far: with bounded memory it stays flat as the ledger grows.
func peakRSSKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kib)
			return kib
		}
	}
	return 0
}
