package buyer

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/trueup/trueup"
)

func TestBuyerParseSurveyID(t *testing.T) {
	tests := []struct {
		in   string
		want SurveyID
		ok   bool
	}{
		{"1108416", 1108416, true},
		{"1", 1, true},
		{"000123", 123, true},
		{"999999999999999999", 999999999999999999, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{" 1", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{"9999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSurveyID(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseSurveyID(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && (trueup.ErrorKind(err) != trueup.EINVALID || trueup.ErrorReason(err) != ReasonSurveyID) {
			t.Errorf("ParseSurveyID(%q) err = %v (%s, %s), want invalid with reason %s", tt.in, err, trueup.ErrorKind(err), trueup.ErrorReason(err), ReasonSurveyID)
		}
	}
}

func TestBuyerParseMode(t *testing.T) {
	tests := []struct {
		op, recon string
		mode      Mode
		desired   TxStatus
		ok        bool
	}{
		{"", "", ModeAccept, 21, true},
		{"LIVE_RECONCILIATION", "1", ModeLive, 21, true},
		{"live_reconciliation", "2", ModeLive, 33, true},
		{"LIVE_RECONCILIATION", "", "", 0, false},
		{"LIVE_RECONCILIATION", "3", "", 0, false},
		{"", "2", "", 0, false},
		{"RECONCILE", "1", "", 0, false},
	}
	for _, tt := range tests {
		mode, desired, err := ParseMode(tt.op, tt.recon)
		if tt.ok != (err == nil) || mode != tt.mode || desired != tt.desired {
			t.Errorf("ParseMode(%q, %q) = %s, %d, %v; want %s, %d, ok %v", tt.op, tt.recon, mode, desired, err, tt.mode, tt.desired, tt.ok)
		}
		if err != nil && trueup.ErrorReason(err) != ReasonInvalidParam {
			t.Errorf("ParseMode(%q, %q) reason = %s, want %s", tt.op, tt.recon, trueup.ErrorReason(err), ReasonInvalidParam)
		}
	}
}

func TestBuyerNormalizeReason(t *testing.T) {
	tests := map[string]ChangeReason{
		"Suspected Fraud":        ReasonSuspectedFraud,
		"  ghost completes ":     ReasonGhostCompletes,
		"CLIENT REJECTED":        ReasonClientRejected,
		"Duplicate Respondent":   ReasonDuplicateRespondent,
		"Respondent Quality":     ReasonRespondentQuality,
		"":                       ReasonRespondentQuality,
		"speeding":               ReasonRespondentQuality,
		"Suspected Fraud please": ReasonRespondentQuality,
	}
	for in, want := range tests {
		if got := NormalizeReason(in); got != want {
			t.Errorf("NormalizeReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBuyerStatuses(t *testing.T) {
	// Seed 002's statusDescription strings, exactly.
	want := []string{"Pending", "Declined (User terminated)", "Message In Flight", "Processing", "Error In Processing", "Success",
		"Upload Interrupted", "Recon Cap Reached"}
	for i, w := range want {
		if got := Status(i + 1).Description(); got != w {
			t.Errorf("Status(%d).Description() = %q, want %q", i+1, got, w)
		}
	}
	for _, s := range []Status{StatusDeclined, StatusError, StatusSuccess, StatusInterrupted, StatusCapReached} {
		if !s.Final() {
			t.Errorf("%s is not final", s.Description())
		}
	}
	for _, s := range []Status{StatusPending, StatusInFlight, StatusProcessing} {
		if s.Final() {
			t.Errorf("%s is final", s.Description())
		}
	}
	if TxStatus(21).Name() != "Complete" || TxStatus(33).Name() != "Buyer Reconciliation Reject" || TxStatus(42).Name() != "Unknown" {
		t.Errorf("status names: 21 %q, 33 %q, 42 %q", TxStatus(21).Name(), TxStatus(33).Name(), TxStatus(42).Name())
	}
	for _, s := range KnownTxStatuses() {
		if s.BuyerSide() != (s >= 16 && s <= 20 || s == 30 || s == 31 || s == 33) {
			t.Errorf("status %d (%s): BuyerSide = %v", s, s.Name(), s.BuyerSide())
		}
	}
}

func TestBuyerPercent(t *testing.T) {
	for _, tt := range []struct {
		part, whole int64
		want        string
	}{{1, 1, "100"}, {1, 3, "33.33"}, {2, 3, "66.67"}, {1, 8, "12.5"}, {0, 5, "0"}, {3, 0, "0"}, {1, 20000, "0.01"}, {1, 40001, "0"}} {
		if got := PercentOf(tt.part, tt.whole).String(); got != tt.want {
			t.Errorf("PercentOf(%d, %d) = %s, want %s", tt.part, tt.whole, got, tt.want)
		}
	}
	for in, want := range map[string]Percent{"10": 1000, "12.5": 1250, "33.33": 3333, "0": 0, "100": 10000, "7%": 700} {
		got, err := ParsePercent(in)
		if err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "100.01", "1.234", "-1", "abc", "1e2", "1000"} {
		if _, err := ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q): no error", in)
		}
	}
	b, _ := json.Marshal(struct{ P Percent }{3333})
	if string(b) != `{"P":33.33}` {
		t.Errorf("JSON = %s", b)
	}
	var back struct{ P Percent }
	if err := json.Unmarshal(b, &back); err != nil || back.P != 3333 {
		t.Errorf("round trip = %d, %v", back.P, err)
	}
}

func TestBuyerAdjustmentID(t *testing.T) {
	seen := map[AdjustmentID]bool{}
	for range 100 {
		id := NewAdjustmentID()
		if !ValidAdjustmentID(string(id)) || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) || strings.ToLower(string(id)) != string(id) {
			t.Fatalf("NewAdjustmentID() = %s, not a lowercase version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewAdjustmentID repeated %s", id)
		}
		seen[id] = true
	}
	for _, s := range []string{"", "9967eed2-d06d-4197-8e53-eae2d8c0cc6", "dadasd-d06d-4197-8e53-eae2d8c0cc66", "9967eed2xd06d-4197-8e53-eae2d8c0cc65", "9967eed2-d06d-4197-8e53-eae2d8c0cc6g"} {
		if ValidAdjustmentID(s) {
			t.Errorf("ValidAdjustmentID(%q) = true", s)
		}
	}
	if !ValidAdjustmentID("9967EED2-d06d-4197-8e53-eae2d8c0cc65") {
		t.Errorf("an uppercase UUID is refused")
	}
}

func TestBuyerDecodeItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Item
		bad  bool // an EINVALID error
	}{
		{"seed", `[{"transaction_id": "7lNK5AGrSL3bk5tV4gw0Tr", "change_reason": "Suspected Fraud"}, {"transaction_id": "7dTdSUUWkR9DBs7rUi5jdT"}]`,
			[]Item{{"7lNK5AGrSL3bk5tV4gw0Tr", "Suspected Fraud"}, {"7dTdSUUWkR9DBs7rUi5jdT", ""}}, false},
		{"extra keys ignored, reason not a string", `[{"transaction_id":"a","change_reason":5,"x":1}]`, []Item{{"a", ""}}, false},
		{"empty", `[]`, []Item{}, false},
		{"empty id kept for Launch", `[{"transaction_id":""}]`, []Item{{"", ""}}, false},
		{"not json", `hello`, nil, true},
		{"no body", ``, nil, true},
		{"object", `{"transaction_id":"a"}`, nil, true},
		{"string entry", `["a"]`, nil, true},
		{"numeric id", `[{"transaction_id": 12}]`, nil, true},
		{"null id", `[{"transaction_id": null}]`, nil, true},
		{"missing id", `[{"change_reason":"Ghost Completes"}]`, nil, true},
		{"unclosed", `[{"transaction_id":"a"}`, nil, true},
		{"trailing", `[{"transaction_id":"a"}] []`, nil, true},
		{"truncated entry", `[{"transaction_id":"a"`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeItems(strings.NewReader(tt.body))
			if !tt.bad {
				if err != nil || len(got) != len(tt.want) {
					t.Fatalf("DecodeItems = %+v, %v; want %+v", got, err, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("item %d = %+v, want %+v", i, got[i], tt.want[i])
					}
				}
				return
			}
			if trueup.ErrorKind(err) != trueup.EINVALID {
				t.Errorf("DecodeItems err = %v (%s), want %s", err, trueup.ErrorKind(err), trueup.EINVALID)
			}
		})
	}
	// A read failure is returned, not taken for bad JSON.
	boom := errors.New("boom")
	_, err := DecodeItems(io.MultiReader(strings.NewReader(`[{"transaction_id":"a"},`), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Errorf("read failure: err = %v, want it wrapped", err)
	}
}

func TestBuyerMergeRefs(t *testing.T) {
	list := []AdjustmentRef{{"e", 6, 50}, {"d", 1, 40}, {"b", 3, 20}, {"a", 6, 10}}
	changed := []AdjustmentRef{{"f", 1, 60}, {"d", 2, 40}, {"c", 6, 30}, {"a", 7, 10}}
	got := mergeRefs(list, changed)
	want := []AdjustmentRef{{"f", 1, 60}, {"e", 6, 50}, {"d", 2, 40}, {"c", 6, 30}, {"b", 3, 20}, {"a", 7, 10}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeRefs = %v, want %v", got, want)
	}
	if list[1].Status != 1 || len(list) != 4 {
		t.Errorf("mergeRefs modified its input: %v", list)
	}
	if got := mergeRefs(nil, changed[:1]); !slices.Equal(got, changed[:1]) {
		t.Errorf("mergeRefs(nil) = %v", got)
	}
}
