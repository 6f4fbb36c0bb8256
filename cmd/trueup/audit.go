package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup/audit"
	"github.com/trueup/trueup/sqlstore"
)

// newAuditCmd returns `trueup audit`: the audit chain of every state
// change.
func newAuditCmd(env Env) *cobra.Command {
	out := env.Stdout

	verify := &cobra.Command{
		Use:   "verify",
		Short: "walk the audit chain; exit 1 naming the first entry changed, removed or inserted",
		Long: "Walk the audit chain in order, recomputing each entry's hash and its link to the previous\n" +
			"entry, and compare its end with the chain's head. Exit 0 with the count of entries when\n" +
			"the chain is intact; exit 1 naming the first entry that was changed, removed or inserted.",
		Args: exactArgs(),
	}
	verifyDB, verifyJSON := addDBFlags(verify, env), addJSONFlag(verify)
	verify.RunE = withServices(verifyDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		rep, err := svc.Audit.Verify(ctx)
		if err != nil {
			return err
		}
		if *verifyJSON {
			if err := printJSON(out, rep); err != nil {
				return err
			}
		} else if rep.Intact {
			fmt.Fprintf(out, "audit chain intact: %d entries, head %d %s\n", rep.Entries, rep.Head.Seq, rep.Head.Hash)
		}
		if !rep.Intact {
			return fmt.Errorf("audit chain broken at entry %d (%s): %s", rep.Break.Seq, rep.Break.Problem, rep.Break.Message)
		}
		return nil
	})

	list := &cobra.Command{Use: "list", Short: "list audit entries in order, a page at a time", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	after := list.Flags().Int64("after", 0, "list the entries after seq `N` (the last one of the previous page)")
	limit := list.Flags().Int("limit", 100, fmt.Sprintf("list at most `N` entries (1 to %d)", audit.MaxPage))
	list.PreRunE = func(*cobra.Command, []string) error {
		if *limit < 1 || *limit > audit.MaxPage {
			return usagef("--limit %d: give 1 to %d", *limit, audit.MaxPage)
		}
		if *after < 0 {
			return usagef("--after %d: give an entry's seq, or 0 for the start", *after)
		}
		return nil
	}
	list.RunE = withServices(listDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		entries, err := svc.Audit.List(ctx, *after, *limit)
		if err != nil {
			return err
		}
		if *listJSON {
			if entries == nil {
				entries = []audit.Entry{}
			}
			return printJSON(out, entries)
		}
		if len(entries) == 0 {
			fmt.Fprintln(out, "no audit entries")
			return nil
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tTYPE\tCARRIER\tSUBJECT\tDATA")
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Actor, e.Type, e.CarrierID, e.Subject, e.Data)
		}
		return tw.Flush()
	})
	return newGroup("audit", "verify and list the audit chain of state changes", verify, list)
}
