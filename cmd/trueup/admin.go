package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
)

func runAdmin(ctx context.Context, args []string, env Env) error {
	if len(args) >= 1 && args[0] == "buyer" {
		return runAdminBuyer(ctx, args[1:], env)
	}
	if len(args) >= 1 && args[0] == "apikey" {
		return runAdminAPIKey(ctx, args[1:], env)
	}
	if len(args) >= 1 && args[0] == "riskclient" {
		return runAdminRiskClient(ctx, args[1:], env)
	}
	if len(args) < 2 {
		return usagef("usage: trueup admin carrier create|list|whitelist|unwhitelist|timezone ... | trueup admin client create|list|rotate|revoke ...")
	}
	fs := newFlagSet("admin "+args[0]+" "+args[1], env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "carrier name (carrier create)")
	whitelist := fs.Bool("whitelist", false, "put the carrier on the whitelist (carrier create)")
	zone := fs.String("timezone", "UTC", "IANA time zone for the carrier's zone-less times (carrier create)")
	carrier := fs.String("carrier", "", "carrier id (client create, client list)")
	pos, err := parseFlags(fs, args[2:])
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
	svc := services.Auth
	out := env.Stdout
	arg := func(what string) (string, error) {
		if len(pos) != 1 {
			return "", usagef("give one %s", what)
		}
		return pos[0], nil
	}
	showCred := func(c auth.Credentials) error {
		if *asJSON {
			return printJSON(out, c)
		}
		fmt.Fprintf(out, "carrierId:    %s\nuserId:       %s\nclientId:     %s\nclientSecret: %s\n\nThe secret is shown once; store it now.\n", c.CarrierID, c.UserID, c.ClientID, c.ClientSecret)
		return nil
	}
	switch args[0] + " " + args[1] {
	case "carrier create":
		c, err := svc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: *name, Whitelisted: *whitelist, TimeZone: *zone})
		if err != nil {
			return err
		}
		return showCred(c)
	case "carrier list":
		list, err := store.Carriers(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []trueup.Carrier{}
			}
			return printJSON(out, list)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tUSER ID\tWHITELISTED\tTIME ZONE")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", c.ID, c.Name, c.UserID, c.Whitelisted, c.TimeZone)
		}
		return tw.Flush()
	case "carrier whitelist", "carrier unwhitelist":
		id, err := arg("carrier id")
		if err != nil {
			return err
		}
		on := args[1] == "whitelist"
		if err := store.SetWhitelisted(ctx, trueup.CarrierID(id), on); err != nil {
			return err
		}
		return report(out, *asJSON, map[string]any{"carrierId": id, "whitelisted": on}, fmt.Sprintf("carrier %s whitelisted: %v", id, on))
	case "carrier timezone":
		if len(pos) != 2 {
			return usagef("usage: trueup admin carrier timezone ID ZONE")
		}
		if err := store.SetTimeZone(ctx, trueup.CarrierID(pos[0]), pos[1]); err != nil {
			return err
		}
		return report(out, *asJSON, map[string]any{"carrierId": pos[0], "timeZone": pos[1]}, fmt.Sprintf("carrier %s time zone: %s", pos[0], pos[1]))
	case "client create":
		if *carrier == "" {
			return usagef("--carrier ID is required")
		}
		c, err := svc.CreateClient(ctx, trueup.CarrierID(*carrier))
		if err != nil {
			return err
		}
		return showCred(c)
	case "client list":
		if *carrier == "" {
			return usagef("--carrier ID is required")
		}
		list, err := store.Clients(ctx, trueup.CarrierID(*carrier))
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []trueup.Client{}
			}
			return printJSON(out, list)
		}
		for _, c := range list {
			state := "active"
			if c.RevokedAt != nil {
				state = "revoked " + c.RevokedAt.Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(out, "%s\t%s\n", c.ID, state)
		}
		return nil
	case "client rotate":
		id, err := arg("client id")
		if err != nil {
			return err
		}
		c, err := svc.RotateClient(ctx, trueup.ClientID(id))
		if err != nil {
			return err
		}
		return showCred(c)
	case "client revoke":
		id, err := arg("client id")
		if err != nil {
			return err
		}
		if err := store.RevokeClient(ctx, trueup.ClientID(id)); err != nil {
			return err
		}
		return report(out, *asJSON, map[string]any{"clientId": id, "revoked": true}, fmt.Sprintf("client %s revoked with all its tokens", id))
	}
	return usagef("unknown admin command %q", args[0]+" "+args[1])
}

func report(w interface{ Write([]byte) (int, error) }, asJSON bool, v any, text string) error {
	if asJSON {
		return printJSON(w, v)
	}
	_, err := fmt.Fprintln(w, text)
	return err
}
