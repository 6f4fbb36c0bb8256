package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/internal/sheet"
)

// testSheet is one sheet of a workbook written by workbookXLSX.
type testSheet struct {
	name string
	rows [][]string
}

// workbookXLSX returns an xlsx workbook of the sheets, in order, their
// cells written as inline strings.
func workbookXLSX(tb testing.TB, sheets ...testSheet) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	write := func(name, body string) {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write([]byte(body))
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	const ns = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	var list, rels strings.Builder
	for i, sh := range sheets {
		fmt.Fprintf(&list, `<sheet name="%s" sheetId="%d" r:id="rId%d"/>`, sh.name, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+1, i+1)
		var b strings.Builder
		for r, row := range sh.rows {
			b.WriteString(`<row r="` + strconv.Itoa(r+1) + `">`)
			for j, c := range row {
				b.WriteString(`<c r="` + sheet.ColumnLetter(j) + strconv.Itoa(r+1) + `" t="inlineStr"><is><t>` + c + `</t></is></c>`)
			}
			b.WriteString("</row>")
		}
		write(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), `<worksheet `+ns+`><sheetData>`+b.String()+`</sheetData></worksheet>`)
	}
	write("xl/workbook.xml", `<workbook `+ns+`><sheets>`+list.String()+`</sheets></workbook>`)
	write("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels.String()+`</Relationships>`)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestE2EStatementSplitSheets: a statement split over the sheets of a
// workbook, with a notes sheet between them, is read whole, and its list is
// the list of the same statement as one CSV file, in the same order; row
// errors name their sheet; a workbook whose sheets have no template header
// is refused at upload. On both engines.
func TestE2EStatementSplitSheets(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Split Mobile")
		spec := e2eSpec(13)
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		counts := spec.Expected()
		rows := statementRows(t, spec)
		cycle := spec.Cycle.String()

		var split bytes.Buffer
		if err := spec.WriteXLSX(&split, gen.XLSXOptions{SheetRows: 250, Notes: true}); err != nil {
			t.Fatal(err)
		}
		whole := waitSucceeded(t, c.api, verifyUpload(t, c.api, cycle, "statement.csv", csvStatement(t, spec)))
		st := waitSucceeded(t, c.api, verifyUpload(t, c.api, cycle, "split.xlsx", split.Bytes()))
		if st.Batch.Counts != counts || st.Batch.RowsRead != int64(len(rows)) {
			t.Errorf("split workbook: counts %+v, rows read %d; want %+v, %d", st.Batch.Counts, st.Batch.RowsRead, counts, len(rows))
		}
		if len(rows) <= 500 {
			t.Fatalf("%d rows do not fill three sheets of 250", len(rows))
		}
		// The batch status names the skipped notes sheet: through the
		// carrier API, the admin API and the console's batch page.
		if got := st.Batch.SkippedSheets; !slices.Equal(got, []string{"Notes"}) {
			t.Errorf("split workbook: skipped sheets %q, want [Notes]", got)
		}
		if got := whole.Batch.SkippedSheets; got != nil {
			t.Errorf("CSV statement: skipped sheets %q, want none", got)
		}
		var key struct{ KeyID, Key string }
		s.cliJSON(t, &key, "admin", "apikey", "create", "--name", "sheets")
		admin := client.NewAdminClient(s.base, key.Key, s.http)
		if ab, err := admin.Batch(context.Background(), string(st.Batch.No)); err != nil || !slices.Equal(ab.Batch.SkippedSheets, []string{"Notes"}) {
			t.Errorf("admin batch: skipped sheets %q, %v; want [Notes]", ab.Batch.SkippedSheets, err)
		}
		ops := newConsoleOperator(t, s, "ops@example.com", "operator")
		if code, page := ops.get("/console/batches/" + string(st.Batch.No)); code != 200 || !strings.Contains(page, `Skipped sheets: "Notes"`) {
			t.Errorf("console batch page: status %d, no line naming the skipped sheet Notes", code)
		}
		if code, page := ops.get("/console/batches/" + string(whole.Batch.No)); code != 200 || strings.Contains(page, "Skipped sheets") {
			t.Errorf("console batch page of the CSV statement: status %d, or a skipped sheets line", code)
		}
		got := walkPages(t, c.api, st.Batch.No, 1000, counts.Total())
		want := walkPages(t, c.api, whole.Batch.No, 1000, counts.Total())
		if len(got) != len(want) {
			t.Fatalf("split workbook: %d bills, the CSV %d", len(got), len(want))
		}
		for i := range want {
			if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
				t.Fatalf("bill %d of the split workbook = %+v, the CSV's = %+v", i, got[i], want[i])
			}
		}

		// Row errors of a split statement say which sheet.
		head := gen.StatementHeader
		bad := append([]string(nil), rows[3]...)
		bad[genColShare] = "12,50"
		wb := workbookXLSX(t,
			testSheet{"Statement", append([][]string{head}, rows[:3]...)},
			testSheet{"Notes", [][]string{{"read me"}}},
			testSheet{"Statement 2", [][]string{head, rows[1], bad}},
		)
		fst := waitBatchDone(t, c.api, verifyUpload(t, c.api, cycle, "errors.xlsx", wb))
		if fst.Batch.State != trueup.BatchFailed {
			t.Fatalf("batch with row errors ended %s", fst.Batch.State)
		}
		if !slices.Equal(fst.Batch.SkippedSheets, []string{"Notes"}) {
			t.Errorf("failed workbook: skipped sheets %q, want [Notes]", fst.Batch.SkippedSheets)
		}
		wantErrs := []trueup.RowError{
			{Row: 2, Column: "carrierOrderId", Reason: fmt.Sprintf(`sheet "Statement 2": carrierOrderId %q already appears in sheet "Statement" row 3`, rows[1][genColID])},
			{Row: 3, Column: "carrierSaleToKd", Reason: `sheet "Statement 2": `},
		}
		if len(fst.RowErrors) != len(wantErrs) {
			t.Fatalf("row errors %+v, want %d", fst.RowErrors, len(wantErrs))
		}
		for i, w := range wantErrs {
			if g := fst.RowErrors[i]; g.Row != w.Row || g.Column != w.Column || !strings.HasPrefix(g.Reason, w.Reason) {
				t.Errorf("row error %d = %+v, want row %d column %q and a reason starting %q", i, g, w.Row, w.Column, w.Reason)
			}
		}

		// A one-sheet statement names no sheet, as before.
		one := workbookXLSX(t, testSheet{"Statement", [][]string{head, rows[0], rows[0]}})
		ost := waitBatchDone(t, c.api, verifyUpload(t, c.api, cycle, "one.xlsx", one))
		if len(ost.RowErrors) != 1 || ost.RowErrors[0].Reason != fmt.Sprintf("carrierOrderId %q already appears in row 2; each order must appear once, so merge the two rows or remove one", rows[0][genColID]) {
			t.Errorf("one-sheet row errors %+v", ost.RowErrors)
		}

		// No sheet with the header: refused at upload, naming the sheets.
		none := workbookXLSX(t, testSheet{"Notes", [][]string{{"read me"}}}, testSheet{"Orders", [][]string{{"id", "amount"}, {"1", "2"}}})
		_, err := c.api.Verify(context.Background(), client.VerifyParams{BillingCycle: cycle, FileName: "none.xlsx", File: bytes.NewReader(none)})
		wantAPIError(t, err, 400, trueuphttp.CodeInvalidFile, `no sheet of the workbook ("Notes", "Orders") starts with the template header`, "carrierOrderId")
	})
}

// TestE2EStatementSpilled: a server whose checks hold almost no rows in
// memory (--match-memory) matches through runs on disk and gives the list
// a server holding every row gives, in the same order; on both engines.
func TestE2EStatementSpilled(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		spec := e2eSpec(17)
		counts := spec.Expected()
		var split bytes.Buffer
		if err := spec.WriteXLSX(&split, gen.XLSXOptions{SheetRows: 200}); err != nil {
			t.Fatal(err)
		}
		var lists [][]string
		for _, memory := range []int64{0, 1} {
			s := startE2E(t, eng, ServeConfig{MatchMemory: memory})
			c := s.newCarrier(t, "Spill Mobile")
			seedLedger(t, s.store, c.cred.CarrierID, spec)
			for _, f := range []struct {
				name string
				data []byte
			}{{"statement.csv", csvStatement(t, spec)}, {"split.xlsx", split.Bytes()}} {
				st := waitSucceeded(t, c.api, verifyUpload(t, c.api, spec.Cycle.String(), f.name, f.data))
				if st.Batch.Counts != counts {
					t.Errorf("match memory %d, %s: counts %+v, want %+v", memory, f.name, st.Batch.Counts, counts)
				}
				bills := walkPages(t, c.api, st.Batch.No, 1000, counts.Total())
				list := make([]string, len(bills))
				for i, b := range bills {
					list[i] = fmt.Sprintf("%+v", b)
				}
				lists = append(lists, list)
			}
		}
		for i := 1; i < len(lists); i++ {
			if strings.Join(lists[i], "\n") != strings.Join(lists[0], "\n") {
				t.Errorf("list %d differs from the in-memory CSV list", i)
			}
		}
	})
}
