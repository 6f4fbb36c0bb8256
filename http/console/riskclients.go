package console

import (
	"net/http"
	"strconv"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/risk"
)

func (h *Handler) riskClientRoutes() {
	h.page("GET "+Prefix+"risk-clients", operator.RoleViewer, h.riskClients)
	h.page("POST "+Prefix+"risk-clients", operator.RoleAdmin, h.createRiskClient)
	h.page("POST "+Prefix+"risk-clients/{id}", operator.RoleAdmin, h.updateRiskClient)
	h.page("POST "+Prefix+"risk-clients/{id}/rotate", operator.RoleAdmin, h.rotateRiskClient)
	h.page("POST "+Prefix+"risk-clients/{id}/revoke", operator.RoleAdmin, h.revokeRiskClient)
	h.nav("Risk clients", Prefix+"risk-clients", operator.RoleViewer, 65)
}

// riskClientForm is the create form's input, sent back with an error.
type riskClientForm struct {
	Name, TimeZone, WindowDays, Quota, Rate, ExpiresAt string
}

// riskClientsData is the risk clients page's data.
type riskClientsData struct {
	Clients []risk.ClientView
	Form    riskClientForm
	// Secret is a new or rotated client's secret, shown once.
	Secrets []shownSecret
}

func (h *Handler) riskClientsData(r *http.Request) (riskClientsData, error) {
	list, err := h.Risk.Clients(r.Context())
	if err != nil {
		return riskClientsData{}, err
	}
	now := h.Clock.Now()
	d := riskClientsData{Form: riskClientForm{TimeZone: "UTC", WindowDays: strconv.Itoa(risk.DefaultWindowDays), Quota: "0", Rate: "0"}}
	for _, c := range list {
		d.Clients = append(d.Clients, risk.NewClientView(c, "", now))
	}
	return d, nil
}

func (h *Handler) riskClients(w http.ResponseWriter, r *http.Request) {
	d, err := h.riskClientsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "riskclients", d)
}

// formInt reads a whole-number field; empty is def.
func formInt(r *http.Request, name, label string, def int64) (int64, error) {
	s := formText(r, name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, trueup.Errorf(trueup.EINVALID, "%s %q is not a whole number of 0 or more; type for example 1000 (0: unlimited)", label, s)
	}
	return n, nil
}

// formExpiry reads the expiry field: empty is none; otherwise a date
// (YYYY-MM-DD, the end of that day in UTC) or date-time of the form's
// datetime-local control, read as UTC, or RFC 3339.
func formExpiry(r *http.Request) (*time.Time, error) {
	s := formText(r, "expiresAt")
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		t = t.Add(24*time.Hour - time.Second).UTC()
		return &t, nil
	}
	return nil, trueup.Errorf(trueup.EINVALID, "expiry %q is not a date and time; type for example 2026-12-31T18:30 (UTC), or leave it empty for no expiry", s)
}

func (h *Handler) createRiskClient(w http.ResponseWriter, r *http.Request) {
	f := riskClientForm{Name: formText(r, "name"), TimeZone: formText(r, "timeZone"), WindowDays: formText(r, "windowDays"),
		Quota: formText(r, "quota"), Rate: formText(r, "rate"), ExpiresAt: formText(r, "expiresAt")}
	d, err := h.riskClientsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Form = f
	cred, err := func() (risk.Credentials, error) {
		if f.Name == "" {
			return risk.Credentials{}, trueup.Errorf(trueup.EINVALID, "the client's name is empty; type who uses the key")
		}
		p := risk.CreateClientParams{Name: f.Name, TimeZone: f.TimeZone}
		window, err := formInt(r, "windowDays", "look-back window", 0)
		if err != nil {
			return risk.Credentials{}, err
		}
		p.WindowDays = int(window)
		if p.Quota, err = formInt(r, "quota", "quota", 0); err != nil {
			return risk.Credentials{}, err
		}
		if p.Rate, err = formInt(r, "rate", "rate", 0); err != nil {
			return risk.Credentials{}, err
		}
		if p.ExpiresAt, err = formExpiry(r); err != nil {
			return risk.Credentials{}, err
		}
		return h.Risk.CreateClient(r.Context(), p)
	}()
	if err != nil {
		h.renderError(w, r, "riskclients", d, err)
		return
	}
	h.showRiskSecret(w, r, cred, "Risk client "+cred.Name+" created.")
}

// showRiskSecret draws the page with a client's new secret, once.
func (h *Handler) showRiskSecret(w http.ResponseWriter, r *http.Request, cred risk.Credentials, flash string) {
	d, err := h.riskClientsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Secrets = []shownSecret{{ID: "new-api-id", Label: "API ID (X-DF-API-ID)", Value: string(cred.ID)}, {ID: "new-api-secret", Label: "API secret (X-DF-API-SECRET)", Value: cred.APISecret}}
	h.renderStatus(w, r, http.StatusOK, "riskclients", view{Data: d, Flash: flash})
}

func (h *Handler) updateRiskClient(w http.ResponseWriter, r *http.Request) {
	u := risk.ClientUpdate{ID: risk.ClientID(r.PathValue("id"))}
	err := func() error {
		quota, err := formInt(r, "quota", "quota", 0)
		if err != nil {
			return err
		}
		rate, err := formInt(r, "rate", "rate", 0)
		if err != nil {
			return err
		}
		u.Quota, u.Rate = &quota, &rate
		if u.ExpiresAt, err = formExpiry(r); err != nil {
			return err
		}
		u.NoExpiry = u.ExpiresAt == nil
		_, err = h.Risk.UpdateClient(r.Context(), u)
		return err
	}()
	if err != nil {
		d, derr := h.riskClientsData(r)
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		h.renderError(w, r, "riskclients", d, err)
		return
	}
	h.redirect(w, r, Prefix+"risk-clients", "Risk client "+string(u.ID)+" saved.")
}

func (h *Handler) rotateRiskClient(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Risk.RotateClient(r.Context(), risk.ClientID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.showRiskSecret(w, r, cred, "Risk client "+string(cred.ID)+" has a new secret; the old one no longer works.")
}

func (h *Handler) revokeRiskClient(w http.ResponseWriter, r *http.Request) {
	id := risk.ClientID(r.PathValue("id"))
	if err := h.Risk.RevokeClient(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, Prefix+"risk-clients", "Risk client "+string(id)+" is revoked for good.")
}
