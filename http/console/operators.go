package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) operatorRoutes() {
	h.page("GET "+Prefix+"operators", operator.RoleAdmin, h.operators)
	h.page("POST "+Prefix+"operators", operator.RoleAdmin, h.createOperator)
	h.page("POST "+Prefix+"operators/{id}/role", operator.RoleAdmin, h.setOperatorRole)
	h.page("POST "+Prefix+"operators/{id}/disable", operator.RoleAdmin, h.setOperatorDisabled(true))
	h.page("POST "+Prefix+"operators/{id}/enable", operator.RoleAdmin, h.setOperatorDisabled(false))
	h.page("POST "+Prefix+"operators/{id}/password", operator.RoleAdmin, h.resetOperatorPassword)
	h.nav("Operators", Prefix+"operators", operator.RoleAdmin, 90)
}

// operatorForm is the create form's input, sent back with an error.
type operatorForm struct {
	Email     string
	Role      operator.Role
	CarrierID trueup.CarrierID
}

// operatorsData is the operators page's data.
type operatorsData struct {
	Operators []operator.Operator
	Carriers  []trueup.Carrier
	Roles     []operator.Role
	Form      operatorForm
	Created   *operator.Created
	// Reset says Created is an existing operator with a new password.
	Reset bool
}

func (h *Handler) operatorsData(r *http.Request) (operatorsData, error) {
	list, err := h.Operators.List(r.Context())
	if err != nil {
		return operatorsData{}, err
	}
	carriers, err := h.Carriers.Carriers(r.Context())
	if err != nil {
		return operatorsData{}, err
	}
	return operatorsData{Operators: list, Carriers: carriers, Roles: operator.Roles, Form: operatorForm{Role: operator.RoleViewer}}, nil
}

func (h *Handler) operators(w http.ResponseWriter, r *http.Request) {
	d, err := h.operatorsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "operators", d)
}

// createOperator creates an operator and shows its generated password
// once, on the answer to the form (never in a redirect or a flash).
func (h *Handler) createOperator(w http.ResponseWriter, r *http.Request) {
	f := operatorForm{Email: strings.TrimSpace(r.PostFormValue("email")), Role: operator.Role(r.PostFormValue("role")),
		CarrierID: trueup.CarrierID(strings.TrimSpace(r.PostFormValue("carrierId")))}
	created, err := h.Operators.Create(r.Context(), operator.CreateParams{Email: f.Email, Role: f.Role, CarrierID: f.CarrierID})
	d, derr := h.operatorsData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	if err != nil {
		d.Form = f
		h.renderError(w, r, "operators", d, err)
		return
	}
	d.Created = &created
	h.renderStatus(w, r, http.StatusOK, "operators", view{Data: d, Flash: fmt.Sprintf("Operator %s created with role %s.", created.Email, created.Role)})
}

// errSelf refuses an admin's change to its own account, so that the last
// admin cannot lock everyone out.
var errSelf = trueup.Errorf(trueup.EFORBIDDEN, "you cannot change or disable your own account here; ask another admin, or use `trueup admin operator` on the server")

func (h *Handler) setOperatorRole(w http.ResponseWriter, r *http.Request) {
	id := operator.ID(r.PathValue("id"))
	if id == sessionOf(r).Operator.ID {
		h.fail(w, r, errSelf)
		return
	}
	o, err := h.Operators.SetRole(r.Context(), operator.SetRoleParams{ID: id, Role: operator.Role(r.PostFormValue("role")),
		CarrierID: trueup.CarrierID(strings.TrimSpace(r.PostFormValue("carrierId")))})
	if err != nil {
		d, derr := h.operatorsData(r)
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		h.renderError(w, r, "operators", d, err)
		return
	}
	h.redirect(w, r, Prefix+"operators", fmt.Sprintf("%s is now %s.", o.Email, o.Role))
}

func (h *Handler) setOperatorDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := operator.ID(r.PathValue("id"))
		if id == sessionOf(r).Operator.ID {
			h.fail(w, r, errSelf)
			return
		}
		o, err := h.Operators.SetDisabled(r.Context(), id, disabled)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		msg := o.Email + " is disabled; their sessions have ended."
		if !disabled {
			msg = o.Email + " is enabled again; any lockout is cleared."
		}
		h.redirect(w, r, Prefix+"operators", msg)
	}
}

// resetOperatorPassword gives an operator a generated password, shown
// once on the answer, and ends its sessions.
func (h *Handler) resetOperatorPassword(w http.ResponseWriter, r *http.Request) {
	id := operator.ID(r.PathValue("id"))
	if id == sessionOf(r).Operator.ID {
		h.fail(w, r, errSelf)
		return
	}
	o, err := h.Operators.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pw, err := h.Operators.ResetPassword(r.Context(), id, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.operatorsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Created = &operator.Created{OperatorID: o.ID, Email: o.Email, Role: o.Role, CarrierID: o.CarrierID, Password: pw}
	d.Reset = true
	h.renderStatus(w, r, http.StatusOK, "operators", view{Data: d, Flash: fmt.Sprintf("%s has a new password; their sessions have ended.", o.Email)})
}
