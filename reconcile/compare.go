package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// Compare returns the discrepancies between row and order, a statement row
// and the ledger order with the same carrierOrderId (Compare does not check
// that they are): a trueup.DiffRights discrepancy when the package, the SKU,
// the active time or the end time differ, then a trueup.DiffAmount
// discrepancy when carrierSaleToKd and kdSaleTotal differ by more than the
// tolerance. It returns nil when the two agree, without allocating when
// the amounts and the tolerance have at most 18 digits at a common scale.
func Compare(row Row, order trueup.Order, opt Options) []trueup.Discrepancy {
	return compare(&row, &order, &opt, "")
}

// compare is Compare; cycle is opt.Cycle written yyyy-mm, or "" to have it
// written when needed.
func compare(row *Row, order *trueup.Order, opt *Options, cycle string) []trueup.Discrepancy {
	rights := row.CarrierPackageID != order.KdPackageID || row.SkuCode != order.SkuCode ||
		!sameMilli(row.ActiveTime, order.KdActiveTime) || !sameMilli(row.EndTime, order.KdEndTime)
	tol := opt.tolerance()
	amount := exceeds(row.CarrierSaleToKd, order.KdSaleTotal, tol)
	if !rights && !amount {
		return nil
	}

	if cycle == "" {
		cycle = opt.Cycle.String()
	}
	base := trueup.Discrepancy{BillingCycle: cycle}
	setCarrier(&base, row)
	setPlatform(&base, order, opt)
	base.SkuCode, base.Channel = order.SkuCode, order.Channel
	if row.Channel != "" {
		base.Channel = row.Channel
	}
	out := make([]trueup.Discrepancy, 0, 2)
	if rights {
		d := base
		d.DiffType, d.DiffReason = trueup.DiffRights, rightsReason(row, order)
		out = append(out, d)
	}
	if amount {
		d := base
		d.DiffType = trueup.DiffAmount
		d.DiffReason = fmt.Sprintf("carrierSaleToKd %s != kdSaleTotal %s (difference %s exceeds tolerance %s)",
			formatAmount(row.CarrierSaleToKd), formatAmount(order.KdSaleTotal),
			formatAmount(row.CarrierSaleToKd.Sub(order.KdSaleTotal).Abs()), formatAmount(tol))
		out = append(out, d)
	}
	return out
}

// MissingOnCarrier returns the trueup.DiffMissingOnCarrier discrepancy of
// order, a ledger order that no statement row matches. Its carrier-side
// fields are empty except carrierOrderId and carrierUserId, taken from the
// ledger; skuCode and channel are the ledger's.
func MissingOnCarrier(order trueup.Order, opt Options) trueup.Discrepancy {
	return missingOnCarrier(&order, &opt, opt.Cycle.String())
}

// missingOnCarrier is MissingOnCarrier; cycle is opt.Cycle written yyyy-mm.
func missingOnCarrier(order *trueup.Order, opt *Options, cycle string) trueup.Discrepancy {
	d := trueup.Discrepancy{
		DiffType:       trueup.DiffMissingOnCarrier,
		DiffReason:     fmt.Sprintf("the statement has no row with carrierOrderId %q; the ledger has it as kdOrderId %q", order.CarrierOrderID, order.KdOrderID),
		BillingCycle:   cycle,
		CarrierOrderID: order.CarrierOrderID,
		CarrierUserID:  order.CarrierUserID,
		SkuCode:        order.SkuCode,
		Channel:        order.Channel,
	}
	setPlatform(&d, order, opt)
	return d
}

// MissingOnPlatform returns the trueup.DiffMissingOnPlatform discrepancy of
// row, a statement row that no ledger order matches. Its platform-side
// fields are empty (skuPrice and kdSaleTotal zero); skuCode and channel are
// the row's.
func MissingOnPlatform(row Row, opt Options) trueup.Discrepancy {
	return missingOnPlatform(&row, opt.Cycle.String())
}

// missingOnPlatform is MissingOnPlatform; cycle is the cycle written
// yyyy-mm.
func missingOnPlatform(row *Row, cycle string) trueup.Discrepancy {
	d := trueup.Discrepancy{
		DiffType:     trueup.DiffMissingOnPlatform,
		DiffReason:   fmt.Sprintf("the ledger has no order with carrierOrderId %q for this carrier in billing cycle %s", row.CarrierOrderID, cycle),
		BillingCycle: cycle,
		SkuCode:      row.SkuCode,
		Channel:      row.Channel,
	}
	setCarrier(&d, row)
	return d
}

// setCarrier fills the carrier-side fields of d from row.
func setCarrier(d *trueup.Discrepancy, row *Row) {
	d.CarrierOrderID = row.CarrierOrderID
	d.CarrierUserID = row.CarrierUserID
	d.CarrierOrderTime = trueup.FormatTime(row.OrderTime)
	if row.HasCarrierSale {
		d.CarrierSale = formatAmount(row.CarrierSale)
	}
	d.CarrierSaleToKd = formatAmount(row.CarrierSaleToKd)
	d.CarrierActiveTime = trueup.FormatTime(row.ActiveTime)
	d.CarrierEndTime = trueup.FormatTime(row.EndTime)
	d.CarrierPackageID = row.CarrierPackageID
}

// setPlatform fills the platform-side fields of d from order, the billing
// split included.
func setPlatform(d *trueup.Discrepancy, order *trueup.Order, opt *Options) {
	d.KdOrderID = order.KdOrderID
	d.KdUserID = order.KdUserID
	d.UserStatus = order.UserStatus
	d.SkuPrice = order.SkuPrice
	d.KdActiveTime = trueup.FormatTime(order.KdActiveTime)
	d.KdEndTime = trueup.FormatTime(order.KdEndTime)
	d.KdOrderTime = trueup.FormatTime(order.KdOrderTime)
	d.KdPackageID = order.KdPackageID
	d.KdSaleTotal = order.KdSaleTotal
	this, next := SplitBilling(*order, *opt)
	d.ThisMonthBilling = formatAmount(this)
	d.NextMonthBilling = formatAmount(next)
}

// rightsReason names each of the package, SKU, active time and end time
// that differ between row and order, with both values.
func rightsReason(row *Row, order *trueup.Order) string {
	var b strings.Builder
	add := func(format string, args ...any) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, format, args...)
	}
	if row.CarrierPackageID != order.KdPackageID {
		add("carrierPackageId %q != kdPackageId %q", row.CarrierPackageID, order.KdPackageID)
	}
	if row.SkuCode != order.SkuCode {
		add("carrier skuCode %q != kd skuCode %q", row.SkuCode, order.SkuCode)
	}
	if !sameMilli(row.ActiveTime, order.KdActiveTime) {
		add("carrierActiveTime %s != kdActiveTime %s", timeText(row.ActiveTime), timeText(order.KdActiveTime))
	}
	if !sameMilli(row.EndTime, order.KdEndTime) {
		add("carrierEndTime %s != kdEndTime %s", timeText(row.EndTime), timeText(order.KdEndTime))
	}
	return b.String()
}

// timeText writes t for a diffReason: as trueup.FormatTime does, or
// "(none)" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return trueup.FormatTime(t)
}

// sameMilli reports whether a and b are the same instant at millisecond
// precision (sub-millisecond parts are dropped, as trueup.FormatTime drops
// them).
func sameMilli(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() }

// exceeds reports whether |a − b| > tol, tol being zero or positive. It
// does not allocate when the three values have at most 18 digits once
// brought to a common scale, which covers money amounts.
func exceeds(a, b, tol decimal.Decimal) bool {
	e := min(a.Exponent(), b.Exponent(), tol.Exponent())
	ca, ok1 := scaled(a, e)
	cb, ok2 := scaled(b, e)
	ct, ok3 := scaled(tol, e)
	if ok1 && ok2 && ok3 {
		diff := ca - cb // |ca|, |cb| < 1e18: no overflow
		if diff < 0 {
			diff = -diff
		}
		return diff > ct
	}
	return a.Sub(b).Abs().Cmp(tol) > 0
}

// pow10 holds the powers of ten that fit an int64.
var pow10 = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

// scaled returns the coefficient of d at exponent e (e ≤ d's exponent),
// reporting false when it has more than 18 digits.
func scaled(d decimal.Decimal, e int32) (int64, bool) {
	shift := int64(d.Exponent()) - int64(e)
	if shift > 18 {
		return 0, false
	}
	n := d.NumDigits()
	if int64(n)+shift > 18 {
		return 0, false
	}
	return d.CoefficientInt64() * pow10[shift], true
}
