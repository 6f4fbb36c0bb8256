package trueup_test

import (
	"testing"
	"time"

	"github.com/trueup/trueup"
)

func TestCycle(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		prev    string
		beforeT time.Time // c.Before(beforeT) must hold; and not for the month of c itself
	}{
		{"2025-09", true, "2025-08", time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-01", true, "2024-12", time.Date(2025, 2, 28, 23, 0, 0, 0, time.UTC)},
		{"2024-03", true, "2024-02", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"2025-13", false, "", time.Time{}},
		{"2025-9", false, "", time.Time{}},
		{"25-09", false, "", time.Time{}},
		{"2025/09", false, "", time.Time{}},
		{"", false, "", time.Time{}},
	}
	for _, tt := range tests {
		c, err := trueup.ParseCycle(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseCycle(%q) err = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			if trueup.ErrorKind(err) != trueup.EINVALID {
				t.Errorf("ParseCycle(%q) kind = %s, want invalid", tt.in, trueup.ErrorKind(err))
			}
			continue
		}
		if c.String() != tt.in || c.Prev().String() != tt.prev {
			t.Errorf("%q: String %s, Prev %s; want %s, %s", tt.in, c, c.Prev(), tt.in, tt.prev)
		}
		if !c.Before(tt.beforeT) || c.Before(c.Start(time.UTC).AddDate(0, 0, 27)) {
			t.Errorf("%q: Before is wrong", tt.in)
		}
	}
	// On the 31st, the cycle before is last month, not the month of
	// "now minus one month" (March 31 - 1 month is March 3).
	if got := trueup.CycleOf(time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)).Prev().String(); got != "2026-02" {
		t.Errorf("cycle before 2026-03-31 = %s, want 2026-02", got)
	}
}
