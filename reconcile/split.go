package reconcile

import (
	"math/big"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// SplitBilling splits order.KdSaleTotal between the billing cycle
// opt.Cycle (this) and the months after it (next), by the calendar days of
// the active period [KdActiveTime, KdEndTime) in opt.Location that fall
// before the cycle's end and from it on. The part of the period before the
// cycle starts is billed this month; an empty, reversed or open period is
// billed this month entirely.
//
// this is rounded half away from zero to max(2, decimal places of
// KdSaleTotal) places, and next is KdSaleTotal − this, so this + next is
// always KdSaleTotal; both have that many decimal places. The package
// documentation gives the whole rule.
func SplitBilling(order trueup.Order, opt Options) (this, next decimal.Decimal) {
	total := order.KdSaleTotal
	places := max(2, -total.Exponent())
	none := decimal.New(0, -places)
	all := total.Add(none) // total at -places, exactly: places ≥ its scale

	start, end := order.KdActiveTime.UnixMilli(), order.KdEndTime.UnixMilli()
	if order.KdActiveTime.IsZero() || order.KdEndTime.IsZero() || end <= start {
		return all, none
	}
	loc := opt.location()
	y, m := opt.Cycle.Year, opt.Cycle.Month+1
	if m > time.December {
		y, m = y+1, time.January
	}
	cut := dayStart(y, m, 1, loc).UnixMilli() // the cycle's end
	switch {
	case end <= cut:
		return all, none
	case start >= cut:
		return none, all
	}

	// The period straddles the cut, which begins a day: in days,
	// before = (days from start's day to the cut's) − start's part of its day,
	// after = (days from the cut's day to end's) + end's part of its day.
	// A part of a day is ms elapsed in it ÷ the day's length in ms.
	cutDay, _, _ := dayPos(cut, loc)
	startDay, startMs, startLen := dayPos(start, loc)
	endDay, endMs, endLen := dayPos(end, loc)
	// before = x/startLen and after = z/endLen, so the share billed this
	// month is x·endLen / (x·endLen + z·startLen).
	x := big.NewInt((cutDay-startDay)*startLen - startMs)
	z := big.NewInt((endDay-cutDay)*endLen + endMs)
	num := new(big.Int).Mul(x, big.NewInt(endLen))
	den := new(big.Int).Add(num, z.Mul(z, big.NewInt(startLen)))

	// this·10^places = coefficient · 10^(exponent+places) · num / den.
	n := total.Coefficient()
	n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(total.Exponent()+places)), nil))
	n.Mul(n, num)
	q, r := n.QuoRem(n, den, new(big.Int))
	if r.Abs(r).Lsh(r, 1).Cmp(den) >= 0 { // |r| ≥ den/2: round away from zero
		q.Add(q, big.NewInt(int64(total.Sign())))
	}
	this = decimal.NewFromBigInt(q, -places)
	return this, total.Sub(this)
}

// dayStart returns the first instant of day d of month m of year y (a date
// that exists) in loc: midnight, or the end of a daylight-saving jump that
// skips midnight.
func dayStart(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		// time.Date moved the missing midnight back into the day before;
		// the day starts when that day's zone ends.
		_, t = t.ZoneBounds()
	}
	return t
}

// dayPos returns where the instant ms (Unix milliseconds) falls in the
// calendar of loc: the day number of its local date (days since
// 1970-01-01), the milliseconds elapsed since that day began and the day's
// length in milliseconds.
func dayPos(ms int64, loc *time.Location) (day, elapsed, length int64) {
	y, m, d := time.UnixMilli(ms).In(loc).Date()
	begin := dayStart(y, m, d, loc).UnixMilli()
	ny, nm, nd := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC).Date()
	day = time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / (24 * 60 * 60)
	return day, ms - begin, dayStart(ny, nm, nd, loc).UnixMilli() - begin
}
