package main

import "context"

func runAdminRiskClient(ctx context.Context, args []string, env Env) error {
	return usagef("trueup admin riskclient is not available yet")
}

func runImportRisk(ctx context.Context, args []string, env Env) error {
	return usagef("trueup import risk is not available yet")
}
