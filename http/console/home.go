package console

import (
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

// recentBatches is how many batches the overview shows per carrier.
const recentBatches = 5

func (h *Handler) homeRoutes() {
	h.page("GET "+Prefix+"{$}", operator.RoleCarrier, h.home)
	h.nav("Overview", Prefix, operator.RoleCarrier, 0)
}

// carrierSummary is a carrier and its recent batches.
type carrierSummary struct {
	Carrier trueup.Carrier
	Batches []trueup.Batch
}

// visibleCarriers returns the carriers the session may see: every one for
// staff, its own for a carrier user.
func (h *Handler) visibleCarriers(r *http.Request) ([]trueup.Carrier, error) {
	s := sessionOf(r)
	if s.Operator.Role == operator.RoleCarrier {
		c, err := h.Carriers.Carrier(r.Context(), s.Operator.CarrierID)
		if err != nil {
			return nil, err
		}
		return []trueup.Carrier{c}, nil
	}
	return h.Carriers.Carriers(r.Context())
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var data struct{ Carriers []carrierSummary }
	for _, c := range carriers {
		list, err := h.Batches.Batches(r.Context(), c.ID, recentBatches)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		data.Carriers = append(data.Carriers, carrierSummary{Carrier: c, Batches: list})
	}
	h.render(w, r, "home", data)
}
