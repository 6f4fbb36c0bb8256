package trueup_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
)

// TestKinds checks the table's rules: numbered 1, 2, ... in order (DiffCounts
// is indexed by the number), names unique, every text present.
func TestKinds(t *testing.T) {
	names := map[string]bool{}
	for i, k := range trueup.Kinds {
		if k.Type != trueup.DiffType(i+1) {
			t.Errorf("Kinds[%d].Type = %d, want %d: kinds are numbered in table order from 1", i, k.Type, i+1)
		}
		if k.Name == "" || k.Label == "" || k.Detail == "" {
			t.Errorf("kind %d: Name %q, Label %q, Detail %q; want all set", k.Type, k.Name, k.Label, k.Detail)
		}
		if names[k.Name] {
			t.Errorf("kind %d: name %q used twice", k.Type, k.Name)
		}
		names[k.Name] = true
		if got, ok := trueup.KindOf(k.Type); !ok || got != k {
			t.Errorf("KindOf(%d) = %+v, %v; want %+v", k.Type, got, ok, k)
		}
	}
	for _, t0 := range []trueup.DiffType{0, -1, trueup.DiffType(len(trueup.Kinds) + 1)} {
		if _, ok := trueup.KindOf(t0); ok {
			t.Errorf("KindOf(%d) is a kind", t0)
		}
	}
}

// TestDiffCountsJSONWire pins the seed's wire form of the four kinds it
// defines: every key present, zero counts included.
func TestDiffCountsJSONWire(t *testing.T) {
	tests := []struct {
		counts trueup.DiffCounts
		want   string
	}{
		{trueup.DiffCounts{}, `{"1":0,"2":0,"3":0,"4":0}`},
		{trueup.DiffCounts{trueup.DiffMissingOnCarrier: 1, trueup.DiffMissingOnPlatform: 2, trueup.DiffRights: 3, trueup.DiffAmount: 4}, `{"1":1,"2":2,"3":3,"4":4}`},
		{trueup.DiffCounts{trueup.DiffAmount: 9000000000}, `{"1":0,"2":0,"3":0,"4":9000000000}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.counts)
		if err != nil {
			t.Fatal(err)
		}
		if len(trueup.Kinds) == 4 && string(b) != tt.want {
			t.Errorf("json.Marshal(%v) = %s, want %s", tt.counts, b, tt.want)
		}
	}
	// Inside a batch too (a value field, not a pointer).
	b, _ := json.Marshal(trueup.Batch{Counts: trueup.DiffCounts{trueup.DiffRights: 1}})
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if got := string(m["counts"]); len(trueup.Kinds) == 4 && got != `{"1":0,"2":0,"3":1,"4":0}` {
		t.Errorf("batch counts = %s", got)
	}
}

// TestDiffCountsEveryKind takes each kind of the table alone, with the
// others zero, through Add, Total, String and a JSON round trip. A kind
// added to the table passes without a change here.
func TestDiffCountsEveryKind(t *testing.T) {
	for _, k := range trueup.Kinds {
		t.Run(k.Name, func(t *testing.T) {
			var c trueup.DiffCounts
			c.Add(k.Type)
			c.Add(k.Type)
			if c[k.Type] != 2 || c.Total() != 2 {
				t.Errorf("after two Adds: c[%d] = %d, Total() = %d; want 2, 2", k.Type, c[k.Type], c.Total())
			}
			b, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]int64
			if err := json.Unmarshal(b, &obj); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if len(obj) != len(trueup.Kinds) {
				t.Errorf("%s has %d keys, want one for each of the %d kinds", b, len(obj), len(trueup.Kinds))
			}
			for _, other := range trueup.Kinds {
				want := int64(0)
				if other.Type == k.Type {
					want = 2
				}
				if n, ok := obj[other.Type.Key()]; !ok || n != want {
					t.Errorf("%s: key %q = %d (present %v), want %d", b, other.Type.Key(), n, ok, want)
				}
			}
			var back trueup.DiffCounts
			if err := json.Unmarshal(b, &back); err != nil || back != c {
				t.Errorf("round trip of %s = %v, %v; want %v", b, back, err, c)
			}
			if s := c.String(); !strings.Contains(s, k.Type.Key()+": 2") {
				t.Errorf("String() = %q lacks %q", s, k.Type.Key()+": 2")
			}
		})
	}
}

func TestDiffCountsUnmarshal(t *testing.T) {
	tests := []struct {
		in      string
		want    trueup.DiffCounts
		wantErr bool
	}{
		{`{}`, trueup.DiffCounts{}, false},
		{`{"3":7}`, trueup.DiffCounts{trueup.DiffRights: 7}, false},
		{`{"2" : 1, "99": 5, "x": 1}`, trueup.DiffCounts{trueup.DiffMissingOnPlatform: 1}, false}, // unknown keys ignored
		{`[1,2]`, trueup.DiffCounts{}, true},
		{`{"1":"a"}`, trueup.DiffCounts{}, true},
	}
	for _, tt := range tests {
		var got trueup.DiffCounts
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDiffCountsAddIgnoresUnknownKinds(t *testing.T) {
	var c trueup.DiffCounts
	for _, typ := range []trueup.DiffType{0, -3, trueup.DiffType(len(trueup.Kinds) + 1), 1 << 20} {
		c.Add(typ)
	}
	if c != (trueup.DiffCounts{}) {
		t.Errorf("counts = %v after adding kinds that do not exist; want zero", c)
	}
	if got, want := trueup.DiffAmount.Key(), strconv.Itoa(4); got != want {
		t.Errorf("DiffAmount.Key() = %q, want %q", got, want)
	}
}
