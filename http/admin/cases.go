package admin

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/statement"
)

func (h *Handler) caseRoutes() {
	h.handle("GET /admin/v1/cases", h.listCases)
	h.handle("GET /admin/v1/cases/{caseId}", h.getCase)
	h.handle("POST /admin/v1/cases/{caseId}/actions", h.actOnCase)
	h.handle("GET /admin/v1/carriers/{carrierId}/case-sla", h.getCaseSLA)
	h.handle("PATCH /admin/v1/carriers/{carrierId}/case-sla", h.setCaseSLA)
	h.handle("GET /admin/v1/carriers/{carrierId}/cycles/{cycle}", h.getCycle)
	h.handle("GET /admin/v1/carriers/{carrierId}/cycles/{cycle}/export", h.exportCycle)
	h.handle("POST /admin/v1/carriers/{carrierId}/cycles/{cycle}/close", h.closeCycle)
	h.handle("POST /admin/v1/carriers/{carrierId}/cycles/{cycle}/reopen", h.reopenCycle)
}

// actorOf returns r's context carrying the key that authenticated it as
// the actor of what the request changes.
func actorOf(r *http.Request) context.Context {
	return trueup.WithActor(r.Context(), trueup.Actor("apikey:"+string(callerKey(r).ID)))
}

// Cases is a page of cases. NextPageCursor is absent on the last page.
type Cases struct {
	Cases          []cases.Case `json:"cases"`
	NextPageCursor string       `json:"nextPageCursor,omitempty"`
}

// A case cursor is base64url("case.ID"): the keyset of the next page.
func encodeCaseCursor(id cases.ID) string {
	return base64.RawURLEncoding.EncodeToString([]byte("case." + string(id)))
}

func decodeCaseCursor(v string) (int64, error) {
	bad := invalid("query parameter pageCursor is not a case list cursor; pass the nextPageCursor of the previous page unchanged, or omit it for the first page")
	raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return 0, bad
	}
	s, ok := strings.CutPrefix(string(raw), "case.")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n <= 0 {
		return 0, bad
	}
	return n, nil
}

func (h *Handler) listCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, err := intParam(r, "pageSize", 100, 1, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p := cases.ListParams{CarrierID: trueup.CarrierID(q.Get("carrierId")), Cycle: q.Get("billingCycle"), Limit: size + 1}
	if p.CarrierID == "" {
		h.writeError(w, r, invalid("query parameter carrierId is required; list the carriers with GET /admin/v1/carriers"))
		return
	}
	if p.State, err = cases.ParseState(q.Get("state")); err != nil {
		h.writeError(w, r, err)
		return
	}
	if v := q.Get("diffType"); v != "" {
		n, err := strconv.Atoi(v)
		if _, ok := trueup.KindOf(trueup.DiffType(n)); err != nil || !ok {
			h.writeError(w, r, invalid("query parameter diffType %q is not a kind; use 1 to %d", v, len(trueup.Kinds)))
			return
		}
		p.DiffType = trueup.DiffType(n)
	}
	if v := q.Get("overdue"); v != "" {
		if p.Overdue, err = strconv.ParseBool(v); err != nil {
			h.writeError(w, r, invalid("query parameter overdue %q is not a boolean; use true or false", v))
			return
		}
	}
	p.Assignee = q.Get("assignee")
	if v := q.Get("pageCursor"); v != "" {
		if p.After, err = decodeCaseCursor(v); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	list, err := h.Cases.List(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := Cases{Cases: list}
	if len(list) > size {
		out.Cases = list[:size]
		out.NextPageCursor = encodeCaseCursor(list[size-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) caseID(r *http.Request) (cases.ID, error) {
	id, err := cases.ParseID(r.PathValue("caseId"))
	if err != nil {
		return "", trueup.NotFound("case %s not found; list a cycle's cases with GET /admin/v1/cases", r.PathValue("caseId"))
	}
	return id, nil
}

func (h *Handler) getCase(w http.ResponseWriter, r *http.Request) {
	id, err := h.caseID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	d, err := h.Cases.Case(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// CaseAction is the body of POST /admin/v1/cases/{caseId}/actions.
type CaseAction struct {
	Action   string `json:"action"`
	Note     string `json:"note"`
	Assignee string `json:"assignee"`
}

func (h *Handler) actOnCase(w http.ResponseWriter, r *http.Request) {
	id, err := h.caseID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var b CaseAction
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := cases.ParseAction(b.Action)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Cases.Act(actorOf(r), cases.ActInput{ID: id, Action: a, Note: b.Note, Assignee: b.Assignee})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// CaseSLA is the body and answer of the case-sla endpoints.
type CaseSLA struct {
	Days int `json:"days"`
}

func (h *Handler) getCaseSLA(w http.ResponseWriter, r *http.Request) {
	n, err := h.Cases.SLA(r.Context(), trueup.CarrierID(r.PathValue("carrierId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CaseSLA{Days: n})
}

func (h *Handler) setCaseSLA(w http.ResponseWriter, r *http.Request) {
	var b CaseSLA
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.Cases.SetSLA(actorOf(r), trueup.CarrierID(r.PathValue("carrierId")), b.Days); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func cycleOf(r *http.Request) cases.CycleInput {
	return cases.CycleInput{CarrierID: trueup.CarrierID(r.PathValue("carrierId")), Cycle: r.PathValue("cycle")}
}

func (h *Handler) getCycle(w http.ResponseWriter, r *http.Request) {
	c, err := h.Cases.Cycle(r.Context(), cycleOf(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) closeCycle(w http.ResponseWriter, r *http.Request) {
	c, err := h.Cases.Close(actorOf(r), cycleOf(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) reopenCycle(w http.ResponseWriter, r *http.Request) {
	c, err := h.Cases.Reopen(actorOf(r), cycleOf(r))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) exportCycle(w http.ResponseWriter, r *http.Request) {
	format := statement.Format(strings.ToLower(r.URL.Query().Get("format")))
	if format == "" {
		format = statement.XLSX
	}
	if format != statement.XLSX && format != statement.CSV {
		h.writeError(w, r, invalid("query parameter format %q is not supported; use xlsx or csv", r.URL.Query().Get("format")))
		return
	}
	in := cycleOf(r)
	ct, cd := cases.ExportHeader(in.CarrierID, in.Cycle, format)
	// The headers go with the first byte: an error found before it (an
	// unknown carrier, a bad cycle) is answered as JSON.
	lw := &lazyHeaders{ResponseWriter: w, set: func(h http.Header) {
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", cd)
	}}
	err := h.Cases.Export(r.Context(), lw, cases.ExportInput{CarrierID: in.CarrierID, Cycle: in.Cycle, Format: format})
	if err != nil && !lw.started {
		h.writeError(w, r, err)
		return
	}
	if err != nil {
		// The status is sent; the client sees a cut body.
		h.Logger.Error("export cycle", "trace_id", w.Header().Get("x-traceid"), "carrier_id", in.CarrierID, "cycle", in.Cycle, "err", err)
	}
}

// lazyHeaders sets a file's headers when its first byte is written.
type lazyHeaders struct {
	http.ResponseWriter
	set     func(http.Header)
	started bool
}

func (l *lazyHeaders) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.set(l.Header())
	}
	return l.ResponseWriter.Write(b)
}
