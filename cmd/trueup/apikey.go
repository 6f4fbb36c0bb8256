package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/http/admin"
	"github.com/trueup/trueup/imports"
)

const apiKeyUsage = "usage: trueup admin apikey create --name NAME | list | revoke ID"

// runAdminAPIKey manages the admin API's keys: admin apikey
// create|list|revoke. A new key is shown once.
func runAdminAPIKey(ctx context.Context, args []string, env Env) error {
	if len(args) < 1 {
		return usagef(apiKeyUsage)
	}
	fs := newFlagSet("admin apikey "+args[0], env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "who or what uses the key (create)")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "create", "list":
		if len(pos) != 0 {
			return usagef(apiKeyUsage)
		}
	case "revoke":
		if len(pos) != 1 {
			return usagef("usage: trueup admin apikey revoke ID (the keyId from create or list)")
		}
	default:
		return usagef("unknown command %q; %s", args[0], apiKeyUsage)
	}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	svc := apikey.New(store)
	out := env.Stdout
	switch args[0] {
	case "create":
		k, err := svc.Create(ctx, apikey.CreateParams{Name: *name})
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, k)
		}
		_, err = fmt.Fprintf(out, "keyId: %s\nname:  %s\nkey:   %s\n\nThe key is shown once; store it now. Send it as Authorization: Bearer KEY to /admin/v1/.\n", k.KeyID, k.Name, k.Key)
		return err
	case "list":
		list, err := svc.List(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(out, list)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY ID\tNAME\tCREATED\tSTATE")
		for _, k := range list {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + trueup.FormatTime(*k.RevokedAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, trueup.FormatTime(k.CreatedAt), state)
		}
		return tw.Flush()
	}
	k, err := svc.Revoke(ctx, apikey.ID(pos[0]))
	if err != nil {
		return err
	}
	return report(out, *asJSON, k, fmt.Sprintf("admin API key %s (%s) revoked", k.ID, k.Name))
}

// newAdminAPI builds the admin API over m's store and services, and marks
// failed the imports a stopped server left running. Main.Close closes it
// (waiting for running imports) before the store.
func newAdminAPI(ctx context.Context, m *Main, authSvc *auth.Service, cfg ServeConfig) *admin.Handler {
	now := m.Clock.Now
	imp := imports.New(m.Store, m.Logger)
	imp.Now = now
	if n, err := imp.Abandon(ctx); err != nil {
		m.Logger.Warn("mark abandoned imports", "err", err)
	} else if n > 0 {
		m.Logger.Info("marked imports left running by a stopped server as failed", "imports", n)
	}
	riskSvc := m.Risk
	keys := apikey.New(m.Store)
	keys.Now = now
	return admin.New(admin.Services{
		Keys: keys, Imports: imp, Auth: authSvc, Carriers: &auth.Admin{Store: m.Store},
		Buyers: m.Buyers, Risk: riskSvc, Store: m.Store, Logger: m.Logger,
		MaxImportBytes: m.Server.Config.MaxUploadBytes, TempDir: m.Store.UploadTempDir(), Now: now,
	})
}
