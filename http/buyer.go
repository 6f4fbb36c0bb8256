package http

// buyerRoutes registers the buyer adjustments API (seed 002).
func (s *Server) buyerRoutes() {}
