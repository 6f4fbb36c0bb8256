package cases

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// Service lists cases, takes operators' actions on them, and shows, closes
// and reopens cycles.
type Service struct {
	Store  Store
	Logger *slog.Logger
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Events, when set, records every change of a case or cycle.
	Events trueup.Recorder
	// MaxNote bounds an action's note in bytes (DefaultMaxNote when 0).
	MaxNote int
}

// MaxAssigneeFilter bounds the assignee a list is filtered on, in bytes.
const MaxAssigneeFilter = 200

// New returns a Service over store. A nil logger means slog.Default().
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{Store: store, Logger: logger, Clock: trueup.SystemClock{}}
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

// record hands e to the recorder, if any; a recorder's failure is logged,
// the change it reports being done already.
func (s *Service) record(ctx context.Context, e trueup.Event) {
	if s.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if e.Actor == "" {
		e.Actor = trueup.ActorFrom(ctx)
	}
	if err := s.Events.Record(ctx, e); err != nil {
		s.Logger.Error("record event", "type", e.Type, "subject", e.Subject, "err", err)
	}
}

// ParseID reads a case id as written in its caseId.
func ParseID(s string) (ID, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return "", trueup.Errorf(trueup.EINVALID, "case id %q is not a case id; use the caseId of `trueup cases list` (a whole number)", s)
	}
	return ID(strconv.FormatInt(n, 10)), nil
}

// ParseAction reads an action's name.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	return "", trueup.Errorf(trueup.EINVALID, "action %q is not known; use one of %s", s, strings.Join(names, ", "))
}

// ParseState reads a state filter; "" is every state.
func ParseState(s string) (State, error) {
	switch State(s) {
	case "", StateOpen, StateResolved:
		return State(s), nil
	}
	return "", trueup.Errorf(trueup.EINVALID, "state %q is not known; use open or resolved", s)
}

// checkCycle parses a cycle written yyyy-mm.
func checkCycle(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", trueup.Errorf(trueup.EINVALID, "billing cycle is required; give it as yyyy-mm, for example 2025-10")
	}
	c, err := trueup.ParseCycle(s)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

// List returns a page of the cases p selects, aged as of now. p.Limit is
// 1 to 1000 (100 when 0).
func (s *Service) List(ctx context.Context, p ListParams) ([]Case, error) {
	if p.Limit == 0 {
		p.Limit = 100
	}
	if p.Limit < 1 || p.Limit > 1000 {
		return nil, trueup.Errorf(trueup.EINVALID, "limit %d is out of range; use 1 to 1000", p.Limit)
	}
	if p.Cycle != "" {
		c, err := checkCycle(p.Cycle)
		if err != nil {
			return nil, err
		}
		p.Cycle = c
	}
	if _, err := ParseState(string(p.State)); err != nil {
		return nil, err
	}
	if p.DiffType != 0 {
		if _, ok := trueup.KindOf(p.DiffType); !ok {
			return nil, trueup.Errorf(trueup.EINVALID, "diffType %d is not a kind; use 1 to %d", p.DiffType, len(trueup.Kinds))
		}
	}
	if _, err := s.Store.Carrier(ctx, p.CarrierID); err != nil {
		return nil, err
	}
	sla, err := s.Store.CaseSLA(ctx, p.CarrierID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	p.Assignee = strings.TrimSpace(p.Assignee)
	if len(p.Assignee) > MaxAssigneeFilter {
		return nil, trueup.Errorf(trueup.EINVALID, "assignee filter is over %d bytes; give an assignee's name as set by an assign action", MaxAssigneeFilter)
	}
	if p.Overdue {
		if p.State == StateResolved {
			return nil, trueup.Errorf(trueup.EINVALID, "a resolved case is never overdue; filter on overdue or on resolved, not both")
		}
		p.State, p.OpenedBefore = StateOpen, now.Add(-time.Duration(sla)*24*time.Hour)
	}
	list, err := s.Store.Cases(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range list {
		age(&list[i], sla, now)
	}
	return list, nil
}

// Case returns a case with its history, aged as of now.
func (s *Service) Case(ctx context.Context, id ID) (Detail, error) {
	c, err := s.Store.Case(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	sla, err := s.Store.CaseSLA(ctx, c.CarrierID)
	if err != nil {
		return Detail{}, err
	}
	age(&c, sla, s.now())
	hist, err := s.Store.CaseHistory(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	opened := Entry{At: c.OpenedAt, Actor: trueup.ActorSystem, Action: ChangeOpened, BatchNo: c.OpenedBatch}
	return Detail{Case: c, History: append([]Entry{opened}, hist...)}, nil
}

// ActInput is the input of Act; the operator is trueup.ActorFrom(ctx).
type ActInput struct {
	ID       ID
	Action   Action
	Note     string
	Assignee string
}

// Act takes an action on a case and returns the case after it. A
// resolving action needs an open case and a note; assign needs an
// assignee; comment needs a note. Nothing but a comment is taken on a case
// of a closed cycle.
func (s *Service) Act(ctx context.Context, in ActInput) (Case, error) {
	if _, err := ParseAction(string(in.Action)); err != nil {
		return Case{}, err
	}
	in.Note = strings.TrimSpace(in.Note)
	maxNote := s.MaxNote
	if maxNote <= 0 {
		maxNote = DefaultMaxNote
	}
	if len(in.Note) > maxNote || len(in.Assignee) > maxNote {
		return Case{}, trueup.Errorf(trueup.EINVALID, "the note or assignee is over %d bytes; shorten it (the server's --case-note-max-bytes)", maxNote)
	}
	switch {
	case in.Action == Assign && strings.TrimSpace(in.Assignee) == "":
		return Case{}, trueup.Errorf(trueup.EINVALID, "assign needs an assignee; say who takes the case")
	case in.Action != Assign && in.Note == "":
		return Case{}, trueup.Errorf(trueup.EINVALID, "%s needs a note; say why, for the record", in.Action)
	}
	// The store refuses an action other than a comment on a case of a
	// closed cycle, under the cycle's lock (ClosedCycleError).
	actor := trueup.ActorFrom(ctx)
	after, err := s.Store.ActOnCase(ctx, ActParams{ID: in.ID, Action: in.Action, Actor: actor, Note: in.Note,
		Assignee: strings.TrimSpace(in.Assignee), Now: s.now()})
	if err != nil {
		return Case{}, err
	}
	sla, err := s.Store.CaseSLA(ctx, after.CarrierID)
	if err != nil {
		return Case{}, err
	}
	age(&after, sla, s.now())
	data := map[string]any{"action": string(in.Action), "note": in.Note, "carrierOrderId": after.CarrierOrderID,
		"diffType": int(after.DiffType), "billingCycle": after.Cycle}
	if in.Action == Assign {
		data["assignee"] = after.Assignee
	}
	s.record(ctx, trueup.Event{Type: trueup.EventCaseAction, Actor: actor, CarrierID: after.CarrierID, Subject: string(after.ID), Data: data})
	if in.Action.Resolves() {
		s.record(ctx, trueup.Event{Type: trueup.EventCaseResolved, Actor: actor, CarrierID: after.CarrierID, Subject: string(after.ID),
			Data: map[string]any{"resolution": string(in.Action), "carrierOrderId": after.CarrierOrderID, "diffType": int(after.DiffType), "billingCycle": after.Cycle}})
	}
	return after, nil
}

// SLA returns a carrier's SLA in days.
func (s *Service) SLA(ctx context.Context, carrier trueup.CarrierID) (int, error) {
	if _, err := s.Store.Carrier(ctx, carrier); err != nil {
		return 0, err
	}
	return s.Store.CaseSLA(ctx, carrier)
}

// SetSLA sets a carrier's SLA, 1 to MaxSLADays days.
func (s *Service) SetSLA(ctx context.Context, carrier trueup.CarrierID, days int) error {
	if days < 1 || days > MaxSLADays {
		return trueup.Errorf(trueup.EINVALID, "SLA %d days is out of range; use 1 to %d days", days, MaxSLADays)
	}
	if _, err := s.Store.Carrier(ctx, carrier); err != nil {
		return err
	}
	if err := s.Store.SetCaseSLA(ctx, carrier, days); err != nil {
		return err
	}
	s.record(ctx, trueup.Event{Type: trueup.EventPartnerChanged, CarrierID: carrier, Subject: string(carrier),
		Data: map[string]any{"caseSlaDays": days}})
	return nil
}

// age sets the aging fields of c as of now under a SLA of sla days.
func age(c *Case, sla int, now time.Time) {
	c.Amount = amountOf(c)
	end := now
	if c.ResolvedAt != nil {
		end = *c.ResolvedAt
	}
	days := int(end.Sub(c.OpenedAt) / (24 * time.Hour))
	c.AgeDays = max(days, 0)
	late := c.State == StateOpen && now.Sub(c.OpenedAt) > time.Duration(sla)*24*time.Hour
	c.Overdue = late
	if c.DiffType == trueup.DiffMissingOnCarrier && c.State == StateOpen {
		c.Flag = FlagExpected
		if late {
			c.Flag = FlagMissing
		}
	}
}

// amountOf is the money c involves: the platform's amount for kinds 1 and
// 3, the carrier's for kind 2, the absolute difference for kind 4.
func amountOf(c *Case) decimal.Decimal {
	kd := dec(c.KdSaleTotal)
	switch c.DiffType {
	case trueup.DiffMissingOnPlatform:
		return dec(c.CarrierSaleToKd)
	case trueup.DiffAmount:
		return dec(c.CarrierSaleToKd).Sub(kd).Abs()
	}
	return kd
}

// dec reads an amount as stored; "" and unreadable text are zero.
func dec(s string) decimal.Decimal {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Zero
	}
	return d
}

// cycleSubject names a cycle in events: "CARRIER/2025-10".
func cycleSubject(carrier trueup.CarrierID, cycle string) string {
	return fmt.Sprintf("%s/%s", carrier, cycle)
}

// ClosedCycleError is the error Store.ActOnCase returns for an action,
// other than a comment, on a case of a closed cycle.
func ClosedCycleError(carrier trueup.CarrierID, cycle string) error {
	return trueup.Errorf(trueup.ECONFLICT, "cycle %s of carrier %s is closed, so its cases cannot change; reopen it first (trueup cycle reopen --carrier %s --cycle %s)",
		cycle, carrier, carrier, cycle)
}
