package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/http/admin"
	"github.com/trueup/trueup/reconcile"
)

// casesStatement writes the clean statement of spec as CSV, changed by
// edit (which may drop or add rows).
func casesStatement(tb testing.TB, spec gen.Spec, edit func(rows [][]string) [][]string) []byte {
	tb.Helper()
	rows := edit(statementRows(tb, spec))
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(gen.StatementHeader)
	for _, r := range rows {
		w.Write(r)
	}
	w.Flush()
	return b.Bytes()
}

// cliCase is a case as `trueup cases list --json` prints it.
type cliCase struct {
	CaseID         string  `json:"caseId"`
	CarrierOrderID string  `json:"carrierOrderId"`
	DiffType       int     `json:"diffType"`
	State          string  `json:"state"`
	Resolution     *string `json:"resolution"`
	Note           string  `json:"note"`
	FixedBy        string  `json:"fixedBy"`
}

func (c cliCase) line() string {
	res := "null"
	if c.Resolution != nil {
		res = *c.Resolution
	}
	return c.CarrierOrderID + "/" + string(rune('0'+c.DiffType)) + " " + c.State + " " + res
}

// TestE2ECases takes a cycle from its first upload to close through the
// real server, the admin API and the CLI: cases open with batch 1, batch 2
// fixes some, a difference that comes back reopens, a failed batch changes
// nothing, operators decide the rest, the cycle closes at a settlement
// figure and refuses uploads until it is reopened.
func TestE2ECases(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		c := s.newCarrier(t, "Case Telecom")
		ctx := context.Background()
		cycle := lastCycle()
		spec := gen.Spec{Orders: 12, Cycle: cycle, Seed: 21}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		id := func(i int) string { return spec.Order(i).CarrierOrderID }
		carrierID, cyc := string(c.cred.CarrierID), cycle.String()
		list := func(extra ...string) []string {
			t.Helper()
			var got []cliCase
			s.cliJSON(t, &got, append([]string{"cases", "list", "--carrier", carrierID, "--cycle", cyc, "--json"}, extra...)...)
			var out []string
			for _, k := range got {
				out = append(out, k.line())
			}
			slices.Sort(out)
			return out
		}
		find := func(order string, typ int) cliCase {
			t.Helper()
			var got []cliCase
			s.cliJSON(t, &got, "cases", "list", "--carrier", carrierID, "--cycle", cyc, "--json")
			for _, k := range got {
				if k.CarrierOrderID == order && k.DiffType == typ {
					return k
				}
			}
			t.Fatalf("no case %s/%d in %+v", order, typ, got)
			return cliCase{}
		}
		upload := func(name string, edit func([][]string) [][]string) client.BatchStatus {
			t.Helper()
			return waitBatchDone(t, c.api, verifyUpload(t, c.api, cyc, name, casesStatement(t, spec, edit)))
		}
		share := func(r []string, plus string) {
			r[genColShare] = decimalOf(t, "share", r[genColShare]).Add(decimal.RequireFromString(plus)).StringFixed(2)
		}

		// Batch 1: order 0 missing (1), an extra row (2), order 2's
		// package (3), order 1's share (4).
		b1 := upload("b1.csv", func(rows [][]string) [][]string {
			rows[2][genColPackage] = "X" + rows[2][genColPackage]
			share(rows[1], "1.00")
			extra := append([]string(nil), rows[3]...)
			extra[genColID] = "EXTRA1"
			return append(rows[1:], extra)
		})
		if b1.Batch.State != trueup.BatchSucceeded || b1.Batch.Counts.Total() != 4 {
			t.Fatalf("batch 1: %+v", b1.Batch)
		}
		want := []string{id(0) + "/1 open null", id(1) + "/4 open null", id(2) + "/3 open null", "EXTRA1/2 open null"}
		slices.Sort(want)
		if got := list(); !slices.Equal(got, want) {
			t.Fatalf("after batch 1:\n got %q\nwant %q", got, want)
		}

		// Batch 2 fixes orders 1 and 2.
		b2 := upload("b2.csv", func(rows [][]string) [][]string {
			extra := append([]string(nil), rows[3]...)
			extra[genColID] = "EXTRA1"
			return append(rows[1:], extra)
		})
		want = []string{id(0) + "/1 open null", id(1) + "/4 resolved fixed", id(2) + "/3 resolved fixed", "EXTRA1/2 open null"}
		slices.Sort(want)
		if got := list(); !slices.Equal(got, want) {
			t.Fatalf("after batch 2:\n got %q\nwant %q", got, want)
		}
		if k := find(id(1), 4); k.FixedBy != string(b2.Batch.No) {
			t.Errorf("order 1's case fixed by %q, want batch 2 %s", k.FixedBy, b2.Batch.No)
		}
		if got := list("--state", "open"); len(got) != 2 {
			t.Errorf("open cases = %q, want 2", got)
		}

		// Batch 3: order 1's share is wrong again: its case reopens.
		upload("b3.csv", func(rows [][]string) [][]string {
			share(rows[1], "2.00")
			extra := append([]string(nil), rows[3]...)
			extra[genColID] = "EXTRA1"
			return append(rows[1:], extra)
		})
		want = []string{id(0) + "/1 open null", id(1) + "/4 open null", id(2) + "/3 resolved fixed", "EXTRA1/2 open null"}
		slices.Sort(want)
		if got := list(); !slices.Equal(got, want) {
			t.Fatalf("after batch 3:\n got %q\nwant %q", got, want)
		}
		reopened, err := s.api.Case(ctx, find(id(1), 4).CaseID)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, e := range reopened.History {
			steps = append(steps, e.Action)
		}
		if !slices.Equal(steps, []string{"opened", "fixed", "reopened"}) {
			t.Errorf("history of the reopened case = %q, want opened, fixed, reopened", steps)
		}
		if reopened.Case.CarrierSaleToKd == "" || !reopened.Case.Amount.Equal(decimal.RequireFromString("2.00")) {
			t.Errorf("reopened case carries %q, amount %s; want the latest batch's values (difference 2.00)", reopened.Case.CarrierSaleToKd, reopened.Case.Amount)
		}

		// A failed batch changes nothing.
		failed := upload("bad.csv", func(rows [][]string) [][]string {
			rows[4][genColShare] = "n/a"
			return rows
		})
		if failed.Batch.State != trueup.BatchFailed {
			t.Fatalf("bad batch: %s", failed.Batch.State)
		}
		if got := list(); !slices.Equal(got, want) {
			t.Fatalf("after a failed batch:\n got %q\nwant %q", got, want)
		}

		// Decisions: through the CLI and the admin API.
		s.cli(t, "cases", "resolve", find("EXTRA1", 2).CaseID, "--action", "accept-carrier", "--note", "sold by the carrier's shop")
		if _, err := s.api.ActOnCase(ctx, find(id(1), 4).CaseID, client.CaseAction{Action: "assign", Assignee: "ann"}); err != nil {
			t.Fatal(err)
		}
		k, err := s.api.ActOnCase(ctx, find(id(1), 4).CaseID, client.CaseAction{Action: "accept-carrier", Note: "price change agreed"})
		if err != nil {
			t.Fatal(err)
		}
		if k.State != "resolved" || k.Resolution == nil || *k.Resolution != "accept-carrier" || k.ResolvedBy != "apikey:"+s.keyID || k.Assignee != "ann" {
			t.Errorf("accept-carrier through the API = %+v", k)
		}
		_, err = s.api.ActOnCase(ctx, k.CaseID, client.CaseAction{Action: "void", Note: "again"})
		wantAPIError(t, err, 409, admin.CodeConflict, "resolved already")
		_, err = s.api.ActOnCase(ctx, k.CaseID, client.CaseAction{Action: "accept-carrier"})
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "note")
		_, err = s.api.ActOnCase(ctx, k.CaseID, client.CaseAction{Action: "approve", Note: "x"})
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "accept-carrier")
		_, err = s.api.ActOnCase(ctx, k.CaseID, client.CaseAction{Action: "comment", Note: strings.Repeat("x", 2001)})
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "2000 bytes", "--case-note-max-bytes")
		_, err = s.api.Case(ctx, "424242")
		wantAPIError(t, err, 404, admin.CodeNotFound)
		if code, _, stderr := s.cliResult("cases", "resolve", k.CaseID, "--action", "assign", "--note", "x"); code != 2 {
			t.Errorf("cases resolve --action assign: exit %d (%s), want 2", code, stderr)
		}
		s.cli(t, "cases", "resolve", find(id(0), 1).CaseID, "--action", "write-off", "--note", "too small to chase")
		var final []cliCase
		s.cliJSON(t, &final, "cases", "list", "--carrier", carrierID, "--cycle", cyc, "--json")
		for _, k := range final {
			if k.CarrierOrderID == id(0) && (k.Note != "too small to chase" || k.Resolution == nil || *k.Resolution != "write-off") {
				t.Errorf("written-off case = %+v", k)
			}
		}

		// The settlement: every ledger order but order 0 (written off),
		// order 1 at the carrier's share, and the extra row at its share.
		var cy client.Cycle
		s.cliJSON(t, &cy, "cycle", "show", "--carrier", carrierID, "--cycle", cyc, "--json")
		opt := reconcile.Options{Cycle: cycle, Location: time.UTC}
		wantTotal, wantThis := decimal.Zero, decimal.Zero
		rows := statementRows(t, spec)
		for i := 1; i < spec.Orders; i++ {
			o := spec.Order(i)
			if i == 1 {
				o.KdSaleTotal = decimalOf(t, "share", rows[1][genColShare]).Add(decimal.RequireFromString("2.00"))
			}
			this, _ := reconcile.SplitBilling(o, opt)
			wantTotal, wantThis = wantTotal.Add(o.KdSaleTotal), wantThis.Add(this)
		}
		extra := spec.Order(3)
		extra.KdSaleTotal = decimalOf(t, "share", rows[3][genColShare])
		this, _ := reconcile.SplitBilling(extra, opt)
		wantTotal, wantThis = wantTotal.Add(extra.KdSaleTotal), wantThis.Add(this)
		st := cy.Settlement
		if !st.Total.Equal(wantTotal) || !st.ThisMonth.Equal(wantThis) || !st.ThisMonth.Add(st.NextMonth).Equal(st.Total) || st.Orders != 12 || st.DisputedOrders != 0 {
			t.Errorf("settlement = %+v; want total %s, this month %s, 12 orders, none disputed", st, wantTotal, wantThis)
		}
		if cy.LedgerOrders != 12 || cy.OrdersMatched != 11 || cy.Open != 0 || cy.Resolved != 4 {
			t.Errorf("cycle = %+v; want 12 ledger orders, 11 matched, 0 open, 4 resolved", cy)
		}

		// Export: the figure and the cases.
		csvData, err := s.api.ExportCycle(ctx, carrierID, cyc, client.ExportCSV)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(csvData), "settlementTotal,"+wantTotal.String()) || !strings.Contains(string(csvData), "EXTRA1") {
			t.Errorf("CSV export lacks the settlement or the cases:\n%s", csvData)
		}
		if x, err := s.api.ExportCycle(ctx, carrierID, cyc, client.ExportXLSX); err != nil || !bytes.HasPrefix(x, []byte("PK")) {
			t.Errorf("xlsx export: %d bytes, %v", len(x), err)
		}
		_, err = s.api.ExportCycle(ctx, carrierID, "2025-13", client.ExportCSV)
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "2025-13")
		_, err = s.api.ExportCycle(ctx, "car_nobody", cyc, client.ExportCSV)
		wantAPIError(t, err, 404, admin.CodeNotFound)
		_, err = s.api.Cycle(ctx, carrierID, "last month")
		wantAPIError(t, err, 400, admin.CodeInvalidParam)

		// Close: an upload is refused with a clear message; actions too.
		var closed client.Cycle
		s.cliJSON(t, &closed, "cycle", "close", "--carrier", carrierID, "--cycle", cyc, "--json")
		if !closed.Closed || closed.ClosedBy != "cli" || closed.AtClose == nil || !closed.AtClose.Settlement.Total.Equal(wantTotal) {
			t.Errorf("cycle close = %+v", closed)
		}
		_, err = c.api.Verify(ctx, client.VerifyParams{BillingCycle: cyc, FileName: "late.csv", File: bytes.NewReader(casesStatement(t, spec, func(r [][]string) [][]string { return r }))})
		wantAPIError(t, err, 409, trueuphttp.CodeConflict, "closed", "reopen")
		_, err = s.api.ActOnCase(ctx, find(id(2), 3).CaseID, client.CaseAction{Action: "assign", Assignee: "bob"})
		wantAPIError(t, err, 409, admin.CodeConflict, "closed")
		if code, _, stderr := s.cliResult("cycle", "close", "--carrier", carrierID, "--cycle", cyc); code != 1 || !strings.Contains(stderr, "closed already") {
			t.Errorf("second close: exit %d, %s", code, stderr)
		}
		_, err = s.api.CloseCycle(ctx, carrierID, cyc)
		wantAPIError(t, err, 409, admin.CodeConflict, "closed")

		// Reopen through the admin API: uploads are taken again.
		re, err := s.api.ReopenCycle(ctx, carrierID, cyc)
		if err != nil || re.Closed {
			t.Fatalf("reopen = %+v, %v", re, err)
		}
		if st := upload("after.csv", func(r [][]string) [][]string { return r }); st.Batch.State != trueup.BatchSucceeded {
			t.Errorf("upload after reopen: %s", st.Batch.State)
		}
		// The clean statement shows order 0 again and drops EXTRA1; the
		// operators' decisions stay.
		if got, want := list("--state", "open"), []string(nil); !slices.Equal(got, want) {
			t.Errorf("open cases after a clean statement = %q", got)
		}

		// Paging and filters through the API.
		page, err := s.api.Cases(ctx, client.CaseFilter{CarrierID: carrierID, Cycle: cyc, PageSize: 3})
		if err != nil || len(page.Cases) != 3 || page.NextPageCursor == "" {
			t.Fatalf("first page = %+v, %v", page, err)
		}
		next, err := s.api.Cases(ctx, client.CaseFilter{CarrierID: carrierID, Cycle: cyc, PageSize: 3, Cursor: page.NextPageCursor})
		if err != nil || len(next.Cases) != 1 || next.NextPageCursor != "" {
			t.Errorf("second page = %+v, %v", next, err)
		}
		_, err = s.api.Cases(ctx, client.CaseFilter{CarrierID: carrierID, Cursor: "bogus"})
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "pageCursor")
		if err := s.api.SetCaseSLA(ctx, carrierID, 9); err != nil {
			t.Fatal(err)
		}
		if n, err := s.api.CaseSLA(ctx, carrierID); err != nil || n != 9 {
			t.Errorf("CaseSLA = %d, %v", n, err)
		}
		raw, _ := json.Marshal(final)
		if !strings.Contains(string(raw), `"resolution":"write-off"`) {
			t.Errorf("cases list --json lacks resolutions: %s", raw)
		}
	})
}
