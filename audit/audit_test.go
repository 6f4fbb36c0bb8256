package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/trueup/trueup/audit"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name string
		data map[string]any
		want string
	}{
		{"empty", nil, `{}`},
		{"sorted keys, nested too", map[string]any{"b": 1, "a": map[string]any{"z": true, "y": nil}}, `{"a":{"y":null,"z":true},"b":1}`},
		{"numbers as written", map[string]any{"n": json.Number("12.50"), "big": int64(9007199254740993)}, `{"big":9007199254740993,"n":12.50}`},
		{"struct values sorted", map[string]any{"s": struct {
			Z int `json:"z"`
			A int `json:"a"`
		}{1, 2}}, `{"s":{"a":2,"z":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.Canonical(tt.data)
			if err != nil || string(got) != tt.want {
				t.Errorf("Canonical = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
	if _, err := audit.Canonical(map[string]any{"f": func() {}}); err == nil {
		t.Error("Canonical of a func: no error")
	}
}

// TestHash pins the hash of one entry: a change to what is hashed, or how,
// breaks every stored chain, so it must be deliberate.
func TestHash(t *testing.T) {
	e := audit.Entry{Seq: 7, Time: time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC), Actor: "apikey:key_1", Type: "batch.uploaded",
		CarrierID: "car_1", Subject: "20260301_1", Data: json.RawMessage(`{"a":1}`), PrevHash: "ab"}
	// sha256 of ["ab",7,"2026-03-01T10:00:00.123456Z","apikey:key_1","batch.uploaded","car_1","20260301_1","{\"a\":1}"],
	// computed apart from this package.
	const want = "aae627f85796a8ddbed64b632a99ea4747f1f4b73ba96d6a67cb1c1c0000b30d"
	got := audit.Hash(e)
	if got != want {
		t.Errorf("Hash = %s, want %s", got, want)
	}
	e2 := e
	e2.Time = e.Time.Add(time.Nanosecond * 100) // below the microsecond
	if audit.Hash(e2) != got {
		t.Error("a change below the microsecond changed the hash")
	}
	for name, edit := range map[string]func(*audit.Entry){
		"seq":      func(e *audit.Entry) { e.Seq++ },
		"actor":    func(e *audit.Entry) { e.Actor = "cli" },
		"data":     func(e *audit.Entry) { e.Data = json.RawMessage(`{"a":2}`) },
		"prevHash": func(e *audit.Entry) { e.PrevHash = "ac" },
		"subject into carrier": func(e *audit.Entry) {
			e.CarrierID, e.Subject = "car_120260301_1", ""
		},
	} {
		x := e
		edit(&x)
		if audit.Hash(x) == got {
			t.Errorf("changing %s left the hash as it was", name)
		}
	}
}
