package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/sqlstore"
)

// newEventsCmd returns `trueup events`, which lists a carrier's package
// lifecycle events, newest first.
func newEventsCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events --carrier ID",
		Short: "list a carrier's package lifecycle events, newest first",
		Args:  exactArgs(),
	}
	db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
	carrier := cmd.Flags().String("carrier", "", "carrier `ID`")
	user := cmd.Flags().String("user", "", "only the events of this carrier user `ID`")
	limit := cmd.Flags().Int("limit", 100, "show at most `N` events, newest first; 0 shows all")
	markRequired(cmd, "carrier")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if *limit < 0 {
			return usagef("--limit %d: give a number of events, or 0 for all", *limit)
		}
		return nil
	}
	cmd.RunE = withServices(db, nil, func(ctx context.Context, store *sqlstore.DB, svc *Services, _ []string) error {
		c, err := store.Carrier(ctx, trueup.CarrierID(*carrier))
		if err != nil {
			return err
		}
		list, err := svc.Lifecycle.Events(ctx, lifecycle.EventFilter{CarrierID: c.ID, CarrierUserID: *user, Limit: *limit})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env.Stdout, list)
		}
		if len(list) == 0 {
			who := "carrier " + string(c.ID)
			if *user != "" {
				who += " user " + *user
			}
			fmt.Fprintf(env.Stdout, "no package lifecycle events for %s\n", who)
			return nil
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTIME\tCARRIER USER\tPACKAGE\tTYPE\tPACKAGE STATE\tUSER STATUS\tTRACE ID")
		for _, e := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s -> %s\t%s -> %s\t%s\n", e.ID, e.CreatedAt.UTC().Format(time.RFC3339), e.CarrierUserID, e.PackageID,
				int(e.Type), e.PreviousType, e.Type, e.PreviousUserStatus, e.UserStatus, e.TraceID)
		}
		return tw.Flush()
	})
	return cmd
}
