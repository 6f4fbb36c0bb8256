package console

import (
	"net/http"
	"strconv"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/operator"
)

// auditPage is how many entries a page of the audit chain shows.
const auditPage = 100

func (h *Handler) auditRoutes() {
	h.page("GET "+Prefix+"audit", operator.RoleAdmin, h.auditList)
	h.page("POST "+Prefix+"audit/verify", operator.RoleAdmin, h.auditVerify)
	h.nav("Audit", Prefix+"audit", operator.RoleAdmin, 80)
}

// auditData is the audit page's data.
type auditData struct {
	Entries []audit.Entry
	// Next is the after of the next page, 0 on the last.
	Next   int64
	After  int64
	Report *audit.Report
}

func (h *Handler) auditEntries(r *http.Request) (auditData, error) {
	var d auditData
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return d, trueup.Errorf(trueup.EINVALID, "the page position %q is not an entry's number; use the Next link, or start again from the first page", v)
		}
		d.After = n
	}
	list, err := h.Audit.List(r.Context(), d.After, auditPage)
	if err != nil {
		return d, err
	}
	d.Entries = list
	if len(list) == auditPage {
		d.Next = list[len(list)-1].Seq
	}
	return d, nil
}

// auditList shows the chain, oldest first, a page at a time.
func (h *Handler) auditList(w http.ResponseWriter, r *http.Request) {
	d, err := h.auditEntries(r)
	if err != nil {
		h.renderError(w, r, "audit", d, err)
		return
	}
	h.render(w, r, "audit", d)
}

// auditVerify walks the whole chain and shows the result above the first
// page: intact with its head, or the first entry changed, removed or
// inserted.
func (h *Handler) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := h.Audit.Verify(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.auditEntries(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Report = &rep
	h.render(w, r, "audit", d)
}
