package main

import "context"

func runEvents(ctx context.Context, args []string, env Env) error {
	return usagef("trueup events is not available yet")
}
