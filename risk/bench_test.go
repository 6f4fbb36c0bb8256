package risk_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlite"
)

// BenchmarkRiskRecords measures one look-up of the list in an existing
// SQLite data directory (TRUEUP_BENCH_RISK_DATA, as TestRiskBenchmark
// leaves it in TRUEUP_BENCH_RISK_DIR/data); it skips otherwise.
func BenchmarkRiskRecords(b *testing.B) {
	dir := os.Getenv("TRUEUP_BENCH_RISK_DATA")
	if dir == "" {
		b.Skip("set TRUEUP_BENCH_RISK_DATA to a data directory holding a risk list")
	}
	db, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st := db.RiskStore()
	defer st.Close()
	today := risk.DayOf(time.Now())
	for _, tc := range []struct {
		name string
		off  int
	}{{"hit", 0}, {"miss", 1 << 30}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					q := risk.Query{Mobile: risk.HashMobile(strconv.Itoa(910000000000 + (i*7919)%300000 + tc.off)), From: today - 89, To: today}
					if _, err := st.RiskRecords(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
