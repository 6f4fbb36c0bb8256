package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"sort"
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
	"github.com/trueup/trueup/jobs"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/webhook"
)

// Prefix is the path every console page starts with.
const Prefix = "/console/"

// DefaultMaxFormBytes limits a form's body when Services.MaxFormBytes is 0.
const DefaultMaxFormBytes = 1 << 20

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Services are what the console calls; main builds them once and shares
// them with the APIs, the job runner and the CLI.
type Services struct {
	Operators *operator.Service
	Carriers  *auth.Admin
	Auth      *auth.Service
	Batches   *batch.Service
	Lifecycle *lifecycle.Service
	Buyers    *buyer.Service
	Risk      *risk.Service
	Keys      *apikey.Service
	Imports   *imports.Service
	Ledger    *ledger.Service
	Jobs      *jobs.Queue
	Cases     *cases.Service
	Audit     *audit.Service
	Webhooks  *webhook.Service
	Logger    *slog.Logger
	// Clock tells the time (the real clock when nil).
	Clock trueup.Clock
	// SecureCookies marks the cookies Secure even on a plain-HTTP request
	// (a TLS proxy in front); a request over TLS always gets them Secure.
	SecureCookies bool
	// MaxFormBytes limits a form's body (DefaultMaxFormBytes when 0).
	MaxFormBytes int64
	// MaxProgressStreams bounds the batch progress streams served at once
	// (DefaultMaxProgressStreams when 0); over it a page shows the state
	// as loaded and a refresh updates it.
	MaxProgressStreams int
	// MaxUploadBytes limits a statement upload, an import file or an
	// adjustment's list (DefaultMaxUploadBytes when 0); TempDir holds them while they are
	// read (os.TempDir when empty); Readers bound the files read.
	MaxUploadBytes int64
	TempDir        string
	Readers        sheet.Limits
}

// Handler is the console. It implements http.Handler for every path under
// Prefix.
type Handler struct {
	Services
	mux   *http.ServeMux
	pages map[string]*template.Template
	menu  []menuItem
	// streams holds a token per progress stream served (batches.go).
	streams chan struct{}
}

// menuItem is an entry of the navigation: shown to the roles need allows.
type menuItem struct {
	Label string
	Path  string
	Need  operator.Role
	Order int
}

// New returns the console over svc. It panics when an embedded template
// does not parse: that is a fault of the build, found by any test.
func New(svc Services) *Handler {
	if svc.Logger == nil {
		svc.Logger = slog.Default()
	}
	if svc.Clock == nil {
		svc.Clock = trueup.SystemClock{}
	}
	if svc.MaxUploadBytes <= 0 {
		svc.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if svc.MaxFormBytes <= 0 {
		svc.MaxFormBytes = DefaultMaxFormBytes
	}
	h := &Handler{Services: svc, mux: http.NewServeMux()}
	h.pages = parsePages()
	h.routes()
	sort.SliceStable(h.menu, func(i, j int) bool { return h.menu[i].Order < h.menu[j].Order })
	return h
}

// routes registers every page. A file of pages adds its own routes
// method and one line here.
func (h *Handler) routes() {
	assets, _ := fs.Sub(assetFS, "assets")
	h.mux.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", assetServer(http.FileServerFS(assets))))
	h.signInRoutes()
	h.homeRoutes()
	h.operatorRoutes()
	h.carrierRoutes()
	h.buyerRoutes()
	h.adjustmentRoutes()
	h.riskClientRoutes()
	h.riskLookupRoutes()
	h.apiKeyRoutes()
	h.packageRoutes()
	h.portalRoutes()
	h.batchRoutes()
	h.uploadRoutes()
	h.importRoutes()
	h.overviewRoutes()
	h.caseRoutes()
	h.cycleRoutes()
	h.auditRoutes()
	h.webhookRoutes()
	h.mux.HandleFunc(Prefix, h.notFound)
}

// ServeHTTP serves a console page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// assetServer lets browsers cache the assets for an hour.
func assetServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// parsePages parses the layout and partials (files starting with "_")
// once, then each page template over a copy of them, by its name without
// ".html".
func parsePages() map[string]*template.Template {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	var shared, pages []string
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			shared = append(shared, f)
		} else {
			pages = append(pages, f)
		}
	}
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, shared...))
	out := make(map[string]*template.Template, len(pages))
	for _, p := range pages {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, p))
		out[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return out
}

// page registers fn for pattern, open to the operators whose role allows
// need (see operator.Role.Allows): signed-in, with the right role, and for
// any method but GET and HEAD with the session's CSRF token. fn finds the
// session with sessionOf.
func (h *Handler) page(pattern string, need operator.Role, fn http.HandlerFunc) {
	h.mux.Handle(pattern, h.requireRole(need, fn))
}

// nav adds an entry to the navigation, shown to the operators whose role
// allows need, in the order of order (home is 0).
func (h *Handler) nav(label, path string, need operator.Role, order int) {
	h.menu = append(h.menu, menuItem{Label: label, Path: path, Need: need, Order: order})
}

// notFound answers a request no page takes. The catch-all pattern Prefix
// matches every method, so the mux never answers 405 by itself: a path
// that is a page for other methods (a GET on a form's POST-only address)
// answers 405 here, with an Allow header, and any other 404.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if allow := h.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.fail(w, r, trueup.Errorf(trueup.EMETHOD, "%s takes %s, not %s: it is the address of a form or a button; go back to the page that holds it", r.URL.Path, strings.Join(allow, " or "), r.Method))
		return
	}
	h.fail(w, r, trueup.NotFound("there is no console page %s; use the navigation, or start from %s", r.URL.Path, Prefix))
}

// allowed returns the methods, other than r's, for which a page is
// registered at r's path.
func (h *Handler) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != Prefix {
			out = append(out, m)
		}
	}
	return out
}
