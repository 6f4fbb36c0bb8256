package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
)

// batchBrowser starts a headless chromium for the test, downloading into
// its own folder; the test is skipped where chromium is not installed
// (.ci/run installs it).
func batchBrowser(t *testing.T) (context.Context, string) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed; .ci/run installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTime(); cancel(); cancelAlloc() })
	dir := t.TempDir()
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, dir
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
func waitDownload(t *testing.T, dir string) []byte {
	t.Helper()
	for range 200 {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err == nil && len(b) > 0 {
					return b
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no download arrived")
	return nil
}

// TestConsoleBatchesBrowser drives the batch pages in chromium: sign in,
// upload a statement and watch it reach succeeded, filter by kind, search
// by order id, export what is filtered (the file read back), and an
// import with a bad row showing its row errors.
func TestConsoleBatchesBrowser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx, downloads := batchBrowser(t)
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Acme")
		spec := e2eSpec(11)
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		want := spec.Expected()
		var op struct{ Password string }
		s.cliJSON(t, &op, "admin", "operator", "create", "--email", "ops@example.com", "--role", "operator")
		files := t.TempDir()
		var stmt bytes.Buffer
		if err := spec.WriteCSV(&stmt); err != nil {
			t.Fatal(err)
		}
		stmtPath := filepath.Join(files, "statement.csv")
		os.WriteFile(stmtPath, stmt.Bytes(), 0o600)

		run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(ctx, steps...); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		text := func(sel string) string {
			t.Helper()
			v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
			if err != nil {
				t.Fatalf("text of %s: %v", sel, err)
			}
			return v
		}
		// With TRUEUP_CONSOLE_SCREENSHOTS=DIR (the screenshots of
		// docs/console/), the SQLite run saves each page as DIR/NAME.png.
		shots := os.Getenv("TRUEUP_CONSOLE_SCREENSHOTS")
		shot := func(name string) {
			t.Helper()
			if shots == "" || eng.name != "sqlite" {
				return
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		count := func(sel string) int {
			t.Helper()
			v, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
			if err != nil {
				t.Fatalf("count %s: %v", sel, err)
			}
			return v
		}
		run("sign in",
			chromedp.Navigate(s.base+"/console/upload"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), "ops@example.com"),
			chromedp.SendKeys(chromedp.CSS("#password"), op.Password),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitVisible(chromedp.CSS("#up-file")),
		)
		shot("upload")
		run("upload",
			chromedp.SetValue(chromedp.CSS("#up-carrier"), string(c.cred.CarrierID)),
			chromedp.SetUploadFiles(chromedp.CSS("#up-file"), []string{stmtPath}),
			chromedp.Click(chromedp.CSS("form[data-upload] button[type=submit]")),
			// The script sends the file, opens the batch page, follows the
			// check and reloads at its end.
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		if state := text(".statusline .state"); state != "succeeded" {
			t.Fatalf("batch state %q, want succeeded", state)
		}
		shot("batch")
		run("filter by kind",
			chromedp.SetValue(chromedp.CSS("#f-kind"), "4"),
			chromedp.Submit(chromedp.CSS("#f-kind")),
			waitLocation("kind=4"),
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		rows, kinds := count("tbody.disc"), count("tbody.disc .kind:not(.kind-4)")
		shot("batch-filtered")
		if int64(rows) != min(50, want[trueup.DiffAmount]) || kinds != 0 {
			t.Errorf("kind 4 shows %d rows (%d of another kind), want %d", rows, kinds, min(50, want[trueup.DiffAmount]))
		}
		var id string
		for k := range expectedDiffs(t, spec) {
			if k.typ == trueup.DiffAmount {
				id = k.id
				break
			}
		}
		run("search",
			chromedp.SetValue(chromedp.CSS("#f-q"), id),
			chromedp.Submit(chromedp.CSS("#f-q")),
			waitLocation("q="+id),
			chromedp.WaitVisible(chromedp.CSS("#browser")),
		)
		if rows := count("tbody.disc"); rows != 1 {
			t.Errorf("search %s shows %d rows, want 1", id, rows)
		}
		run("export", chromedp.Click(chromedp.CSS(`.exports a[href*="format=csv"]`)))
		got, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(waitDownload(t, downloads)), "\ufeff"))).ReadAll()
		if err != nil || len(got) != 2 || !strings.Contains(strings.Join(got[1], ","), id) {
			t.Errorf("export of the search = %v, %v; want the header and %s", got, err, id)
		}

		// An import with a bad row shows its row errors.
		var ledgerCSV bytes.Buffer
		if err := (gen.Spec{Orders: 2, Cycle: spec.Cycle, Seed: 2}).WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		ledgerCSV.WriteString("BAD-1," + spec.Cycle.String() + ",k,u,u,sku,not-a-price,p,x,x,x,x,c\n")
		ordersPath := filepath.Join(files, "orders.csv")
		os.WriteFile(ordersPath, ledgerCSV.Bytes(), 0o600)
		run("import",
			chromedp.Navigate(s.base+"/console/imports"),
			chromedp.WaitVisible(chromedp.CSS("#io-file")),
			chromedp.SetValue(chromedp.CSS("#io-carrier"), string(c.cred.CarrierID)),
			chromedp.SetUploadFiles(chromedp.CSS("#io-file"), []string{ordersPath}),
			chromedp.Click(chromedp.CSS(`form[action="/console/imports/orders"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("table.row-errors")),
		)
		if errorsText := text("table.row-errors"); !strings.Contains(errorsText, "not-a-price") {
			t.Errorf("row errors table = %q, want the bad price", errorsText)
		}
		shot("import")
		run("imports", chromedp.Navigate(s.base+"/console/imports"), chromedp.WaitVisible(chromedp.CSS("#imp-recent")))
		shot("imports")
		run("batches", chromedp.Navigate(s.base+"/console/batches"), chromedp.WaitVisible(chromedp.CSS("table.batches")))
		shot("batches")
		run("activity", chromedp.Navigate(s.base+"/console/activity"), chromedp.WaitVisible(chromedp.CSS("#act-queue")))
		shot("activity")
		if shots != "" && eng.name == "sqlite" {
			run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#browser")))
			shot("batch-phone")
		}
	})
}
