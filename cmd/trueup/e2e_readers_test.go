package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"

	trueuphttp "github.com/trueup/trueup/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/internal/sheet"
)

// TestE2EStatementRefusedRows uploads a CSV statement with a NUL in an
// order ID past its first 4 KB (issue 10 #3, which stranded a batch on
// PostgreSQL), a line break in a quoted SKU code (#11) and an amount
// written 12,50 unquoted (#12, which shifted the columns): each is a row
// error, and the batch fails with them on both engines.
func TestE2EStatementRefusedRows(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Control Telecom")
		spec := gen.Spec{Orders: 60, Cycle: lastCycle(), Seed: 21}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		rows := statementRows(t, spec)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write(gen.StatementHeader)
		for i, r := range rows {
			r = append([]string(nil), r...)
			switch i {
			case 50: // row 52
				r[genColID] = r[genColID][:3] + "\x00" + r[genColID][3:]
			case 53: // row 55
				r[genColSku] = "1p\n500g"
			}
			w.Write(r)
		}
		w.Flush()
		data := b.Bytes()
		if bytes.IndexByte(data, 0) < 4096 {
			t.Fatal("the NUL is not past the first 4 KB")
		}
		// Row 57 (i = 55) written by hand: 12,50 unquoted in carrierSaleToKd.
		lines := strings.SplitAfter(string(data), "\n")
		fields := strings.Split(strings.TrimSuffix(lines[57], "\n"), ",")
		fields[genColShare] = "12,50"
		lines[57] = strings.Join(fields, ",") + "\n"
		data = []byte(strings.Join(lines, ""))

		st := waitBatchDone(t, c.api, verifyUpload(t, c.api, lastCycle().String(), "controls.csv", data))
		if st.Batch.State != trueup.BatchFailed || st.Batch.Counts.Total() != 0 {
			t.Fatalf("batch %s with counts %+v (failure %q), want failed with none", st.Batch.State, st.Batch.Counts, st.Batch.Failure)
		}
		want := []trueup.RowError{
			{Row: 52, Column: "carrierOrderId", Reason: `carrierOrderId holds the control character \x00`},
			{Row: 55, Column: "skuCode", Value: `1p\n500g`, Reason: `skuCode holds the control character \n`},
			{Row: 57, Reason: "the row has 11 fields but the header has 10"},
		}
		if len(st.RowErrors) != len(want) {
			t.Fatalf("row errors %+v, want %d", st.RowErrors, len(want))
		}
		for i, w := range want {
			got := st.RowErrors[i]
			if got.Row != w.Row || got.Column != w.Column || (w.Value != "" && got.Value != w.Value) || !strings.Contains(got.Reason, w.Reason) {
				t.Errorf("row error %d = %+v, want row %d column %q value %q and a reason with %q", i, got, w.Row, w.Column, w.Value, w.Reason)
			}
		}
		if strings.IndexByte(st.RowErrors[0].Value, 0) >= 0 || !strings.Contains(st.RowErrors[0].Value, `\x00`) {
			t.Errorf("stored value %q: want the NUL escaped", st.RowErrors[0].Value)
		}
	})
}

// inlineStatementXLSX returns an xlsx statement of the header and rows,
// written as inline strings.
func inlineStatementXLSX(tb testing.TB, rows [][]string) []byte {
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
	write("xl/workbook.xml", `<workbook `+ns+`><sheets><sheet name="Statement" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	write("xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`)
	var b strings.Builder
	for i, row := range append([][]string{gen.StatementHeader}, rows...) {
		b.WriteString(`<row r="` + strconv.Itoa(i+1) + `">`)
		for j, c := range row {
			b.WriteString(`<c r="` + sheet.ColumnLetter(j) + strconv.Itoa(i+1) + `" t="inlineStr"><is><t>` + c + `</t></is></c>`)
		}
		b.WriteString("</row>")
	}
	write("xl/worksheets/sheet1.xml", `<worksheet `+ns+`><sheetData>`+b.String()+`</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestE2EStatementPastLimits: an xlsx statement with an _x0000_ escape in
// an order ID fails with a row error (issue 10 #3), and one with a cell of
// 2 MiB (past the 1 MiB cell limit; issue 10 #9) fails the batch with a
// message naming the limit, on both engines.
func TestE2EStatementPastLimits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Limit Telecom")
		spec := gen.Spec{Orders: 4, Cycle: lastCycle(), Seed: 23}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		rows := statementRows(t, spec)

		nul := append([][]string(nil), rows...)
		nul[2] = append([]string(nil), rows[2]...)
		nul[2][genColID] += "_x0000_"
		st := waitBatchDone(t, c.api, verifyUpload(t, c.api, lastCycle().String(), "nul.xlsx", inlineStatementXLSX(t, nul)))
		if st.Batch.State != trueup.BatchFailed || len(st.RowErrors) != 1 || st.RowErrors[0].Row != 4 ||
			!strings.Contains(st.RowErrors[0].Reason, `control character \x00`) {
			t.Errorf("batch %s, row errors %+v; want failed with row 4's control character", st.Batch.State, st.RowErrors)
		}

		big := append([][]string(nil), rows...)
		big[2] = append([]string(nil), rows[2]...)
		big[2][genColChannel] = strings.Repeat("x", 2<<20)
		st = waitBatchDone(t, c.api, verifyUpload(t, c.api, lastCycle().String(), "big.xlsx", inlineStatementXLSX(t, big)))
		if st.Batch.State != trueup.BatchFailed || !strings.Contains(st.Batch.Failure, "row 4") ||
			!strings.Contains(st.Batch.Failure, "more than 1 MiB of text (the limit of a cell's size)") {
			t.Errorf("batch %s, failure %q; want failed naming row 4 and the cell limit", st.Batch.State, st.Batch.Failure)
		}

		// Past a limit in the rows the upload check reads, the upload
		// itself is refused with the message.
		big = append([][]string{big[2]}, rows...)
		_, err := c.api.Verify(context.Background(), client.VerifyParams{BillingCycle: lastCycle().String(), FileName: "big.xlsx", File: bytes.NewReader(inlineStatementXLSX(t, big))})
		wantAPIError(t, err, 400, trueuphttp.CodeInvalidFile, "the limit of a cell's size")
	})
}
