// Package admin serves the admin API at /admin/v1/: the platform's own
// operations (carriers and their clients, buyers, risk clients, batches,
// adjustments, package events, imports) over the same services the CLI
// calls, authenticated by admin API keys (Authorization: Bearer KEY).
// Bodies and answers are JSON with camelCase keys; errors are
// {"code": <number>, "msg": "..."} with the status of the error's kind
// (errors.go).
package admin

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/webhook"
)

// Prefix is the path every admin endpoint starts with.
const Prefix = "/admin/v1/"

// Services are what the admin API calls; the caller builds them once.
type Services struct {
	Keys     *apikey.Service
	Imports  *imports.Service
	Auth     *auth.Service // provisioning: carriers, clients, secrets
	Carriers *auth.Admin   // carrier settings, client lists and revocation
	Buyers   *buyer.Service
	Risk     *risk.Service
	// Batches serve the batches and their discrepancies, Lifecycle the
	// package events, Ledger the ledger import.
	Batches   *batch.Service
	Lifecycle *lifecycle.Service
	Ledger    *ledger.Service
	// Cases serve the discrepancy cases and the cycles.
	Cases *cases.Service
	// Audit serves the audit chain, Webhooks the subscriptions and their
	// deliveries.
	Audit    *audit.Service
	Webhooks *webhook.Service
	Logger   *slog.Logger
	// MaxBodyBytes limits JSON bodies (1 MiB when 0); MaxImportBytes
	// limits an import's body (256 MiB when 0).
	MaxBodyBytes   int64
	MaxImportBytes int64
	// TempDir holds spooled import bodies (os.TempDir when empty).
	TempDir string
	// Readers bound the imported files (zero fields take the defaults of
	// sheet.DefaultLimits).
	Readers sheet.Limits
	// Clock tells the time (the real clock when nil).
	Clock trueup.Clock
}

// Handler is the admin API. It implements http.Handler for every path
// under Prefix.
type Handler struct {
	Services
	mux *http.ServeMux
}

// New returns the admin API over svc.
func New(svc Services) *Handler {
	if svc.Logger == nil {
		svc.Logger = slog.Default()
	}
	if svc.Clock == nil {
		svc.Clock = trueup.SystemClock{}
	}
	if svc.MaxBodyBytes <= 0 {
		svc.MaxBodyBytes = 1 << 20
	}
	if svc.MaxImportBytes <= 0 {
		svc.MaxImportBytes = 256 << 20
	}
	h := &Handler{Services: svc, mux: http.NewServeMux()}
	h.routes()
	return h
}

// Close waits for the running imports (see imports.Service.Close).
func (h *Handler) Close(ctx context.Context) error { return h.Imports.Close(ctx) }

func (h *Handler) routes() {
	h.handle("GET /admin/v1/carriers", h.listCarriers)
	h.handle("POST /admin/v1/carriers", h.createCarrier)
	h.handle("GET /admin/v1/carriers/{carrierId}", h.getCarrier)
	h.handle("PATCH /admin/v1/carriers/{carrierId}", h.updateCarrier)
	h.handle("GET /admin/v1/carriers/{carrierId}/clients", h.listClients)
	h.handle("POST /admin/v1/carriers/{carrierId}/clients", h.createClient)
	h.handle("GET /admin/v1/carriers/{carrierId}/events", h.listEvents)
	h.handle("POST /admin/v1/clients/{clientId}/rotate", h.rotateClient)
	h.handle("POST /admin/v1/clients/{clientId}/revoke", h.revokeClient)

	h.handle("GET /admin/v1/buyers", h.listBuyers)
	h.handle("POST /admin/v1/buyers", h.createBuyer)
	h.handle("PATCH /admin/v1/buyers/{buyerId}", h.updateBuyer)
	h.handle("POST /admin/v1/buyers/{buyerId}/rotate", h.rotateBuyer)

	h.handle("GET /admin/v1/risk-clients", h.listRiskClients)
	h.handle("POST /admin/v1/risk-clients", h.createRiskClient)
	h.handle("GET /admin/v1/risk-clients/{apiId}", h.getRiskClient)
	h.handle("PATCH /admin/v1/risk-clients/{apiId}", h.updateRiskClient)
	h.handle("POST /admin/v1/risk-clients/{apiId}/rotate", h.rotateRiskClient)
	h.handle("POST /admin/v1/risk-clients/{apiId}/revoke", h.revokeRiskClient)

	h.handle("GET /admin/v1/batches", h.listBatches)
	h.handle("GET /admin/v1/batches/{batchNo}", h.getBatch)
	h.handle("GET /admin/v1/batches/{batchNo}/discrepancies", h.listDiscrepancies)
	h.handle("GET /admin/v1/batches/{batchNo}/export", h.exportDiscrepancies)

	h.handle("GET /admin/v1/adjustments/{adjustmentId}", h.getAdjustment)
	h.handle("POST /admin/v1/adjustments/{adjustmentId}/confirm", h.confirmAdjustment)
	h.handle("POST /admin/v1/adjustments/{adjustmentId}/cancel", h.cancelAdjustment)

	h.handle("POST /admin/v1/imports/orders", h.importOrders)
	h.handle("POST /admin/v1/imports/transactions", h.importTransactions)
	h.handle("POST /admin/v1/imports/risk", h.importRisk)
	h.handle("GET /admin/v1/imports", h.listImports)
	h.handle("GET /admin/v1/imports/{importId}", h.getImport)

	h.caseRoutes()
	h.handle("GET /admin/v1/audit", h.listAudit)
	h.handle("GET /admin/v1/audit/verify", h.verifyAudit)

	h.handle("GET /admin/v1/webhooks", h.listWebhooks)
	h.handle("POST /admin/v1/webhooks", h.createWebhook)
	h.handle("GET /admin/v1/webhooks/{webhookId}", h.getWebhook)
	h.handle("DELETE /admin/v1/webhooks/{webhookId}", h.deleteWebhook)
	h.handle("POST /admin/v1/webhooks/{webhookId}/rotate", h.rotateWebhook)
	h.handle("GET /admin/v1/webhooks/{webhookId}/deliveries", h.listWebhookDeliveries)
	h.handle("GET /admin/v1/webhook-deliveries/{deliveryId}", h.getWebhookDelivery)
	h.handle("POST /admin/v1/webhook-deliveries/{deliveryId}/redeliver", h.redeliverWebhook)

	h.mux.HandleFunc(Prefix, h.notFound)
}

// keyCtx carries the authenticated key.
type keyCtx struct{}

// handle registers fn for pattern; ServeHTTP checks the key before any
// route runs.
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.mux.HandleFunc(pattern, fn)
}

// ServeHTTP checks the admin API key, then serves the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k, err := h.Keys.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := trueup.WithActor(context.WithValue(r.Context(), keyCtx{}, k), trueup.Actor("apikey:"+string(k.ID)))
	h.mux.ServeHTTP(w, r.WithContext(ctx))
}

// callerKey returns the key that authenticated r.
func callerKey(r *http.Request) apikey.Key {
	k, _ := r.Context().Value(keyCtx{}).(apikey.Key)
	return k
}

// notFound answers a path under Prefix that no route serves: 405 when
// another method serves it, else 404.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != Prefix && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		h.writeError(w, r, trueup.Errorf(trueup.EMETHOD, "%s is served with %s, not %s; see /docs",
			r.URL.Path, strings.Join(allowed, " or "), r.Method))
		return
	}
	h.writeError(w, r, trueup.NotFound("no admin endpoint %s %s; the endpoints are listed at /docs", r.Method, r.URL.Path))
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
