package storetest

import "testing"

// runBuyers runs the buyer adjustment storage tests.
func runBuyers(t *testing.T, open Opener) {}
