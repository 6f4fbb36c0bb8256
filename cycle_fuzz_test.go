package trueup_test

import (
	"strings"
	"testing"

	"github.com/trueup/trueup"
)

// FuzzParseCycle holds ParseCycle to its contract on any text: a cycle it
// accepts is written back exactly as given (yyyy-mm, month 1 to 12, year
// from 1970), and anything else is an EINVALID error naming billingCycle.
func FuzzParseCycle(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := trueup.ParseCycle(s)
		if err != nil {
			if trueup.ErrorKind(err) != trueup.EINVALID || !strings.Contains(err.Error(), "billingCycle") {
				t.Fatalf("ParseCycle(%q): %v is not an EINVALID error naming billingCycle", s, err)
			}
			return
		}
		if c.Month < 1 || c.Month > 12 || c.Year < 1970 || c.String() != s {
			t.Fatalf("ParseCycle(%q) = %+v (%s)", s, c, c)
		}
	})
}
