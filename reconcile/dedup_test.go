package reconcile_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

func TestDedup(t *testing.T) {
	var d reconcile.Dedup // the zero value is ready
	steps := []struct {
		row  int64
		id   string
		want *trueup.RowError
	}{
		{2, "A1", nil},
		{3, "A2", nil},
		{4, "", nil}, // an empty ID is an ID like another; ParseRow refuses it
		{7, "A3", nil},
		{9, "A3", &trueup.RowError{Row: 9, Column: "carrierOrderId", Value: "A3",
			Reason: `carrierOrderId "A3" already appears in row 7; each order must appear once, so merge the two rows or remove one`}},
		{10, "A3", &trueup.RowError{Row: 10, Column: "carrierOrderId", Value: "A3",
			Reason: `carrierOrderId "A3" already appears in row 7; each order must appear once, so merge the two rows or remove one`}},
		{11, "a3", nil}, // IDs are compared exactly
		{12, "A1", &trueup.RowError{Row: 12, Column: "carrierOrderId", Value: "A1",
			Reason: `carrierOrderId "A1" already appears in row 2; each order must appear once, so merge the two rows or remove one`}},
		{13, "", &trueup.RowError{Row: 13, Column: "carrierOrderId",
			Reason: `carrierOrderId "" already appears in row 4; each order must appear once, so merge the two rows or remove one`}},
	}
	for _, s := range steps {
		got := d.Add(s.row, s.id)
		if (got == nil) != (s.want == nil) || got != nil && *got != *s.want {
			t.Errorf("Add(%d, %q) = %+v, want %+v", s.row, s.id, got, s.want)
		}
	}
	if got, want := d.Len(), 5; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	if row, ok := d.Lookup("A3"); !ok || row != 7 {
		t.Errorf(`Lookup("A3") = %d, %v; want 7, true`, row, ok)
	}
	if row, ok := d.Lookup("A4"); ok {
		t.Errorf(`Lookup("A4") = %d, true; want false`, row)
	}
	var empty reconcile.Dedup
	if _, ok := empty.Lookup("A1"); ok {
		t.Error("Lookup on an empty Dedup found an ID")
	}
}

func TestDedupMany(t *testing.T) {
	const n = 50_000
	d := reconcile.NewDedup(n / 2) // outgrows its hint
	for i := range int64(n) {
		if err := d.Add(i+2, fmt.Sprintf("CO%012d", i*7919)); err != nil {
			t.Fatalf("Add of a new ID: %+v", err)
		}
	}
	for i := range int64(n) {
		err := d.Add(n+i+2, fmt.Sprintf("CO%012d", i*7919))
		if err == nil {
			t.Fatalf("second Add of CO%012d: no error", i*7919)
		}
		if want := fmt.Sprintf("already appears in row %d;", i+2); !strings.Contains(err.Reason, want) {
			t.Fatalf("second Add of CO%012d: %q, want it to say %q", i*7919, err.Reason, want)
		}
	}
	if d.Len() != n {
		t.Errorf("Len = %d, want %d", d.Len(), n)
	}
}
