package reconcile

import (
	"errors"
	"fmt"
	"iter"

	"github.com/trueup/trueup"
)

// Errors of Match, about its inputs.
var (
	// ErrUnsorted is wrapped when rows or orders are not in increasing
	// byte order of carrierOrderId.
	ErrUnsorted = errors.New("not sorted by carrierOrderId")
	// ErrDuplicate is wrapped when two rows, or two orders, have the same
	// carrierOrderId.
	ErrDuplicate = errors.New("carrierOrderId repeated")
	// ErrOtherCycle is wrapped when a ledger order belongs to another
	// billing cycle than Options.Cycle.
	ErrOtherCycle = errors.New("order of another billing cycle")
)

// Match merges the statement rows and the ledger orders of one carrier and
// cycle and yields their discrepancies, sorted by carrierOrderId, the kinds
// of one ID in increasing order: a row without an order yields
// MissingOnPlatform, an order without a row MissingOnCarrier, a row and an
// order with the same ID whatever Compare returns. Valid inputs always give
// the same discrepancies in the same order, so a caller may number them.
//
// Both sequences must be sorted by carrierOrderId in increasing byte order
// (strings.Compare), each ID once; Match reads each once, holding a single
// row and a single order, so memory does not grow with the statement.
//
// Match yields a non-nil error, and nothing after it, when opt is invalid
// (see Options.Validate), when a sequence yields an error (wrapped), when an
// ID comes out of order (ErrUnsorted), repeats (ErrDuplicate), or when an
// order's BillingCycle is set to another cycle than opt.Cycle
// (ErrOtherCycle). Discrepancies yielded before an error are correct but
// not the whole answer.
func Match(rows iter.Seq2[Row, error], orders iter.Seq2[trueup.Order, error], opt Options) iter.Seq2[trueup.Discrepancy, error] {
	return func(yield func(trueup.Discrepancy, error) bool) {
		fail := func(err error) { yield(trueup.Discrepancy{}, err) }
		if err := opt.Validate(); err != nil {
			fail(err)
			return
		}
		cycle := opt.Cycle.String()

		// Rows are ranged over, orders pulled: one coroutine, not two.
		pullOrder, stopOrders := iter.Pull2(orders)
		defer stopOrders()
		var (
			order   trueup.Order // the current order, or the last one once !haveOrd
			haveOrd bool
			seenOrd bool // whether order has been set at all
		)
		nextOrder := func() error {
			o, err, ok := pullOrder()
			switch {
			case !ok:
				haveOrd = false
				return nil
			case err != nil:
				return fmt.Errorf("reconcile: read ledger orders: %w", err)
			case o.BillingCycle != "" && o.BillingCycle != cycle:
				return fmt.Errorf("reconcile: ledger order %q: %w: %s, not %s", o.KdOrderID, ErrOtherCycle, o.BillingCycle, cycle)
			case seenOrd && o.CarrierOrderID == order.CarrierOrderID:
				return fmt.Errorf("reconcile: ledger orders %q and %q: %w: %q", order.KdOrderID, o.KdOrderID, ErrDuplicate, o.CarrierOrderID)
			case seenOrd && o.CarrierOrderID < order.CarrierOrderID:
				return fmt.Errorf("reconcile: ledger order %q: %w: %q comes after %q", o.KdOrderID, ErrUnsorted, o.CarrierOrderID, order.CarrierOrderID)
			}
			order, haveOrd, seenOrd = o, true, true
			return nil
		}
		// flush yields the orders before the ID id (all orders when last),
		// which have no row. It reports whether to go on.
		flush := func(id string, last bool) bool {
			for haveOrd && (last || order.CarrierOrderID < id) {
				if !yield(missingOnCarrier(&order, &opt, cycle), nil) {
					return false
				}
				if err := nextOrder(); err != nil {
					fail(err)
					return false
				}
			}
			return true
		}

		if err := nextOrder(); err != nil {
			fail(err)
			return
		}
		var (
			prevID     string // carrierOrderId and number of the previous row, once seenRow
			prevNumber int64
			seenRow    bool
		)
		for row, err := range rows {
			switch {
			case err != nil:
				fail(fmt.Errorf("reconcile: read statement rows: %w", err))
				return
			case seenRow && row.CarrierOrderID == prevID:
				fail(fmt.Errorf("reconcile: statement rows %d and %d: %w: %q", prevNumber, row.Number, ErrDuplicate, row.CarrierOrderID))
				return
			case seenRow && row.CarrierOrderID < prevID:
				fail(fmt.Errorf("reconcile: statement row %d: %w: %q comes after %q", row.Number, ErrUnsorted, row.CarrierOrderID, prevID))
				return
			}
			prevID, prevNumber, seenRow = row.CarrierOrderID, row.Number, true
			if !flush(row.CarrierOrderID, false) {
				return
			}
			if !haveOrd || order.CarrierOrderID != row.CarrierOrderID {
				if !yield(missingOnPlatform(&row, cycle), nil) {
					return
				}
				continue
			}
			for _, d := range compare(&row, &order, &opt, cycle) {
				if !yield(d, nil) {
					return
				}
			}
			if err := nextOrder(); err != nil {
				fail(err)
				return
			}
		}
		flush("", true)
	}
}
