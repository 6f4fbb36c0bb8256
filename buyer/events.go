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

// partnerChanged records a change to buyer id: action names it.
func (s *Service) partnerChanged(ctx context.Context, typ string, id BuyerID, data map[string]any) {
	data["buyerId"] = id
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: typ, Subject: string(id), Data: data})
}
