package cases

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/trueup/trueup"
)

// EventsJobKind is the kind of the job that records a finished batch's
// events: batch.succeeded or batch.failed, and case.opened, case.resolved
// (fixed) and case.reopened for the cases it changed. The store enqueues
// it in the transaction that finishes the batch (an outbox), so that the
// events of a committed batch are recorded even when the process dies right
// after the commit.
const EventsJobKind = "batch.events"

// EventsJobMaxAttempts is how many times the events job runs before it is
// given up (a recorder failing all along): with the runner's default
// backoff (n² seconds before retry n) about 11 hours.
const EventsJobMaxAttempts = 50

type eventsJobArgs struct {
	BatchNo trueup.BatchNo `json:"batchNo"`
}

// EventsJobArgs returns the arguments of the events job of batch no.
func EventsJobArgs(no trueup.BatchNo) string {
	b, _ := json.Marshal(eventsJobArgs{BatchNo: no})
	return string(b)
}

// EventKey returns the key of an event of batch no: the batch's outcome
// when id is empty, else the change of case id. A recorder takes an event
// of a key once, so the events job may run again.
func EventKey(no trueup.BatchNo, id ID, change string) string {
	if id == "" {
		return "batch:" + string(no)
	}
	return fmt.Sprintf("batch:%s/case:%s/%s", no, id, change)
}

// RecordEvents is the job handler of EventsJobKind. It is safe to run
// again, whole or after a crash part way: every event carries its key
// (EventKey), and the recorders (the audit chain, webhooks) take an event
// of a key once.
func (s *Service) RecordEvents(ctx context.Context, job trueup.Job) error {
	var a eventsJobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	return s.RecordBatchEvents(ctx, a.BatchNo)
}

// GiveUpEvents is the give-up function of EventsJobKind: the events stay
// unrecorded, which the log says.
func (s *Service) GiveUpEvents(_ context.Context, job trueup.Job, cause error) error {
	s.Logger.Error("events of a batch not recorded; the job is given up", "job_id", job.ID, "args", job.Args, "cause", cause)
	return nil
}

// RecordBatchEvents records the events of the finished batch no, in order:
// its outcome, then one event a case it opened, resolved (fixed) or
// reopened, by case id. They are read back from what the batch left (the
// cases it opened, the history lines it wrote), which later batches do
// not change. Each is timed at the batch's finish and acted by the system.
// The first recorder error stops it and is returned: the job runs again,
// and what was recorded is not recorded twice.
func (s *Service) RecordBatchEvents(ctx context.Context, no trueup.BatchNo) error {
	if s.Events == nil {
		return nil
	}
	b, _, err := s.Store.Batch(ctx, no)
	if err != nil {
		return err
	}
	if b.State != trueup.BatchSucceeded && b.State != trueup.BatchFailed {
		return fmt.Errorf("events of batch %s: it is %s, not finished", no, b.State)
	}
	at := s.now()
	if b.FinishedAt != nil {
		at = b.FinishedAt.UTC()
	}
	e := trueup.Event{Type: trueup.EventBatchSucceeded, Actor: trueup.ActorSystem, CarrierID: b.CarrierID, Subject: string(b.No), Time: at,
		Key: EventKey(no, "", ""), Data: map[string]any{"batchNo": b.No, "cycle": b.Cycle, "rowsRead": b.RowsRead, "counts": b.Counts}}
	if b.State == trueup.BatchFailed {
		e.Type, e.Data["failure"], e.Data["rowErrors"] = trueup.EventBatchFailed, b.Failure, b.RowErrors
	}
	if err := s.Events.Record(ctx, e); err != nil {
		return fmt.Errorf("events of batch %s: %w", no, err)
	}
	if b.State != trueup.BatchSucceeded {
		return nil // a failed batch changes no case
	}
	types := map[string]string{ChangeOpened: trueup.EventCaseOpened, ChangeReopened: trueup.EventCaseReopened, ChangeResolved: trueup.EventCaseResolved}
	err = s.Store.BatchCaseEvents(ctx, no, func(carrier trueup.CarrierID, c Change) error {
		data := map[string]any{"batchNo": string(no), "carrierOrderId": c.CarrierOrderID, "diffType": int(c.DiffType)}
		if c.Change == ChangeResolved {
			data["resolution"] = Fixed
		}
		return s.Events.Record(ctx, trueup.Event{Type: types[c.Change], Actor: trueup.ActorSystem, CarrierID: carrier, Subject: string(c.ID),
			Data: data, Time: at, Key: EventKey(no, c.ID, c.Change)})
	})
	if err != nil {
		return fmt.Errorf("case events of batch %s: %w", no, err)
	}
	return nil
}
