package main

import (
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/jobs"
)

// jobHandlers returns the background job handlers of every service, by
// job kind.
func jobHandlers(m *Main) map[string]jobs.Handler {
	h := map[string]jobs.Handler{
		batch.JobKind: m.Batches.Process,
	}
	h[buyer.JobApply], h[buyer.JobExpire] = m.Buyers.Apply, m.Buyers.Expire
	return h
}
