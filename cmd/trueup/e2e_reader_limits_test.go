package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
)

// smallCell is the --max-cell-bytes of the reader limit tests, and
// cellLimitMessage the message of a file past it.
const (
	smallCell        = 100
	cellLimitMessage = "a cell holds more than 100 bytes of text (the limit of a cell's size)"
)

// limitedStatement returns a CSV statement of spec whose row at index i
// (file row i+2) has a skuCode longer than smallCell.
func limitedStatement(tb testing.TB, spec gen.Spec, i int) []byte {
	tb.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(gen.StatementHeader)
	for j, r := range statementRows(tb, spec) {
		if j == i {
			r = append([]string(nil), r...)
			r[genColSku] = strings.Repeat("s", smallCell+1)
		}
		w.Write(r)
	}
	w.Flush()
	return b.Bytes()
}

// TestE2EReaderLimits checks that the reader limits reach every reader
// of a server started with a small --max-cell-bytes: an upload whose first
// row passes it is refused (400, 40003) with the limit's message, a batch
// meeting it later fails with it, and an admin API import of orders over
// it fails the same way, storing nothing. The CLI's import takes the same
// flag.
func TestE2EReaderLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		ctx := context.Background()
		store, dbArgs := eng.open(t)
		defer store.Close()
		var cred, other auth.Credentials
		runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Narrow Cells"}, dbArgs...)...)
		runCLIJSON(t, &other, append([]string{"admin", "carrier", "create", "--name", "Narrow Ledger"}, dbArgs...)...)
		var k struct{ KeyID, Key string }
		runCLIJSON(t, &k, append([]string{"admin", "apikey", "create", "--name", "ops"}, dbArgs...)...)
		spec := gen.Spec{Orders: 30, Cycle: lastCycle(), Seed: 8}
		seedLedger(t, store, cred.CarrierID, spec)

		srv := startServer(t, append([]string{"--max-cell-bytes", strconv.Itoa(smallCell)}, dbArgs...)...)
		hc := e2eHTTPClient()
		defer hc.CloseIdleConnections()
		api := client.New(srv.url(""), client.WithHTTPClient(hc),
			client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))

		_, err := api.Verify(ctx, client.VerifyParams{BillingCycle: spec.Cycle.String(), FileName: "wide.csv", File: bytes.NewReader(limitedStatement(t, spec, 0))})
		wantAPIError(t, err, 400, trueuphttp.CodeInvalidFile, cellLimitMessage)

		st := waitBatchDone(t, api, verifyUpload(t, api, spec.Cycle.String(), "wide-later.csv", limitedStatement(t, spec, 20)))
		if st.Batch.State != trueup.BatchFailed || !strings.Contains(st.Batch.Failure, cellLimitMessage) {
			t.Errorf("batch %s, failure %q; want failed with %q", st.Batch.State, st.Batch.Failure, cellLimitMessage)
		}

		// The same limit holds for the admin API's imports.
		admin := client.NewAdminClient(srv.url(""), k.Key, hc)
		var ledgerCSV bytes.Buffer
		if err := spec.WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(ledgerCSV.String(), "\n")
		fields := strings.Split(lines[5], ",")
		fields[5] = strings.Repeat("s", smallCell+1) // skuCode
		lines[5] = strings.Join(fields, ",")
		wide := strings.Join(lines, "")
		im, err := admin.ImportOrders(ctx, string(other.CarrierID), client.ImportBody{Body: strings.NewReader(wide), ContentType: "text/csv"})
		if err != nil {
			t.Fatalf("ImportOrders: %v", err)
		}
		done, err := admin.WaitImport(ctx, im.ImportID, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != client.ImportFailed || done.Imported != 0 || !strings.Contains(done.Reason, cellLimitMessage) {
			t.Errorf("import = %+v; want failed with %q", done, cellLimitMessage)
		}
		if n, err := store.CountOrders(ctx, other.CarrierID, spec.Cycle.String()); err != nil || n != 0 {
			t.Errorf("orders stored = %d, %v; want none", n, err)
		}

		// The CLI reads the same file within the same flag, and by
		// default reads it whole.
		path := filepath.Join(t.TempDir(), "orders.csv")
		if err := os.WriteFile(path, []byte(wide), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := runCLIResult(append([]string{"import", "orders", "--carrier", string(other.CarrierID), "--max-cell-bytes", strconv.Itoa(smallCell), path}, dbArgs...)...)
		if code == 0 || !strings.Contains(stderr, cellLimitMessage) {
			t.Errorf("import orders --max-cell-bytes %d: exit %d, stderr %q; want a failure with %q", smallCell, code, stderr, cellLimitMessage)
		}
		runCLI(t, append([]string{"import", "orders", "--carrier", string(other.CarrierID), path}, dbArgs...)...)
		stmt := filepath.Join(t.TempDir(), "statement.csv")
		if err := os.WriteFile(stmt, limitedStatement(t, spec, 20), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr = runCLIResult(append([]string{"verify", "--carrier", string(cred.CarrierID), "--cycle", spec.Cycle.String(), "--max-cell-bytes", strconv.Itoa(smallCell), stmt}, dbArgs...)...)
		if code == 0 || !strings.Contains(stderr, cellLimitMessage) {
			t.Errorf("verify --max-cell-bytes %d: exit %d, stderr %q; want a failure with %q", smallCell, code, stderr, cellLimitMessage)
		}
	})
}
