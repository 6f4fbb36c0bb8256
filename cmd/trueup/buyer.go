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

	"github.com/spf13/cobra"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/sqlstore"
)

// newAdminBuyerCmd returns `trueup admin buyer`: buyers and their access
// tokens.
func newAdminBuyerCmd(env Env) *cobra.Command {
	out := env.Stdout
	showCred := func(asJSON bool, c buyer.Credentials) error {
		if asJSON {
			return printJSON(out, c)
		}
		fmt.Fprintf(out, "buyerId:     %s\nname:        %s\nrejectCap:   %s\naccessToken: %s\n\nThe access token is shown once; store it now. Send it in the access-token header.\n",
			c.BuyerID, c.Name, capString(c.RejectCap), c.AccessToken)
		return nil
	}

	create := &cobra.Command{Use: "create --name NAME", Short: "create a buyer and its access token", Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	name := create.Flags().String("name", "", "buyer `NAME`")
	capText := create.Flags().String("reject-cap", "", "largest reject percentage `PCT` a process may leave on a survey, 0-100; none when empty")
	markRequired(create, "name")
	var createCap *buyer.Percent
	create.PreRunE = func(*cobra.Command, []string) error {
		var err error
		if createCap, err = parseCap(*capText); err != nil {
			return usagef("--reject-cap: %v", err)
		}
		return nil
	}
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		c, err := svc.Buyers.CreateBuyer(ctx, buyer.CreateBuyerParams{Name: *name, RejectCap: createCap})
		if err != nil {
			return err
		}
		return showCred(*createJSON, c)
	})

	list := &cobra.Command{Use: "list", Short: "list the buyers", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withStore(listDB, func(ctx context.Context, store *sqlstore.DB, _ []string) error {
		list, err := store.BuyerStore().Buyers(ctx)
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(out, nonNil(list))
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tREJECT CAP\tCREATED")
		for _, b := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.ID, b.Name, capString(b.RejectCap), b.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
		return tw.Flush()
	})

	capCmd := &cobra.Command{Use: "cap ID PCT|none", Short: "set or remove a buyer's reject cap", Args: exactArgs("ID", "PCT|none")}
	capDB, capJSON := addDBFlags(capCmd, env), addJSONFlag(capCmd)
	var newCap *buyer.Percent
	capCmd.PreRunE = func(_ *cobra.Command, pos []string) error {
		var err error
		if newCap, err = parseCap(pos[1]); err != nil {
			return usagef("%v", err)
		}
		return nil
	}
	capCmd.RunE = withStore(capDB, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
		if err := store.BuyerStore().SetBuyerRejectCap(ctx, buyer.BuyerID(pos[0]), newCap); err != nil {
			return err
		}
		return report(out, *capJSON, map[string]any{"buyerId": pos[0], "rejectCap": newCap}, fmt.Sprintf("buyer %s reject cap: %s", pos[0], capString(newCap)))
	})

	rotate := &cobra.Command{Use: "rotate ID", Short: "give a buyer a new access token, revoking the old one", Args: exactArgs("ID")}
	rotateDB, rotateJSON := addDBFlags(rotate, env), addJSONFlag(rotate)
	rotate.RunE = withServices(rotateDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		c, err := svc.Buyers.RotateToken(ctx, buyer.BuyerID(pos[0]))
		if err != nil {
			return err
		}
		return showCred(*rotateJSON, c)
	})

	return newGroup("buyer", "create and list buyers, set reject caps, rotate access tokens", create, list, capCmd, rotate)
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

// newImportTransactionsCmd returns `trueup import transactions`, which
// loads a buyer's transactions from CSV, xlsx, xls or JSON Lines, all or
// nothing.
func newImportTransactionsCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transactions --buyer ID FILE",
		Short: "load a buyer's survey transactions (CSV, xlsx, xls or JSON Lines)",
		Long: "Load a buyer's survey transactions from FILE: CSV, xlsx or xls with a header row, or JSON\n" +
			"Lines (.jsonl, .ndjson) keyed by column. A transaction is replaced by a later import of the\n" +
			"same transaction_id. A bad row stores nothing: every bad row is listed.\n\n" + columnsHelp(buyer.TransactionColumns),
		Args: exactArgs("FILE"),
	}
	db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
	buyerID := cmd.Flags().String("buyer", "", "buyer `ID`")
	markRequired(cmd, "buyer")
	readers := addReaderFlags(cmd)
	cmd.RunE = withServices(db, readers, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		if _, err := svc.Buyers.Buyer(ctx, buyer.BuyerID(*buyerID)); err != nil {
			return err
		}
		src, err := buyer.OpenFile(pos[0], buyer.TransactionColumns, svc.Readers)
		if err != nil {
			return err
		}
		defer src.Close()
		bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
		n, err := svc.Buyers.Import(ctx, buyer.ImportParams{Buyer: buyer.BuyerID(*buyerID), Source: src, Progress: bar.Set})
		bar.Done()
		if err := rowErrors(env, *asJSON, err, pos[0], runAgain); err != nil {
			return err
		}
		return report(env.Stdout, *asJSON, map[string]any{"buyerId": *buyerID, "imported": n}, fmt.Sprintf("imported %d transactions for buyer %s", n, *buyerID))
	})
	return cmd
}

// readItemsFile reads a process's list: a JSON array as the API takes it
// (.json), or CSV, xlsx, xls or JSON Lines with the columns transaction_id
// and change_reason.
func readItemsFile(path string, lim sheet.Limits) ([]buyer.Item, error) {
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
	src, err := buyer.OpenFile(path, buyer.ItemColumns, lim)
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

// newAdjustmentsCmd returns `trueup adjustments`, the operators'
// commands on buyer adjustments.
func newAdjustmentsCmd(env Env) *cobra.Command {
	out := env.Stdout
	// surveyFlag registers --survey on cmd and returns its parsed value,
	// set by PreRunE.
	surveyFlag := func(cmd *cobra.Command, usage string) *buyer.SurveyID {
		text := cmd.Flags().String("survey", "", usage)
		var survey buyer.SurveyID
		cmd.PreRunE = func(*cobra.Command, []string) error {
			if *text == "" {
				return nil
			}
			var err error
			if survey, err = buyer.ParseSurveyID(*text); err != nil {
				return usagef("--survey: %v", err)
			}
			return nil
		}
		return &survey
	}
	// adjustmentID checks that pos holds one adjustment id.
	adjustmentID := func(_ *cobra.Command, pos []string) error {
		if len(pos) != 1 || !buyer.ValidAdjustmentID(pos[0]) {
			return usagef("give the process's adjustment_id, a UUID; got %q", strings.Join(pos, " "))
		}
		return nil
	}
	idOf := func(pos []string) buyer.AdjustmentID { return buyer.AdjustmentID(strings.ToLower(pos[0])) }

	launch := &cobra.Command{
		Use:   "launch --buyer ID [--survey S] [--operation-type LIVE_RECONCILIATION --recon-status 1|2] FILE",
		Short: "launch an adjustment process from a list file; it waits in Pending for confirm or cancel",
		Long: "Launch an adjustment process from FILE: a JSON array as the API takes it (.json), or CSV,\n" +
			"xlsx, xls or JSON Lines. The process waits in Pending until confirmed or cancelled.\n\n" + columnsHelp(buyer.ItemColumns),
		Args: exactArgs("FILE"),
	}
	launchDB, launchJSON := addDBFlags(launch, env), addJSONFlag(launch)
	launchBuyer := launch.Flags().String("buyer", "", "buyer `ID`")
	launchSurvey := surveyFlag(launch, "the process's one survey `S`; every survey of the listed transactions when empty")
	opType := launch.Flags().String("operation-type", "", "LIVE_RECONCILIATION to change only the listed transactions; an accepting process when empty")
	reconStatus := launch.Flags().String("recon-status", "", "with --operation-type: 1 completes the listed transactions, 2 rejects them")
	markRequired(launch, "buyer")
	launch.RunE = withServices(launchDB, nil, func(ctx context.Context, _ *sqlstore.DB, services *Services, pos []string) error {
		svc := services.Buyers
		survey := *launchSurvey
		mode, desired, err := buyer.ParseMode(*opType, *reconStatus)
		if err != nil {
			return usagef("%v", err)
		}
		b, err := svc.Buyer(ctx, buyer.BuyerID(*launchBuyer))
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
		items, err := readItemsFile(pos[0], services.Readers)
		if err := rowErrors(env, *launchJSON, err, pos[0], runAgain); err != nil {
			return err
		}
		adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: survey, Mode: mode, Desired: desired, Items: items})
		if err != nil {
			return err
		}
		if *launchJSON {
			return printJSON(out, viewOf(adj))
		}
		printAdjustment(out, adj)
		fmt.Fprintf(out, "\nThe process waits in Pending: run `trueup adjustments confirm %s` to apply it or `trueup adjustments cancel %s` to decline it (within %s).\n",
			adj.ID, adj.ID, buyer.PendingTimeout)
		if !adj.Summary.ValidCap {
			fmt.Fprintf(out, "Warning: as the data stands, the process would pass the buyer's reject cap of %s; confirmed, it would end Recon Cap Reached.\n", capString(b.RejectCap))
		}
		return nil
	})

	decide := func(confirm bool) *cobra.Command {
		cmd := &cobra.Command{Use: "confirm ID", Short: "apply a Pending process", Args: adjustmentID}
		if !confirm {
			cmd.Use, cmd.Short = "cancel ID", "decline a Pending process"
		}
		db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
		cmd.RunE = withServices(db, nil, func(ctx context.Context, _ *sqlstore.DB, services *Services, pos []string) error {
			svc := services.Buyers
			act := svc.Confirm
			if !confirm {
				act = svc.Cancel
			}
			adj, err := act(ctx, idOf(pos))
			if err != nil {
				return err
			}
			if *asJSON {
				return printJSON(out, viewOf(adj))
			}
			_, err = fmt.Fprintf(out, "adjustment %s: %s (%d)\n", adj.ID, adj.Status.Description(), adj.Status)
			return err
		})
		return cmd
	}

	show := &cobra.Command{Use: "show ID", Short: "show a process and its summary", Args: adjustmentID}
	showDB, showJSON := addDBFlags(show, env), addJSONFlag(show)
	show.RunE = withStore(showDB, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
		adj, err := store.BuyerStore().Adjustment(ctx, idOf(pos))
		if err != nil {
			return err
		}
		if *showJSON {
			return printJSON(out, viewOf(adj))
		}
		printAdjustment(out, adj)
		return nil
	})

	list := &cobra.Command{Use: "list --buyer ID [--survey S]", Short: "list a buyer's processes", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	listBuyer := list.Flags().String("buyer", "", "buyer `ID`")
	listSurvey := surveyFlag(list, "only the processes touching survey `S`")
	markRequired(list, "buyer")
	list.RunE = withStore(listDB, func(ctx context.Context, store *sqlstore.DB, _ []string) error {
		bs := store.BuyerStore()
		survey := *listSurvey
		if _, err := bs.Buyer(ctx, buyer.BuyerID(*listBuyer)); err != nil {
			return err
		}
		all, err := bs.BuyerAdjustments(ctx, buyer.BuyerID(*listBuyer))
		if err != nil {
			return err
		}
		list := []adjustmentView{}
		for _, a := range all {
			if survey == 0 || slices.Contains(a.Surveys, survey) {
				list = append(list, viewOf(a))
			}
		}
		if *listJSON {
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
	})

	return newGroup("adjustments", "buyer adjustments: launch, confirm, cancel, show, list", launch, decide(true), decide(false), show, list)
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
