package risk_test

import (
	"context"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/storetest"
)

// TestRiskLookup looks numbers up as an operator does: hashed like the
// API's clients hash them, whatever the spacing, within days and source;
// a bad number is refused without repeating it. (The console's end-to-end
// test runs the same on PostgreSQL.)
func TestRiskLookup(t *testing.T) {
	svc, st := openService(t)
	storetest.MustImportRisk(t, st.RiskStore, risk.ImportOptions{},
		storetest.RiskRecord("915586685366", "2022-10-03", risk.SourceSeat, "11323", 17, 5),
		storetest.RiskRecord("915586685366", "2022-07-05", risk.SourceVoice, "c8", -1, 2),
		storetest.RiskRecord("447900000001", "2022-10-02", risk.SourceSMS, "n", -1, 3))
	day := func(s string) risk.Day {
		d, ok := risk.ParseDay(s)
		if !ok {
			t.Fatalf("bad day %s", s)
		}
		return d
	}
	for _, tt := range []struct {
		name string
		p    risk.LookupParams
		want int
		kind string
	}{
		{"digits", risk.LookupParams{Mobile: "915586685366"}, 2, ""},
		{"spaced with plus", risk.LookupParams{Mobile: " +91 5586-685366 "}, 2, ""},
		{"md5 upper case", risk.LookupParams{Mobile: strings.ToUpper(risk.HashMobile("915586685366").String())}, 2, ""},
		{"source", risk.LookupParams{Mobile: "915586685366", Source: risk.SourceVoice}, 1, ""},
		{"days", risk.LookupParams{Mobile: "915586685366", From: day("2022-10-01"), To: day("2022-10-31")}, 1, ""},
		{"not listed", risk.LookupParams{Mobile: "15550001111"}, 0, ""},
		{"letters", risk.LookupParams{Mobile: "91x5586685366"}, 0, trueup.EINVALID},
		{"too short", risk.LookupParams{Mobile: "123"}, 0, trueup.EINVALID},
		{"days swapped", risk.LookupParams{Mobile: "915586685366", From: day("2022-10-31"), To: day("2022-10-01")}, 0, trueup.EINVALID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := svc.Lookup(context.Background(), tt.p)
			if tt.kind != "" {
				if trueup.ErrorKind(err) != tt.kind || strings.Contains(err.Error(), strings.TrimSpace(tt.p.Mobile)) {
					t.Fatalf("Lookup = %v, want %s not repeating the number", err, tt.kind)
				}
				return
			}
			if err != nil || len(res.Records) != tt.want {
				t.Fatalf("Lookup = %d records, %v; want %d", len(res.Records), err, tt.want)
			}
		})
	}
}
