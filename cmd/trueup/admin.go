package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/sqlstore"
)

// newAdminCmd returns `trueup admin`, the provisioning of partners and
// their credentials. A new admin subcommand is a constructor in its own
// file and a line here.
func newAdminCmd(env Env) *cobra.Command {
	return newGroup("admin", "provision carriers, client credentials, buyers and risk API keys",
		newAdminCarrierCmd(env),
		newAdminClientCmd(env),
		newAdminBuyerCmd(env),
		newAdminRiskClientCmd(env),
		newAdminAPIKeyCmd(env),
		newAdminOperatorCmd(env),
	)
}

// showCarrierCred prints a carrier's new or rotated client credentials.
func showCarrierCred(out io.Writer, asJSON bool, c auth.Credentials) error {
	if asJSON {
		return printJSON(out, c)
	}
	_, err := fmt.Fprintf(out, "carrierId:    %s\nuserId:       %s\nclientId:     %s\nclientSecret: %s\n\nThe secret is shown once; store it now.\n", c.CarrierID, c.UserID, c.ClientID, c.ClientSecret)
	return err
}

// newAdminCarrierCmd returns `trueup admin carrier`.
func newAdminCarrierCmd(env Env) *cobra.Command {
	out := env.Stdout

	create := &cobra.Command{Use: "create --name NAME", Short: "create a carrier and its first client credentials", Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	name := create.Flags().String("name", "", "carrier `NAME`")
	whitelist := create.Flags().Bool("whitelist", false, "put the carrier on the whitelist")
	zone := create.Flags().String("timezone", "UTC", "IANA time `ZONE` for the carrier's zone-less times")
	markRequired(create, "name")
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		c, err := svc.Auth.CreateCarrier(ctx, auth.CreateCarrierParams{Name: *name, Whitelisted: *whitelist, TimeZone: *zone})
		if err != nil {
			return err
		}
		return showCarrierCred(out, *createJSON, c)
	})

	list := &cobra.Command{Use: "list", Short: "list the carriers", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withStore(listDB, func(ctx context.Context, store *sqlstore.DB, _ []string) error {
		list, err := store.Carriers(ctx)
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(out, nonNil(list))
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tUSER ID\tWHITELISTED\tTIME ZONE")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", c.ID, c.Name, c.UserID, c.Whitelisted, c.TimeZone)
		}
		return tw.Flush()
	})

	setWhitelisted := func(on bool) *cobra.Command {
		use, short := "whitelist ID", "put a carrier on the whitelist"
		if !on {
			use, short = "unwhitelist ID", "take a carrier off the whitelist"
		}
		cmd := &cobra.Command{Use: use, Short: short, Args: exactArgs("ID")}
		db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
		cmd.RunE = withStore(db, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
			id := pos[0]
			if err := store.SetWhitelisted(ctx, trueup.CarrierID(id), on); err != nil {
				return err
			}
			return report(out, *asJSON, map[string]any{"carrierId": id, "whitelisted": on}, fmt.Sprintf("carrier %s whitelisted: %v", id, on))
		})
		return cmd
	}

	timezone := &cobra.Command{Use: "timezone ID ZONE", Short: "set the IANA time zone of a carrier's zone-less times", Args: exactArgs("ID", "ZONE")}
	tzDB, tzJSON := addDBFlags(timezone, env), addJSONFlag(timezone)
	timezone.RunE = withStore(tzDB, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
		if err := store.SetTimeZone(ctx, trueup.CarrierID(pos[0]), pos[1]); err != nil {
			return err
		}
		return report(out, *tzJSON, map[string]any{"carrierId": pos[0], "timeZone": pos[1]}, fmt.Sprintf("carrier %s time zone: %s", pos[0], pos[1]))
	})

	return newGroup("carrier", "create, list and configure carriers", create, list, setWhitelisted(true), setWhitelisted(false), timezone)
}

// newAdminClientCmd returns `trueup admin client`.
func newAdminClientCmd(env Env) *cobra.Command {
	out := env.Stdout

	create := &cobra.Command{Use: "create --carrier ID", Short: "give a carrier another client credential", Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	createCarrier := create.Flags().String("carrier", "", "carrier `ID`")
	markRequired(create, "carrier")
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		c, err := svc.Auth.CreateClient(ctx, trueup.CarrierID(*createCarrier))
		if err != nil {
			return err
		}
		return showCarrierCred(out, *createJSON, c)
	})

	list := &cobra.Command{Use: "list --carrier ID", Short: "list a carrier's clients", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	listCarrier := list.Flags().String("carrier", "", "carrier `ID`")
	markRequired(list, "carrier")
	list.RunE = withStore(listDB, func(ctx context.Context, store *sqlstore.DB, _ []string) error {
		list, err := store.Clients(ctx, trueup.CarrierID(*listCarrier))
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(out, nonNil(list))
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tSTATE")
		for _, c := range list {
			state := "active"
			if c.RevokedAt != nil {
				state = "revoked " + c.RevokedAt.Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(tw, "%s\t%s\n", c.ID, state)
		}
		return tw.Flush()
	})

	rotate := &cobra.Command{Use: "rotate CLIENT_ID", Short: "give a client a new secret, revoking its tokens", Args: exactArgs("CLIENT_ID")}
	rotateDB, rotateJSON := addDBFlags(rotate, env), addJSONFlag(rotate)
	rotate.RunE = withServices(rotateDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		c, err := svc.Auth.RotateClient(ctx, trueup.ClientID(pos[0]))
		if err != nil {
			return err
		}
		return showCarrierCred(out, *rotateJSON, c)
	})

	revoke := &cobra.Command{Use: "revoke CLIENT_ID", Short: "revoke a client and all its tokens", Args: exactArgs("CLIENT_ID")}
	revokeDB, revokeJSON := addDBFlags(revoke, env), addJSONFlag(revoke)
	revoke.RunE = withStore(revokeDB, func(ctx context.Context, store *sqlstore.DB, pos []string) error {
		id := pos[0]
		if err := store.RevokeClient(ctx, trueup.ClientID(id)); err != nil {
			return err
		}
		return report(out, *revokeJSON, map[string]any{"clientId": id, "revoked": true}, fmt.Sprintf("client %s revoked with all its tokens", id))
	})

	return newGroup("client", "create, list, rotate and revoke carriers' client credentials", create, list, rotate, revoke)
}

// report prints v as JSON, or text.
func report(w io.Writer, asJSON bool, v any, text string) error {
	if asJSON {
		return printJSON(w, v)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}
