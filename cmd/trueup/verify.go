package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/statement"
)

// newVerifyCmd returns `trueup verify`, which checks a statement file
// offline: the same engine as the server's batches, against the configured
// database's ledger, with a progress bar; discrepancies go to --out (xlsx
// or csv by its extension).
func newVerifyCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify --carrier ID --cycle YYYY-MM FILE",
		Short: "check a statement file offline against the ledger",
		Long: "Check a carrier's statement FILE (xlsx, xls or csv, as the template) against the ledger\n" +
			"orders of the cycle, as the server checks an upload, and count the discrepancies by kind.\n" +
			"The cycle must be a past month, as the API requires. With --out the discrepancies are\n" +
			"written to a file: CSV when it is named .csv, xlsx otherwise.",
		Args: exactArgs("FILE"),
	}
	db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
	carrierID := cmd.Flags().String("carrier", "", "carrier `ID`")
	cycleFlag := cmd.Flags().String("cycle", "", "billing cycle `YYYY-MM`, a month before the current one")
	out := cmd.Flags().String("out", "", "write the discrepancies to this .xlsx or .csv `FILE`")
	markRequired(cmd, "carrier", "cycle")
	var cycle trueup.Cycle
	cmd.PreRunE = func(*cobra.Command, []string) error {
		var err error
		if cycle, err = batch.CheckCycle(*cycleFlag, env.now()); err != nil {
			return usagef("--cycle: %s", errorText(err))
		}
		return nil
	}
	readers := addReaderFlags(cmd)
	cmd.RunE = withServices(db, readers, func(ctx context.Context, store *sqlstore.DB, svc *Services, pos []string) error {
		carrier, err := store.Carrier(ctx, trueup.CarrierID(*carrierID))
		if err != nil {
			return err
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		format, err := batch.DetectFile(f, pos[0])
		if err != nil {
			return err
		}
		ledgerOrders, err := store.CountOrders(ctx, carrier.ID, cycle.String())
		if err != nil {
			return err
		}
		if ledgerOrders == 0 {
			fmt.Fprintf(env.Stderr, "warning: the ledger is empty for carrier %s and cycle %s: every statement row will be counted as missing on the platform side; load the orders first with `trueup import orders --carrier %s FILE`\n",
				carrier.ID, cycle, carrier.ID)
		}
		sink := func(context.Context, trueup.Discrepancy) error { return nil }
		var ew *statement.ExportWriter
		var outFile *os.File
		outFormat := statement.XLSX
		if *out != "" {
			if strings.EqualFold(filepath.Ext(*out), ".csv") {
				outFormat = statement.CSV
			}
			if outFile, err = os.Create(*out); err != nil {
				return err
			}
			defer outFile.Close()
			if ew, err = statement.NewExportWriter(outFile, outFormat); err != nil {
				return err
			}
			sink = func(_ context.Context, d trueup.Discrepancy) error { return ew.Write(d) }
		}
		bar := newProgressBar(env.Stderr, "verify "+filepath.Base(pos[0]))
		start := time.Now()
		res, err := svc.Batches.Check(ctx, batch.CheckParams{
			Carrier: carrier, Cycle: cycle, File: f, Size: st.Size(), Format: format, Sink: sink, Progress: bar.Set,
		})
		bar.Set(1, res.RowsRead)
		bar.Done()
		if err != nil {
			return err
		}
		wrote := ew != nil && res.Failure == ""
		if wrote {
			if err := ew.Close(); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
			if err := outFile.Close(); err != nil {
				return fmt.Errorf("write %s: %w", *out, err)
			}
		}
		if *asJSON {
			v := map[string]any{"rowsRead": res.RowsRead, "counts": res.Counts, "total": res.Counts.Total(),
				"rowErrorCount": res.ErrTotal, "rowErrors": nonNil(res.RowErrors), "failure": res.Failure, "seconds": time.Since(start).Seconds(),
				"ledgerOrders": ledgerOrders}
			if len(res.SkippedSheets) > 0 {
				v["skippedSheets"] = res.SkippedSheets
			}
			if wrote {
				v["out"] = map[string]any{"path": *out, "format": outFormat, "rows": res.Counts.Total()}
			}
			if err := printJSON(env.Stdout, v); err != nil {
				return err
			}
		} else {
			tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "rows read\t%d\n", res.RowsRead)
			if len(res.SkippedSheets) > 0 {
				fmt.Fprintf(tw, "sheets skipped (no template header)\t%s\n", quoteList(res.SkippedSheets))
			}
			for _, e := range res.RowErrors {
				fmt.Fprintf(tw, "row %d\t%s\t%q\t%s\n", e.Row, e.Column, e.Value, e.Reason)
			}
			if res.Failure == "" {
				for _, k := range trueup.Kinds {
					fmt.Fprintf(tw, "%d %s\t%d\n", k.Type, k.Label, res.Counts[k.Type])
				}
				fmt.Fprintf(tw, "total\t%d\n", res.Counts.Total())
			}
			tw.Flush()
			if wrote {
				fmt.Fprintf(env.Stdout, "wrote %s (%s): a header and %d discrepancy %s\n", *out, outFormat, res.Counts.Total(), plural(res.Counts.Total(), "row", "rows"))
			}
		}
		if res.Failure != "" {
			if outFile != nil {
				outFile.Close()
				os.Remove(*out)
			}
			return fmt.Errorf("%s", res.Failure)
		}
		return nil
	})
	return cmd
}

// quoteList returns the names quoted and joined by commas.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// plural returns one when n is 1, else many.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// newBatchCmd returns `trueup batch`: the statement batches the server
// checked.
func newBatchCmd(env Env) *cobra.Command {
	status := &cobra.Command{Use: "status BATCHNO", Short: "show a batch: state, progress, discrepancy counts and row errors", Args: exactArgs("BATCHNO")}
	statusDB, statusJSON := addDBFlags(status, env), addJSONFlag(status)
	status.RunE = withStore(statusDB, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
		b, attempt, err := store.Batch(ctx, trueup.BatchNo(pos[0]))
		if err != nil {
			return err
		}
		rowErrors, err := store.BatchRowErrors(ctx, b.No, attempt, 1000)
		if err != nil {
			return err
		}
		if *statusJSON {
			return printJSON(env.Stdout, map[string]any{"batch": b, "rowErrors": rowErrors})
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "batch\t%s\ncarrier\t%s\ncycle\t%s\nfile\t%s (%s, %d bytes)\nstate\t%s\nprogress\t%d%% (%d rows read)\n", b.No, b.CarrierID, b.Cycle, b.FileName, b.Format, b.FileSize, b.State, b.Percent, b.RowsRead)
		fmt.Fprintf(tw, "discrepancies\t%s\n", countsLine(b.Counts))
		if b.Failure != "" {
			fmt.Fprintf(tw, "failure\t%s\n", b.Failure)
		}
		for _, e := range rowErrors {
			fmt.Fprintf(tw, "row %d\t%s\t%q\t%s\n", e.Row, e.Column, e.Value, e.Reason)
		}
		return tw.Flush()
	})

	list := &cobra.Command{Use: "list --carrier ID", Short: "list a carrier's latest 100 batches, newest first", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	carrierID := list.Flags().String("carrier", "", "carrier `ID`")
	markRequired(list, "carrier")
	list.RunE = withStore(listDB, func(ctx context.Context, store *sqlstore.DB, _ []string) error {
		list, err := store.Batches(ctx, trueup.CarrierID(*carrierID), 100)
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(env.Stdout, nonNil(list))
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BATCH\tCYCLE\tSTATE\tROWS\tDISCREPANCIES\tCREATED")
		for _, b := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", b.No, b.Cycle, b.State, b.RowsRead, b.Counts.Total(), b.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	})

	return newGroup("batch", "show the statement batches the server checked", status, list)
}

// countsLine writes counts on one line, each kind by its number, then the
// total: "1: 0  2: 3  3: 0  4: 1  total: 4".
func countsLine(c trueup.DiffCounts) string {
	var b strings.Builder
	for _, k := range trueup.Kinds {
		fmt.Fprintf(&b, "%d: %d  ", k.Type, c[k.Type])
	}
	fmt.Fprintf(&b, "total: %d", c.Total())
	return b.String()
}
