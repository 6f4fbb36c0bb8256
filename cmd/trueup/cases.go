package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/cases"
	"github.com/trueup/trueup/sqlstore"
)

// newCasesCmd returns `trueup cases`: the discrepancy cases of a carrier's
// cycles and the operators' actions on them.
func newCasesCmd(env Env) *cobra.Command {
	out := env.Stdout

	list := &cobra.Command{Use: "list --carrier ID --cycle YYYY-MM", Short: "list the discrepancy cases of a carrier's billing cycle, by case id", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	carrier := list.Flags().String("carrier", "", "carrier `ID`")
	cycle := list.Flags().String("cycle", "", "billing cycle `YYYY-MM`")
	state := list.Flags().String("state", "", "only the cases in this `STATE`: open or resolved")
	kind := list.Flags().Int("kind", 0, "only the cases of this kind `N` (1-4, docs/kinds.md)")
	diffType := list.Flags().Int("diff-type", 0, "the same as --kind")
	overdue := list.Flags().Bool("overdue", false, "only the open cases past the carrier's SLA")
	assignee := list.Flags().String("assignee", "", "only the cases assigned to `NAME`")
	markRequired(list, "carrier", "cycle")
	list.PreRunE = func(*cobra.Command, []string) error {
		if *kind != 0 && *diffType != 0 && *kind != *diffType {
			return usagef("--kind %d and --diff-type %d disagree; give one of them", *kind, *diffType)
		}
		if *kind == 0 {
			*kind = *diffType
		}
		if *kind < 0 || *kind > len(trueup.Kinds) {
			return usagef("--kind %d is not a kind; use 1 to %d (docs/kinds.md)", *kind, len(trueup.Kinds))
		}
		if *overdue && *state == string(cases.StateResolved) {
			return usagef("--overdue with --state resolved: a resolved case is never overdue; give one of them")
		}
		return nil
	}
	list.RunE = withServices(listDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		st, err := cases.ParseState(*state)
		if err != nil {
			return usagef("--state %q: use open or resolved", *state)
		}
		all := []cases.Case{}
		p := cases.ListParams{CarrierID: trueup.CarrierID(*carrier), Cycle: *cycle, State: st, DiffType: trueup.DiffType(*kind),
			Overdue: *overdue, Assignee: *assignee, Limit: 1000}
		for {
			page, err := svc.Cases.List(ctx, p)
			if err != nil {
				return err
			}
			all = append(all, page...)
			if len(page) < p.Limit {
				break
			}
			fmt.Sscan(string(page[len(page)-1].ID), &p.After)
		}
		if *listJSON {
			return printJSON(out, all)
		}
		if len(all) == 0 {
			fmt.Fprintf(out, "no cases for carrier %s, cycle %s\n", *carrier, *cycle)
			return nil
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CASE\tORDER\tKIND\tSTATE\tRESOLUTION\tAMOUNT\tAGE\tFLAG\tASSIGNEE\tNOTE")
		for _, c := range all {
			flag := c.Flag
			if c.Overdue {
				flag = strings.TrimPrefix(flag+",overdue", ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%dd\t%s\t%s\t%s\n", c.ID, c.CarrierOrderID, c.DiffType, c.State, resolutionText(c.Resolution),
				c.Amount, c.AgeDays, flag, c.Assignee, c.Note)
		}
		return tw.Flush()
	})

	show := &cobra.Command{Use: "show CASEID", Short: "show a case with its history", Args: exactArgs("CASEID")}
	showDB, showJSON := addDBFlags(show, env), addJSONFlag(show)
	show.RunE = withServices(showDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		id, err := cases.ParseID(pos[0])
		if err != nil {
			return err
		}
		d, err := svc.Cases.Case(ctx, id)
		if err != nil {
			return err
		}
		if *showJSON {
			return printJSON(out, d)
		}
		return printCase(out, d)
	})

	resolve := &cobra.Command{Use: "resolve CASEID --action ACTION --note TEXT", Short: "resolve an open case: accept-carrier, accept-platform, write-off or void", Args: exactArgs("CASEID")}
	resolveDB, resolveJSON := addDBFlags(resolve, env), addJSONFlag(resolve)
	action := resolve.Flags().String("action", "", "`ACTION`: accept-carrier, accept-platform, write-off or void")
	note := resolve.Flags().String("note", "", "why, for the record (`TEXT`)")
	markRequired(resolve, "action", "note")
	resolve.RunE = withServices(resolveDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		a, err := cases.ParseAction(*action)
		if err != nil || !a.Resolves() {
			return usagef("--action %q: use accept-carrier, accept-platform, write-off or void", *action)
		}
		return actCLI(ctx, svc, out, *resolveJSON, pos[0], cases.ActInput{Action: a, Note: *note})
	})

	assign := &cobra.Command{Use: "assign CASEID --to NAME", Short: "give a case to someone", Args: exactArgs("CASEID")}
	assignDB, assignJSON := addDBFlags(assign, env), addJSONFlag(assign)
	to := assign.Flags().String("to", "", "who takes the case (`NAME`)")
	assignNote := assign.Flags().String("note", "", "an optional note (`TEXT`)")
	markRequired(assign, "to")
	assign.RunE = withServices(assignDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		return actCLI(ctx, svc, out, *assignJSON, pos[0], cases.ActInput{Action: cases.Assign, Assignee: *to, Note: *assignNote})
	})

	comment := &cobra.Command{Use: "comment CASEID --note TEXT", Short: "add a note to a case's history", Args: exactArgs("CASEID")}
	commentDB, commentJSON := addDBFlags(comment, env), addJSONFlag(comment)
	commentNote := comment.Flags().String("note", "", "the note (`TEXT`)")
	markRequired(comment, "note")
	comment.RunE = withServices(commentDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		return actCLI(ctx, svc, out, *commentJSON, pos[0], cases.ActInput{Action: cases.Comment, Note: *commentNote})
	})

	sla := &cobra.Command{Use: "sla --carrier ID [--days N]", Short: "show or set a carrier's case SLA in days", Args: exactArgs()}
	slaDB := addDBFlags(sla, env)
	slaCarrier := sla.Flags().String("carrier", "", "carrier `ID`")
	days := sla.Flags().Int("days", 0, "set the SLA to `N` days (1-365); open cases older are overdue, kind-1 cases missing")
	markRequired(sla, "carrier")
	sla.RunE = withServices(slaDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		ctx = trueup.WithActor(ctx, trueup.ActorCLI)
		id := trueup.CarrierID(*slaCarrier)
		if sla.Flags().Changed("days") {
			if err := svc.Cases.SetSLA(ctx, id, *days); err != nil {
				return err
			}
		}
		n, err := svc.Cases.SLA(ctx, id)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "carrier %s: case SLA %d days\n", id, n)
		return err
	})

	return newGroup("cases", "list, show and decide the discrepancy cases of a cycle", list, show, resolve, assign, comment, sla)
}

// actCLI takes an action on the case named id as the CLI and prints it.
func actCLI(ctx context.Context, svc *Services, out io.Writer, asJSON bool, id string, in cases.ActInput) error {
	cid, err := cases.ParseID(id)
	if err != nil {
		return err
	}
	in.ID = cid
	c, err := svc.Cases.Act(trueup.WithActor(ctx, trueup.ActorCLI), in)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(out, c)
	}
	_, err = fmt.Fprintf(out, "case %s (%s, kind %d): %s %s\n", c.ID, c.CarrierOrderID, c.DiffType, c.State, resolutionText(c.Resolution))
	return err
}

func resolutionText(r *string) string {
	if r == nil {
		return "-"
	}
	return *r
}

func printCase(out io.Writer, d cases.Detail) error {
	c := d.Case
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "case\t%s\ncarrier\t%s\ncycle\t%s\norder\t%s (kdOrderId %s)\nkind\t%d\nreason\t%s\nstate\t%s\nresolution\t%s\n",
		c.ID, c.CarrierID, c.Cycle, c.CarrierOrderID, c.KdOrderID, c.DiffType, c.DiffReason, c.State, resolutionText(c.Resolution))
	fmt.Fprintf(tw, "amount\t%s (kdSaleTotal %q, carrierSaleToKd %q)\nage\t%d days (overdue: %t) %s\nassignee\t%s\nnote\t%s\n",
		c.Amount, c.KdSaleTotal, c.CarrierSaleToKd, c.AgeDays, c.Overdue, c.Flag, c.Assignee, c.Note)
	fmt.Fprintln(tw, "\nHISTORY")
	for _, e := range d.History {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s\n", trueup.FormatTime(e.At), e.Actor, e.Action, e.BatchNo, e.Detail, e.Note)
	}
	return tw.Flush()
}
