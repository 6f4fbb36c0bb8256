package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/statement"
)

// cycleBatches is how many recent batches of a carrier the cycles page
// reads to list its cycles.
const cycleBatches = 100

func (h *Handler) cycleRoutes() {
	h.page("GET "+Prefix+"cycles", operator.RoleCarrier, h.cycles)
	h.page("GET "+Prefix+"cycles/{carrier}/{cycle}", operator.RoleCarrier, h.cyclePage)
	h.page("GET "+Prefix+"cycles/{carrier}/{cycle}/export", operator.RoleCarrier, h.cycleExport)
	h.page("POST "+Prefix+"cycles/{carrier}/{cycle}/close", operator.RoleAdmin, h.closeCycle)
	h.page("POST "+Prefix+"cycles/{carrier}/{cycle}/reopen", operator.RoleAdmin, h.reopenCycle)
	h.nav("Cycles", Prefix+"cycles", operator.RoleCarrier, 45)
}

// cyclePath is the path of a carrier's cycle page.
func cyclePath(carrier trueup.CarrierID, cycle string) string {
	return Prefix + "cycles/" + string(carrier) + "/" + cycle
}

// carrierCycles is a carrier and the cycles of its recent batches, newest
// first.
type carrierCycles struct {
	Carrier trueup.Carrier
	Cycles  []string
}

// cyclesData is the cycles page's data.
type cyclesData struct {
	Carriers []carrierCycles
	Carrier  trueup.CarrierID
	Cycle    string
}

// cycles lists, per visible carrier, the cycles of its recent batches, and
// opens the cycle its form names.
func (h *Handler) cycles(w http.ResponseWriter, r *http.Request) {
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := cyclesData{Carrier: trueup.CarrierID(strings.TrimSpace(r.URL.Query().Get("carrier"))), Cycle: strings.TrimSpace(r.URL.Query().Get("cycle"))}
	for _, c := range carriers {
		list, err := h.Batches.Batches(r.Context(), c.ID, cycleBatches)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		cc := carrierCycles{Carrier: c}
		for _, b := range list {
			if !slices.Contains(cc.Cycles, b.Cycle) {
				cc.Cycles = append(cc.Cycles, b.Cycle)
			}
		}
		slices.Sort(cc.Cycles)
		slices.Reverse(cc.Cycles)
		d.Carriers = append(d.Carriers, cc)
	}
	if r.URL.Query().Has("cycle") {
		c, err := trueup.ParseCycle(d.Cycle)
		switch {
		case d.Cycle == "" || err != nil:
			h.renderError(w, r, "cycles", d, trueup.Errorf(trueup.EINVALID, "cycle %q is not a billing cycle; write it as yyyy-mm, for example 2025-10", d.Cycle))
		case !sessionOf(r).CanSeeCarrier(d.Carrier):
			h.renderError(w, r, "cycles", d, trueup.NotFound("carrier %q not found; choose one in the list", d.Carrier))
		default:
			http.Redirect(w, r, cyclePath(d.Carrier, c.String()), http.StatusSeeOther)
		}
		return
	}
	if d.Carrier == "" && len(carriers) > 0 {
		d.Carrier = carriers[0].ID
	}
	h.render(w, r, "cycles", d)
}

// kindRow is one kind of the cycle page's table, money as text.
type kindRow struct {
	Kind           string
	DiffType       trueup.DiffType
	Open           int64
	OpenAmount     string
	Resolved       int64
	ResolvedAmount string
}

// cycleData is the cycle page's data.
type cycleData struct {
	Carrier trueup.Carrier
	Cycle   cases.Cycle
	Kinds   []kindRow
	// Money of the settlement, as text with 2 decimals.
	Total, ThisMonth, NextMonth, Disputed string
	// AtClose is the settlement when the cycle was closed, if closed.
	AtCloseTotal string
	CanManage    bool
	Path         string
	QueuePath    string
}

// loadCycle returns the path's cycle; ENOTFOUND for a carrier user asking
// for another carrier's.
func (h *Handler) loadCycle(r *http.Request) (cases.CycleInput, error) {
	in := cases.CycleInput{CarrierID: trueup.CarrierID(r.PathValue("carrier")), Cycle: r.PathValue("cycle")}
	if !sessionOf(r).CanSeeCarrier(in.CarrierID) {
		return in, trueup.NotFound("carrier %s not found; open a cycle from %scycles", in.CarrierID, Prefix)
	}
	if _, err := trueup.ParseCycle(in.Cycle); err != nil {
		return in, trueup.NotFound("%q is not a billing cycle; open a cycle from %scycles, or write it as yyyy-mm in the address", in.Cycle, Prefix)
	}
	return in, nil
}

func (h *Handler) cycleData(r *http.Request, in cases.CycleInput) (cycleData, error) {
	c, err := h.Cases.Cycle(r.Context(), in)
	if err != nil {
		return cycleData{}, err
	}
	carrier, err := h.Carriers.Carrier(r.Context(), c.CarrierID)
	if err != nil {
		return cycleData{}, err
	}
	d := cycleData{Carrier: carrier, Cycle: c, CanManage: sessionOf(r).Can(operator.RoleAdmin),
		Total: c.Settlement.Total.StringFixed(2), ThisMonth: c.Settlement.ThisMonth.StringFixed(2),
		NextMonth: c.Settlement.NextMonth.StringFixed(2), Disputed: c.Settlement.Disputed.StringFixed(2),
		Path: cyclePath(c.CarrierID, c.Cycle), QueuePath: Prefix + "cases?" + caseFilter{Carrier: c.CarrierID, Cycle: c.Cycle}.query("")}
	for _, k := range c.Kinds {
		d.Kinds = append(d.Kinds, kindRow{Kind: kindLabel(k.DiffType), DiffType: k.DiffType, Open: k.Open, OpenAmount: k.OpenAmount.StringFixed(2),
			Resolved: k.Resolved, ResolvedAmount: k.ResolvedAmount.StringFixed(2)})
	}
	if c.AtClose != nil {
		d.AtCloseTotal = c.AtClose.Settlement.Total.StringFixed(2)
	}
	return d, nil
}

func (h *Handler) cyclePage(w http.ResponseWriter, r *http.Request) {
	in, err := h.loadCycle(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.cycleData(r, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "cycle", d)
}

// cycleExport sends the cycle's summary and cases as xlsx or CSV.
func (h *Handler) cycleExport(w http.ResponseWriter, r *http.Request) {
	in, err := h.loadCycle(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	format := statement.Format(strings.ToLower(r.URL.Query().Get("format")))
	if format == "" {
		format = statement.XLSX
	}
	if format != statement.XLSX && format != statement.CSV {
		h.fail(w, r, trueup.Errorf(trueup.EINVALID, "export format %q is not supported; use the xlsx or CSV link of the cycle page", r.URL.Query().Get("format")))
		return
	}
	// Checked first, so that an error is a page and not a cut file.
	if _, err := h.Cases.Cycle(r.Context(), in); err != nil {
		h.fail(w, r, err)
		return
	}
	ct, cd := cases.ExportHeader(in.CarrierID, in.Cycle, format)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", cd)
	if err := h.Cases.Export(r.Context(), w, cases.ExportInput{CarrierID: in.CarrierID, Cycle: in.Cycle, Format: format}); err != nil {
		h.Logger.Error("console: export cycle", "trace_id", w.Header().Get("x-traceid"), "carrier_id", in.CarrierID, "cycle", in.Cycle, "err", err)
	}
}

func (h *Handler) closeCycle(w http.ResponseWriter, r *http.Request) {
	h.changeCycle(w, r, true)
}

func (h *Handler) reopenCycle(w http.ResponseWriter, r *http.Request) {
	h.changeCycle(w, r, false)
}

// changeCycle closes or reopens the path's cycle (admin role).
func (h *Handler) changeCycle(w http.ResponseWriter, r *http.Request, closing bool) {
	in, err := h.loadCycle(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var c cases.Cycle
	if closing {
		c, err = h.Cases.Close(r.Context(), in)
	} else {
		c, err = h.Cases.Reopen(r.Context(), in)
	}
	if err != nil {
		d, derr := h.cycleData(r, in)
		if derr != nil {
			h.fail(w, r, err)
			return
		}
		h.renderError(w, r, "cycle", d, err)
		return
	}
	msg := fmt.Sprintf("Cycle %s of %s is closed at %s; uploads for it are refused until an admin reopens it.", c.Cycle, c.CarrierID, c.Settlement.Total.StringFixed(2))
	if !closing {
		msg = fmt.Sprintf("Cycle %s of %s is open again: uploads and case actions are taken.", c.Cycle, c.CarrierID)
	}
	h.redirect(w, r, cyclePath(c.CarrierID, c.Cycle), msg)
}
