package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/http/admin"
)

// TestE2ECaseFilters checks the case list's filters on every surface of
// each engine: `trueup cases list --overdue --assignee --kind` and the
// admin API's overdue, assignee and diffType through the Go client, with
// their bad values refused naming the flag or parameter.
func TestE2ECaseFilters(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startAdmin(t, eng)
		c := s.newCarrier(t, "Filter Telecom")
		ctx := context.Background()
		cycle := lastCycle()
		spec := gen.Spec{Orders: 8, Cycle: cycle, Seed: 33}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		id := func(i int) string { return spec.Order(i).CarrierOrderID }
		carrierID, cyc := string(c.cred.CarrierID), cycle.String()
		share := func(r []string, plus string) {
			r[genColShare] = decimalOf(t, "share", r[genColShare]).Add(decimal.RequireFromString(plus)).StringFixed(2)
		}
		// Order 0 missing (kind 1), orders 1 and 2 at another share (4),
		// an extra row (2).
		st := waitBatchDone(t, c.api, verifyUpload(t, c.api, cyc, "f.csv", casesStatement(t, spec, func(rows [][]string) [][]string {
			share(rows[1], "1.00")
			share(rows[2], "3.00")
			extra := append([]string(nil), rows[3]...)
			extra[genColID] = "EXTRA9"
			return append(rows[1:], extra)
		})))
		if st.Batch.Counts.Total() != 4 {
			t.Fatalf("batch: %+v", st.Batch)
		}
		all, err := s.api.Cases(ctx, client.CaseFilter{CarrierID: carrierID, Cycle: cyc})
		if err != nil {
			t.Fatal(err)
		}
		caseOf := map[string]string{}
		for _, k := range all.Cases {
			caseOf[k.CarrierOrderID] = k.CaseID
		}
		if _, err := s.api.ActOnCase(ctx, caseOf[id(1)], client.CaseAction{Action: "assign", Assignee: "ann"}); err != nil {
			t.Fatal(err)
		}
		s.cli(t, "cases", "resolve", caseOf["EXTRA9"], "--action", "write-off", "--note", "not ours")
		// Every case but order 2's opened ten days ago: past the 5-day SLA.
		q := `UPDATE cases SET opened_at = ? WHERE carrier_id = ? AND carrier_order_id <> ?`
		if s.store.Dialect().NumberedPlaceholders() {
			q = `UPDATE cases SET opened_at = $1 WHERE carrier_id = $2 AND carrier_order_id <> $3`
		}
		if _, err := s.store.SQL().ExecContext(ctx, q, time.Now().UTC().AddDate(0, 0, -10), carrierID, id(2)); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name string
			args []string
			f    client.CaseFilter
			want []string
		}{
			{"overdue", []string{"--overdue"}, client.CaseFilter{Overdue: true}, []string{id(0), id(1)}},
			{"assignee", []string{"--assignee", "ann"}, client.CaseFilter{Assignee: "ann"}, []string{id(1)}},
			{"assignee nobody", []string{"--assignee", "bob"}, client.CaseFilter{Assignee: "bob"}, nil},
			{"kind", []string{"--kind", "4"}, client.CaseFilter{DiffType: 4}, []string{id(1), id(2)}},
			{"overdue of kind 4", []string{"--kind", "4", "--overdue"}, client.CaseFilter{DiffType: 4, Overdue: true}, []string{id(1)}},
			{"overdue, ann's, kind 1", []string{"--overdue", "--assignee", "ann", "--kind", "1"}, client.CaseFilter{Overdue: true, Assignee: "ann", DiffType: 1}, nil},
			{"resolved", []string{"--state", "resolved"}, client.CaseFilter{State: "resolved"}, []string{"EXTRA9"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				want := slices.Clone(tc.want)
				slices.Sort(want)
				var cli []cliCase
				s.cliJSON(t, &cli, append([]string{"cases", "list", "--carrier", carrierID, "--cycle", cyc, "--json"}, tc.args...)...)
				var got []string
				for _, k := range cli {
					got = append(got, k.CarrierOrderID)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("cases list %s = %q, want %q", strings.Join(tc.args, " "), got, want)
				}
				tc.f.CarrierID, tc.f.Cycle = carrierID, cyc
				page, err := s.api.Cases(ctx, tc.f)
				if err != nil {
					t.Fatal(err)
				}
				got = nil
				for _, k := range page.Cases {
					got = append(got, k.CarrierOrderID)
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("admin API cases %+v = %q, want %q", tc.f, got, want)
				}
			})
		}

		// Bad values: the CLI exits 2 naming the flag, the API answers 400
		// naming the parameter.
		for _, tc := range []struct {
			args []string
			word string
		}{
			{[]string{"--kind", "7"}, "--kind"},
			{[]string{"--kind", "4", "--diff-type", "3"}, "--diff-type"},
			{[]string{"--overdue", "--state", "resolved"}, "--overdue"},
		} {
			code, _, stderr := s.cliResult(append([]string{"cases", "list", "--carrier", carrierID, "--cycle", cyc}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.word) {
				t.Errorf("cases list %s: exit %d, %q; want 2 naming %s", strings.Join(tc.args, " "), code, stderr, tc.word)
			}
		}
		base := "/admin/v1/cases?carrierId=" + url.QueryEscape(carrierID) + "&"
		for _, tc := range []struct {
			query, word string
		}{
			{"overdue=maybe", "overdue"},
			{"overdue=true&state=resolved", "overdue"},
			{"assignee=" + strings.Repeat("a", 201), "assignee"},
			{"diffType=9", "diffType"},
		} {
			status, body := s.rawAdmin(t, "GET", base+tc.query, "", "")
			if status != 400 || !strings.Contains(body, tc.word) || !strings.Contains(body, `"code":`) {
				t.Errorf("GET cases?%.40s = %d %s; want 400 naming %s", tc.query, status, body, tc.word)
			}
		}
		_, err = s.api.Cases(ctx, client.CaseFilter{CarrierID: carrierID, Overdue: true, State: "resolved"})
		wantAPIError(t, err, 400, admin.CodeInvalidParam, "overdue")
	})
}
