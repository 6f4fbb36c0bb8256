package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
	"github.com/trueup/trueup/http/admin"
	"github.com/trueup/trueup/sqlstore"
)

// newAdminAPIKeyCmd returns `trueup admin apikey`: the admin API's keys.
// A new key is shown once.
func newAdminAPIKeyCmd(env Env) *cobra.Command {
	out := env.Stdout

	create := &cobra.Command{Use: "create --name NAME", Short: "create an admin API key (shown once)", Args: exactArgs()}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	name := create.Flags().String("name", "", "who or what uses the key (`NAME`)")
	markRequired(create, "name")
	create.RunE = withServices(createDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		k, err := svc.Keys.Create(ctx, apikey.CreateParams{Name: *name})
		if err != nil {
			return err
		}
		if *createJSON {
			return printJSON(out, k)
		}
		_, err = fmt.Fprintf(out, "keyId: %s\nname:  %s\nkey:   %s\n\nThe key is shown once; store it now. Send it as Authorization: Bearer KEY to /admin/v1/.\n", k.KeyID, k.Name, k.Key)
		return err
	})

	list := &cobra.Command{Use: "list", Short: "list the admin API keys", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withServices(listDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, _ []string) error {
		keys, err := svc.Keys.List(ctx)
		if err != nil {
			return err
		}
		if *listJSON {
			return printJSON(out, nonNil(keys))
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY ID\tNAME\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + trueup.FormatTime(*k.RevokedAt)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Name, trueup.FormatTime(k.CreatedAt), state)
		}
		return tw.Flush()
	})

	revoke := &cobra.Command{Use: "revoke ID", Short: "revoke an admin API key (the keyId from create or list)", Args: exactArgs("ID")}
	revokeDB, revokeJSON := addDBFlags(revoke, env), addJSONFlag(revoke)
	revoke.RunE = withServices(revokeDB, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		k, err := svc.Keys.Revoke(ctx, apikey.ID(pos[0]))
		if err != nil {
			return err
		}
		return report(out, *revokeJSON, k, fmt.Sprintf("admin API key %s (%s) revoked", k.ID, k.Name))
	})

	return newGroup("apikey", "admin API keys: create, list, revoke", create, list, revoke)
}

// newAdminAPI assembles the admin API from m's services, and marks failed
// the imports a stopped server left running. Main.Close closes it (waiting
// for running imports) before the store.
func newAdminAPI(ctx context.Context, m *Main) *admin.Handler {
	if n, err := m.Imports.Abandon(ctx); err != nil {
		m.Logger.Warn("mark abandoned imports", "err", err)
	} else if n > 0 {
		m.Logger.Info("marked imports left running by a stopped server as failed", "imports", n)
	}
	return admin.New(admin.Services{
		Keys: m.Keys, Imports: m.Imports, Auth: m.Auth, Carriers: m.Carriers,
		Buyers: m.Buyers, Risk: m.Risk, Batches: m.Batches, Lifecycle: m.Lifecycle, Ledger: m.Ledger, Cases: m.Cases,
		Audit: m.Audit, Webhooks: m.Webhooks,
		Logger: m.Logger, Readers: m.Readers,
		MaxImportBytes: m.Server.Config.MaxUploadBytes, TempDir: m.Store.UploadTempDir(), Clock: m.Clock,
	})
}
