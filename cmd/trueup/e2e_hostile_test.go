package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
)

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestE2EUpload2GiB declares a 2 GiB statement upload and streams it: the
// server stops reading at its limit and answers 413 with code 41301 and
// the limit, long before the body would end; nothing is stored.
func TestE2EUpload2GiB(t *testing.T) {
	const limit = 1 << 20
	s := startE2E(t, e2eEngines[0], ServeConfig{MaxUploadBytes: limit})
	c := s.newCarrier(t, "Acme Mobile")

	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if err := mw.WriteField("billingCycle", lastCycle().String()); err != nil {
		t.Fatal(err)
	}
	if _, err := mw.CreateFormFile("data", "huge.csv"); err != nil {
		t.Fatal(err)
	}
	const declared = 2 << 30
	body := io.MultiReader(&head, io.LimitReader(zeros{}, declared-int64(head.Len())))
	req, err := http.NewRequest(http.MethodPost, client.PathVerify, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = declared
	req.Header.Set("Content-Type", mw.FormDataContentType())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := c.api.Do(ctx, req)
	if err != nil {
		t.Fatalf("a 2 GiB upload: %v; want the server's 413", err)
	}
	err = client.CheckResponse(resp)
	wantAPIError(t, err, http.StatusRequestEntityTooLarge, trueuphttp.CodeTooLarge, fmt.Sprint(limit))
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the 413 came after %v", d)
	}
	var list []map[string]any
	s.cliJSON(t, &list, "batch", "list", "--carrier", string(c.cred.CarrierID))
	if len(list) != 0 {
		t.Errorf("batches after the refused upload: %+v", list)
	}
}

// hostileTexts are values that attack what a server does with text: SQL,
// formulas, paths, markup and format verbs. Each must be stored and given
// back as written, and never change anything else.
var hostileTexts = []string{
	`'; DROP TABLE orders; --`,
	`1' OR '1'='1`,
	`Robert"); DELETE FROM carriers; --`,
	`=HYPERLINK("http://example.invalid","x")`,
	`../../etc/passwd`,
	`<script>alert(1)</script>`,
	`%s%n%x%d`,
}

// TestE2EHostileTextStatement checks a statement whose ids hold SQL,
// formulas, paths and markup: the batch succeeds, every id comes back
// unchanged in the discrepancy list, and the ledger is intact.
func TestE2EHostileTextStatement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Acme Mobile")
		spec := gen.Spec{Orders: len(hostileTexts), Cycle: lastCycle(), Seed: 21}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		rows := statementRows(t, spec)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(gen.StatementHeader)
		for i, r := range rows {
			r[0] = hostileTexts[i] // carrierOrderId: none is in the ledger
			w.Write(r)
		}
		w.Flush()
		no := verifyUpload(t, c.api, spec.Cycle.String(), "hostile.csv", b.Bytes())
		st := waitSucceeded(t, c.api, no)
		// Each hostile id is missing on the platform, and each ledger
		// order missing on the carrier's side.
		if want := (trueup.DiffCounts{trueup.DiffMissingOnPlatform: int64(len(rows)), trueup.DiffMissingOnCarrier: int64(len(rows))}); st.Batch.Counts != want {
			t.Errorf("counts %+v, want %+v", st.Batch.Counts, want)
		}
		bills, err := c.api.ListAll(context.Background(), no, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, d := range bills {
			seen[d.CarrierOrderID] = true
		}
		for _, h := range hostileTexts {
			if !seen[h] {
				t.Errorf("carrierOrderId %q is not in the list as written", h)
			}
		}
		// The same file again gives the same answer: nothing was dropped.
		no2 := verifyUpload(t, c.api, spec.Cycle.String(), "again.csv", b.Bytes())
		if st2 := waitSucceeded(t, c.api, no2); st2.Batch.Counts != st.Batch.Counts {
			t.Errorf("second check: counts %+v, want %+v", st2.Batch.Counts, st.Batch.Counts)
		}
	})
}

// TestE2EHostileTextAPI sends SQL and path strings where the APIs take ids
// and names: unknown ids are 404s, names are stored as written.
func TestE2EHostileTextAPI(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		ctx := context.Background()
		for _, h := range hostileTexts {
			cred, err := s.api.CreateCarrier(ctx, client.CarrierParams{Name: h})
			if err != nil {
				t.Fatalf("create carrier %q: %v", h, err)
			}
			got, err := s.api.Carrier(ctx, string(cred.CarrierID))
			if err != nil || got.Name != h {
				t.Errorf("carrier %s: name %q, %v; want %q", cred.CarrierID, got.Name, err, h)
			}
			status, body := s.rawAdmin(t, http.MethodGet, "/admin/v1/batches/"+url.PathEscape(h), "", "")
			if status != http.StatusNotFound && status != http.StatusBadRequest {
				t.Errorf("batch %q: HTTP %d %s; want 404 or 400", h, status, body)
			}
		}
		list, err := s.api.Carriers(ctx)
		if err != nil || len(list) != len(hostileTexts) {
			t.Errorf("carriers = %d, %v; want %d", len(list), err, len(hostileTexts))
		}
	})
}

// TestE2ESecretsNotStored provisions every kind of secret (a carrier
// client's secret, an admin key, a buyer's token, a risk client's secret)
// and a carrier token, and finds none of them in the database's files:
// only their hashes are stored.
func TestE2ESecretsNotStored(t *testing.T) {
	s := startE2E(t, e2eEngines[0], ServeConfig{})
	c := s.newCarrier(t, "Acme Mobile")
	tok, err := c.api.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var key struct{ Key string }
	s.cliJSON(t, &key, "admin", "apikey", "create", "--name", "ops")
	var b buyer.Credentials
	s.cliJSON(t, &b, "admin", "buyer", "create", "--name", "Panels")
	var r riskClientView
	s.cliJSON(t, &r, "admin", "riskclient", "create", "--name", "Risk Co")
	var rotated auth.Credentials
	s.cliJSON(t, &rotated, "admin", "client", "rotate", string(c.cred.ClientID))
	secrets := map[string]string{"client secret": c.cred.ClientSecret, "rotated client secret": rotated.ClientSecret,
		"access token": tok, "admin key": key.Key, "buyer token": b.AccessToken, "risk secret": r.APISecret}
	for what, v := range secrets {
		if len(v) < 16 {
			t.Fatalf("%s %q: too short to look for", what, v)
		}
	}
	dir := s.dbArgs[1]
	var files int
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for what, v := range secrets {
			if bytes.Contains(data, []byte(v)) {
				t.Errorf("%s is stored in %s as written", what, path)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("read %d files of %s: %v", files, dir, err)
	}
}
