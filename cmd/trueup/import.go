package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/statement"
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
	src, err := openOrderSource(pos[0])
	if err != nil {
		return err
	}
	defer src.Close()
	bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
	n, err := ledger.Import(ctx, store, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location(), Progress: bar.Set})
	bar.Done()
	var ie *ledger.ImportError
	if errors.As(err, &ie) {
		if *asJSON {
			printJSON(env.Stdout, map[string]any{"imported": 0, "errorCount": ie.Total, "errors": ie.Rows})
		} else {
			for _, r := range ie.Rows {
				fmt.Fprintf(env.Stdout, "row %d\t%s\t%q\t%s\n", r.Row, r.Column, r.Value, r.Reason)
			}
		}
		return fmt.Errorf("%d row error(s) in %s; nothing was imported: fix the rows above and import the file again", ie.Total, pos[0])
	}
	if err != nil {
		return err
	}
	return report(env.Stdout, *asJSON, map[string]any{"carrierId": c.ID, "imported": n}, fmt.Sprintf("imported %d orders for carrier %s", n, c.ID))
}

// openOrderSource opens an order file by its content (.jsonl by name).
func openOrderSource(path string) (ledger.Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".jsonl" || ext == ".ndjson" {
		return ledger.NewJSONLSource(f, st.Size(), f.Close), nil
	}
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	format, err := statement.Detect(head[:n], path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r, err := statement.Open(f, st.Size(), format)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src, err := ledger.NewSheetSource(r)
	if err != nil {
		r.Close()
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return closeBoth{src, f}, nil
}

type closeBoth struct {
	ledger.Source
	f *os.File
}

func (c closeBoth) Close() error {
	err := c.Source.Close()
	if ferr := c.f.Close(); err == nil {
		err = ferr
	}
	return err
}
