package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/webhook"
)

// webhookDeliveries is how many deliveries the deliveries page shows.
const webhookDeliveries = 50

func (h *Handler) webhookRoutes() {
	h.page("GET "+Prefix+"webhooks", operator.RoleAdmin, h.webhooks)
	h.page("POST "+Prefix+"webhooks", operator.RoleAdmin, h.createWebhook)
	h.page("POST "+Prefix+"webhooks/{id}/delete", operator.RoleAdmin, h.deleteWebhook)
	h.page("GET "+Prefix+"webhooks/{id}", operator.RoleAdmin, h.webhookPage)
	h.page("POST "+Prefix+"webhooks/deliveries/{id}/redeliver", operator.RoleAdmin, h.redeliver)
	h.nav("Webhooks", Prefix+"webhooks", operator.RoleAdmin, 87)
}

// webhookForm is the create form's input, sent back with an error.
type webhookForm struct {
	CarrierID   trueup.CarrierID
	URL         string
	EventTypes  []string
	Description string
}

// Has reports whether the form asks for event type t.
func (f webhookForm) Has(t string) bool {
	for _, v := range f.EventTypes {
		if v == t {
			return true
		}
	}
	return false
}

// webhooksData is the webhooks page's data.
type webhooksData struct {
	Subscriptions []webhook.Subscription
	Carriers      []trueup.Carrier
	EventTypes    []string
	Form          webhookForm
	// Created is the new subscription, its secret shown once.
	Created *webhook.Created
}

func (h *Handler) webhooksData(r *http.Request) (webhooksData, error) {
	subs, err := h.Webhooks.Subscriptions(r.Context())
	if err != nil {
		return webhooksData{}, err
	}
	carriers, err := h.Carriers.Carriers(r.Context())
	if err != nil {
		return webhooksData{}, err
	}
	return webhooksData{Subscriptions: subs, Carriers: carriers, EventTypes: webhook.EventTypes,
		Form: webhookForm{EventTypes: []string{trueup.EventBatchSucceeded, trueup.EventBatchFailed}}}, nil
}

func (h *Handler) webhooks(w http.ResponseWriter, r *http.Request) {
	d, err := h.webhooksData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "webhooks", d)
}

// createWebhook creates a subscription and shows its secret once, on the
// answer to the form (never in a redirect or a flash).
func (h *Handler) createWebhook(w http.ResponseWriter, r *http.Request) {
	f := webhookForm{CarrierID: trueup.CarrierID(strings.TrimSpace(r.PostFormValue("carrierId"))), URL: strings.TrimSpace(r.PostFormValue("url")),
		EventTypes: r.PostForm["eventTypes"], Description: strings.TrimSpace(r.PostFormValue("description"))}
	var created webhook.Created
	var err error
	if len(f.EventTypes) == 0 {
		err = trueup.Errorf(trueup.EINVALID, "no event type is ticked; tick one or more events to send to %s", f.URL)
	} else {
		created, err = h.Webhooks.Create(r.Context(), webhook.CreateParams{CarrierID: f.CarrierID, URL: f.URL, EventTypes: f.EventTypes, Description: f.Description})
	}
	d, derr := h.webhooksData(r)
	if derr != nil {
		h.fail(w, r, derr)
		return
	}
	if err != nil {
		d.Form = f
		h.renderError(w, r, "webhooks", d, err)
		return
	}
	d.Created = &created
	h.renderStatus(w, r, http.StatusOK, "webhooks", view{Data: d, Flash: fmt.Sprintf("Webhook %s created for %s.", created.ID, created.URL)})
}

func (h *Handler) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	s, err := h.Webhooks.Delete(r.Context(), webhook.SubscriptionID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, Prefix+"webhooks", fmt.Sprintf("Webhook %s is deleted: nothing more is sent to %s; its deliveries stay listed.", s.ID, s.URL))
}

// webhookData is a subscription's page: its newest deliveries and their
// attempts.
type webhookData struct {
	Subscription webhook.Subscription
	Deliveries   []webhook.Delivery
}

func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request) {
	id := webhook.SubscriptionID(r.PathValue("id"))
	s, err := h.Webhooks.Subscription(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	list, err := h.Webhooks.Deliveries(r.Context(), id, webhookDeliveries)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "webhook", webhookData{Subscription: s, Deliveries: list})
}

// redeliver sends a finished delivery again.
func (h *Handler) redeliver(w http.ResponseWriter, r *http.Request) {
	d, err := h.Webhooks.Redeliver(r.Context(), webhook.DeliveryID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.redirect(w, r, Prefix+"webhooks/"+string(d.SubscriptionID), fmt.Sprintf("Delivery %s is queued again.", d.ID))
}
