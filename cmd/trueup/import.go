package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/tabular"
)

func runImport(ctx context.Context, args []string, env Env) error {
	if len(args) >= 1 && args[0] == "transactions" {
		return runImportTransactions(ctx, args[1:], env)
	}
	if len(args) >= 1 && args[0] == "risk" {
		return runImportRisk(ctx, args[1:], env)
	}
	if len(args) < 1 || args[0] != "orders" {
		return usagef("usage: trueup import orders|transactions|risk ... (trueup import orders --carrier ID FILE)")
	}
	fs := newFlagSet("import orders", env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	carrier := fs.String("carrier", "", "carrier id (required)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if *carrier == "" || len(pos) != 1 {
		return usagef("usage: trueup import orders --carrier ID FILE")
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	c, err := store.Carrier(ctx, trueup.CarrierID(*carrier))
	if err != nil {
		return err
	}
	src, err := ledger.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer src.Close()
	services := NewServices(store, nil)
	defer services.Close()
	bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
	n, err := services.Ledger.Import(ctx, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location(), Progress: bar.Set})
	bar.Done()
	if err := rowErrors(env, *asJSON, err, pos[0], importAgain); err != nil {
		return err
	}
	return report(env.Stdout, *asJSON, map[string]any{"carrierId": c.ID, "imported": n}, fmt.Sprintf("imported %d orders for carrier %s", n, c.ID))
}

// The endings of rowErrors' messages.
const (
	importAgain = "nothing was imported: fix the rows above and import the file again"
	runAgain    = "nothing was stored: fix the rows above and run the command again"
)

// rowErrors prints the rows of a *tabular.RowErrors (the ImportError of
// ledger, buyer and risk) and returns the command's error, which counts
// them in path and ends with outcome. Other errors, and nil, are returned
// as they are.
func rowErrors(env Env, asJSON bool, err error, path, outcome string) error {
	var ie *tabular.RowErrors
	if !errors.As(err, &ie) {
		return err
	}
	if asJSON {
		printJSON(env.Stdout, map[string]any{"imported": 0, "errorCount": ie.Total, "errors": ie.Rows})
	} else {
		for _, r := range ie.Rows {
			fmt.Fprintf(env.Stdout, "row %d\t%s\t%q\t%s\n", r.Row, r.Column, r.Value, r.Reason)
		}
	}
	return fmt.Errorf("%d row error(s) in %s; %s", ie.Total, path, outcome)
}
