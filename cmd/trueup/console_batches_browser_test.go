package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/operator"
)

// downloadsTo makes the tab's browser context save downloads in dir.
func (t *tab) downloadsTo(tb testing.TB, dir string) {
	tb.Helper()
	t.do(tb, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID})
		return err
	}))
}

// waitLocation waits until the page's address contains part.
func waitLocation(part string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err != nil {
				return err
			}
			if strings.Contains(loc, part) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("the address stayed %s, without %q", loc, part)
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// waitDownload returns the first file completed in dir.
func waitDownload(tb testing.TB, dir string) []byte {
	tb.Helper()
	for range 300 {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && len(b) > 0 {
					return b
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatal("no download arrived")
	return nil
}

// TestConsoleBatchesBrowser drives the batch pages in chromium on each
// engine: sign in, upload a statement (the page's script sends it) and
// watch it reach succeeded, filter by kind, search by order id, export
// what is filtered (the downloaded file read back), and an import with a
// bad row showing its row errors.
func TestConsoleBatchesBrowser(t *testing.T) {
	b := newBrowser(t)
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Acme")
		spec := e2eSpec(11)
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		want := spec.Expected()
		op := s.newOperator(t, "ops@example.com", operator.RoleOperator)
		files, downloads := t.TempDir(), t.TempDir()
		var stmt bytes.Buffer
		if err := spec.WriteCSV(&stmt); err != nil {
			t.Fatal(err)
		}
		stmtPath := filepath.Join(files, "statement.csv")
		if err := os.WriteFile(stmtPath, stmt.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		count := func(tb *tab, sel string) int {
			t.Helper()
			ctx, cancel := context.WithTimeout(tb.ctx, browserTimeout)
			defer cancel()
			v, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
			if err != nil {
				t.Fatalf("count %s: %v", sel, err)
			}
			return v
		}

		tb := b.tab(t, s)
		tb.downloadsTo(t, downloads)
		if st := tb.signIn(t, op.Email, op.Password); st != 200 {
			t.Fatalf("sign in: %d", st)
		}
		tb.open(t, "/console/upload")
		tb.do(t,
			chromedp.SetValue(chromedp.CSS("#up-carrier"), string(c.cred.CarrierID)),
			chromedp.SetUploadFiles(chromedp.CSS("#up-file"), []string{stmtPath}),
			chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")),
			// The script sends the file and opens the batch page, which
			// follows the check and reloads at its end.
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		if state := tb.text(t, ".statusline .state"); state != "succeeded" {
			t.Fatalf("batch state %q, want succeeded", state)
		}

		tb.do(t,
			chromedp.SetValue(chromedp.CSS("#f-kind"), "4"),
			chromedp.Submit(chromedp.CSS("#f-kind")),
			waitLocation("kind=4"),
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		if rows, other := count(tb, "tbody.disc"), count(tb, "tbody.disc .kind:not(.kind-4)"); int64(rows) != min(50, want[trueup.DiffAmount]) || other != 0 {
			t.Errorf("kind 4 shows %d rows (%d of another kind), want %d", rows, other, min(50, want[trueup.DiffAmount]))
		}
		var id string
		for k := range expectedDiffs(t, spec) {
			if k.typ == trueup.DiffAmount {
				id = k.id
				break
			}
		}
		tb.do(t,
			chromedp.SetValue(chromedp.CSS("#f-q"), id),
			chromedp.Submit(chromedp.CSS("#f-q")),
			waitLocation("q="+id),
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		if rows := count(tb, "tbody.disc"); rows != 1 || count(tb, "tbody.disc td.differs mark") == 0 {
			t.Errorf("search %s shows %d rows, want 1 with its differing amount marked", id, rows)
		}
		tb.do(t, chromedp.Click(chromedp.CSS(`.exports a[href*="format=csv"]`)))
		got, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(waitDownload(t, downloads)), "\ufeff"))).ReadAll()
		if err != nil || len(got) != 2 || !strings.Contains(strings.Join(got[1], ","), id) {
			t.Errorf("downloaded export of the search = %v, %v; want the header and %s", got, err, id)
		}

		// An import with a bad row shows its row errors.
		var ledgerCSV bytes.Buffer
		if err := (gen.Spec{Orders: 2, Cycle: spec.Cycle, Seed: 2}).WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		ledgerCSV.WriteString("BAD-1," + spec.Cycle.String() + ",k,u,u,sku,not-a-price,p,x,x,x,x,c\n")
		ordersPath := filepath.Join(files, "orders.csv")
		if err := os.WriteFile(ordersPath, ledgerCSV.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		tb.open(t, "/console/imports")
		tb.do(t,
			chromedp.SetValue(chromedp.CSS("#io-carrier"), string(c.cred.CarrierID)),
			chromedp.SetUploadFiles(chromedp.CSS("#io-file"), []string{ordersPath}),
			chromedp.Click(chromedp.CSS(`form[action="/console/imports/orders"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("table.row-errors")),
		)
		if errorsText := tb.text(t, "table.row-errors"); !strings.Contains(errorsText, "not-a-price") {
			t.Errorf("row errors table = %q, want the bad price", errorsText)
		}
	})
}
