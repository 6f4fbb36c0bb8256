package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/operator"
)

// demoCarrier is the name of the carrier `serve --demo` provisions.
const demoCarrier = "Demo Carrier"

// demoOperator is the email of the console admin `serve --demo`
// provisions.
const demoOperator = "demo@example.com"

// demoSpec is the demo's ledger and statement: 3,000 orders of the last
// cycle, with every kind of discrepancy.
func demoSpec(cycle trueup.Cycle) gen.Spec {
	return gen.Spec{Orders: 3000, Cycle: cycle, Seed: 42, MissingEvery: 50, ExtraEvery: 75, RightsEvery: 40, AmountEvery: 60}
}

// runDemo provisions the demo carrier (or gives it a fresh secret), loads
// its ledger, writes a matching statement with known discrepancies, and
// prints ready-to-paste calls.
func runDemo(ctx context.Context, m *Main, env Env) error {
	store := m.Store
	svc := m.Server.Auth
	var cred auth.Credentials
	carriers, err := store.Carriers(ctx)
	if err != nil {
		return err
	}
	for _, c := range carriers {
		if c.Name != demoCarrier {
			continue
		}
		clients, err := store.Clients(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, cl := range clients {
			if cl.RevokedAt == nil {
				if cred, err = svc.RotateClient(ctx, cl.ID); err != nil {
					return err
				}
				break
			}
		}
		if cred.ClientID == "" {
			if cred, err = svc.CreateClient(ctx, c.ID); err != nil {
				return err
			}
		}
	}
	if cred.ClientID == "" {
		if cred, err = svc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: demoCarrier, Whitelisted: true}); err != nil {
			return err
		}
	}
	now := m.Clock.Now().UTC()
	cycle := trueup.CycleOf(now).Prev()
	spec := demoSpec(cycle)
	if err := importDemoLedger(ctx, m, cred.CarrierID, spec); err != nil {
		return err
	}
	path, err := writeDemoStatement(spec)
	if err != nil {
		return err
	}
	tok, err := svc.IssueToken(ctx, "client_credentials", cred.ClientID, cred.ClientSecret)
	if err != nil {
		return err
	}
	opPassword, err := demoConsoleOperator(ctx, m)
	if err != nil {
		return err
	}
	exp := spec.Expected()
	scheme := "http://"
	if m.Server.Config.TLSCertFile != "" {
		scheme = "https://"
	}
	base := scheme + m.Server.Addr()
	h := fmt.Sprintf(`-H "Authorization: Bearer %s" -H "X-User-Id: %s" -H "X-Date: $(date -u +%%Y%%m%%dT%%H%%M%%SZ)"`, tok.AccessToken, cred.UserID)
	fmt.Fprintf(env.Stdout, `
trueup demo is running at %[1]s  (docs: %[1]s/docs)

Web console: %[1]s/console/
  email:    %[13]s
  password: %[14]s   (shown once; a new one at each start)

Demo carrier %[2]s, user id %[3]s, %[4]d ledger orders in cycle %[5]s.
  client_id:     %[6]s
  client_secret: %[7]s   (shown once)

A statement with %[8]d discrepancies (%[9]s) is at
  %[10]s

Paste these (the token lasts %[11]d s; X-Date is computed by your shell):

  # a fresh token
  curl -s -X POST %[1]s/koodrive/oauth2/v1/token -d grant_type=client_credentials -d client_id=%[6]s -d client_secret=%[7]s

  # check the statement: answers {"code":0,"msg":"Success.","batchNo":"..."}
  curl -s %[12]s -F data=@%[10]s -F billingCycle=%[5]s %[1]s/koodrive/ose/v1/reconciliation/data/verify

  # then, with the batchNo from the answer:
  BATCH=...
  curl -s %[12]s "%[1]s/koodrive/ose/v1/reconciliation/batch?batchNo=$BATCH"
  curl -s %[12]s "%[1]s/koodrive/ose/v1/reconciliation/diff/getList?batchNo=$BATCH&pageSize=5"
  curl -s %[12]s -o diffs.xlsx "%[1]s/koodrive/ose/v1/reconciliation/diff/export?batchNo=$BATCH&format=xlsx"

  # the import template
  curl -s %[12]s -o template.xlsx %[1]s/koodrive/ose/v1/reconciliation/template

Stop with Ctrl-C.
`, base, cred.CarrierID, cred.UserID, spec.Orders, cycle, cred.ClientID, cred.ClientSecret,
		exp.Total(), exp, path, tok.ExpiresIn, h, demoOperator, opPassword)
	return nil
}

// writeDemoStatement writes the demo's statement in a fresh folder of the
// system's temporary folder, readable by its owner only (os.MkdirTemp), and
// returns its path. A fixed name there could be planted beforehand, as a
// symlink to another file, by any user of the machine.
func writeDemoStatement(spec gen.Spec) (string, error) {
	dir, err := os.MkdirTemp("", "trueup-demo-")
	if err != nil {
		return "", fmt.Errorf("write demo statement: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, "statement-"+spec.Cycle.String()+".csv"))
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write demo statement: %w", err)
	}
	if err := spec.WriteCSV(f); err != nil {
		f.Close()
		return "", fmt.Errorf("write demo statement: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write demo statement: %w", err)
	}
	return path, nil
}

// importDemoLedger loads the spec's ledger orders for carrier through the
// ledger service, as `trueup import orders` loads a CSV file.
func importDemoLedger(ctx context.Context, m *Main, carrier trueup.CarrierID, spec gen.Spec) error {
	c, err := m.Store.Carrier(ctx, carrier)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := spec.WriteLedgerCSV(&buf); err != nil {
		return err
	}
	rd, err := m.Readers.OpenCSV(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return fmt.Errorf("read demo ledger: %w", err)
	}
	src, err := ledger.NewSheetSource(rd)
	if err != nil {
		rd.Close()
		return fmt.Errorf("read demo ledger: %w", err)
	}
	defer src.Close()
	_, err = m.Ledger.Import(ctx, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location()})
	return err
}

// demoConsoleOperator creates the demo's console admin, or gives it a
// fresh password and enables it again, and returns the password.
func demoConsoleOperator(ctx context.Context, m *Main) (string, error) {
	ctx = trueup.WithActor(ctx, trueup.ActorCLI)
	o, err := m.Store.OperatorByEmail(ctx, demoOperator)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		c, err := m.Operators.Create(ctx, operator.CreateParams{Email: demoOperator, Role: operator.RoleAdmin})
		return c.Password, err
	} else if err != nil {
		return "", err
	}
	if o.DisabledAt != nil {
		if _, err := m.Operators.SetDisabled(ctx, o.ID, false); err != nil {
			return "", err
		}
	}
	return m.Operators.ResetPassword(ctx, o.ID, "")
}
