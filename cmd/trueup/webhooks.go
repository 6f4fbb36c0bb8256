package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/webhook"
)

// newWebhooksCmd returns `trueup webhooks`: subscriptions, their
// deliveries and redelivery.
func newWebhooksCmd(env Env) *cobra.Command {
	out := env.Stdout

	create := &cobra.Command{Use: "create --url URL --events TYPE,...", Short: "subscribe a URL to events (the signing secret is shown once)", Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	u := create.Flags().String("url", "", "the receiver's absolute http or https `URL`")
	events := create.Flags().String("events", "", "comma-separated event `TYPES`: "+strings.Join(webhook.EventTypes, ", "))
	carrier := create.Flags().String("carrier", "", "only this carrier's events (`ID`); leave out for every carrier's")
	desc := create.Flags().String("description", "", "what the subscription is for (`TEXT`)")
	markRequired(create, "url", "events")
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		var types []string
		for _, t := range strings.Split(*events, ",") {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
		c, err := svc.Webhooks.Create(ctx, webhook.CreateParams{CarrierID: trueup.CarrierID(*carrier), URL: *u, EventTypes: types, Description: *desc})
		if err != nil {
			return err
		}
		if *createJSON {
			return printJSON(out, c)
		}
		_, err = fmt.Fprintf(out, "id:     %s\nurl:    %s\nevents: %s\nsecret: %s\n\nThe secret is shown once; give it to the receiver to verify webhook-signature.\n",
			c.ID, c.URL, strings.Join(c.EventTypes, ","), c.Secret)
		return err
	})

	list := &cobra.Command{Use: "list", Short: "list the webhook subscriptions", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withServices(listDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		subs, err := svc.Webhooks.Subscriptions(ctx)
		if err != nil {
			return err
		}
		if *listJSON {
			if subs == nil {
				subs = []webhook.Subscription{}
			}
			return printJSON(out, subs)
		}
		if len(subs) == 0 {
			fmt.Fprintln(out, "no webhook subscriptions; add one with `trueup webhooks create`")
			return nil
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCARRIER\tURL\tEVENTS\tCREATED\tDELETED")
		for _, s := range subs {
			carrier, deleted := string(s.CarrierID), ""
			if carrier == "" {
				carrier = "(all)"
			}
			if s.DeletedAt != nil {
				deleted = s.DeletedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, carrier, s.URL, strings.Join(s.EventTypes, ","), s.CreatedAt.Format(time.RFC3339), deleted)
		}
		return tw.Flush()
	})

	deliveries := &cobra.Command{Use: "deliveries SUBSCRIPTION", Short: "list a subscription's newest deliveries with their attempts", Args: exactArgs("SUBSCRIPTION")}
	delDB, delJSON := addDBFlags(deliveries, env), addJSONFlag(deliveries)
	limit := deliveries.Flags().Int("limit", 50, fmt.Sprintf("show at most `N` deliveries (1 to %d)", webhook.MaxDeliveriesPage))
	deliveries.RunE = withServices(delDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		if *limit < 1 || *limit > webhook.MaxDeliveriesPage {
			return usagef("--limit %d: give 1 to %d", *limit, webhook.MaxDeliveriesPage)
		}
		list, err := svc.Webhooks.Deliveries(ctx, webhook.SubscriptionID(pos[0]), *limit)
		if err != nil {
			return err
		}
		if *delJSON {
			if list == nil {
				list = []webhook.Delivery{}
			}
			return printJSON(out, list)
		}
		if len(list) == 0 {
			fmt.Fprintf(out, "no deliveries for %s\n", pos[0])
			return nil
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "DELIVERY\tEVENT\tSTATE\tATTEMPTS\tLAST STATUS\tCREATED\tLAST ERROR")
		for _, d := range list {
			lastErr := ""
			if n := len(d.Log); n > 0 {
				lastErr = d.Log[n-1].Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.ID, d.EventType, d.State, d.Attempts, d.LastStatus, d.CreatedAt.Format(time.RFC3339), lastErr)
		}
		return tw.Flush()
	})

	redeliver := &cobra.Command{Use: "redeliver DELIVERY", Short: "send a finished delivery again, with the same webhook-id", Args: exactArgs("DELIVERY")}
	redDB, redJSON := addDBFlags(redeliver, env), addJSONFlag(redeliver)
	redeliver.RunE = withServices(redDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		d, err := svc.Webhooks.Redeliver(ctx, webhook.DeliveryID(pos[0]))
		if err != nil {
			return err
		}
		if *redJSON {
			return printJSON(out, d)
		}
		_, err = fmt.Fprintf(out, "delivery %s queued again; a running server sends it (see `trueup webhooks deliveries %s`)\n", d.ID, d.SubscriptionID)
		return err
	})

	del := &cobra.Command{Use: "delete SUBSCRIPTION", Short: "stop a subscription (its deliveries stay listed)", Args: exactArgs("SUBSCRIPTION")}
	delSubDB := addDBFlags(del, env)
	del.RunE = withServices(delSubDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		s, err := svc.Webhooks.Delete(ctx, webhook.SubscriptionID(pos[0]))
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(out, "subscription %s deleted\n", s.ID)
		return err
	})
	rotate := &cobra.Command{Use: "rotate SUBSCRIPTION", Short: "give a subscription a new signing secret (shown once); the old one signs beside it for --grace", Args: exactArgs("SUBSCRIPTION")}
	rotDB, rotJSON := addDBFlags(rotate, env), addJSONFlag(rotate)
	grace := rotate.Flags().Duration("grace", webhook.DefaultRotationGrace, "how long the old secret keeps signing beside the new one (1s to 168h)")
	rotate.PreRunE = func(*cobra.Command, []string) error {
		if *grace < time.Second || *grace > 7*24*time.Hour {
			return usagef("--grace %s is out of range; use 1s to 168h", *grace)
		}
		return nil
	}
	rotate.RunE = withServices(rotDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		svc.Webhooks.RotationGrace = *grace
		c, err := svc.Webhooks.Rotate(ctx, webhook.SubscriptionID(pos[0]))
		if err != nil {
			return err
		}
		if *rotJSON {
			return printJSON(out, c)
		}
		_, err = fmt.Fprintf(out, "id:     %s\nsecret: %s\n\nThe secret is shown once; give it to the receiver. Until %s each message is signed with the old secret too.\n",
			c.ID, c.Secret, trueup.FormatTime(*c.PreviousSecretUntil))
		return err
	})
	return newGroup("webhooks", "subscribe URLs to events, list deliveries, redeliver, rotate secrets", create, list, deliveries, redeliver, del, rotate)
}
