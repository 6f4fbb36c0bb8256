package main

import "context"

func runAdminBuyer(ctx context.Context, args []string, env Env) error {
	return usagef("trueup admin buyer is not available yet")
}

func runImportTransactions(ctx context.Context, args []string, env Env) error {
	return usagef("trueup import transactions is not available yet")
}

func runAdjustments(ctx context.Context, args []string, env Env) error {
	return usagef("trueup adjustments is not available yet")
}
