package console

import (
	"net/http"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/operator"
)

const (
	// activityBatches is how many batches the activity page shows per
	// carrier, activityJobs how many jobs per state, activityImports how
	// many imports.
	activityBatches = 10
	activityJobs    = 20
	activityImports = 10
)

func (h *Handler) overviewRoutes() {
	h.page("GET "+Prefix+"activity", operator.RoleCarrier, h.activity)
	h.nav("Activity", Prefix+"activity", operator.RoleCarrier, 10)
}

// cycleSummary is a carrier's batches of one billing cycle.
type cycleSummary struct {
	Cycle   string
	Batches []batchSummary
}

// batchSummary is a batch with its money at stake.
type batchSummary struct {
	trueup.Batch
	AtStake decimal.Decimal
	Final   bool
}

// carrierActivity is a carrier's recent cycles.
type carrierActivity struct {
	Carrier trueup.Carrier
	Cycles  []cycleSummary
	AtStake decimal.Decimal
}

// jobState is the jobs of one state.
type jobState struct {
	State trueup.JobState
	Label string
	Count int64
	Jobs  []jobs.QueuedJob
}

// activityData is the activity page: per carrier, the latest batches by
// cycle with their counts and money at stake; for staff, the job queue
// and the latest imports.
type activityData struct {
	Carriers []carrierActivity
	Kinds    []trueup.Kind
	Staff    bool
	Queue    []jobState
	Imports  []imports.Import
	Live     []string
}

func (h *Handler) activity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := activityData{Kinds: trueup.Kinds[:], Staff: sessionOf(r).Can(operator.RoleViewer)}
	for _, c := range carriers {
		list, err := h.Batches.Batches(ctx, c.ID, activityBatches)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		ca := carrierActivity{Carrier: c}
		for _, b := range list {
			bs := batchSummary{Batch: b, Final: batchFinal(b)}
			if b.State == trueup.BatchSucceeded {
				if bs.AtStake, err = h.Batches.AtStake(ctx, b.No); err != nil {
					h.fail(w, r, err)
					return
				}
				ca.AtStake = ca.AtStake.Add(bs.AtStake)
			}
			if !bs.Final {
				d.Live = append(d.Live, string(b.No))
			}
			if n := len(ca.Cycles); n == 0 || ca.Cycles[n-1].Cycle != b.Cycle {
				ca.Cycles = append(ca.Cycles, cycleSummary{Cycle: b.Cycle})
			}
			last := &ca.Cycles[len(ca.Cycles)-1]
			last.Batches = append(last.Batches, bs)
		}
		d.Carriers = append(d.Carriers, ca)
	}
	if d.Staff {
		counts, err := h.Jobs.Counts(ctx)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, st := range []struct {
			s     trueup.JobState
			label string
		}{{trueup.JobAvailable, "Queued"}, {trueup.JobRunning, "Running"}, {trueup.JobFailed, "Failed"}} {
			list, err := h.Jobs.Latest(ctx, st.s, activityJobs)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			d.Queue = append(d.Queue, jobState{State: st.s, Label: st.label, Count: counts[st.s], Jobs: list})
		}
		if d.Imports, err = h.Imports.List(ctx, activityImports); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if len(d.Live) > maxStreamedBatches {
		d.Live = d.Live[:maxStreamedBatches]
	}
	h.render(w, r, "activity", d)
}
