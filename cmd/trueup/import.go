package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
	"github.com/trueup/trueup/tabular"
)

// newImportCmd returns `trueup import`: ledger orders, buyer transactions
// and the risk list, each all or nothing.
func newImportCmd(env Env) *cobra.Command {
	return newGroup("import", "load ledger orders, buyer transactions or the risk list from a file, all or nothing",
		newImportOrdersCmd(env),
		newImportTransactionsCmd(env),
		newImportRiskCmd(env),
	)
}

// newImportOrdersCmd returns `trueup import orders`.
func newImportOrdersCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "orders --carrier ID FILE",
		Short: "load a carrier's ledger orders (CSV, xlsx, xls or JSON Lines)",
		Long: "Load a carrier's ledger orders from FILE: CSV, xlsx or xls with a header row, or JSON Lines\n" +
			"(.jsonl, .ndjson) keyed by column. An order is replaced by a later import of the same\n" +
			"carrierOrderId and billingCycle. A bad row stores nothing: every bad row is listed.\n" +
			"Zone-less times are read in the carrier's time zone.\n\n" + columnsHelp(ledger.Columns),
		Args: exactArgs("FILE"),
	}
	db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
	carrier := cmd.Flags().String("carrier", "", "carrier `ID`")
	markRequired(cmd, "carrier")
	readers := addReaderFlags(cmd)
	cmd.RunE = withServices(db, readers, func(ctx context.Context, store *sqlstore.DB, svc *Services, pos []string) error {
		c, err := store.Carrier(ctx, trueup.CarrierID(*carrier))
		if err != nil {
			return err
		}
		src, err := ledger.OpenFile(pos[0], svc.Readers)
		if err != nil {
			return err
		}
		defer src.Close()
		bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
		n, err := svc.Ledger.Import(ctx, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location(), Progress: bar.Set})
		bar.Done()
		if err := rowErrors(env, *asJSON, err, pos[0], importAgain); err != nil {
			return err
		}
		return report(env.Stdout, *asJSON, map[string]any{"carrierId": c.ID, "imported": n}, fmt.Sprintf("imported %d orders for carrier %s", n, c.ID))
	})
	return cmd
}

// columnsHelp describes a file's columns for a command's help: one line
// each, the required ones marked.
func columnsHelp(cols []statement.Column) string {
	var b strings.Builder
	b.WriteString("Columns (* required; names match whatever their case, spaces, _ and -):\n")
	for _, c := range cols {
		mark := " "
		if c.Required {
			mark = "*"
		}
		meaning := c.Meaning
		if c.Type != "" {
			meaning += " (" + c.Type + ")"
		}
		fmt.Fprintf(&b, "  %s %-18s %s\n", mark, c.Name, meaning)
	}
	return strings.TrimRight(b.String(), "\n")
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
