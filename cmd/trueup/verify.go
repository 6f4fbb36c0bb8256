package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/statement"
)

// runVerify checks a statement file offline: the same engine as the
// server's batches, against the configured database's ledger, with a
// progress bar; discrepancies go to --out (xlsx or csv by its extension).
func runVerify(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("verify", env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	carrierID := fs.String("carrier", "", "carrier id (required)")
	cycleFlag := fs.String("cycle", "", "billing cycle yyyy-mm (required)")
	out := fs.String("out", "", "write the discrepancies to this .xlsx or .csv file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *carrierID == "" || *cycleFlag == "" || len(pos) != 1 {
		return usagef("usage: trueup verify --carrier ID --cycle yyyy-mm FILE [--out report.xlsx]")
	}
	cycle, err := trueup.ParseCycle(*cycleFlag)
	if err != nil {
		return err
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
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
	sink := func(context.Context, trueup.Discrepancy) error { return nil }
	var ew *statement.ExportWriter
	var outFile *os.File
	if *out != "" {
		outFormat := statement.XLSX
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
	services := NewServices(store, nil)
	defer services.Close()
	bar := newProgressBar(env.Stderr, "verify "+filepath.Base(pos[0]))
	start := time.Now()
	res, err := services.Batches.Check(ctx, batch.CheckParams{
		Carrier: carrier, Cycle: cycle, File: f, Size: st.Size(), Format: format, Sink: sink, Progress: bar.Set,
	})
	bar.Set(1, res.RowsRead)
	bar.Done()
	if err != nil {
		return err
	}
	if ew != nil && res.Failure == "" {
		if err := ew.Close(); err != nil {
			return fmt.Errorf("write %s: %w", *out, err)
		}
	}
	if *asJSON {
		if err := printJSON(env.Stdout, map[string]any{"rowsRead": res.RowsRead, "counts": res.Counts, "total": res.Counts.Total(),
			"rowErrorCount": res.ErrTotal, "rowErrors": nonNil(res.RowErrors), "failure": res.Failure, "seconds": time.Since(start).Seconds()}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "rows read\t%d\n", res.RowsRead)
		for _, e := range res.RowErrors {
			fmt.Fprintf(tw, "row %d\t%s\t%q\t%s\n", e.Row, e.Column, e.Value, e.Reason)
		}
		if res.Failure == "" {
			fmt.Fprintf(tw, "1 no record on the carrier side\t%d\n2 no record on the platform side\t%d\n3 rights inconsistent\t%d\n4 split amount inconsistent\t%d\ntotal\t%d\n",
				res.Counts.MissingOnCarrier, res.Counts.MissingOnPlatform, res.Counts.Rights, res.Counts.Amount, res.Counts.Total())
		}
		tw.Flush()
	}
	if res.Failure != "" {
		if outFile != nil {
			outFile.Close()
			os.Remove(*out)
		}
		return fmt.Errorf("%s", res.Failure)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// runBatch shows batches: `batch status BATCHNO` or `batch list --carrier ID`.
func runBatch(ctx context.Context, args []string, env Env) error {
	if len(args) < 1 || (args[0] != "status" && args[0] != "list") {
		return usagef("usage: trueup batch status BATCHNO | trueup batch list --carrier ID")
	}
	fs := newFlagSet("batch "+args[0], env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	carrierID := fs.String("carrier", "", "carrier id (batch list)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if args[0] == "list" {
		if *carrierID == "" {
			return usagef("--carrier ID is required")
		}
		list, err := store.Batches(ctx, trueup.CarrierID(*carrierID), 100)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, nonNil(list))
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BATCH\tCYCLE\tSTATE\tROWS\tDISCREPANCIES\tCREATED")
		for _, b := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", b.No, b.Cycle, b.State, b.RowsRead, b.Counts.Total(), b.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	if len(pos) != 1 {
		return usagef("usage: trueup batch status BATCHNO")
	}
	b, attempt, err := store.Batch(ctx, trueup.BatchNo(pos[0]))
	if err != nil {
		return err
	}
	rowErrors, err := store.BatchRowErrors(ctx, b.No, attempt, 1000)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env.Stdout, map[string]any{"batch": b, "rowErrors": rowErrors})
	}
	tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "batch\t%s\ncarrier\t%s\ncycle\t%s\nfile\t%s (%s, %d bytes)\nstate\t%s\nprogress\t%d%% (%d rows read)\n", b.No, b.CarrierID, b.Cycle, b.FileName, b.Format, b.FileSize, b.State, b.Percent, b.RowsRead)
	fmt.Fprintf(tw, "discrepancies\t1: %d  2: %d  3: %d  4: %d  total: %d\n", b.Counts.MissingOnCarrier, b.Counts.MissingOnPlatform, b.Counts.Rights, b.Counts.Amount, b.Counts.Total())
	if b.Failure != "" {
		fmt.Fprintf(tw, "failure\t%s\n", b.Failure)
	}
	for _, e := range rowErrors {
		fmt.Fprintf(tw, "row %d\t%s\t%q\t%s\n", e.Row, e.Column, e.Value, e.Reason)
	}
	return tw.Flush()
}
