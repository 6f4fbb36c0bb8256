package main

import (
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/webhook"
)

// jobHandlers returns the background job kinds of every service, by name:
// each with its handler and the function that finalises its work when the
// runner gives it up.
func jobHandlers(m *Main) map[string]jobs.Kind {
	return map[string]jobs.Kind{
		batch.JobKind:       jobs.Handle(m.Batches.Process, m.Batches.GiveUp),
		batch.JobPart:       jobs.Handle(m.Batches.ProcessPart, m.Batches.GiveUp),
		batch.JobAssemble:   jobs.Handle(m.Batches.Assemble, m.Batches.GiveUp),
		cases.EventsJobKind: jobs.Handle(m.Cases.RecordEvents, m.Cases.GiveUpEvents),
		buyer.JobApply:      jobs.Handle(m.Buyers.Apply, m.Buyers.GiveUpApply),
		buyer.JobExpire:     jobs.Handle(m.Buyers.Expire, m.Buyers.GiveUpExpire),
		webhook.JobKind:     jobs.Handle(m.Webhooks.Deliver, m.Webhooks.GiveUp).WithBackoff(m.Webhooks.Backoff),
	}
}
