package admin

import (
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/webhook"
)

// WebhookBody is the body of POST /admin/v1/webhooks.
type WebhookBody struct {
	// CarrierID limits the subscription to one carrier's events; leave it
	// out to subscribe the operators to every carrier's.
	CarrierID   string   `json:"carrierId"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"eventTypes"`
	Description string   `json:"description"`
}

func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	var b WebhookBody
	if err := decodeBody(w, r, h.MaxBodyBytes, &b); err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Webhooks.Create(r.Context(), webhook.CreateParams{CarrierID: trueup.CarrierID(b.CarrierID), URL: b.URL, EventTypes: b.EventTypes, Description: b.Description})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request) {
	list, err := h.Webhooks.Subscriptions(r.Context())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []webhook.Subscription{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) getWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := h.Webhooks.Subscription(r.Context(), webhook.SubscriptionID(r.PathValue("webhookId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := h.Webhooks.Delete(r.Context(), webhook.SubscriptionID(r.PathValue("webhookId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (h *Handler) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 50, 1, webhook.MaxDeliveriesPage)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.Webhooks.Deliveries(r.Context(), webhook.SubscriptionID(r.PathValue("webhookId")), limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []webhook.Delivery{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) getWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := h.Webhooks.Delivery(r.Context(), webhook.DeliveryID(r.PathValue("deliveryId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (h *Handler) redeliverWebhook(w http.ResponseWriter, r *http.Request) {
	d, err := h.Webhooks.Redeliver(r.Context(), webhook.DeliveryID(r.PathValue("deliveryId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}

func (h *Handler) rotateWebhook(w http.ResponseWriter, r *http.Request) {
	c, err := h.Webhooks.Rotate(r.Context(), webhook.SubscriptionID(r.PathValue("webhookId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}
