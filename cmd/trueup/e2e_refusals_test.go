package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	trueuphttp "github.com/trueup/trueup/http"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/statement"
)

// TestE2EVerifyRefusals sends statements and forms the check refuses at
// once: each answer is a 4xx with its numeric code and a msg that names the
// problem.
func TestE2EVerifyRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		defer checkNoTempFiles(t)()
		const limit = 16 << 10
		s := startE2E(t, eng, ServeConfig{MaxUploadBytes: limit})
		c := s.newCarrier(t, "Refusal Mobile")
		ctx := context.Background()
		past := lastCycle().String()
		small := gen.Spec{Orders: 20, Cycle: lastCycle(), Seed: 3, MissingEvery: 5}
		good := csvStatement(t, small)
		header := strings.Join(gen.StatementHeader, ",") + "\n"
		goodRow := strings.SplitN(string(good), "\n", 3)[1] + "\n"
		now := time.Now().UTC()

		damaged := xlsxSharedStatement(t, small)
		damaged = damaged[:len(damaged)*2/3]

		tests := []struct {
			name   string
			cycle  string
			file   string
			data   []byte
			status int
			code   int
			words  []string
		}{
			{"current month", now.Format("2006-01"), "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", now.Format("2006-01"), "past"}},
			{"future", now.AddDate(1, 0, 0).Format("2006-01"), "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", "past"}},
			{"month 13", "2025-13", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"2025-13", "yyyy-mm"}},
			{"not yyyy-mm", "2025/09", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"2025/09", "yyyy-mm"}},
			{"empty cycle", "", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", "required"}},
			{"empty file", past, "s.csv", nil, 400, trueuphttp.CodeInvalidFile, []string{"empty"}},
			{"header only", past, "s.csv", []byte(header), 400, trueuphttp.CodeInvalidFile, []string{"no data rows"}},
			{"missing required column", past, "s.csv",
				[]byte(strings.Replace(header, "carrierSaleToKd", "carrierSaleToKdX", 1) + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"carrierSaleToKdX"}},
			{"required column absent", past, "s.csv",
				[]byte(strings.Replace(header, ",carrierSaleToKd,", ",,", 1) + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"missing", "carrierSaleToKd"}},
			{"unknown column", past, "s.csv",
				[]byte(strings.TrimSuffix(header, "\n") + ",remark\n" + strings.TrimSuffix(goodRow, "\n") + ",x\n"), 400, trueuphttp.CodeInvalidFile, []string{"remark"}},
			{"xlsx name, csv content", past, "statement.xlsx", good, 400, trueuphttp.CodeInvalidFile, []string{"xlsx", "CSV"}},
			{"csv name, xlsx content", past, "statement.csv", xlsxSharedStatement(t, small), 400, trueuphttp.CodeInvalidFile, []string{"csv", "xlsx"}},
			{"no extension", past, "statement", good, 400, trueuphttp.CodeInvalidFile, []string{"extension"}},
			{"pdf", past, "statement.pdf", []byte("%PDF-1.4\n"), 400, trueuphttp.CodeInvalidFile, []string{".pdf"}},
			{"utf-16 csv", past, "s.csv", utf16LE(header + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"UTF-16", "UTF-8"}},
			{"html named xls", past, "s.xls", []byte("<html><table><tr><td>carrierOrderId</td></tr></table></html>"), 400, trueuphttp.CodeInvalidFile, []string{"HTML", "xlsx"}},
			{"truncated xlsx", past, "statement.xlsx", damaged, 400, trueuphttp.CodeInvalidFile, []string{"damaged"}},
			{"over the limit", past, "big.csv", csvStatement(t, gen.Spec{Orders: 200, Cycle: lastCycle(), Seed: 4}), 413, trueuphttp.CodeTooLarge, []string{strconv.Itoa(limit)}},
			// Far over: the server answers before reading the body, and the
			// client still gets the answer rather than a broken pipe.
			{"far over the limit", past, "huge.csv", csvStatement(t, gen.Spec{Orders: 6000, Cycle: lastCycle(), Seed: 4}), 413, trueuphttp.CodeTooLarge, []string{strconv.Itoa(limit)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				no, err := c.api.Verify(ctx, client.VerifyParams{BillingCycle: tt.cycle, FileName: tt.file, File: bytes.NewReader(tt.data)})
				if err == nil {
					st := waitBatchDone(t, c.api, no)
					t.Fatalf("accepted as batch %s (%s: %s); want HTTP %d code %d", no, st.Batch.State, st.Batch.Failure, tt.status, tt.code)
				}
				wantAPIError(t, err, tt.status, tt.code, tt.words...)
			})
		}

		// Forms the typed client cannot send: no billingCycle field, no
		// data field, not multipart at all.
		post := func(t *testing.T, contentType string, body []byte) error {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, client.PathVerify, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			resp, err := c.api.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if err := client.CheckResponse(resp); err != nil {
				return err
			}
			resp.Body.Close()
			return errors.New("accepted")
		}
		form := func(t *testing.T, cycle *string, files ...[]byte) (string, []byte) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			if cycle != nil {
				mw.WriteField("billingCycle", *cycle)
			}
			for _, file := range files {
				w, _ := mw.CreateFormFile("data", "s.csv")
				w.Write(file)
			}
			mw.Close()
			return mw.FormDataContentType(), b.Bytes()
		}
		t.Run("billingCycle field missing", func(t *testing.T) {
			ct, body := form(t, nil, good)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "billingCycle", "missing")
		})
		t.Run("data field missing", func(t *testing.T) {
			ct, body := form(t, &past)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "data", "missing")
		})
		t.Run("data before billingCycle", func(t *testing.T) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			w, _ := mw.CreateFormFile("data", "s.csv")
			w.Write(good)
			mw.WriteField("billingCycle", " "+past+" ")
			mw.Close()
			err := post(t, mw.FormDataContentType(), b.Bytes())
			if err == nil || err.Error() != "accepted" {
				t.Errorf("a form with data first and a cycle in spaces: %v; want accepted", err)
			}
		})
		t.Run("data field twice", func(t *testing.T) {
			ct, body := form(t, &past, good, good)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "data", "twice")
		})
		t.Run("not multipart", func(t *testing.T) {
			wantAPIError(t, post(t, "application/json", []byte(`{"billingCycle":"`+past+`"}`)), 400, trueuphttp.CodeInvalidParam, "multipart")
		})

		// The limit is inclusive: a file of exactly the limit is read, one
		// byte more is refused. Blank lines pad the CSV.
		t.Run("exactly the limit", func(t *testing.T) {
			exact := append(append([]byte(nil), good...), bytes.Repeat([]byte("\n"), limit-len(good))...)
			no := verifyUpload(t, c.api, past, "exact.csv", exact)
			st := waitBatchDone(t, c.api, no)
			if st.Batch.FileSize != limit {
				t.Errorf("fileSize = %d, want %d", st.Batch.FileSize, limit)
			}
			// The carrier has no ledger: every row is unknown to the platform.
			if rows := int64(len(statementRows(t, small))); st.Batch.State != trueup.BatchSucceeded || st.Batch.Counts != (trueup.DiffCounts{trueup.DiffMissingOnPlatform: rows}) {
				t.Errorf("batch of exactly the limit: %s (%s), counts %+v", st.Batch.State, st.Batch.Failure, st.Batch.Counts)
			}
			_, err := c.api.Verify(ctx, client.VerifyParams{BillingCycle: past, FileName: "over.csv", File: bytes.NewReader(append(exact, '\n'))})
			wantAPIError(t, err, 413, trueuphttp.CodeTooLarge)
		})
	})
}

// checkNoTempFiles points the temporary directory, where the server
// spools uploads and the worker copies them, to a fresh one, and returns a
// function that fails the test if files stay in it. (A worker removes its
// copy just after the batch is finished, so the check waits a little.)
func checkNoTempFiles(t *testing.T) func() {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			left, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, e := range left {
					t.Errorf("temporary file %s left behind", e.Name())
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// utf16LE returns s as UTF-16 little endian with a byte order mark, as
// "Unicode text" exports of spreadsheet programs are.
func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestE2EDamagedXLSX uploads an xlsx workbook whose central directory is
// intact but whose sheet is damaged past its header: the upload is accepted
// (the header reads), and the batch fails with a message, no discrepancies.
// (A workbook cut short, its central directory lost, is refused at upload:
// see TestE2EVerifyRefusals.)
func TestE2EDamagedXLSX(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		defer checkNoTempFiles(t)()
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Damaged Files Ltd")
		spec := gen.Spec{Orders: 1200, Cycle: lastCycle(), Seed: 5}
		book := xlsxStreamStatement(t, spec, time.UTC)
		data := damageSheet(t, book)
		no, err := c.api.Verify(context.Background(), client.VerifyParams{BillingCycle: spec.Cycle.String(), FileName: "damaged.xlsx", File: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("refused at upload: %v; want accepted, since its header reads", err)
		}
		st := waitBatchDone(t, c.api, no)
		t.Logf("failure: %s", st.Batch.Failure)
		if st.Batch.State != trueup.BatchFailed || st.Batch.Failure == "" {
			t.Fatalf("damaged workbook: batch %s, failure %q; want failed with a message", st.Batch.State, st.Batch.Failure)
		}
		if !strings.Contains(strings.ToLower(st.Batch.Failure), "damaged") {
			t.Errorf("failure %q does not say the file is damaged", st.Batch.Failure)
		}
		if st.Batch.Counts.Total() != 0 {
			t.Errorf("a failed batch has counts %+v", st.Batch.Counts)
		}
		_, err = c.api.DiffList(context.Background(), client.DiffListParams{BatchNo: no})
		wantAPIError(t, err, 409, trueuphttp.CodeBatchFailed, "failed")
	})
}

// damageSheet returns book with the compressed bytes of its sheet
// overwritten from two thirds of the way in, keeping the zip's structure.
func damageSheet(tb testing.TB, book []byte) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			tb.Fatal(err)
		}
		out := append([]byte(nil), book...)
		n := int64(f.CompressedSize64)
		for i := off + n*2/3; i < off+n*2/3+64 && i < off+n; i++ {
			out[i] ^= 0x5a
		}
		return out
	}
	tb.Fatal("no sheet1.xml in the workbook")
	return nil
}

// TestE2EExport exports a batch as CSV and xlsx, parses both back and
// compares them with the list; text a spreadsheet would run as a formula
// comes out neutralised.
func TestE2EExport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Export Mobile")
		spec := gen.Spec{Orders: 90, Cycle: lastCycle(), Seed: 21, MissingEvery: 9, ExtraEvery: 13, RightsEvery: 7, AmountEvery: 5}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		o := spec.Order(0)
		injected := o
		injected.CarrierOrderID, injected.CarrierUserID, injected.KdOrderID = "=1+1", "+CU", "KD-EQ"
		ledgerOnly := o
		ledgerOnly.CarrierOrderID, ledgerOnly.KdOrderID = "+CO-9", "@KD-9"
		seedLedgerOrders(t, s.store, c.cred.CarrierID, injected, ledgerOnly)

		var b bytes.Buffer
		if err := spec.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(&b)
		ft := trueup.FormatTime
		w.Write([]string{"=1+1", "+CU", ft(o.KdOrderTime), o.SkuCode, "=HYPERLINK(\"x\")", ft(o.KdActiveTime), ft(o.KdEndTime), "", "-0.25", "@SUM(A1)"})
		w.Write([]string{"-2+3", "U-X", ft(o.KdOrderTime), o.SkuCode, "P", ft(o.KdActiveTime), ft(o.KdEndTime), "-1", "1.00", "=cmd|' /C calc'!A0"})
		w.Flush()
		no := verifyUpload(t, c.api, spec.Cycle.String(), "statement.csv", b.Bytes())
		st := waitSucceeded(t, c.api, no)
		wantCounts := spec.Expected()
		wantCounts[trueup.DiffMissingOnCarrier]++  // +CO-9
		wantCounts[trueup.DiffMissingOnPlatform]++ // -2+3
		wantCounts[trueup.DiffRights]++            // =1+1: the package
		wantCounts[trueup.DiffAmount]++            // =1+1: -0.25
		if st.Batch.Counts != wantCounts {
			t.Fatalf("counts = %+v, want %+v", st.Batch.Counts, wantCounts)
		}
		list := walkPages(t, c.api, no, 1000, wantCounts.Total())
		// The list gives the text as the carrier wrote it.
		found := 0
		for _, bill := range list {
			if bill.CarrierOrderID == "=1+1" && bill.Channel == "@SUM(A1)" && bill.CarrierUserID == "+CU" {
				found++
			}
		}
		if found != 2 {
			t.Errorf("the list has %d bills of =1+1 with its text unchanged, want 2", found)
		}

		for _, format := range []client.ExportFormat{client.ExportCSV, client.ExportXLSX, ""} {
			name := string(format)
			if name == "" {
				name = "default"
			}
			t.Run(name, func(t *testing.T) {
				data, err := c.api.ExportBytes(context.Background(), no, format)
				if err != nil {
					t.Fatal(err)
				}
				var rows [][]string
				if format == client.ExportCSV {
					rows = parseCSVExport(t, data)
				} else {
					rows = parseXLSXExport(t, data)
				}
				if len(rows) == 0 {
					t.Fatal("the export is empty")
				}
				if !stringsEqual(rows[0], statement.ExportColumns) {
					t.Fatalf("header = %q, want %q", rows[0], statement.ExportColumns)
				}
				rows = rows[1:]
				if len(rows) != len(list) {
					t.Fatalf("export has %d rows, the list %d", len(rows), len(list))
				}
				for i, bill := range list {
					compareExportRow(t, i+2, rows[i], bill)
				}
				// The injected cells, explicitly.
				for _, r := range rows {
					if r[0] == "'=1+1" {
						if r[2] != "'+CU" || r[15] != "'@SUM(A1)" || r[12] != "-0.25" {
							t.Errorf("injected row: carrierUserId %q, channel %q, carrierSaleToKd %q; want '+CU, '@SUM(A1), -0.25", r[2], r[15], r[12])
						}
						if r[18] != `'=HYPERLINK("x")` {
							t.Errorf("carrierPackageId %q, want '=HYPERLINK(\"x\")", r[18])
						}
					}
				}
			})
		}
	})
}

// exportText is the export's text of s: a single quote before text a
// spreadsheet could run (starting with =, +, -, @, tab or CR), unless it is
// a plain decimal number.
func exportText(s string) string {
	if s == "" || !strings.ContainsAny(s[:1], "=+-@\t\r") || plainDecimal.MatchString(s) {
		return s
	}
	return "'" + s
}

// plainDecimal matches the numbers the export leaves as they are.
var plainDecimal = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// batchNoPattern matches batch numbers like the seed's example,
// 20251021_1801572310432403201.
var batchNoPattern = regexp.MustCompile(`^[0-9]{8}_[0-9]{19}$`)

// exportFields returns the bill's fields in the order of
// statement.ExportColumns.
func exportFields(b client.DiffBill) []string {
	return []string{b.CarrierOrderID, b.KdOrderID, b.CarrierUserID, b.CarrierOrderTime, b.KdUserID, b.UserStatus,
		b.DiffType, b.DiffReason, b.SkuCode, b.SkuPrice.String(), b.BillingCycle, b.CarrierSale, b.CarrierSaleToKd,
		b.ThisMouthBilling, b.NextMouthBilling, b.Channel, b.CarrierActiveTime, b.CarrierEndTime, b.CarrierPackageID,
		b.KdActiveTime, b.KdEndTime, b.KdOrderTime, b.KdPackageID, b.KdSaleTotal.String()}
}

// compareExportRow checks an export row against the list's bill.
func compareExportRow(t *testing.T, line int, row []string, b client.DiffBill) {
	t.Helper()
	want := exportFields(b)
	for len(row) < len(want) {
		row = append(row, "") // trailing empty cells
	}
	for i, col := range statement.ExportColumns {
		got, w := row[i], want[i]
		switch col {
		case "diffType", "skuPrice", "kdSaleTotal":
			gd, err1 := decimal.NewFromString(got)
			wd, err2 := decimal.NewFromString(w)
			if err1 != nil || err2 != nil || !gd.Equal(wd) {
				t.Errorf("row %d %s = %q, want %s", line, col, got, w)
			}
		default:
			if got != exportText(w) {
				t.Errorf("row %d %s = %q, want %q", line, col, got, exportText(w))
			}
		}
	}
}

// parseCSVExport reads a CSV export: UTF-8 with a byte order mark.
func parseCSVExport(t *testing.T, data []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(data, []byte("\ufeff"))
	if !ok {
		t.Errorf("the CSV export does not start with a UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV export does not parse: %v", err)
	}
	return rows
}

// parseXLSXExport reads an xlsx export's one sheet, raw values, and checks
// that no cell is a formula.
func parseXLSXExport(t *testing.T, data []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the xlsx export does not open: %v", err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != statement.ExportSheet {
		t.Errorf("sheets = %q, want [%s]", sheets, statement.ExportSheet)
	}
	rows, err := f.GetRows(statement.ExportSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if panes, err := f.GetPanes(statement.ExportSheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header row frozen", panes, err)
	}
	for i, r := range rows {
		for j := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if formula, _ := f.GetCellFormula(statement.ExportSheet, cell); formula != "" {
				t.Errorf("cell %s is the formula %q", cell, formula)
			}
		}
	}
	return rows
}

// stringsEqual reports whether a and b hold the same strings in order.
func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
