package console

import (
	"net/http"

	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) apiKeyRoutes() {
	h.page("GET "+Prefix+"api-keys", operator.RoleAdmin, h.apiKeys)
	h.page("POST "+Prefix+"api-keys", operator.RoleAdmin, h.createAPIKey)
	h.page("POST "+Prefix+"api-keys/{id}/revoke", operator.RoleAdmin, h.revokeAPIKey)
	h.nav("API keys", Prefix+"api-keys", operator.RoleAdmin, 85)
}

// apiKeysData is the admin API keys page's data.
type apiKeysData struct {
	Keys     []apikey.Key
	FormName string
	// Secret is a new key, shown once.
	Secret *shownSecret
}

func (h *Handler) apiKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := h.Keys.List(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "apikeys", apiKeysData{Keys: keys})
}

func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request) {
	name := formText(r, "name")
	created, cerr := h.Keys.Create(r.Context(), apikey.CreateParams{Name: name})
	keys, err := h.Keys.List(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := apiKeysData{Keys: keys}
	if cerr != nil {
		d.FormName = name
		h.renderError(w, r, "apikeys", d, cerr)
		return
	}
	d.Secret = &shownSecret{ID: "new-api-key", Label: "Admin API key " + string(created.KeyID), Value: created.Key}
	h.renderStatus(w, r, http.StatusOK, "apikeys", view{Data: d, Flash: "Key " + created.Name + " created; send it as Authorization: Bearer KEY."})
}

func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := h.Keys.Revoke(r.Context(), apikey.ID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, Prefix+"api-keys", "Key "+k.Name+" ("+string(k.ID)+") is revoked for good.")
}
