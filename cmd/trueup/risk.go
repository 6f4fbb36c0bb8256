package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
)

const riskClientUsage = `usage: trueup admin riskclient COMMAND
  create --name NAME [--expires DATE] [--quota N] [--rate N] [--apis multiple_order] [--timezone ZONE] [--window DAYS]
  list
  show ID
  update ID [--expires DATE|never] [--quota N] [--rate N] [--apis LIST] [--timezone ZONE] [--window DAYS]
  rotate ID
  revoke ID`

// riskClientView is a client as the CLI shows it: with its state and, for
// a new or rotated key, its secret.
type riskClientView struct {
	risk.Client
	APISecret      string `json:"apiSecret,omitempty"`
	State          string `json:"state"`
	QuotaRemaining *int64 `json:"quotaRemaining,omitempty"`
}

func viewRiskClient(c risk.Client, secret string, now time.Time) riskClientView {
	v := riskClientView{Client: c, APISecret: secret, State: "active"}
	switch {
	case c.RevokedAt != nil:
		v.State = "revoked"
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		v.State = "expired"
	}
	if c.Quota > 0 {
		left := max(0, c.Quota-c.QuotaUsed)
		v.QuotaRemaining = &left
	}
	return v
}

func runAdminRiskClient(ctx context.Context, args []string, env Env) error {
	if len(args) < 1 {
		return usagef("%s", riskClientUsage)
	}
	sub := args[0]
	fs := newFlagSet("admin riskclient "+sub, env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	name := fs.String("name", "", "client name (create)")
	expires := fs.String("expires", "", "expiry: YYYY-MM-DD (the key works through that day in its time zone) or an RFC 3339 instant; never (update) removes it")
	quota := fs.Int64("quota", 0, "calls allowed in all; 0 is unlimited")
	rate := fs.Int64("rate", 0, "calls allowed per second; 0 is unlimited")
	apis := fs.String("apis", string(risk.APIMultipleOrder), "comma-separated APIs the key may call (multiple_order); empty for none")
	zone := fs.String("timezone", "UTC", "IANA time zone whose today is a check's default date")
	window := fs.Int("window", risk.DefaultWindowDays, "look-back window in days")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	var id risk.ClientID // the API ID of the commands that take one
	switch sub {
	case "show", "update", "rotate", "revoke":
		if len(pos) != 1 {
			return usagef("give one API ID: trueup admin riskclient %s ID", sub)
		}
		id = risk.ClientID(pos[0])
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	services := NewServices(store, nil)
	defer services.Close()
	svc := services.Risk
	out := env.Stdout
	now := services.Clock.Now()
	show := func(c risk.Client, secret string) error {
		v := viewRiskClient(c, secret, now)
		if *asJSON {
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
	switch sub {
	case "create":
		p := risk.CreateClientParams{Name: *name, TimeZone: *zone, WindowDays: *window, Quota: *quota, Rate: *rate}
		if p.APIs, err = risk.ParseAPIs(*apis); err != nil {
			return err
		}
		if *expires != "" {
			t, err := parseExpiry(*expires, *zone)
			if err != nil {
				return err
			}
			p.ExpiresAt = &t
		}
		cred, err := svc.CreateClient(ctx, p)
		if err != nil {
			return err
		}
		return show(cred.Client, cred.APISecret)
	case "list":
		list, err := svc.Clients(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			views := make([]riskClientView, len(list))
			for i, c := range list {
				views[i] = viewRiskClient(c, "", now)
			}
			return printJSON(out, views)
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "API ID\tNAME\tSTATE\tAPIS\tQUOTA\tUSED\tRATE/S\tEXPIRES")
		for _, c := range list {
			v := viewRiskClient(c, "", now)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", v.ID, v.Name, v.State, apiList(v.APIs), limit(v.Quota, ""), v.QuotaUsed, limit(v.Rate, ""), expiry(v.ExpiresAt))
		}
		return tw.Flush()
	case "show":
		c, err := svc.Client(ctx, id)
		if err != nil {
			return err
		}
		return show(c, "")
	case "update":
		u := risk.ClientUpdate{ID: id}
		if set["apis"] {
			list, err := risk.ParseAPIs(*apis)
			if err != nil {
				return err
			}
			u.APIs = &list
		}
		if set["timezone"] {
			u.TimeZone = zone
		}
		if set["window"] {
			u.WindowDays = window
		}
		if set["quota"] {
			u.Quota = quota
		}
		if set["rate"] {
			u.Rate = rate
		}
		if set["expires"] {
			if *expires == "never" {
				u.NoExpiry = true
			} else {
				tz := *zone
				if !set["timezone"] {
					c, err := svc.Client(ctx, id)
					if err != nil {
						return err
					}
					tz = c.TimeZone
				}
				t, err := parseExpiry(*expires, tz)
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
		return show(c, "")
	case "rotate":
		cred, err := svc.RotateClient(ctx, id)
		if err != nil {
			return err
		}
		return show(cred.Client, cred.APISecret)
	case "revoke":
		if err := svc.RevokeClient(ctx, id); err != nil {
			return err
		}
		return report(out, *asJSON, map[string]any{"apiId": id, "revoked": true}, fmt.Sprintf("risk API key %s revoked", id))
	}
	return usagef("unknown command %q\n%s", sub, riskClientUsage)
}

// parseExpiry reads an expiry: YYYY-MM-DD means the key works through that
// day in zone (it expires at the next midnight there); otherwise an RFC
// 3339 instant.
func parseExpiry(s, zone string) (time.Time, error) {
	if d, ok := risk.ParseDay(s); ok {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidParam, "time zone %q is unknown; use an IANA name such as Asia/Kolkata or UTC", zone)
		}
		y, m, dd := time.Unix(int64(d)*86400, 0).UTC().Date()
		return time.Date(y, m, dd+1, 0, 0, 0, 0, loc).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidParam, "--expires %q is not a date; use YYYY-MM-DD (the key works through that day) or an RFC 3339 instant such as 2026-12-31T18:30:00Z", s)
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

func runImportRisk(ctx context.Context, args []string, env Env) error {
	fs := newFlagSet("import risk", env)
	var db dbFlags
	db.register(fs, env)
	asJSON := fs.Bool("json", false, "print JSON")
	replace := fs.Bool("replace", false, "make the file the whole new list: remove the stored records in the same transaction")
	index := fs.String("index", "auto", "auto, rebuild or keep: whether to drop the look-up index during the import and build it again (SQLite)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: trueup import risk [--replace] [--index auto|rebuild|keep] FILE (CSV, xlsx, xls or .jsonl with columns %s)", columnList(risk.Columns))
	}
	mode, ok := map[string]risk.IndexMode{"auto": risk.IndexAuto, "rebuild": risk.IndexRebuild, "keep": risk.IndexKeep}[*index]
	if !ok {
		return usagef("--index %q: use auto, rebuild or keep", *index)
	}
	in, size, err := risk.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer in.Close()
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	services := NewServices(store, nil)
	defer services.Close()
	expected := size / 64 // bytes of a typical CSV or JSON Lines record
	if ext := strings.ToLower(filepath.Ext(pos[0])); ext == ".xlsx" || ext == ".xls" {
		expected = size / 16
	}
	bar := newProgressBar(env.Stderr, "import "+filepath.Base(pos[0]))
	start := time.Now()
	res, err := services.Risk.Import(ctx, risk.ImportParams{Input: in, Replace: *replace, Index: mode, ExpectedRows: expected, Progress: bar.Set})
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
}
