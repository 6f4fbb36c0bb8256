package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlstore"
)

// riskClientView is a risk client as the CLI shows it.
type riskClientView = risk.ClientView

// newAdminRiskClientCmd returns `trueup admin riskclient`: the risk API's
// keys, their quota, rate, expiry and APIs.
func newAdminRiskClientCmd(env Env) *cobra.Command {
	out := env.Stdout
	// settings are the flags of create and update.
	type settings struct {
		expires, apis, zone *string
		quota, rate         *int64
		window              *int
	}
	// addSettings registers the settings flags on cmd: with create's
	// defaults, or with none for update, which changes only those given.
	addSettings := func(cmd *cobra.Command, defaults bool) settings {
		apis, zone, window := string(risk.APIMultipleOrder), "UTC", risk.DefaultWindowDays
		if !defaults {
			apis, zone, window = "", "", 0
		}
		fs := cmd.Flags()
		return settings{
			expires: fs.String("expires", "", "expiry `DATE`: YYYY-MM-DD (the key works through that day in its time zone) or an RFC 3339 instant; never (update) removes it"),
			quota:   fs.Int64("quota", 0, "calls allowed in all; 0 is unlimited"),
			rate:    fs.Int64("rate", 0, "calls allowed per second; 0 is unlimited"),
			apis:    fs.String("apis", apis, "comma-separated `APIS` the key may call (multiple_order); empty for none"),
			zone:    fs.String("timezone", zone, "IANA time `ZONE` whose today is a check's default date"),
			window:  fs.Int("window", window, "look-back window in `DAYS`"),
		}
	}
	show := func(asJSON bool, c risk.Client, secret string) error {
		v := risk.NewClientView(c, secret, env.now())
		if asJSON {
			return printJSON(out, v)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "apiId:\t%s\n", v.ID)
		if secret != "" {
			fmt.Fprintf(tw, "apiSecret:\t%s\n", secret)
		}
		fmt.Fprintf(tw, "name:\t%s\nstate:\t%s\napis:\t%s\ntime zone:\t%s\nwindow:\t%d days\n", v.Name, v.State, apiList(v.APIs), v.TimeZone, v.WindowDays)
		fmt.Fprintf(tw, "quota:\t%s\nused:\t%d calls\nrate:\t%s\nexpires:\t%s\n", limit(v.Quota, "calls"), v.QuotaUsed, limit(v.Rate, "calls per second"), expiry(v.ExpiresAt))
		tw.Flush()
		if secret != "" {
			fmt.Fprintln(out, "\nThe secret is shown once; store it now.")
		}
		return nil
	}
	// withRisk runs fn with the risk service of the database db names.
	withRisk := func(db *dbFlags, fn func(ctx context.Context, svc *risk.Service, pos []string) error) func(*cobra.Command, []string) error {
		return withServices(db, nil, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
			return fn(ctx, svc.Risk, pos)
		})
	}

	create := &cobra.Command{
		Use:   "create --name NAME [--expires DATE] [--quota N] [--rate N] [--apis multiple_order] [--timezone ZONE] [--window DAYS]",
		Short: "create a risk API key; its secret is shown once",
		Args:  exactArgs(),
	}
	createDB, createJSON := addDBFlags(create, env), addJSONFlag(create)
	name := create.Flags().String("name", "", "client `NAME`")
	createSet := addSettings(create, true)
	markRequired(create, "name")
	create.RunE = withRisk(createDB, func(ctx context.Context, svc *risk.Service, _ []string) error {
		var err error
		p := risk.CreateClientParams{Name: *name, TimeZone: *createSet.zone, WindowDays: *createSet.window, Quota: *createSet.quota, Rate: *createSet.rate}
		if p.APIs, err = risk.ParseAPIs(*createSet.apis); err != nil {
			return err
		}
		if *createSet.expires != "" {
			t, err := parseExpiry(*createSet.expires, *createSet.zone)
			if err != nil {
				return err
			}
			p.ExpiresAt = &t
		}
		cred, err := svc.CreateClient(ctx, p)
		if err != nil {
			return err
		}
		return show(*createJSON, cred.Client, cred.APISecret)
	})

	list := &cobra.Command{Use: "list", Short: "list the risk API keys", Args: exactArgs()}
	listDB, listJSON := addDBFlags(list, env), addJSONFlag(list)
	list.RunE = withRisk(listDB, func(ctx context.Context, svc *risk.Service, _ []string) error {
		list, err := svc.Clients(ctx)
		if err != nil {
			return err
		}
		now := env.now()
		if *listJSON {
			views := make([]riskClientView, len(list))
			for i, c := range list {
				views[i] = risk.NewClientView(c, "", now)
			}
			return printJSON(out, views)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "API ID\tNAME\tSTATE\tAPIS\tQUOTA\tUSED\tRATE/S\tEXPIRES")
		for _, c := range list {
			v := risk.NewClientView(c, "", now)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v.ID, v.Name, v.State, apiList(v.APIs), limit(v.Quota, ""), v.QuotaUsed, limit(v.Rate, ""), expiry(v.ExpiresAt))
		}
		return tw.Flush()
	})

	showCmd := &cobra.Command{Use: "show ID", Short: "show a risk API key", Args: exactArgs("ID")}
	showDB, showJSON := addDBFlags(showCmd, env), addJSONFlag(showCmd)
	showCmd.RunE = withRisk(showDB, func(ctx context.Context, svc *risk.Service, pos []string) error {
		c, err := svc.Client(ctx, risk.ClientID(pos[0]))
		if err != nil {
			return err
		}
		return show(*showJSON, c, "")
	})

	update := &cobra.Command{
		Use:   "update ID [--expires DATE|never] [--quota N] [--rate N] [--apis LIST] [--timezone ZONE] [--window DAYS]",
		Short: "change the settings given of a risk API key; the others stay",
		Args:  exactArgs("ID"),
	}
	updateDB, updateJSON := addDBFlags(update, env), addJSONFlag(update)
	updateSet := addSettings(update, false)
	update.RunE = withRisk(updateDB, func(ctx context.Context, svc *risk.Service, pos []string) error {
		id := risk.ClientID(pos[0])
		set := update.Flags().Changed
		u := risk.ClientUpdate{ID: id}
		if set("apis") {
			list, err := risk.ParseAPIs(*updateSet.apis)
			if err != nil {
				return err
			}
			u.APIs = &list
		}
		if set("timezone") {
			u.TimeZone = updateSet.zone
		}
		if set("window") {
			u.WindowDays = updateSet.window
		}
		if set("quota") {
			u.Quota = updateSet.quota
		}
		if set("rate") {
			u.Rate = updateSet.rate
		}
		if set("expires") {
			if *updateSet.expires == "never" {
				u.NoExpiry = true
			} else {
				tz := *updateSet.zone
				if !set("timezone") {
					c, err := svc.Client(ctx, id)
					if err != nil {
						return err
					}
					tz = c.TimeZone
				}
				t, err := parseExpiry(*updateSet.expires, tz)
				if err != nil {
					return err
				}
				u.ExpiresAt = &t
			}
		}
		c, err := svc.UpdateClient(ctx, u)
		if err != nil {
			return err
		}
		return show(*updateJSON, c, "")
	})

	rotate := &cobra.Command{Use: "rotate ID", Short: "give a risk API key a new secret; the old one stops working", Args: exactArgs("ID")}
	rotateDB, rotateJSON := addDBFlags(rotate, env), addJSONFlag(rotate)
	rotate.RunE = withRisk(rotateDB, func(ctx context.Context, svc *risk.Service, pos []string) error {
		cred, err := svc.RotateClient(ctx, risk.ClientID(pos[0]))
		if err != nil {
			return err
		}
		return show(*rotateJSON, cred.Client, cred.APISecret)
	})

	revoke := &cobra.Command{Use: "revoke ID", Short: "revoke a risk API key", Args: exactArgs("ID")}
	revokeDB, revokeJSON := addDBFlags(revoke, env), addJSONFlag(revoke)
	revoke.RunE = withRisk(revokeDB, func(ctx context.Context, svc *risk.Service, pos []string) error {
		id := risk.ClientID(pos[0])
		if err := svc.RevokeClient(ctx, id); err != nil {
			return err
		}
		return report(out, *revokeJSON, map[string]any{"apiId": id, "revoked": true}, fmt.Sprintf("risk API key %s revoked", id))
	})

	return newGroup("riskclient", "create, list, show, update, rotate and revoke risk API keys", create, list, showCmd, update, rotate, revoke)
}

// parseExpiry reads an expiry: YYYY-MM-DD means the key works through that
// day in zone (it expires at the next midnight there); otherwise an RFC
// 3339 instant.
func parseExpiry(s, zone string) (time.Time, error) {
	if d, ok := risk.ParseDay(s); ok {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, trueup.Errorf(trueup.EINVALID, "time zone %q is unknown; use an IANA name such as Asia/Kolkata or UTC", zone)
		}
		y, m, dd := time.Unix(int64(d)*86400, 0).UTC().Date()
		return time.Date(y, m, dd+1, 0, 0, 0, 0, loc).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, trueup.Errorf(trueup.EINVALID, "--expires %q is not a date; use YYYY-MM-DD (the key works through that day) or an RFC 3339 instant such as 2026-12-31T18:30:00Z", s)
	}
	return t.UTC(), nil
}

func apiList(apis []risk.API) string {
	if len(apis) == 0 {
		return "none"
	}
	return risk.JoinAPIs(apis, ",")
}

func limit(n int64, unit string) string {
	if n == 0 {
		return "unlimited"
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", n, unit))
}

func expiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return trueup.FormatTime(*t)
}

// newImportRiskCmd returns `trueup import risk`, which loads the
// multiple-order list.
func newImportRiskCmd(env Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "risk [--replace] [--index auto|rebuild|keep] FILE",
		Short: "load the multiple-order risk list (CSV, xlsx, xls or JSON Lines)",
		Long: "Add the records of FILE to the multiple-order list, or make them the whole list with\n" +
			"--replace: CSV, xlsx or xls with a header row, or JSON Lines (.jsonl, .ndjson) keyed by\n" +
			"column. A bad row stores nothing: every bad row is listed.\n\n" + columnsHelp(risk.Columns),
		Args: exactArgs("FILE"),
	}
	db, asJSON := addDBFlags(cmd, env), addJSONFlag(cmd)
	replace := cmd.Flags().Bool("replace", false, "make the file the whole new list: remove the stored records in the same transaction")
	index := cmd.Flags().String("index", "auto", "auto, rebuild or keep: whether to drop the look-up index during the import and build it again (SQLite)")
	var mode risk.IndexMode
	cmd.PreRunE = func(*cobra.Command, []string) error {
		var ok bool
		if mode, ok = map[string]risk.IndexMode{"auto": risk.IndexAuto, "rebuild": risk.IndexRebuild, "keep": risk.IndexKeep}[*index]; !ok {
			return usagef("--index %q: use auto, rebuild or keep", *index)
		}
		return nil
	}
	readers := addReaderFlags(cmd)
	cmd.RunE = withServices(db, readers, func(ctx context.Context, _ *sqlstore.DB, svc *Services, pos []string) error {
		in, size, err := risk.OpenFile(pos[0], svc.Readers)
		if err != nil {
			return err
		}
		defer in.Close()
		expected := size / 64 // bytes of a typical CSV or JSON Lines record
		if ext := strings.ToLower(filepath.Ext(pos[0])); ext == ".xlsx" || ext == ".xls" {
			expected = size / 16
		}
		bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
		start := time.Now()
		res, err := svc.Risk.Import(ctx, risk.ImportParams{Input: in, Replace: *replace, Index: mode, ExpectedRows: expected, Progress: bar.Set})
		bar.Done()
		elapsed := time.Since(start)
		if err := rowErrors(env, *asJSON, err, pos[0], importAgain); err != nil {
			return err
		}
		rate := float64(res.Imported) / max(elapsed.Seconds(), 1e-9)
		if *asJSON {
			return printJSON(env.Stdout, struct {
				risk.ImportResult
				Seconds    float64 `json:"seconds"`
				RowsPerSec float64 `json:"rowsPerSecond"`
			}{res, elapsed.Seconds(), rate})
		}
		verb := "added"
		if res.Replaced {
			verb = "replaced the list with"
		}
		_, err = fmt.Fprintf(env.Stdout, "%s %d risk records in %s (%.0f rows/s); the list holds %d\n", verb, res.Imported, elapsed.Round(time.Millisecond), rate, res.RecordsInTotal)
		return err
	})
	return cmd
}
