package http

// lifecycleRoutes registers the package lifecycle API (seed 001).
func (s *Server) lifecycleRoutes() {}
