package main

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/gen"
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
