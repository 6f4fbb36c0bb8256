package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
)

// newCycleCmd returns `trueup cycle`: a carrier's billing cycle, its
// settlement figure, export, close and reopen.
func newCycleCmd(env Env) *cobra.Command {
	out := env.Stdout
	cycleCmd := func(use, short string, run func(ctx context.Context, svc *Services, in cases.CycleInput) (cases.Cycle, error)) *cobra.Command {
		cmd := &cobra.Command{Use: use + " --carrier ID --cycle YYYY-MM", Short: short, Args: exactArgs()}
		db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
		carrier := cmd.Flags().String("carrier", "", "carrier `ID`")
		cycle := cmd.Flags().String("cycle", "", "billing cycle `YYYY-MM`")
		markRequired(cmd, "carrier", "cycle")
		cmd.RunE = withServices(db, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
			c, err := run(trueup.WithActor(ctx, trueup.ActorCLI), svc, cases.CycleInput{CarrierID: trueup.CarrierID(*carrier), Cycle: *cycle})
			if err != nil {
				return err
			}
			if *asJSON {
				return printJSON(out, c)
			}
			return printCycle(out, c)
		})
		return cmd
	}
	show := cycleCmd("show", "show a cycle: orders matched, cases per kind with their money, the settlement figure",
		func(ctx context.Context, svc *Services, in cases.CycleInput) (cases.Cycle, error) {
			return svc.Cases.Cycle(ctx, in)
		})
	closeCmd := cycleCmd("close", "close a cycle at its settlement figure: later uploads for it are refused until it is reopened",
		func(ctx context.Context, svc *Services, in cases.CycleInput) (cases.Cycle, error) {
			return svc.Cases.Close(ctx, in)
		})
	reopen := cycleCmd("reopen", "reopen a closed cycle: uploads and case actions are taken again",
		func(ctx context.Context, svc *Services, in cases.CycleInput) (cases.Cycle, error) {
			return svc.Cases.Reopen(ctx, in)
		})

	export := &cobra.Command{Use: "export --carrier ID --cycle YYYY-MM --out FILE", Short: "write a cycle's settlement and cases to an xlsx or csv file", Args: exactArgs()}
	exportDB := addDBFlags(export, env)
	carrier := export.Flags().String("carrier", "", "carrier `ID`")
	cycle := export.Flags().String("cycle", "", "billing cycle `YYYY-MM`")
	format := export.Flags().String("format", "xlsx", "file `FORMAT`: xlsx or csv")
	path := export.Flags().String("out", "", "the `FILE` to write; - for standard output")
	markRequired(export, "carrier", "cycle", "out")
	export.RunE = withServices(exportDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) (err error) {
		f := statement.Format(*format)
		if f != statement.XLSX && f != statement.CSV {
			return usagef("--format %q: use xlsx or csv", *format)
		}
		in := cases.ExportInput{CarrierID: trueup.CarrierID(*carrier), Cycle: *cycle, Format: f}
		if *path == "-" {
			return svc.Cases.Export(ctx, out, in)
		}
		file, err := os.Create(*path)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer func() {
			if cerr := file.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("export: %w", cerr)
			}
		}()
		return svc.Cases.Export(ctx, file, in)
	})
	return newGroup("cycle", "show, export, close and reopen a carrier's billing cycle", show, export, closeCmd, reopen)
}

func printCycle(out io.Writer, c cases.Cycle) error {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	state := "open"
	if c.ClosedAt != nil {
		state = "closed " + trueup.FormatTime(*c.ClosedAt) + " by " + string(c.ClosedBy)
	}
	applied := string(c.AppliedBatch)
	if applied == "" {
		applied = "none yet"
	}
	fmt.Fprintf(tw, "carrier\t%s\ncycle\t%s (%s)\nbatch applied\t%s (%d applied)\nledger orders\t%d\norders matched\t%d\ncases\t%d open (%d overdue), %d resolved\n",
		c.CarrierID, c.Cycle, state, applied, c.Batches, c.LedgerOrders, c.OrdersMatched, c.Open, c.Overdue, c.Resolved)
	for _, k := range c.Kinds {
		fmt.Fprintf(tw, "  kind %d\t%d open (%s), %d resolved (%s)\n", k.DiffType, k.Open, k.OpenAmount, k.Resolved, k.ResolvedAmount)
	}
	s := c.Settlement
	fmt.Fprintf(tw, "settlement\t%s over %d orders: this month %s, next month %s\ndisputed\t%s over %d orders held out by open cases\n",
		s.Total, s.Orders, s.ThisMonth, s.NextMonth, s.Disputed, s.DisputedOrders)
	return tw.Flush()
}
