package console

import (
	"bytes"
	"encoding/csv"
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/statement"
)

func (h *Handler) portalRoutes() {
	h.page("GET "+Prefix+"portal", operator.RoleCarrier, h.portal)
	h.page("GET "+Prefix+"template.xlsx", operator.RoleCarrier, h.templateXLSX)
	h.page("GET "+Prefix+"template.csv", operator.RoleCarrier, h.templateCSV)
	h.nav("Statements", Prefix+"portal", operator.RoleCarrier, 15)
}

// portalData is the carrier portal's landing page: for each carrier the
// session may see (a carrier user: its own), its recent batches and the
// ways in; and the statement's columns.
type portalData struct {
	Carriers []carrierSummary
	Columns  []statement.Column
	// Carrier is true for a carrier user.
	Carrier bool
}

// portal is the landing page of the statement work: the template, the
// upload, the batches. A carrier user sees its own carrier only.
func (h *Handler) portal(w http.ResponseWriter, r *http.Request) {
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := portalData{Columns: statement.Columns, Carrier: sessionOf(r).Operator.Role == operator.RoleCarrier}
	for _, c := range carriers {
		list, err := h.Batches.Batches(r.Context(), c.ID, recentBatches)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Carriers = append(d.Carriers, carrierSummary{Carrier: c, Batches: list})
	}
	h.render(w, r, "portal", d)
}

// templateXLSX sends the statement import template, the same for every
// carrier, as the carrier API's template call does.
func (h *Handler) templateXLSX(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := statement.WriteTemplate(&buf); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation-template.xlsx"`)
	w.Write(buf.Bytes())
}

// templateCSV sends the template's header row as CSV.
func (h *Handler) templateCSV(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	header := make([]string, len(statement.Columns))
	for i, c := range statement.Columns {
		header[i] = c.Name
	}
	cw.Write(header)
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.fail(w, r, trueup.Errorf(trueup.EINVALID, "the template could not be written; reload the page"))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation-template.csv"`)
	w.Write(buf.Bytes())
}
