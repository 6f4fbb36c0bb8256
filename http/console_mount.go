package http

import (
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/http/console"
)

// consoleRoutes mounts the web console (package http/console) under its
// prefix, with the common middleware and the upload body limit: its
// upload pages take statement files, and it limits its forms itself.
func (s *Server) consoleRoutes() {
	s.handleUpload(console.Prefix, s.serveConsole)
}

// serveConsole hands the request to the console, or answers 404 when the
// server has none.
func (s *Server) serveConsole(w http.ResponseWriter, r *http.Request) {
	if s.Console == nil {
		s.writeError(w, r, trueup.NotFound("no endpoint %s %s; the console is not enabled on this server", r.Method, r.URL.Path))
		return
	}
	s.Console.ServeHTTP(w, r)
}
