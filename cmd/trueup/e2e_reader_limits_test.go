package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/internal/sheet"
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

// TestE2EReaderLimits checks that ServeConfig.Readers reach every reader
// of the server: with a small cell size, an upload whose first row passes
// it is refused (400, 40003) with the limit's message, a batch meeting it
// later fails with it, and an admin API import of orders over it fails the
// same way, storing nothing. The CLI's import takes the same flag.
func TestE2EReaderLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{MaxUploadBytes: 1 << 20, Readers: sheet.Limits{FieldBytes: smallCell}})
		c := s.newCarrier(t, "Narrow Cells")
		spec := gen.Spec{Orders: 30, Cycle: lastCycle(), Seed: 8}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		ctx := context.Background()

		_, err := c.api.Verify(ctx, client.VerifyParams{BillingCycle: spec.Cycle.String(), FileName: "wide.csv", File: bytes.NewReader(limitedStatement(t, spec, 0))})
		wantAPIError(t, err, 400, trueup.CodeInvalidFile, cellLimitMessage)

		st := waitBatchDone(t, c.api, verifyUpload(t, c.api, spec.Cycle.String(), "wide-later.csv", limitedStatement(t, spec, 20)))
		if st.Batch.State != trueup.BatchFailed || !strings.Contains(st.Batch.Failure, cellLimitMessage) {
			t.Errorf("batch %s, failure %q; want failed with %q", st.Batch.State, st.Batch.Failure, cellLimitMessage)
		}

		// The same limit holds for the admin API's imports.
		var k struct{ KeyID, Key string }
		s.cliJSON(t, &k, "admin", "apikey", "create", "--name", "ops", "--json")
		api := client.NewAdminClient(s.base, k.Key, s.http)
		other := s.newCarrier(t, "Narrow Ledger")
		var ledgerCSV bytes.Buffer
		if err := spec.WriteLedgerCSV(&ledgerCSV); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(ledgerCSV.String(), "\n")
		fields := strings.Split(lines[5], ",")
		fields[5] = strings.Repeat("s", smallCell+1) // skuCode
		lines[5] = strings.Join(fields, ",")
		wide := strings.Join(lines, "")
		im, err := api.ImportOrders(ctx, string(other.cred.CarrierID), client.ImportBody{Body: strings.NewReader(wide), ContentType: "text/csv"})
		if err != nil {
			t.Fatalf("ImportOrders: %v", err)
		}
		done, err := api.WaitImport(ctx, im.ImportID, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != client.ImportFailed || done.Imported != 0 || !strings.Contains(done.Reason, cellLimitMessage) {
			t.Errorf("import = %+v; want failed with %q", done, cellLimitMessage)
		}
		if n, err := s.store.CountOrders(ctx, other.cred.CarrierID, spec.Cycle.String()); err != nil || n != 0 {
			t.Errorf("orders stored = %d, %v; want none", n, err)
		}

		// The CLI reads the same file within the same flag, and by
		// default reads it whole.
		path := filepath.Join(t.TempDir(), "orders.csv")
		if err := os.WriteFile(path, []byte(wide), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := s.cliResult("import", "orders", "--carrier", string(other.cred.CarrierID), "--max-cell-bytes", "100", path)
		if code == 0 || !strings.Contains(stderr, cellLimitMessage) {
			t.Errorf("import orders --max-cell-bytes 100: exit %d, stderr %q; want a failure with %q", code, stderr, cellLimitMessage)
		}
		s.cli(t, "import", "orders", "--carrier", string(other.cred.CarrierID), path)
	})
}
