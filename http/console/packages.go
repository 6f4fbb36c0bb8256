package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) packageRoutes() {
	h.page("GET "+Prefix+"packages", operator.RoleCarrier, h.packages)
	h.nav("Package events", Prefix+"packages", operator.RoleCarrier, 75)
}

// maxPackageEvents is the most events the page shows at once.
const maxPackageEvents = 500

// packagesData is the package events page's data.
type packagesData struct {
	Carriers []trueup.Carrier
	Carrier  trueup.CarrierID
	User     string
	Limit    int
	Events   []lifecycle.Event
}

// packages shows a carrier's package events, newest first, of one of its
// users when a user id is given. A carrier user sees its own carrier only:
// another carrier is not found.
func (h *Handler) packages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := packagesData{Carriers: carriers, Carrier: trueup.CarrierID(q.Get("carrier")), User: strings.TrimSpace(q.Get("user")), Limit: 100}
	if d.Carrier == "" && len(carriers) > 0 {
		d.Carrier = carriers[0].ID
	}
	if d.Carrier == "" {
		h.render(w, r, "packages", d)
		return
	}
	if !sessionOf(r).CanSeeCarrier(d.Carrier) {
		h.fail(w, r, trueup.NotFound("there is no carrier %s; pick yours from the list", d.Carrier))
		return
	}
	if _, err := h.Carriers.Carrier(r.Context(), d.Carrier); err != nil {
		h.fail(w, r, err)
		return
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPackageEvents {
			h.renderError(w, r, "packages", d, trueup.Errorf(trueup.EINVALID, "limit %q is not a number from 1 to %d; pick one", l, maxPackageEvents))
			return
		}
		d.Limit = n
	}
	if len(d.User) > lifecycle.MaxIDLength {
		h.renderError(w, r, "packages", d, trueup.Errorf(trueup.EINVALID, "the user id is longer than %d bytes; check it", lifecycle.MaxIDLength))
		return
	}
	d.Events, err = h.Lifecycle.Events(r.Context(), lifecycle.EventFilter{CarrierID: d.Carrier, CarrierUserID: d.User, Limit: d.Limit})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "packages", d)
}
