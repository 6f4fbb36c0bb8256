package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/trueup/trueup/buyer"
)

// runAdminBuyer provisions buyers: admin buyer create|list|cap|rotate.
func runAdminBuyer(ctx context.Context, args []string, env Env) error {
	const usage = "usage: trueup admin buyer create --name NAME [--reject-cap PCT] | list | cap ID PCT|none | rotate ID"
	if len(args) < 1 {
		return usagef(usage)
	}
	fs := newFlagSet("admin buyer "+args[0], env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "buyer name (create)")
	capText := fs.String("reject-cap", "", "largest reject percentage a process may leave on a survey, 0-100 (create); none when empty")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	services := NewServices(store, nil)
	defer services.Close()
	svc := services.Buyers
	out := env.Stdout
	showCred := func(c buyer.Credentials) error {
		if *asJSON {
			return printJSON(out, c)
		}
		fmt.Fprintf(out, "buyerId:     %s\nname:        %s\nrejectCap:   %s\naccessToken: %s\n\nThe access token is shown once; store it now. Send it in the access-token header.\n",
			c.BuyerID, c.Name, capString(c.RejectCap), c.AccessToken)
		return nil
	}
	switch args[0] {
	case "create":
		cap, err := parseCap(*capText)
		if err != nil {
			return usagef("--reject-cap: %v", err)
		}
		c, err := svc.CreateBuyer(ctx, buyer.CreateBuyerParams{Name: *name, RejectCap: cap})
		if err != nil {
			return err
		}
		return showCred(c)
	case "list":
		list, err := store.BuyerStore().Buyers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []buyer.Buyer{}
			}
			return printJSON(out, list)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREJECT CAP\tCREATED")
		for _, b := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.ID, b.Name, capString(b.RejectCap), b.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
		return tw.Flush()
	case "cap":
		if len(pos) != 2 {
			return usagef("usage: trueup admin buyer cap ID PCT|none")
		}
		cap, err := parseCap(pos[1])
		if err != nil {
			return usagef("%v", err)
		}
		if err := store.BuyerStore().SetBuyerRejectCap(ctx, buyer.BuyerID(pos[0]), cap); err != nil {
			return err
		}
		return report(out, *asJSON, map[string]any{"buyerId": pos[0], "rejectCap": cap}, fmt.Sprintf("buyer %s reject cap: %s", pos[0], capString(cap)))
	case "rotate":
		if len(pos) != 1 {
			return usagef("usage: trueup admin buyer rotate ID")
		}
		c, err := svc.RotateToken(ctx, buyer.BuyerID(pos[0]))
		if err != nil {
			return err
		}
		return showCred(c)
	}
	return usagef("unknown command %q; %s", args[0], usage)
}

// parseCap parses a reject cap as ParsePercent does; empty or "none" (any
// case) is no cap, nil.
func parseCap(s string) (*buyer.Percent, error) {
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	p, err := buyer.ParsePercent(s)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func capString(p *buyer.Percent) string {
	if p == nil {
		return "none"
	}
	return p.String() + "%"
}

// runImportTransactions loads a buyer's transactions from CSV, xlsx, xls or
// JSON Lines, all or nothing.
func runImportTransactions(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("import transactions", env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	buyerID := fs.String("buyer", "", "buyer id (required)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *buyerID == "" || len(pos) != 1 {
		return usagef("usage: trueup import transactions --buyer ID FILE (csv, xlsx, xls or jsonl; columns %s)", columnList(buyer.TransactionColumns))
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	services := NewServices(store, nil)
	defer services.Close()
	svc := services.Buyers
	if _, err := store.BuyerStore().Buyer(ctx, buyer.BuyerID(*buyerID)); err != nil {
		return err
	}
	src, err := buyer.OpenFile(pos[0], buyer.TransactionColumns)
	if err != nil {
		return err
	}
	defer src.Close()
	bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
	n, err := svc.Import(ctx, buyer.ImportParams{Buyer: buyer.BuyerID(*buyerID), Source: src, Progress: bar.Set})
	bar.Done()
	if err := rowErrors(env, *asJSON, err, pos[0], runAgain); err != nil {
		return err
	}
	return report(env.Stdout, *asJSON, map[string]any{"buyerId": *buyerID, "imported": n}, fmt.Sprintf("imported %d transactions for buyer %s", n, *buyerID))
}

func columnList(cols []buyer.Column) string {
	n := make([]string, len(cols))
	for i, c := range cols {
		n[i] = c.Name
	}
	return strings.Join(n, ", ")
}

// readItemsFile reads a process's list: a JSON array as the API takes it
// (.json), or CSV, xlsx, xls or JSON Lines with the columns transaction_id
// and change_reason.
func readItemsFile(path string) ([]buyer.Item, error) {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		items, err := buyer.DecodeItems(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return items, nil
	}
	src, err := buyer.OpenFile(path, buyer.ItemColumns)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return buyer.ReadItems(src)
}

// adjustmentView is a process as the CLI prints it with --json.
type adjustmentView struct {
	buyer.Adjustment
	StatusDescription string `json:"statusDescription"`
}

func viewOf(a buyer.Adjustment) adjustmentView {
	return adjustmentView{Adjustment: a, StatusDescription: a.Status.Description()}
}

// runAdjustments runs the operators' commands on buyer adjustments.
func runAdjustments(ctx context.Context, args []string, env Env) error {
	const usage = "usage: trueup adjustments launch --buyer ID [--survey S] [--operation-type LIVE_RECONCILIATION --recon-status 1|2] FILE" +
		" | confirm ID | cancel ID | list --buyer ID [--survey S] | show ID"
	if len(args) < 1 {
		return usagef(usage)
	}
	fs := newFlagSet("adjustments "+args[0], env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	buyerID := fs.String("buyer", "", "buyer id (launch, list)")
	surveyText := fs.String("survey", "", "survey id (launch: the process's one survey, every survey of the listed transactions when empty; list: only processes touching it)")
	opType := fs.String("operation-type", "", "LIVE_RECONCILIATION to change only the listed transactions (launch); an accepting process when empty")
	reconStatus := fs.String("recon-status", "", "with --operation-type: 1 completes the listed transactions, 2 rejects them (launch)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	var survey buyer.SurveyID
	if *surveyText != "" {
		if survey, err = buyer.ParseSurveyID(*surveyText); err != nil {
			return usagef("--survey: %v", err)
		}
	}
	oneID := func() (buyer.AdjustmentID, error) {
		if len(pos) != 1 || !buyer.ValidAdjustmentID(pos[0]) {
			return "", usagef("usage: trueup adjustments %s ID (the process's adjustment_id, a UUID)", args[0])
		}
		return buyer.AdjustmentID(strings.ToLower(pos[0])), nil
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	services := NewServices(store, nil)
	defer services.Close()
	svc := services.Buyers
	bs := svc.Store
	out := env.Stdout
	switch args[0] {
	case "launch":
		if *buyerID == "" || len(pos) != 1 {
			return usagef("usage: trueup adjustments launch --buyer ID [--survey S] [--operation-type LIVE_RECONCILIATION --recon-status 1|2] FILE")
		}
		mode, desired, err := buyer.ParseMode(*opType, *reconStatus)
		if err != nil {
			return usagef("%v", err)
		}
		b, err := bs.Buyer(ctx, buyer.BuyerID(*buyerID))
		if err != nil {
			return err
		}
		if survey != 0 {
			if _, err := svc.OwnedSurvey(ctx, b, survey); errors.Is(err, buyer.ErrNotAuthorized) {
				return fmt.Errorf("survey %d is not a survey of buyer %s; import its transactions first", survey, b.ID)
			} else if err != nil {
				return err
			}
		}
		items, err := readItemsFile(pos[0])
		if err := rowErrors(env, *asJSON, err, pos[0], runAgain); err != nil {
			return err
		}
		adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: survey, Mode: mode, Desired: desired, Items: items})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, viewOf(adj))
		}
		printAdjustment(out, adj)
		fmt.Fprintf(out, "\nThe process waits in Pending: run `trueup adjustments confirm %s` to apply it or `trueup adjustments cancel %s` to decline it (within %s).\n",
			adj.ID, adj.ID, buyer.PendingTimeout)
		if !adj.Summary.ValidCap {
			fmt.Fprintf(out, "Warning: as the data stands, the process would pass the buyer's reject cap of %s; confirmed, it would end Recon Cap Reached.\n", capString(b.RejectCap))
		}
		return nil
	case "confirm", "cancel":
		id, err := oneID()
		if err != nil {
			return err
		}
		act := svc.Confirm
		if args[0] == "cancel" {
			act = svc.Cancel
		}
		adj, err := act(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, viewOf(adj))
		}
		_, err = fmt.Fprintf(out, "adjustment %s: %s (%d)\n", adj.ID, adj.Status.Description(), adj.Status)
		return err
	case "show":
		id, err := oneID()
		if err != nil {
			return err
		}
		adj, err := bs.Adjustment(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, viewOf(adj))
		}
		printAdjustment(out, adj)
		return nil
	case "list":
		if *buyerID == "" {
			return usagef("usage: trueup adjustments list --buyer ID [--survey S]")
		}
		if _, err := bs.Buyer(ctx, buyer.BuyerID(*buyerID)); err != nil {
			return err
		}
		all, err := bs.BuyerAdjustments(ctx, buyer.BuyerID(*buyerID))
		if err != nil {
			return err
		}
		list := []adjustmentView{}
		for _, a := range all {
			if survey == 0 || slices.Contains(a.Surveys, survey) {
				list = append(list, viewOf(a))
			}
		}
		if *asJSON {
			return printJSON(out, list)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ADJUSTMENT ID\tSTATUS\tSOURCE\tDESIRED\tITEMS\tCHANGED\tSURVEYS\tCREATED")
		for _, v := range list {
			src := "console"
			if v.IsAPI {
				src = "api"
			}
			fmt.Fprintf(tw, "%s\t%d %s\t%s\t%d\t%d\t%d\t%v\t%s\n", v.ID, v.Status, v.StatusDescription, src, v.Desired, v.Items,
				v.Summary.LiveReconciled, v.Surveys, v.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
		return tw.Flush()
	}
	return usagef("unknown command %q; %s", args[0], usage)
}

// printAdjustment writes a process and its summary for an operator.
func printAdjustment(w io.Writer, a buyer.Adjustment) {
	s := a.Summary
	src := "console"
	if a.IsAPI {
		src = "api"
	}
	fmt.Fprintf(w, "adjustment %s: %s (%d), %s, %s mode, desired status %d (%s)\n", a.ID, a.Status.Description(), a.Status, src, a.Mode, a.Desired, a.Desired.Name())
	if a.Failure != "" {
		fmt.Fprintf(w, "failure: %s\n", a.Failure)
	}
	fmt.Fprintf(w, "list: %d entries: %d eligible, %d already at the desired status, %d test, %d invoiced, %d not eligible, %d unknown, %d duplicates\n",
		s.Transactions, s.Eligible, s.TransactionsWithDesiredStatus, s.Test, s.Invoiced, s.NotEligible, s.Unknown, s.Duplicates)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SURVEY\tCOMPLETES\tREJECTING\tACCEPTING\tRESULTING\tREJECTS\tREJECT %\tCAP OK\tCHANGED")
	for _, p := range s.SummaryPerSurvey {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t%s\t%v\t%d\n", p.SurveyID, p.CurrentCompletes, p.RejectingCompletesInCurrentUpload,
			p.AcceptingCompletesInCurrentUpload, p.ResultingCompletes, p.TotalRejects, p.RejectPercentage, p.ValidCap, p.LiveReconciled)
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%d\t%s\t%v\t%d\n", s.CurrentCompletes, s.RejectingCompletesInCurrentUpload,
		s.AcceptingCompletesInCurrentUpload, s.ResultingCompletes, s.TotalRejects, s.RejectPercentage, s.ValidCap, s.LiveReconciled)
	tw.Flush()
}
