package cases

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// KindSummary counts a cycle's cases of one kind and the money they
// involve (Case.Amount).
type KindSummary struct {
	DiffType       trueup.DiffType `json:"diffType"`
	Open           int64           `json:"open"`
	OpenAmount     decimal.Decimal `json:"openAmount"`
	Resolved       int64           `json:"resolved"`
	ResolvedAmount decimal.Decimal `json:"resolvedAmount"`
}

// Settlement is what the platform and the carrier agree a cycle is worth,
// split into the cycle's month and the months after it as seed 004 splits
// each order (thisMouthBilling, nextMouthBilling). Disputed is the value
// of the orders an open case still holds out of it.
type Settlement struct {
	Total     decimal.Decimal `json:"total"`
	ThisMonth decimal.Decimal `json:"thisMonth"`
	NextMonth decimal.Decimal `json:"nextMonth"`
	Orders    int64           `json:"orders"` // orders in the figure
	Disputed  decimal.Decimal `json:"disputed"`
	// DisputedOrders are the orders held out by an open case.
	DisputedOrders int64 `json:"disputedOrders"`
}

// Cycle is a carrier's billing cycle as its cases stand.
type Cycle struct {
	CarrierID    trueup.CarrierID `json:"carrierId"`
	Cycle        string           `json:"billingCycle"`
	AppliedBatch trueup.BatchNo   `json:"appliedBatch,omitempty"` // the batch the cases show
	Batches      int64            `json:"batchesApplied"`
	LedgerOrders int64            `json:"ledgerOrders"`
	// OrdersMatched are the ledger orders the applied batch's statement
	// has (with or without another difference).
	OrdersMatched int64         `json:"ordersMatched"`
	Kinds         []KindSummary `json:"kinds"`
	Open          int64         `json:"open"`
	Resolved      int64         `json:"resolved"`
	Overdue       int64         `json:"overdue"`
	Settlement    Settlement    `json:"settlement"`
	Closed        bool          `json:"closed"`
	ClosedAt      *time.Time    `json:"closedAt,omitempty"`
	ClosedBy      trueup.Actor  `json:"closedBy,omitempty"`
	// AtClose is the cycle as it stood when it was closed (only while
	// closed).
	AtClose *Cycle `json:"atClose,omitempty"`
}

// CycleInput names a carrier's cycle.
type CycleInput struct {
	CarrierID trueup.CarrierID
	Cycle     string
}

// Cycle returns a carrier's cycle: orders matched, cases per kind with
// their money, and the settlement figure (docs/cases.md gives the rule).
func (s *Service) Cycle(ctx context.Context, in CycleInput) (Cycle, error) {
	c, _, err := s.cycle(ctx, in, nil)
	return c, err
}

// cycle computes the Cycle, calling each (when set) with every case.
func (s *Service) cycle(ctx context.Context, in CycleInput, each func(Case, decimal.Decimal, decimal.Decimal) error) (Cycle, trueup.Carrier, error) {
	cyc, err := checkCycle(in.Cycle)
	if err != nil {
		return Cycle{}, trueup.Carrier{}, err
	}
	carrier, err := s.Store.Carrier(ctx, in.CarrierID)
	if err != nil {
		return Cycle{}, carrier, err
	}
	parsed, _ := trueup.ParseCycle(cyc)
	st, err := s.Store.CycleState(ctx, carrier.ID, cyc)
	if err != nil {
		return Cycle{}, carrier, err
	}
	sla, err := s.Store.CaseSLA(ctx, carrier.ID)
	if err != nil {
		return Cycle{}, carrier, err
	}
	now := s.now()
	out := Cycle{CarrierID: carrier.ID, Cycle: cyc, AppliedBatch: st.AppliedBatch, Batches: st.AppliedCount,
		Closed: st.ClosedAt != nil, ClosedAt: st.ClosedAt, ClosedBy: st.ClosedBy}
	kinds := make([]KindSummary, len(trueup.Kinds))
	for i, k := range trueup.Kinds {
		kinds[i] = KindSummary{DiffType: k.Type, OpenAmount: decimal.Zero, ResolvedAmount: decimal.Zero}
	}
	byOrder := map[string][]Case{}
	var all []Case
	err = s.Store.EachCycleCase(ctx, carrier.ID, cyc, func(c Case) error {
		age(&c, sla, now)
		k := &kinds[c.DiffType-1]
		if c.State == StateOpen {
			k.Open++
			k.OpenAmount = k.OpenAmount.Add(c.Amount)
			out.Open++
			if c.Overdue {
				out.Overdue++
			}
		} else {
			k.Resolved++
			k.ResolvedAmount = k.ResolvedAmount.Add(c.Amount)
			out.Resolved++
		}
		byOrder[c.CarrierOrderID] = append(byOrder[c.CarrierOrderID], c)
		if each != nil {
			all = append(all, c)
		}
		return nil
	})
	if err != nil {
		return Cycle{}, carrier, err
	}
	out.Kinds = kinds
	opt := reconcile.Options{Cycle: parsed, Location: carrier.Location()}
	set := &out.Settlement
	*set = Settlement{Total: decimal.Zero, ThisMonth: decimal.Zero, NextMonth: decimal.Zero, Disputed: decimal.Zero}
	shares := map[string][2]decimal.Decimal{}
	add := func(id string, o trueup.Order, ok bool) {
		if !ok {
			return
		}
		this, next := reconcile.SplitBilling(o, opt)
		set.Total = set.Total.Add(o.KdSaleTotal)
		set.ThisMonth = set.ThisMonth.Add(this)
		set.NextMonth = set.NextMonth.Add(next)
		set.Orders++
		if each != nil {
			shares[id] = [2]decimal.Decimal{this, next}
		}
	}
	err = s.Store.EachOrderKey(ctx, carrier.ID, cyc, func(o trueup.Order) error {
		out.LedgerOrders++
		cs := byOrder[o.CarrierOrderID]
		if len(cs) == 0 {
			add(o.CarrierOrderID, o, true)
			return nil
		}
		delete(byOrder, o.CarrierOrderID)
		agreed, ok, disputed := settle(o, cs)
		if disputed {
			set.Disputed = set.Disputed.Add(o.KdSaleTotal)
			set.DisputedOrders++
		}
		add(o.CarrierOrderID, agreed, ok)
		return nil
	})
	if err != nil {
		return Cycle{}, carrier, err
	}
	if st.AppliedBatch != "" {
		out.OrdersMatched = out.LedgerOrders - st.AppliedMissing
	}
	// Cases of orders the ledger does not have (kind 2).
	for id, cs := range byOrder {
		agreed, ok, disputed := settle(trueup.Order{CarrierOrderID: id}, cs)
		if disputed {
			set.Disputed = set.Disputed.Add(amountOf(&cs[0]))
			set.DisputedOrders++
		}
		add(id, agreed, ok)
	}
	if st.ClosedAt != nil && st.ClosedSummary != "" {
		var at Cycle
		if err := json.Unmarshal([]byte(st.ClosedSummary), &at); err == nil {
			out.AtClose = &at
		}
	}
	if each != nil {
		for _, c := range all {
			sh, ok := shares[c.CarrierOrderID]
			if !ok {
				sh = [2]decimal.Decimal{decimal.Zero, decimal.Zero}
			}
			if err := each(c, sh[0], sh[1]); err != nil {
				return out, carrier, err
			}
		}
	}
	return out, carrier, nil
}

// settle returns the order the settlement counts for ledger order o (the
// zero Order with only CarrierOrderID for one the ledger lacks) given its
// cases, whether it counts at all, and whether an open case holds it out.
//
//   - An open case holds the order out (disputed).
//   - void or write-off on any of its cases: it counts nothing.
//   - kind 1 accepted as the carrier has it (no order): nothing; kind 2
//     (no ledger order) counts only when accepted as the carrier has it.
//   - The amount is the ledger's, or carrierSaleToKd when its kind-4 case
//     was accepted as the carrier's; the active period is the ledger's, or
//     the carrier's when its kind-3 case was accepted as the carrier's.
//   - A case resolved fixed or accept-platform keeps the ledger's values.
func settle(o trueup.Order, cs []Case) (trueup.Order, bool, bool) {
	inLedger := true
	for _, c := range cs {
		if c.State == StateOpen {
			return o, false, true
		}
		if c.DiffType == trueup.DiffMissingOnPlatform {
			inLedger = false
		}
	}
	for _, c := range cs {
		res := ""
		if c.Resolution != nil {
			res = *c.Resolution
		}
		switch {
		case res == string(Void), res == string(WriteOff):
			return o, false, false
		case c.DiffType == trueup.DiffMissingOnCarrier && res == string(AcceptCarrier):
			return o, false, false
		case c.DiffType == trueup.DiffMissingOnPlatform:
			if res != string(AcceptCarrier) {
				return o, false, false
			}
			o.KdSaleTotal = dec(c.CarrierSaleToKd)
			o.KdActiveTime, o.KdEndTime = parseTime(c.CarrierActiveTime), parseTime(c.CarrierEndTime)
		case c.DiffType == trueup.DiffAmount && res == string(AcceptCarrier):
			o.KdSaleTotal = dec(c.CarrierSaleToKd)
		case c.DiffType == trueup.DiffRights && res == string(AcceptCarrier):
			o.KdActiveTime, o.KdEndTime = parseTime(c.CarrierActiveTime), parseTime(c.CarrierEndTime)
		}
	}
	if !inLedger && o.KdSaleTotal.IsZero() && o.KdActiveTime.IsZero() {
		return o, false, false
	}
	return o, true, false
}

func parseTime(s string) time.Time {
	t, err := time.Parse(trueup.TimeLayout, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Close closes a cycle: a later upload for it is refused, and its cases
// take no action but comments, until Reopen. The cycle as it stands is
// kept with it and returned. The figure is computed while the store holds
// the cycle locked (Store.CloseCycle): a batch finishing at the same time
// is either applied before, and in the figure, or finds the cycle closed
// and changes none of its cases.
func (s *Service) Close(ctx context.Context, in CycleInput) (Cycle, error) {
	cyc, err := checkCycle(in.Cycle)
	if err != nil {
		return Cycle{}, err
	}
	if _, err := s.Store.Carrier(ctx, in.CarrierID); err != nil {
		return Cycle{}, err
	}
	in.Cycle = cyc
	actor, now := trueup.ActorFrom(ctx), s.now()
	var c Cycle
	summarize := func(ctx context.Context) (string, error) {
		var err error
		if c, err = s.Cycle(ctx, in); err != nil {
			return "", err
		}
		summary, err := json.Marshal(c)
		if err != nil {
			return "", fmt.Errorf("cycle summary: %w", err)
		}
		return string(summary), nil
	}
	if err := s.Store.CloseCycle(ctx, CloseParams{CarrierID: in.CarrierID, Cycle: cyc, Actor: actor, Now: now, Summarize: summarize}); err != nil {
		return Cycle{}, err
	}
	at := c
	c.Closed, c.ClosedAt, c.ClosedBy, c.AtClose = true, &now, actor, &at
	s.record(ctx, trueup.Event{Type: trueup.EventCycleClosed, Actor: actor, CarrierID: c.CarrierID, Subject: cycleSubject(c.CarrierID, c.Cycle),
		Data: map[string]any{"billingCycle": c.Cycle, "settlement": c.Settlement.Total.String(), "thisMonth": c.Settlement.ThisMonth.String(),
			"nextMonth": c.Settlement.NextMonth.String(), "open": c.Open}})
	return c, nil
}

// Reopen reopens a closed cycle: uploads and actions are taken again.
func (s *Service) Reopen(ctx context.Context, in CycleInput) (Cycle, error) {
	cyc, err := checkCycle(in.Cycle)
	if err != nil {
		return Cycle{}, err
	}
	if _, err := s.Store.Carrier(ctx, in.CarrierID); err != nil {
		return Cycle{}, err
	}
	if err := s.Store.ReopenCycle(ctx, in.CarrierID, cyc); err != nil {
		return Cycle{}, err
	}
	s.record(ctx, trueup.Event{Type: trueup.EventCycleReopened, CarrierID: in.CarrierID, Subject: cycleSubject(in.CarrierID, cyc),
		Data: map[string]any{"billingCycle": cyc}})
	return s.Cycle(ctx, CycleInput{CarrierID: in.CarrierID, Cycle: cyc})
}
