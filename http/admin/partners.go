package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/risk"
)

// CarrierBody is the body of POST /admin/v1/carriers.
type CarrierBody struct {
	Name        string `json:"name"`
	Whitelisted bool   `json:"whitelisted"`
	TimeZone    string `json:"timeZone"`
}

func (h *Handler) listCarriers(w http.ResponseWriter, r *http.Request) {
	list, err := h.Carriers.Carriers(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) createCarrier(w http.ResponseWriter, r *http.Request) {
	var b CarrierBody
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(b.Name) == "" {
		h.writeError(w, r, invalid("field name is missing or empty; send the carrier's name"))
		return
	}
	cred, err := h.Auth.CreateCarrier(r.Context(), auth.CreateCarrierParams{Name: b.Name, Whitelisted: b.Whitelisted, TimeZone: b.TimeZone})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, cred)
}

func (h *Handler) getCarrier(w http.ResponseWriter, r *http.Request) {
	c, err := h.Carriers.Carrier(r.Context(), trueup.CarrierID(r.PathValue("carrierId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// CarrierUpdate is the body of PATCH /admin/v1/carriers/{carrierId}: the
// fields sent are changed, the others kept.
type CarrierUpdate struct {
	Whitelisted *bool   `json:"whitelisted"`
	TimeZone    *string `json:"timeZone"`
}

func (h *Handler) updateCarrier(w http.ResponseWriter, r *http.Request) {
	var b CarrierUpdate
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if b.Whitelisted == nil && b.TimeZone == nil {
		h.writeError(w, r, invalid("the body changes nothing; send whitelisted (true or false), timeZone (an IANA name) or both"))
		return
	}
	c, err := h.Carriers.SetCarrier(r.Context(), auth.SetCarrierParams{ID: trueup.CarrierID(r.PathValue("carrierId")), Whitelisted: b.Whitelisted, TimeZone: b.TimeZone})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) {
	list, err := h.Carriers.Clients(r.Context(), trueup.CarrierID(r.PathValue("carrierId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) createClient(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Auth.CreateClient(r.Context(), trueup.CarrierID(r.PathValue("carrierId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, cred)
}

func (h *Handler) rotateClient(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Auth.RotateClient(r.Context(), trueup.ClientID(r.PathValue("clientId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cred)
}

// Revoked is the answer of a revocation.
type Revoked struct {
	ID      string `json:"id"`
	Revoked bool   `json:"revoked"`
}

func (h *Handler) revokeClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("clientId")
	if err := h.Carriers.RevokeClient(r.Context(), trueup.ClientID(id)); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Revoked{ID: id, Revoked: true})
}

// BuyerBody is the body of POST /admin/v1/buyers; rejectCap is a number
// from 0 to 100 with at most two decimals, or null (or absent) for none.
type BuyerBody struct {
	Name      string          `json:"name"`
	RejectCap json.RawMessage `json:"rejectCap"`
}

// parseCap reads a rejectCap value: null or absent is no cap.
func parseCap(raw json.RawMessage) (*buyer.Percent, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	p, err := buyer.ParsePercent(strings.Trim(s, `"`))
	if err != nil {
		return nil, invalid("field rejectCap: %s; or send null for no cap", trueup.ErrorMessage(err))
	}
	return &p, nil
}

func (h *Handler) listBuyers(w http.ResponseWriter, r *http.Request) {
	list, err := h.Buyers.Buyers(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) createBuyer(w http.ResponseWriter, r *http.Request) {
	var b BuyerBody
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(b.Name) == "" {
		h.writeError(w, r, invalid("field name is missing or empty; send the buyer's name"))
		return
	}
	cap, err := parseCap(b.RejectCap)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	cred, err := h.Buyers.CreateBuyer(r.Context(), buyer.CreateBuyerParams{Name: b.Name, RejectCap: cap})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, cred)
}

// BuyerUpdate is the body of PATCH /admin/v1/buyers/{buyerId}.
type BuyerUpdate struct {
	RejectCap json.RawMessage `json:"rejectCap"`
}

func (h *Handler) updateBuyer(w http.ResponseWriter, r *http.Request) {
	var b BuyerUpdate
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if b.RejectCap == nil {
		h.writeError(w, r, invalid("field rejectCap is missing; send a percentage from 0 to 100, or null for no cap"))
		return
	}
	cap, err := parseCap(b.RejectCap)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	got, err := h.Buyers.SetRejectCap(r.Context(), buyer.BuyerID(r.PathValue("buyerId")), cap)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (h *Handler) rotateBuyer(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Buyers.RotateToken(r.Context(), buyer.BuyerID(r.PathValue("buyerId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cred)
}

// RiskClientView is a risk client as the admin API shows it.
type RiskClientView = risk.ClientView

// RiskClientBody is the body of POST /admin/v1/risk-clients and PATCH
// /admin/v1/risk-clients/{apiId}. On PATCH the fields sent are changed and
// the others kept; expiresAt null removes the expiry.
type RiskClientBody struct {
	Name       string          `json:"name"`
	APIs       *[]risk.API     `json:"apis"`
	TimeZone   *string         `json:"timeZone"`
	WindowDays *int            `json:"windowDays"`
	Quota      *int64          `json:"quota"`
	Rate       *int64          `json:"rate"`
	ExpiresAt  json.RawMessage `json:"expiresAt"`
}

// expiry reads expiresAt: an RFC 3339 instant, or null.
func expiry(raw json.RawMessage) (t *time.Time, null bool, err error) {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return nil, false, nil
	}
	if s == "null" {
		return nil, true, nil
	}
	var v string
	if json.Unmarshal(raw, &v) == nil {
		if p, perr := time.Parse(time.RFC3339, v); perr == nil {
			p = p.UTC()
			return &p, false, nil
		}
	}
	return nil, false, invalid("field expiresAt %s is not an RFC 3339 instant; send for example \"2026-12-31T18:30:00Z\", or null for no expiry", s)
}

func (h *Handler) listRiskClients(w http.ResponseWriter, r *http.Request) {
	list, err := h.Risk.Clients(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.Clock.Now()
	out := make([]RiskClientView, len(list))
	for i, c := range list {
		out[i] = risk.NewClientView(c, "", now)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) createRiskClient(w http.ResponseWriter, r *http.Request) {
	var b RiskClientBody
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(b.Name) == "" {
		h.writeError(w, r, invalid("field name is missing or empty; send the client's name"))
		return
	}
	p := risk.CreateClientParams{Name: b.Name}
	if b.APIs != nil {
		p.APIs = *b.APIs
		if p.APIs == nil {
			p.APIs = []risk.API{}
		}
	}
	if b.TimeZone != nil {
		p.TimeZone = *b.TimeZone
	}
	if b.WindowDays != nil {
		p.WindowDays = *b.WindowDays
	}
	if b.Quota != nil {
		p.Quota = *b.Quota
	}
	if b.Rate != nil {
		p.Rate = *b.Rate
	}
	exp, _, err := expiry(b.ExpiresAt)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p.ExpiresAt = exp
	cred, err := h.Risk.CreateClient(r.Context(), p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, risk.NewClientView(cred.Client, cred.APISecret, h.Clock.Now()))
}

func (h *Handler) getRiskClient(w http.ResponseWriter, r *http.Request) {
	c, err := h.Risk.Client(r.Context(), risk.ClientID(r.PathValue("apiId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, risk.NewClientView(c, "", h.Clock.Now()))
}

func (h *Handler) updateRiskClient(w http.ResponseWriter, r *http.Request) {
	var b RiskClientBody
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	if b.Name != "" {
		h.writeError(w, r, invalid("field name cannot be changed; send only apis, timeZone, windowDays, quota, rate or expiresAt"))
		return
	}
	u := risk.ClientUpdate{ID: risk.ClientID(r.PathValue("apiId")), APIs: b.APIs, TimeZone: b.TimeZone, WindowDays: b.WindowDays, Quota: b.Quota, Rate: b.Rate}
	exp, none, err := expiry(b.ExpiresAt)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	u.ExpiresAt, u.NoExpiry = exp, none
	c, err := h.Risk.UpdateClient(r.Context(), u)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, risk.NewClientView(c, "", h.Clock.Now()))
}

func (h *Handler) rotateRiskClient(w http.ResponseWriter, r *http.Request) {
	cred, err := h.Risk.RotateClient(r.Context(), risk.ClientID(r.PathValue("apiId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, risk.NewClientView(cred.Client, cred.APISecret, h.Clock.Now()))
}

func (h *Handler) revokeRiskClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("apiId")
	if err := h.Risk.RevokeClient(r.Context(), risk.ClientID(id)); err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Revoked{ID: id, Revoked: true})
}
