package reconcile

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// DefaultTolerance is the amount tolerance used when Options.Tolerance is
// zero: 0.01. It is a variable only because a decimal cannot be a constant;
// nothing assigns to it.
var DefaultTolerance = decimal.New(1, -2)

// exact is the tolerance of a negative Options.Tolerance.
var exact = decimal.New(0, 0)

// Options are the settings of one reconciliation: the cycle, the carrier's
// zone and the amount tolerance.
type Options struct {
	// Cycle is the billing cycle being reconciled.
	Cycle trueup.Cycle
	// Location is the carrier's time zone. Zone-less times and Excel serial
	// day numbers are read in it, and the billing split counts its calendar
	// days. Nil means UTC.
	Location *time.Location
	// Tolerance is how far carrierSaleToKd may be from kdSaleTotal without a
	// discrepancy; a difference exactly equal to it is no discrepancy. Zero
	// (the zero value included) means DefaultTolerance; a negative value
	// means the amounts must be equal.
	Tolerance decimal.Decimal
}

// location returns the carrier's zone, UTC when none is set.
func (o *Options) location() *time.Location {
	if o.Location == nil {
		return time.UTC
	}
	return o.Location
}

// tolerance returns the tolerance in effect, never negative.
func (o *Options) tolerance() decimal.Decimal {
	switch o.Tolerance.Sign() {
	case 0:
		return DefaultTolerance
	case -1:
		return exact
	}
	return o.Tolerance
}
