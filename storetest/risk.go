package storetest

import "testing"

// runRisk runs the risk list storage tests.
func runRisk(t *testing.T, open Opener) {}
