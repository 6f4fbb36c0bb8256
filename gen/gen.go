// Package gen makes synthetic ledgers and statements with known
// discrepancies, for the demo, the tests and the benchmarks.
package gen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// Spec says how many orders to make and how the statement departs from
// the ledger. Every Nth order (by index) gets one kind of difference; the
// kinds never overlap. A zero N means none of that kind.
type Spec struct {
	Orders int
	Cycle  trueup.Cycle
	Seed   uint64
	// MissingEvery drops every Nth order from the statement (kind 1).
	MissingEvery int
	// ExtraEvery adds a statement row unknown to the ledger after every
	// Nth order (kind 2).
	ExtraEvery int
	// RightsEvery changes the package id of every Nth order (kind 3).
	RightsEvery int
	// AmountEvery changes carrierSaleToKd of every Nth order by 0.50 (kind 4).
	AmountEvery int
}

// Expected counts the discrepancies a statement made from spec yields.
func (s Spec) Expected() trueup.DiffCounts {
	var c trueup.DiffCounts
	for i := 0; i < s.Orders; i++ {
		c.Add(s.kind(i))
		if s.ExtraEvery > 0 && i%s.ExtraEvery == s.ExtraEvery-1 {
			c.Add(trueup.DiffMissingOnPlatform)
		}
	}
	return c
}

// kind returns the difference order i carries, or 0.
func (s Spec) kind(i int) trueup.DiffType {
	switch {
	case s.MissingEvery > 0 && i%s.MissingEvery == 1:
		return trueup.DiffMissingOnCarrier
	case s.RightsEvery > 0 && i%s.RightsEvery == 2:
		return trueup.DiffRights
	case s.AmountEvery > 0 && i%s.AmountEvery == 3:
		return trueup.DiffAmount
	}
	return 0
}

// Order returns the ledger order number i of the spec.
func (s Spec) Order(i int) trueup.Order {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)))
	start := s.Cycle.Start(time.UTC)
	active := start.Add(time.Duration(r.IntN(27*24*3600)) * time.Second)
	cents := 100 + r.IntN(5000)
	return trueup.Order{
		CarrierOrderID: fmt.Sprintf("CO%012d", i), BillingCycle: s.Cycle.String(), KdOrderID: fmt.Sprintf("KD%012d", i),
		CarrierUserID: fmt.Sprintf("CU%09d", i/3), KdUserID: fmt.Sprintf("KU%09d", i/3),
		SkuCode: []string{"1p500g", "1p1t", "1p2t"}[i%3], SkuPrice: decimal.New(int64(r.IntN(900)+100), -5),
		KdPackageID: strconv.Itoa(1000 + i%50), KdActiveTime: active, KdEndTime: active.AddDate(0, 1, 0),
		KdOrderTime: active.Add(-time.Duration(r.IntN(3600)) * time.Second), KdSaleTotal: decimal.New(int64(cents), -2),
		Channel: strconv.Itoa(i % 4),
	}
}

// StatementHeader is the header of the statements WriteCSV writes.
var StatementHeader = []string{"carrierOrderId", "carrierUserId", "carrierOrderTime", "skuCode", "carrierPackageId",
	"carrierActiveTime", "carrierEndTime", "carrierSale", "carrierSaleToKd", "channel"}

// EachStatementRow calls fn with the cells of every statement row the spec
// makes, in order (the header not included).
func (s Spec) EachStatementRow(fn func(cells []string) error) error {
	cells := make([]string, len(StatementHeader))
	for i := 0; i < s.Orders; i++ {
		o := s.Order(i)
		k := s.kind(i)
		if k != trueup.DiffMissingOnCarrier {
			pkg, share := o.KdPackageID, o.KdSaleTotal
			if k == trueup.DiffRights {
				pkg = "X" + pkg
			}
			if k == trueup.DiffAmount {
				share = share.Add(decimal.New(50, -2))
			}
			fill(cells, o.CarrierOrderID, o.CarrierUserID, o.KdOrderTime, o.SkuCode, pkg, o.KdActiveTime, o.KdEndTime, share.Mul(decimal.NewFromInt(2)), share, o.Channel)
			if err := fn(cells); err != nil {
				return err
			}
		}
		if s.ExtraEvery > 0 && i%s.ExtraEvery == s.ExtraEvery-1 {
			fill(cells, fmt.Sprintf("EX%012d", i), o.CarrierUserID, o.KdOrderTime, o.SkuCode, o.KdPackageID, o.KdActiveTime, o.KdEndTime, o.KdSaleTotal, o.KdSaleTotal, o.Channel)
			if err := fn(cells); err != nil {
				return err
			}
		}
	}
	return nil
}

func fill(cells []string, id, user string, ordered time.Time, sku, pkg string, active, end time.Time, sale, share decimal.Decimal, channel string) {
	cells[0], cells[1], cells[2], cells[3], cells[4] = id, user, trueup.FormatTime(ordered), sku, pkg
	cells[5], cells[6], cells[7], cells[8], cells[9] = trueup.FormatTime(active), trueup.FormatTime(end), sale.String(), share.StringFixed(2), channel
}

// WriteCSV writes the spec's statement as CSV with a header row.
func (s Spec) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(StatementHeader); err != nil {
		return err
	}
	if err := s.EachStatementRow(cw.Write); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
