package http

import (
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/http/admin"
)

// adminRoutes mounts the admin API (package http/admin) under its prefix,
// with the common middleware and the upload body limit: its imports take
// large bodies, and it limits its JSON bodies itself.
func (s *Server) adminRoutes() {
	s.handleUpload(admin.Prefix, s.serveAdmin)
}

// serveAdmin hands the request to the admin API, or answers 404 when the
// server has none.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if s.Admin == nil {
		s.writeError(w, r, trueup.NotFound("no endpoint %s %s; the admin API is not enabled on this server", r.Method, r.URL.Path))
		return
	}
	s.Admin.ServeHTTP(w, r)
}
