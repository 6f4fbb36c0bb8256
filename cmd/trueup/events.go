package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
)

// runEvents lists a carrier's package lifecycle events, newest first.
func runEvents(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("events", env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	carrier := fs.String("carrier", "", "carrier id (required)")
	user := fs.String("user", "", "only the events of this carrier user id")
	limit := fs.Int("limit", 100, "show at most this many events, newest first; 0 shows all")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *carrier == "" || len(pos) != 0 {
		return usagef("usage: trueup events --carrier ID [--user CARRIER_USER_ID] [--limit N] [--json]")
	}
	if *limit < 0 {
		return usagef("--limit %d: give a number of events, or 0 for all", *limit)
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
	list, err := store.PackageEvents(ctx, lifecycle.EventFilter{CarrierID: c.ID, CarrierUserID: *user, Limit: *limit})
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
}
