package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/internal/sheet"
)

// badRowsCSV is a statement whose rows 3 to 7 are bad, each in one way.
func badRowsCSV(tb testing.TB, cycle trueup.Cycle) ([]byte, []trueup.RowError) {
	tb.Helper()
	spec := gen.Spec{Orders: 5, Cycle: cycle, Seed: 9}
	rows := statementRows(tb, spec)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(gen.StatementHeader)
	w.Write(rows[0]) // row 2, good
	r := append([]string(nil), rows[1]...)
	r[genColEnd] = "2025-13-01"
	w.Write(r) // row 3
	r = append([]string(nil), rows[2]...)
	r[genColShare] = ""
	w.Write(r) // row 4
	r = append([]string(nil), rows[3]...)
	r[genColShare] = "1,50"
	w.Write(r)       // row 5
	w.Write(rows[0]) // row 6, a repeat of row 2
	r = append([]string(nil), rows[4]...)
	r[genColEnd], r[genColActive] = r[genColActive], r[genColEnd]
	w.Write(r) // row 7
	w.Flush()
	return b.Bytes(), []trueup.RowError{
		{Row: 3, Column: "carrierEndTime", Value: "2025-13-01", Reason: "month 13"},
		{Row: 4, Column: "carrierSaleToKd", Value: "", Reason: "required"},
		{Row: 5, Column: "carrierSaleToKd", Value: "1,50", Reason: "1,50"},
		{Row: 6, Column: "carrierOrderId", Value: rows[0][genColID], Reason: "row 2"},
		{Row: 7, Column: "carrierEndTime", Value: rows[4][genColActive], Reason: "before carrierActiveTime"},
	}
}

// TestE2EBatchRowErrors uploads a statement with bad rows: the batch fails
// with each row error (row, column, value, reason) and no discrepancies, and
// the list and export answer 409 with code 42201.
func TestE2EBatchRowErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Typo Telecom")
		ctx := context.Background()
		data, want := badRowsCSV(t, lastCycle())
		seedLedger(t, s.store, c.cred.CarrierID, gen.Spec{Orders: 5, Cycle: lastCycle(), Seed: 9})
		no := verifyUpload(t, c.api, lastCycle().String(), "typos.csv", data)
		st := waitBatchDone(t, c.api, no)
		if st.Batch.State != trueup.BatchFailed {
			t.Fatalf("batch %s, want failed", st.Batch.State)
		}
		if st.Batch.RowErrors != int64(len(want)) || st.Batch.Counts.Total() != 0 || st.Batch.RowsRead != 6 {
			t.Errorf("rowErrorCount %d, counts %+v, rowsRead %d; want %d, none, 6", st.Batch.RowErrors, st.Batch.Counts, st.Batch.RowsRead, len(want))
		}
		if !strings.Contains(st.Batch.Failure, "5 row error") {
			t.Errorf("failure %q does not count the row errors", st.Batch.Failure)
		}
		if len(st.RowErrors) != len(want) {
			t.Fatalf("row errors %+v, want %d", st.RowErrors, len(want))
		}
		for i, w := range want {
			got := st.RowErrors[i]
			if got.Row != w.Row || got.Column != w.Column || got.Value != w.Value || !strings.Contains(got.Reason, w.Reason) {
				t.Errorf("row error %d = %+v, want row %d column %s value %q and a reason mentioning %q", i, got, w.Row, w.Column, w.Value, w.Reason)
			}
		}
		_, err := c.api.DiffList(ctx, client.DiffListParams{BatchNo: no})
		wantAPIError(t, err, 409, trueuphttp.CodeBatchFailed, string(no), "row error")
		_, err = c.api.ExportBytes(ctx, no, client.ExportCSV)
		wantAPIError(t, err, 409, trueuphttp.CodeBatchFailed, string(no))

		// Fixed, the same statement goes through.
		fixed := csvStatement(t, gen.Spec{Orders: 5, Cycle: lastCycle(), Seed: 9})
		ok := waitSucceeded(t, c.api, verifyUpload(t, c.api, lastCycle().String(), "fixed.csv", fixed))
		if ok.Batch.Counts.Total() != 0 || len(ok.RowErrors) != 0 {
			t.Errorf("the fixed statement: counts %+v, row errors %+v; want none", ok.Batch.Counts, ok.RowErrors)
		}

		// A batch without discrepancies lists and exports as empty.
		raw, err := rawCarrierGet(t, c.api, client.PathDiffList+"?batchNo="+string(ok.Batch.No))
		if err != nil {
			t.Fatal(err)
		}
		var empty map[string]json.RawMessage
		if err := json.Unmarshal(raw, &empty); err != nil || string(empty["diffList"]) != "[]" || string(empty["total"]) != "0" || string(empty["code"]) != "0" {
			t.Errorf("the list of a batch without discrepancies = %s; want diffList [], total 0, code 0", raw)
		}
		if cur, ok := empty["nextPageCursor"]; ok && string(cur) != `""` {
			t.Errorf("the empty list has nextPageCursor %s", cur)
		}
		csvExport, err := c.api.ExportBytes(ctx, ok.Batch.No, client.ExportCSV)
		if err != nil {
			t.Fatal(err)
		}
		if rows := parseCSVExport(t, csvExport); len(rows) != 1 {
			t.Errorf("the CSV export of an empty batch has %d rows, want the header only", len(rows))
		}
		xlsxExport, err := c.api.ExportBytes(ctx, ok.Batch.No, client.ExportXLSX)
		if err != nil {
			t.Fatal(err)
		}
		if rows := parseXLSXExport(t, xlsxExport); len(rows) != 1 {
			t.Errorf("the xlsx export of an empty batch has %d rows, want the header only", len(rows))
		}

		// Every bad row counts; the first 1000 are kept.
		var many bytes.Buffer
		mw := csv.NewWriter(&many)
		mw.Write(gen.StatementHeader)
		rows := statementRows(t, gen.Spec{Orders: 1500, Cycle: lastCycle(), Seed: 14})
		for _, r := range rows {
			r[genColShare] = "n/a"
			mw.Write(r)
		}
		mw.Flush()
		st = waitBatchDone(t, c.api, verifyUpload(t, c.api, lastCycle().String(), "many.csv", many.Bytes()))
		if st.Batch.State != trueup.BatchFailed || st.Batch.RowErrors != int64(len(rows)) || len(st.RowErrors) != 1000 {
			t.Errorf("%d bad rows: batch %s, rowErrorCount %d, %d row errors listed; want failed, %d, 1000", len(rows), st.Batch.State, st.Batch.RowErrors, len(st.RowErrors), len(rows))
		}
		if len(st.RowErrors) > 0 {
			if e := st.RowErrors[len(st.RowErrors)-1]; e.Row != 1001 || e.Column != "carrierSaleToKd" || e.Value != "n/a" {
				t.Errorf("the 1000th row error = %+v, want row 1001 column carrierSaleToKd value n/a", e)
			}
		}

		// Asked at once, a larger batch is either done or says how far it is.
		big := gen.Spec{Orders: 3000, Cycle: lastCycle(), Seed: 10, AmountEvery: 7}
		no = verifyUpload(t, c.api, lastCycle().String(), "big.csv", csvStatement(t, big))
		if _, err := c.api.DiffList(ctx, client.DiffListParams{BatchNo: no}); err != nil {
			wantAPIError(t, err, 409, trueuphttp.CodeNotReady, string(no), "% done", "retry")
			t.Logf("asked at once: %v", err)
		}
		waitSucceeded(t, c.api, no)
	})
}

// TestE2EBatchNotReady queues a batch on a server that has no workers (the
// real HTTP server, without the job runner of Main): the list and the
// export answer 409 with code 42501 and say where the batch stands; once
// Main runs on the same database, the batch is checked and listed.
func TestE2EBatchNotReady(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		store, dbArgs := eng.open(t)
		served := false // then Main closes the store
		t.Cleanup(func() {
			if !served {
				store.Close()
			}
		})
		var cred auth.Credentials
		runCLIJSON(t, &cred, append([]string{"admin", "carrier", "create", "--name", "Patient Mobile"}, dbArgs...)...)
		spec := gen.Spec{Orders: 50, Cycle: lastCycle(), Seed: 12, AmountEvery: 5}
		seedLedger(t, store, cred.CarrierID, spec)

		logger := e2eLogger()
		svc := NewServices(store, logger, sheet.Limits{})
		t.Cleanup(func() { svc.Close() })
		idle := trueuphttp.NewServer(trueuphttp.Config{}, store, trueuphttp.Services{Auth: svc.Auth, Batches: svc.Batches, Lifecycle: svc.Lifecycle, Buyers: svc.Buyers, Risk: svc.Risk},
			logger, trueuphttp.NewMetrics())
		if err := idle.Open("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		hc := e2eHTTPClient()
		t.Cleanup(func() {
			hc.CloseIdleConnections()
			idle.Close(context.Background())
		})
		ctx := context.Background()
		api := client.New("http://"+idle.Addr(), client.WithHTTPClient(hc), client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))
		no := verifyUpload(t, api, spec.Cycle.String(), "s.csv", csvStatement(t, spec))
		st, err := api.Batch(ctx, no)
		if err != nil {
			t.Fatal(err)
		}
		if st.Batch.State != trueup.BatchQueued || st.Batch.Percent != 0 || st.Batch.RowsRead != 0 {
			t.Errorf("batch on a server without workers: %+v; want queued, 0%%, 0 rows", st.Batch)
		}
		_, err = api.DiffList(ctx, client.DiffListParams{BatchNo: no})
		wantAPIError(t, err, 409, trueuphttp.CodeNotReady, string(no), "queued", "0% done", "retry")
		_, err = api.ExportBytes(ctx, no, client.ExportXLSX)
		wantAPIError(t, err, 409, trueuphttp.CodeNotReady, "queued")
		hc.CloseIdleConnections()
		if err := idle.Close(ctx); err != nil {
			t.Fatal(err)
		}

		s := serveStore(t, store, dbArgs, ServeConfig{})
		served = true
		api = s.client(cred)
		done := waitSucceeded(t, api, no)
		if done.Batch.Counts != spec.Expected() {
			t.Errorf("counts = %+v, want %+v", done.Batch.Counts, spec.Expected())
		}
		walkPages(t, api, no, 3, spec.Expected().Total())
	})
}

// TestE2EListParams checks the discrepancy list's parameters: pageSize out
// of range, tampered cursors and cursors of another batch are 400s; another
// carrier's batch and an unknown one are 404s on list, status and export.
func TestE2EListParams(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		acme := s.newCarrier(t, "Acme Mobile")
		other := s.newCarrier(t, "Other Telecom")
		ctx := context.Background()
		spec := gen.Spec{Orders: 60, Cycle: lastCycle(), Seed: 13, MissingEvery: 4, AmountEvery: 7}
		seedLedger(t, s.store, acme.cred.CarrierID, spec)
		total := spec.Expected().Total()
		noA := verifyUpload(t, acme.api, spec.Cycle.String(), "a.csv", csvStatement(t, spec))
		noB := verifyUpload(t, acme.api, spec.Cycle.String(), "b.csv", csvStatement(t, spec))
		waitSucceeded(t, acme.api, noA)
		waitSucceeded(t, acme.api, noB)
		// other's batch with its own statement.
		noOther := verifyUpload(t, other.api, spec.Cycle.String(), "o.csv", csvStatement(t, spec))
		waitSucceeded(t, other.api, noOther)

		list := func(q string) error {
			_, err := rawCarrierGet(t, acme.api, client.PathDiffList+"?"+q)
			return err
		}
		for _, size := range []string{"0", "1001", "abc", "-1", "1.5", "", " 5"} {
			t.Run("pageSize "+size, func(t *testing.T) {
				err := list("batchNo=" + string(noA) + "&pageSize=" + strings.ReplaceAll(size, " ", "%20"))
				if size == "" {
					if err != nil {
						t.Errorf("empty pageSize (the default): %v", err)
					}
					return
				}
				wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "pageSize", "1 to 1000")
			})
		}
		t.Run("pages that divide the list", func(t *testing.T) {
			// A list of exactly n pages ends with a full page and no
			// cursor, not with an empty page.
			sizes := []int{int(total)}
			for d := 2; d < int(total); d++ {
				if int(total)%d == 0 {
					sizes = append(sizes, d)
					break
				}
			}
			if len(sizes) < 2 {
				t.Fatalf("total %d has no divisor; change the spec", total)
			}
			for _, size := range sizes {
				if got := walkPages(t, acme.api, noA, size, total); int64(len(got)) != total {
					t.Errorf("pageSize %d: %d bills, want %d", size, len(got), total)
				}
			}
			all, err := acme.api.ListAll(ctx, noA, 0)
			if err != nil || int64(len(all)) != total {
				t.Errorf("ListAll: %d bills, %v", len(all), err)
			}
		})
		t.Run("pageSize bounds", func(t *testing.T) {
			for _, size := range []int{1, 1000} {
				l, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: size})
				if err != nil || len(l.DiffList) != min(size, int(total)) {
					t.Errorf("pageSize %d: %d bills, %v", size, len(l.DiffList), err)
				}
			}
			_, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 1001})
			wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "1001")
		})

		first, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 5})
		if err != nil || first.NextPageCursor == "" {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		cursor := first.NextPageCursor
		t.Run("cursor", func(t *testing.T) {
			second, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 5, PageCursor: cursor})
			if err != nil || len(second.DiffList) != 5 || second.DiffList[0].CarrierOrderID == first.DiffList[0].CarrierOrderID {
				t.Fatalf("second page: %+v, %v", second, err)
			}
			// The cursor is independent of the page size.
			wide, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 1000, PageCursor: cursor})
			if err != nil || int64(len(wide.DiffList)) != total-5 || wide.NextPageCursor != "" {
				t.Errorf("the rest after the first 5: %d bills, cursor %q, %v; want %d and no cursor", len(wide.DiffList), wide.NextPageCursor, err, total-5)
			}
			tampered := []string{cursor[:len(cursor)-1], cursor + "A", "!!!", strings.Repeat("A", len(cursor))}
			for i := 0; i < len(cursor)-1; i += 3 { // flip characters all along, not only the last
				b := []byte(cursor)
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				tampered = append(tampered, string(b))
			}
			for _, bad := range tampered {
				_, err := acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 5, PageCursor: bad})
				wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "pageCursor")
			}
			// A cursor of batch A is not one of batch B, though the two
			// hold the same discrepancies.
			_, err = acme.api.DiffList(ctx, client.DiffListParams{BatchNo: noB, PageSize: 5, PageCursor: cursor})
			wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "pageCursor", string(noB))
			// Nor of another carrier's batch: that batch is not found.
			_, err = other.api.DiffList(ctx, client.DiffListParams{BatchNo: noA, PageSize: 5, PageCursor: cursor})
			wantAPIError(t, err, 404, trueuphttp.CodeNotFound)
		})

		t.Run("not found", func(t *testing.T) {
			for _, tt := range []struct {
				name string
				api  *client.Client
				no   trueup.BatchNo
			}{
				{"another carrier's batch", other.api, noA},
				{"my batch asked by another", acme.api, noOther},
				{"unknown batch", acme.api, "20250101_1234567890123456789"},
				{"garbage batchNo", acme.api, "../../etc/passwd"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := tt.api.DiffList(ctx, client.DiffListParams{BatchNo: tt.no})
					wantAPIError(t, err, 404, trueuphttp.CodeNotFound, string(tt.no))
					_, err = tt.api.Batch(ctx, tt.no)
					wantAPIError(t, err, 404, trueuphttp.CodeNotFound, string(tt.no))
					_, err = tt.api.ExportBytes(ctx, tt.no, client.ExportCSV)
					wantAPIError(t, err, 404, trueuphttp.CodeNotFound, string(tt.no))
				})
			}
			// Another carrier's batch and an unknown one read the same.
			_, err1 := other.api.Batch(ctx, noA)
			_, err2 := other.api.Batch(ctx, "20250101_1234567890123456789")
			var e1, e2 *client.Error
			if !errors.As(err1, &e1) || !errors.As(err2, &e2) {
				t.Fatalf("got %v and %v, want two API errors", err1, err2)
			}
			m1 := strings.ReplaceAll(e1.Msg, string(noA), "N")
			m2 := strings.ReplaceAll(e2.Msg, "20250101_1234567890123456789", "N")
			if e1.Status != e2.Status || e1.Code != e2.Code || m1 != m2 {
				t.Errorf("another carrier's batch reads %q, an unknown one %q: the difference leaks", m1, m2)
			}
		})
		t.Run("raw JSON", func(t *testing.T) {
			// The body as seed 004 writes it: code a number, amounts JSON
			// numbers, the other fields strings, a cursor but on the last
			// page.
			for _, size := range []int{2, 1000} {
				raw, err := rawCarrierGet(t, acme.api, fmt.Sprintf("%s?batchNo=%s&pageSize=%d", client.PathDiffList, noA, size))
				if err != nil {
					t.Fatal(err)
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				var body map[string]any
				if err := dec.Decode(&body); err != nil {
					t.Fatal(err)
				}
				if body["code"] != json.Number("0") || body["msg"] != "Success." || body["total"] != json.Number(strconv.FormatInt(total, 10)) {
					t.Errorf("pageSize %d: code %v, msg %v, total %v", size, body["code"], body["msg"], body["total"])
				}
				cursor, hasCursor := body["nextPageCursor"].(string)
				if last := size >= int(total); last == (hasCursor && cursor != "") {
					t.Errorf("pageSize %d of %d: nextPageCursor %v", size, total, body["nextPageCursor"])
				}
				bills, _ := body["diffList"].([]any)
				if len(bills) != min(size, int(total)) {
					t.Fatalf("pageSize %d: %d bills", size, len(bills))
				}
				for _, b := range bills {
					bill := b.(map[string]any)
					if len(bill) != 24 {
						t.Errorf("a bill has %d fields, want seed 004's 24: %v", len(bill), bill)
					}
					for k, v := range bill {
						_, isNum := v.(json.Number)
						_, isStr := v.(string)
						if wantNum := k == "skuPrice" || k == "kdSaleTotal"; wantNum != isNum || !wantNum && !isStr {
							t.Errorf("field %s = %#v: want a JSON %s", k, v, map[bool]string{true: "number", false: "string"}[wantNum])
						}
					}
				}
			}
		})
		t.Run("batchNo missing", func(t *testing.T) {
			_, err := acme.api.DiffList(ctx, client.DiffListParams{})
			wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "batchNo")
			_, err = acme.api.Batch(ctx, "")
			wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "batchNo")
		})
		t.Run("export format", func(t *testing.T) {
			_, err := acme.api.ExportBytes(ctx, noA, "pdf")
			wantAPIError(t, err, 400, trueuphttp.CodeInvalidParam, "pdf", "csv")
		})
	})
}
