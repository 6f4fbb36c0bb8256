package admin

import (
	"net/http"
	"strconv"

	"github.com/trueup/trueup/audit"
)

// AuditPage is the answer of GET /admin/v1/audit: entries in seq order and
// the cursor of the next page (the last seq; absent after the last page).
type AuditPage struct {
	Entries []audit.Entry `json:"entries"`
	// Next is the after of the next page, absent when there is none.
	Next *int64 `json:"next,omitempty"`
}

func (h *Handler) listAudit(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 1, audit.MaxPage)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var after int64
	if v := r.URL.Query().Get("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
		if err != nil || after < 0 {
			h.writeError(w, r, invalid("query parameter after %q is not an entry's seq; give the next of the previous page, or leave it out for the first page", v))
			return
		}
	}
	list, err := h.Audit.List(r.Context(), after, limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	page := AuditPage{Entries: list}
	if page.Entries == nil {
		page.Entries = []audit.Entry{}
	}
	if len(list) == limit {
		next := list[len(list)-1].Seq
		page.Next = &next
	}
	writeJSON(w, http.StatusOK, page)
}

func (h *Handler) verifyAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Audit.Verify(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
