package batch

// SetMatchRunRows makes the checks of s spill their rows to runs of n rows
// (n above 0), whatever their size.
func SetMatchRunRows(s *Service, n int) { s.matchRunRows = n }
