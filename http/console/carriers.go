package console

import (
	"fmt"
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) carrierRoutes() {
	h.page("GET "+Prefix+"carriers", operator.RoleViewer, h.carriers)
	h.page("POST "+Prefix+"carriers", operator.RoleAdmin, h.createCarrier)
	h.page("GET "+Prefix+"carriers/{id}", operator.RoleViewer, h.carrier)
	h.page("POST "+Prefix+"carriers/{id}", operator.RoleAdmin, h.updateCarrier)
	h.page("POST "+Prefix+"carriers/{id}/clients", operator.RoleAdmin, h.createCarrierClient)
	h.page("POST "+Prefix+"carriers/{id}/clients/{client}/rotate", operator.RoleAdmin, h.rotateCarrierClient)
	h.page("POST "+Prefix+"carriers/{id}/clients/{client}/revoke", operator.RoleAdmin, h.revokeCarrierClient)
	h.page("POST "+Prefix+"carriers/{id}/users", operator.RoleAdmin, h.createCarrierUser)
	h.nav("Carriers", Prefix+"carriers", operator.RoleViewer, 50)
}

// carrierForm is the create form's input, sent back with an error.
type carrierForm struct {
	Name        string
	Whitelisted bool
	TimeZone    string
	UserEmail   string
}

// carriersData is the carriers page's data.
type carriersData struct {
	Carriers []trueup.Carrier
	Form     carrierForm
}

func (h *Handler) carriers(w http.ResponseWriter, r *http.Request) {
	list, err := h.Carriers.Carriers(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "carriers", carriersData{Carriers: list, Form: carrierForm{TimeZone: "UTC"}})
}

// createCarrier creates a carrier with its first client and, when an email
// is given, its first carrier user; it shows the client's secret and the
// user's password once.
func (h *Handler) createCarrier(w http.ResponseWriter, r *http.Request) {
	f := carrierForm{Name: formText(r, "name"), Whitelisted: formBool(r, "whitelisted"), TimeZone: formText(r, "timeZone"), UserEmail: formText(r, "userEmail")}
	fail := func(err error) {
		list, lerr := h.Carriers.Carriers(r.Context())
		if lerr != nil {
			h.fail(w, r, lerr)
			return
		}
		h.renderError(w, r, "carriers", carriersData{Carriers: list, Form: f}, err)
	}
	if f.Name == "" {
		fail(trueup.Errorf(trueup.EINVALID, "the carrier's name is empty; type its name, such as KooDrive"))
		return
	}
	if f.UserEmail != "" {
		if _, err := operator.NormalizeEmail(f.UserEmail); err != nil {
			fail(err)
			return
		}
	}
	cred, err := h.Auth.CreateCarrier(r.Context(), auth.CreateCarrierParams{Name: f.Name, Whitelisted: f.Whitelisted, TimeZone: f.TimeZone})
	if err != nil {
		fail(err)
		return
	}
	d, err := h.carrierData(r, cred.CarrierID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Secrets = []shownSecret{{ID: "new-client-id", Label: "Client id", Value: string(cred.ClientID)}, {ID: "new-client-secret", Label: "Client secret", Value: cred.ClientSecret}}
	flash := fmt.Sprintf("Carrier %s created with user id %s and a first client.", cred.Name, cred.UserID)
	if f.UserEmail != "" {
		u, err := h.Operators.Create(r.Context(), operator.CreateParams{Email: f.UserEmail, Role: operator.RoleCarrier, CarrierID: cred.CarrierID})
		if err != nil {
			d.Secrets = d.Secrets[:2]
			h.renderStatus(w, r, h.statusOf(r, err), "carrier", view{Data: d, Flash: flash, Error: "The carrier was created but its user was not: " + h.message(r, w, err)})
			return
		}
		d.User = &u
		d.Users = append(d.Users, operator.Operator{ID: u.OperatorID, Email: u.Email, Role: u.Role, CarrierID: u.CarrierID})
		flash += " Carrier user " + u.Email + " created."
	}
	h.renderStatus(w, r, http.StatusOK, "carrier", view{Data: d, Flash: flash})
}

// carrierData is the carrier page's data.
type carrierData struct {
	Carrier trueup.Carrier
	Clients []trueup.Client
	// Users are the carrier's users (operators of role carrier).
	Users []operator.Operator
	// Secrets and User are shown once, after create or rotate.
	Secrets []shownSecret
	User    *operator.Created
}

func (h *Handler) carrierData(r *http.Request, id trueup.CarrierID) (carrierData, error) {
	c, err := h.Carriers.Carrier(r.Context(), id)
	if err != nil {
		return carrierData{}, err
	}
	clients, err := h.Carriers.Clients(r.Context(), id)
	if err != nil {
		return carrierData{}, err
	}
	ops, err := h.Operators.List(r.Context())
	if err != nil {
		return carrierData{}, err
	}
	d := carrierData{Carrier: c, Clients: clients}
	for _, o := range ops {
		if o.Role == operator.RoleCarrier && o.CarrierID == id {
			d.Users = append(d.Users, o)
		}
	}
	return d, nil
}

func (h *Handler) carrier(w http.ResponseWriter, r *http.Request) {
	d, err := h.carrierData(r, trueup.CarrierID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "carrier", d)
}

func (h *Handler) updateCarrier(w http.ResponseWriter, r *http.Request) {
	id := trueup.CarrierID(r.PathValue("id"))
	wl, tz := formBool(r, "whitelisted"), formText(r, "timeZone")
	c, err := h.Carriers.SetCarrier(r.Context(), auth.SetCarrierParams{ID: id, Whitelisted: &wl, TimeZone: &tz})
	if err != nil {
		d, derr := h.carrierData(r, id)
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		h.renderError(w, r, "carrier", d, err)
		return
	}
	state := "not whitelisted"
	if c.Whitelisted {
		state = "whitelisted"
	}
	h.redirect(w, r, Prefix+"carriers/"+string(c.ID), fmt.Sprintf("Saved: %s is %s, time zone %s.", c.Name, state, c.TimeZone))
}

// ownClient checks that client belongs to the carrier of the page's path,
// so that a path naming another carrier's client answers 404.
func (h *Handler) ownClient(r *http.Request) (trueup.CarrierID, trueup.ClientID, error) {
	id, cl := trueup.CarrierID(r.PathValue("id")), trueup.ClientID(r.PathValue("client"))
	clients, err := h.Carriers.Clients(r.Context(), id)
	if err != nil {
		return id, cl, err
	}
	for _, c := range clients {
		if c.ID == cl {
			return id, cl, nil
		}
	}
	return id, cl, trueup.NotFound("carrier %s has no client %s; pick one from the carrier's page", id, cl)
}

// showCredentials draws the carrier page with a client's new secret.
func (h *Handler) showCredentials(w http.ResponseWriter, r *http.Request, cred auth.Credentials, flash string) {
	d, err := h.carrierData(r, cred.CarrierID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Secrets = []shownSecret{{ID: "new-client-id", Label: "Client id", Value: string(cred.ClientID)}, {ID: "new-client-secret", Label: "Client secret", Value: cred.ClientSecret}}
	h.renderStatus(w, r, http.StatusOK, "carrier", view{Data: d, Flash: flash})
}

func (h *Handler) createCarrierClient(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Auth.CreateClient(r.Context(), trueup.CarrierID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showCredentials(w, r, cred, "Client "+string(cred.ClientID)+" created.")
}

func (h *Handler) rotateCarrierClient(w http.ResponseWriter, r *http.Request) {
	_, cl, err := h.ownClient(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cred, err := h.Auth.RotateClient(r.Context(), cl)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showCredentials(w, r, cred, "Client "+string(cl)+" has a new secret; the old one no longer works.")
}

func (h *Handler) revokeCarrierClient(w http.ResponseWriter, r *http.Request) {
	id, cl, err := h.ownClient(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.Carriers.RevokeClient(r.Context(), cl); err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, Prefix+"carriers/"+string(id), "Client "+string(cl)+" is revoked; its secret and tokens no longer work.")
}

// createCarrierUser creates a carrier user of the page's carrier and shows
// its password once.
func (h *Handler) createCarrierUser(w http.ResponseWriter, r *http.Request) {
	id := trueup.CarrierID(r.PathValue("id"))
	d, err := h.carrierData(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u, err := h.Operators.Create(r.Context(), operator.CreateParams{Email: formText(r, "email"), Role: operator.RoleCarrier, CarrierID: id})
	if err != nil {
		h.renderError(w, r, "carrier", d, err)
		return
	}
	d.User = &u
	d.Users = append(d.Users, operator.Operator{ID: u.OperatorID, Email: u.Email, Role: u.Role, CarrierID: u.CarrierID})
	h.renderStatus(w, r, http.StatusOK, "carrier", view{Data: d, Flash: "Carrier user " + u.Email + " created."})
}
