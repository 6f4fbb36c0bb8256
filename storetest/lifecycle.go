package storetest

import "testing"

// runLifecycle runs the package lifecycle storage tests.
func runLifecycle(t *testing.T, open Opener) {}
