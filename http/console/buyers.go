package console

import (
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) buyerRoutes() {
	h.page("GET "+Prefix+"buyers", operator.RoleViewer, h.buyers)
	h.page("POST "+Prefix+"buyers", operator.RoleAdmin, h.createBuyer)
	h.page("POST "+Prefix+"buyers/{id}/cap", operator.RoleAdmin, h.setRejectCap)
	h.nav("Buyers", Prefix+"buyers", operator.RoleViewer, 55)
}

// buyersData is the buyers page's data.
type buyersData struct {
	Buyers []buyer.Buyer
	// FormName and FormCap are the create form's input, sent back with an
	// error.
	FormName, FormCap string
	// Token is a new buyer's access token, shown once.
	Token *shownSecret
}

func (h *Handler) buyersData(r *http.Request) (buyersData, error) {
	list, err := h.Buyers.Buyers(r.Context())
	return buyersData{Buyers: list}, err
}

func (h *Handler) buyers(w http.ResponseWriter, r *http.Request) {
	d, err := h.buyersData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "buyers", d)
}

// parseRejectCap reads a reject cap field: empty is no cap.
func parseRejectCap(s string) (*buyer.Percent, error) {
	if s == "" {
		return nil, nil
	}
	p, err := buyer.ParsePercent(s)
	if err != nil {
		return nil, trueup.Errorf(trueup.EINVALID, "reject cap: %s; or leave it empty for no cap", trueup.ErrorMessage(err))
	}
	return &p, nil
}

func (h *Handler) createBuyer(w http.ResponseWriter, r *http.Request) {
	name, capText := formText(r, "name"), formText(r, "rejectCap")
	d, err := h.buyersData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.FormName, d.FormCap = name, capText
	if name == "" {
		h.renderError(w, r, "buyers", d, trueup.Errorf(trueup.EINVALID, "the buyer's name is empty; type its name"))
		return
	}
	cap, err := parseRejectCap(capText)
	if err != nil {
		h.renderError(w, r, "buyers", d, err)
		return
	}
	cred, err := h.Buyers.CreateBuyer(r.Context(), buyer.CreateBuyerParams{Name: name, RejectCap: cap})
	if err != nil {
		h.renderError(w, r, "buyers", d, err)
		return
	}
	if d, err = h.buyersData(r); err != nil {
		h.fail(w, r, err)
		return
	}
	d.Token = &shownSecret{ID: "new-buyer-token", Label: "Access token of " + cred.Name, Value: cred.AccessToken}
	h.renderStatus(w, r, http.StatusOK, "buyers", view{Data: d, Flash: "Buyer " + cred.Name + " created as " + string(cred.BuyerID) + "."})
}

func (h *Handler) setRejectCap(w http.ResponseWriter, r *http.Request) {
	cap, err := parseRejectCap(formText(r, "rejectCap"))
	if err == nil {
		var b buyer.Buyer
		if b, err = h.Buyers.SetRejectCap(r.Context(), buyer.BuyerID(r.PathValue("id")), cap); err == nil {
			msg := b.Name + " has no reject cap now."
			if b.RejectCap != nil {
				msg = b.Name + "'s reject cap is now " + b.RejectCap.String() + " %."
			}
			h.redirect(w, r, Prefix+"buyers", msg)
			return
		}
	}
	d, derr := h.buyersData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	h.renderError(w, r, "buyers", d, err)
}
