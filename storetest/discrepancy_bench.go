package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
)

// BenchmarkDiscrepancyWriter times storing a batch's discrepancies through
// the engine's DiscrepancyWriter, as a check does beside its matching:
// TRUEUP_BENCH_ROWS discrepancies (default 200,000, what a million-row
// statement of trueup-bench yields), the four kinds in turn, the fields of
// generated ledger orders, in carrierOrderId order.
func BenchmarkDiscrepancyWriter(b *testing.B, open Opener) {
	n := 200_000
	if v := os.Getenv("TRUEUP_BENCH_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	db := open(b)
	ctx := context.Background()
	c := MustCarrier(b, db, "Bench")
	spec := gen.Spec{Orders: n, Cycle: trueup.Cycle{Year: 2025, Month: 9}, Seed: 1}
	kinds := []trueup.DiffType{trueup.DiffMissingOnCarrier, trueup.DiffMissingOnPlatform, trueup.DiffRights, trueup.DiffAmount}
	ds := make([]trueup.Discrepancy, n)
	for i := range ds {
		o := spec.Order(i)
		ds[i] = trueup.Discrepancy{CarrierOrderID: o.CarrierOrderID, KdOrderID: o.KdOrderID, CarrierUserID: o.CarrierUserID,
			KdUserID: o.KdUserID, UserStatus: o.UserStatus, DiffType: kinds[i%4], DiffReason: "amount differs",
			SkuCode: o.SkuCode, SkuPrice: o.SkuPrice, BillingCycle: o.BillingCycle, CarrierSale: o.KdSaleTotal.String(),
			CarrierSaleToKd: o.KdSaleTotal.String(), ThisMonthBilling: o.KdSaleTotal.String(), NextMonthBilling: "0.00",
			Channel: o.Channel, CarrierActiveTime: trueup.FormatTime(o.KdActiveTime), CarrierEndTime: trueup.FormatTime(o.KdEndTime),
			CarrierOrderTime: trueup.FormatTime(o.KdOrderTime), CarrierPackageID: o.KdPackageID, KdActiveTime: trueup.FormatTime(o.KdActiveTime),
			KdEndTime: trueup.FormatTime(o.KdEndTime), KdOrderTime: trueup.FormatTime(o.KdOrderTime), KdPackageID: o.KdPackageID,
			KdSaleTotal: o.KdSaleTotal}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		no := trueup.BatchNo(fmt.Sprintf("20250901_%d", i+1))
		newBatch(b, db, c.ID, no, []byte("x"))
		w := db.NewDiscrepancyWriter(no, 0)
		b.StartTimer()
		for _, d := range ds {
			if err := w.Write(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "discrepancies/s")
}
