package buyer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
)

// Percent is a percentage in hundredths of a percent (1050 is 10.5%), so
// that reject percentages and caps compare exactly. It is written as a JSON
// number with at most two decimals (100, 10.5, 33.33).
type Percent int64

// PercentOf returns part/whole as a Percent rounded half up to the
// hundredth, or 0 when whole is 0.
func PercentOf(part, whole int64) Percent {
	if whole <= 0 {
		return 0
	}
	return Percent((part*20000 + whole) / (2 * whole))
}

// String returns p as a decimal number with at most two decimals.
func (p Percent) String() string {
	neg := p < 0
	if neg {
		p = -p
	}
	s := strconv.FormatInt(int64(p/100), 10)
	if frac := p % 100; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", frac), "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON writes p as a JSON number.
func (p Percent) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a JSON number (or a quoted one) with at most two
// decimals.
func (p *Percent) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := ParsePercent(s)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParsePercent parses a percentage from 0 to 100 written as a decimal with
// at most two decimals ("10", "12.5", "33.33"; a trailing % is allowed). It
// returns an EINVALID *trueup.Error otherwise.
func ParsePercent(s string) (Percent, error) {
	bad := trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam, "%q is not a percentage from 0 to 100 with at most two decimals; write for example 10 or 12.5", s)
	t := strings.TrimSuffix(strings.TrimSpace(s), "%")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > 2 || len(whole) > 3 {
		return 0, bad
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, bad
			}
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	p := Percent(w*100 + f)
	if p > 10000 {
		return 0, bad
	}
	return p, nil
}
