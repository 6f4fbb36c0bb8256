package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/operator"
)

// casePage is how many cases a page of the queue shows.
const casePage = 50

func (h *Handler) caseRoutes() {
	h.page("GET "+Prefix+"cases", operator.RoleCarrier, h.caseQueue)
	h.page("GET "+Prefix+"cases/{id}", operator.RoleCarrier, h.casePage)
	h.page("POST "+Prefix+"cases/{id}/actions", operator.RoleOperator, h.caseAction)
	h.nav("Cases", Prefix+"cases", operator.RoleCarrier, 40)
}

// caseFilter is the queue's filter form, as the query string gives it.
type caseFilter struct {
	Carrier  trueup.CarrierID
	Cycle    string
	State    string
	Kind     string
	Overdue  bool
	Assignee string
}

// query returns the filter as a query string, with after when set.
func (f caseFilter) query(after string) string {
	v := url.Values{}
	v.Set("carrier", string(f.Carrier))
	for k, s := range map[string]string{"cycle": f.Cycle, "state": f.State, "kind": f.Kind, "assignee": f.Assignee, "after": after} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	return v.Encode()
}

// kindOption is a kind in a select.
type kindOption struct {
	Value string
	Label string
}

// kindOptions lists the kinds for a filter or a legend.
func kindOptions() []kindOption {
	out := make([]kindOption, len(trueup.Kinds))
	for i, k := range trueup.Kinds {
		out[i] = kindOption{Value: strconv.Itoa(int(k.Type)), Label: fmt.Sprintf("%d · %s", k.Type, k.Label)}
	}
	return out
}

// kindLabel names a kind: "4 · split amount inconsistent".
func kindLabel(t trueup.DiffType) string {
	k, ok := trueup.KindOf(t)
	if !ok {
		return strconv.Itoa(int(t))
	}
	return fmt.Sprintf("%d · %s", t, k.Label)
}

// caseRow is a case as the queue shows it.
type caseRow struct {
	cases.Case
	Kind       string
	Money      string
	Resolution string
}

func caseRowOf(c cases.Case) caseRow {
	r := caseRow{Case: c, Kind: kindLabel(c.DiffType), Money: c.Amount.StringFixed(2)}
	if c.Resolution != nil {
		r.Resolution = *c.Resolution
	}
	return r
}

// caseQueueData is the queue page's data.
type caseQueueData struct {
	Carriers []trueup.Carrier
	Filter   caseFilter
	Kinds    []kindOption
	Cases    []caseRow
	// Next is the path of the next page, empty on the last.
	Next string
	// First is the path of the first page, set when this is not it.
	First string
	// CyclePath links the cycle page when a cycle is chosen.
	CyclePath string
}

// caseQueue lists a carrier's cases, filtered, a page at a time (keyset:
// after the last case id of the previous page).
func (h *Handler) caseQueue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := caseQueueData{Carriers: carriers, Kinds: kindOptions(), Filter: caseFilter{
		Carrier: trueup.CarrierID(strings.TrimSpace(q.Get("carrier"))), Cycle: strings.TrimSpace(q.Get("cycle")),
		State: q.Get("state"), Kind: q.Get("kind"), Overdue: q.Get("overdue") != "", Assignee: strings.TrimSpace(q.Get("assignee")),
	}}
	if d.Filter.Carrier == "" {
		if len(carriers) == 0 {
			h.render(w, r, "cases", d)
			return
		}
		d.Filter.Carrier = carriers[0].ID
	}
	if !sessionOf(r).CanSeeCarrier(d.Filter.Carrier) {
		h.fail(w, r, trueup.NotFound("carrier %s not found; choose one of yours in the list", d.Filter.Carrier))
		return
	}
	p, err := d.Filter.params(q.Get("after"))
	if err != nil {
		h.renderError(w, r, "cases", d, err)
		return
	}
	list, err := h.Cases.List(r.Context(), p)
	if err != nil {
		h.renderError(w, r, "cases", d, err)
		return
	}
	if len(list) > casePage {
		list = list[:casePage]
		d.Next = Prefix + "cases?" + d.Filter.query(string(list[casePage-1].ID))
	}
	for _, c := range list {
		d.Cases = append(d.Cases, caseRowOf(c))
	}
	if p.After > 0 {
		d.First = Prefix + "cases?" + d.Filter.query("")
	}
	if c, err := trueup.ParseCycle(d.Filter.Cycle); err == nil && d.Filter.Cycle != "" {
		d.CyclePath = cyclePath(d.Filter.Carrier, c.String())
	}
	h.render(w, r, "cases", d)
}

// params checks the filter and returns the list's parameters; errors say
// which field to fix.
func (f caseFilter) params(after string) (cases.ListParams, error) {
	p := cases.ListParams{CarrierID: f.Carrier, Cycle: f.Cycle, Assignee: f.Assignee, Overdue: f.Overdue, Limit: casePage + 1}
	if f.Cycle != "" {
		if _, err := trueup.ParseCycle(f.Cycle); err != nil {
			return p, trueup.Errorf(trueup.EINVALID, "cycle %q is not a billing cycle; write it as yyyy-mm, for example 2025-10, or leave it empty for every cycle", f.Cycle)
		}
	}
	st, err := cases.ParseState(f.State)
	if err != nil {
		return p, trueup.Errorf(trueup.EINVALID, "state %q is not known; choose open, resolved or any", f.State)
	}
	p.State = st
	if f.Kind != "" {
		n, err := strconv.Atoi(f.Kind)
		if _, ok := trueup.KindOf(trueup.DiffType(n)); err != nil || !ok {
			return p, trueup.Errorf(trueup.EINVALID, "kind %q is not a kind of discrepancy; choose 1 to %d, or any", f.Kind, len(trueup.Kinds))
		}
		p.DiffType = trueup.DiffType(n)
	}
	if f.Overdue && st == cases.StateResolved {
		return p, trueup.Errorf(trueup.EINVALID, "a resolved case is never overdue; choose the state open (or any) with overdue, or untick overdue")
	}
	if len(f.Assignee) > 200 {
		return p, trueup.Errorf(trueup.EINVALID, "the assignee filter is over 200 characters; shorten it")
	}
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n <= 0 {
			return p, trueup.Errorf(trueup.EINVALID, "the page position %q is not a case number; use the Next link, or start again from the first page", after)
		}
		p.After = n
	}
	return p, nil
}

// caseData is the case page's data.
type caseData struct {
	Case    caseRow
	History []cases.Entry
	Actions []cases.Action
	// CanAct says the role may act (the form is disabled otherwise).
	CanAct bool
	// Staff is false for a carrier user, who is shown no action form.
	Staff     bool
	Closed    bool
	CyclePath string
	QueuePath string
	Form      caseActionForm
}

// caseActionForm is the action form's input, sent back with an error.
type caseActionForm struct {
	Action   string
	Note     string
	Assignee string
}

// loadCase returns the case of the path's id, ENOTFOUND for a carrier user
// asking for another carrier's.
func (h *Handler) loadCase(r *http.Request) (caseData, error) {
	id, err := cases.ParseID(r.PathValue("id"))
	if err != nil {
		return caseData{}, trueup.NotFound("case %s not found; open cases from the case queue at %scases", r.PathValue("id"), Prefix)
	}
	det, err := h.Cases.Case(r.Context(), id)
	if err != nil {
		return caseData{}, err
	}
	s := sessionOf(r)
	if !s.CanSeeCarrier(det.Case.CarrierID) {
		return caseData{}, trueup.NotFound("case %s not found; open cases from the case queue at %scases", id, Prefix)
	}
	c := det.Case
	d := caseData{Case: caseRowOf(c), History: det.History, Actions: cases.Actions, CanAct: s.Can(operator.RoleOperator), Staff: s.Operator.Role != operator.RoleCarrier,
		CyclePath: cyclePath(c.CarrierID, c.Cycle),
		QueuePath: Prefix + "cases?" + caseFilter{Carrier: c.CarrierID, Cycle: c.Cycle}.query(""),
		Form:      caseActionForm{Action: string(cases.Comment)}}
	if c.State == cases.StateOpen {
		d.Form.Action = string(cases.AcceptCarrier)
	}
	cyc, err := h.Cases.Cycle(r.Context(), cases.CycleInput{CarrierID: c.CarrierID, Cycle: c.Cycle})
	if err != nil {
		return caseData{}, err
	}
	d.Closed = cyc.Closed
	return d, nil
}

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request) {
	d, err := h.loadCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "case", d)
}

// caseAction takes an action on a case (operator role: a viewer's post is
// refused by requireRole before it gets here).
func (h *Handler) caseAction(w http.ResponseWriter, r *http.Request) {
	d, err := h.loadCase(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := caseActionForm{Action: r.PostFormValue("action"), Note: r.PostFormValue("note"), Assignee: r.PostFormValue("assignee")}
	a, err := cases.ParseAction(f.Action)
	if err == nil {
		_, err = h.Cases.Act(r.Context(), cases.ActInput{ID: d.Case.ID, Action: a, Note: f.Note, Assignee: f.Assignee})
	}
	if err != nil {
		d.Form = f
		h.renderError(w, r, "case", d, err)
		return
	}
	h.redirect(w, r, Prefix+"cases/"+string(d.Case.ID), fmt.Sprintf("Case %s: %s recorded.", d.Case.ID, a))
}
