package buyer

import (
	"context"

	"github.com/trueup/trueup"
)

// statusNames name the statuses in events: trueup.EventAdjustmentStatus
// carries the number in Data["status"] and the name in Data["statusName"],
// which webhooks type as adjustment.NAME.
var statusNames = map[Status]string{
	StatusPending:     "pending",
	StatusDeclined:    "declined",
	StatusInFlight:    "in_flight",
	StatusProcessing:  "processing",
	StatusError:       "error",
	StatusSuccess:     "success",
	StatusInterrupted: "interrupted",
	StatusCapReached:  "cap_reached",
}

// statusChanged records that process id reached st.
func (s *Service) statusChanged(ctx context.Context, id AdjustmentID, st Status) {
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: trueup.EventAdjustmentStatus, Subject: string(id),
		Data: map[string]any{"adjustmentId": id, "status": int(st), "statusName": statusNames[st]}})
}

// open reports, when events are recorded, whether process id is In
// Flight or Processing: FailAdjustment changes only those, and only their
// failure is an event.
func (s *Service) open(ctx context.Context, id AdjustmentID) bool {
	if s.Events == nil {
		return false
	}
	adj, err := s.Store.Adjustment(ctx, id)
	return err == nil && (adj.Status == StatusInFlight || adj.Status == StatusProcessing)
}

// partnerChanged records a change to buyer id: action names it.
func (s *Service) partnerChanged(ctx context.Context, typ string, id BuyerID, data map[string]any) {
	data["buyerId"] = id
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: typ, Subject: string(id), Data: data})
}
