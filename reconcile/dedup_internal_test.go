package reconcile

import (
	"fmt"
	"testing"
)

// TestDedupHashCollision gives many IDs the same hash tag, as two of a few
// billion would share one, and checks that each is still told apart, also
// once the table has grown.
func TestDedupHashCollision(t *testing.T) {
	d := NewDedup(0)
	const n = 1000 // more than the first table holds
	for i := range n {
		if err := d.add(42, int64(i+2), fmt.Sprint("id", i)); err != nil {
			t.Fatalf("add of id%d with a shared tag: %+v", i, err)
		}
	}
	if len(d.slots) <= minSlots {
		t.Fatalf("table of %d slots did not grow", len(d.slots))
	}
	for i := range n {
		id := fmt.Sprint("id", i)
		if _, row, ok := d.probe(42, id); !ok || row != int64(i+2) {
			t.Fatalf("probe(%q) = %d, %v; want %d, true", id, row, ok, i+2)
		}
		if err := d.add(42, 9999, id); err == nil || err.Row != 9999 {
			t.Fatalf("add of %q again = %+v, want a duplicate error", id, err)
		}
	}
	if _, _, ok := d.probe(42, "other"); ok {
		t.Error(`probe("other") found an ID never added`)
	}
	if d.Len() != n {
		t.Errorf("Len = %d, want %d", d.Len(), n)
	}
}
