package reconcile

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Sentinel errors wrapped by the errors of ParseTime and ParseAmount.
var (
	ErrTime   = errors.New("not a date-time")
	ErrAmount = errors.New("not a decimal number")
)

// Limits of ParseAmount.
const (
	maxAmountLen    = 64 // characters of the cell
	maxAmountDigits = 38 // digits of the coefficient
	maxAmountExp    = 24 // magnitude of the exponent once parsed
)

// Limits of Excel serial day numbers (1900 date system), in milliseconds.
const (
	msPerDay     = 24 * 60 * 60 * 1000
	minSerialMs  = 1 * msPerDay       // 1900-01-01
	endSerialMs  = 2958466 * msPerDay // 10000-01-01, the first day Excel cannot show
	fakeLeapDay  = 60                 // 1900-02-29, which Excel counts and the calendar lacks
	maxFracDigit = 19                 // fraction digits read exactly; more cannot change the millisecond
)

// ParseTime returns the instant that s, a statement's date-time cell, stands
// for, in UTC. Surrounding spaces are ignored. It accepts
//
//   - ISO 8601 with a zone, years 1900 to 9999: 2025-10-27T11:47:46Z, 2025-10-27T11:47:46.977Z,
//     2025-10-27T19:47:46+08:00 (also +0800 and +08; a space may separate
//     the date and the time, and the time and the offset);
//   - ISO 8601 without a zone, read in loc: 2025-10-27 11:47:46,
//     2025-10-27T11:47:46.5, 2025-10-27 11:47 (seconds may be left out),
//     2025-10-27 (midnight); the date may be written with slashes
//     (2025/10/27) and month, day and hour with one digit (2025/9/1 8:00), as
//     spreadsheet programs export them;
//   - an Excel serial day number of the 1900 date system (45922.76168981481),
//     the raw value of a date cell, read in loc and rounded to the nearest
//     millisecond. It must lie from 1 (1900-01-01) to 2958465.99999
//     (9999-12-31) and not be 60 (1900-02-29, which does not exist).
//
// A nil loc means UTC. The error wraps ErrTime; its text quotes s, says what
// is wrong and shows the layouts to use, so it can be shown to the carrier.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if loc == nil {
		loc = time.UTC
	}
	var (
		t      time.Time
		detail string
	)
	switch {
	case s == "":
		detail = "it is empty"
	case len(s) >= 5 && isDigits(s[:4]) && (s[4] == '-' || s[4] == '/'):
		t, detail = parseISO(s, loc)
	case looksNumeric(s):
		t, detail = parseSerial(s, loc)
	default:
		detail = "it is neither an ISO 8601 date-time nor an Excel date"
	}
	if detail != "" {
		return time.Time{}, fmt.Errorf("%q is %w: %s; use %s", clip(s), ErrTime, detail, timeHint(loc))
	}
	return t, nil
}

// timeHint returns the layouts a carrier may write, for error messages.
func timeHint(loc *time.Location) string {
	return "2025-10-27T11:47:46Z, 2025-10-27T19:47:46+08:00, 2025-10-27 19:47:46 (read in " + loc.String() + ") or an Excel date cell"
}

// parseISO reads s, which starts with four digits and a date separator. It
// returns the instant, or a description of what is wrong.
func parseISO(s string, loc *time.Location) (time.Time, string) {
	year := atoi(s[:4])
	sep := s[4]
	month, i := digits(s, 5, 2)
	if month < 0 {
		return time.Time{}, "the month is missing after the year"
	}
	if i >= len(s) || s[i] != sep {
		return time.Time{}, fmt.Sprintf("expected %q after the month", sep)
	}
	day, i := digits(s, i+1, 2)
	if day < 0 {
		return time.Time{}, "the day is missing after the month"
	}
	switch {
	case year < 1900:
		return time.Time{}, fmt.Sprintf("year %04d is before 1900", year)
	case month < 1 || month > 12:
		return time.Time{}, fmt.Sprintf("month %d does not exist", month)
	case day < 1 || day > daysIn(year, time.Month(month)):
		return time.Time{}, fmt.Sprintf("%s %d has no day %d", time.Month(month), year, day)
	}
	if i == len(s) {
		return dayStart(year, time.Month(month), day, loc).UTC(), ""
	}

	switch s[i] {
	case 'T', 't':
		i++
	case ' ':
		for i < len(s) && s[i] == ' ' {
			i++
		}
	default:
		return time.Time{}, fmt.Sprintf("unexpected %q after the date", clip(s[i:]))
	}
	hour, i := digits(s, i, 2)
	if hour < 0 || i >= len(s) || s[i] != ':' {
		return time.Time{}, "the time after the date is not hh:mm or hh:mm:ss"
	}
	minute, j := digits(s, i+1, 2)
	if j-i != 3 {
		return time.Time{}, "the minutes must have two digits"
	}
	i = j
	second, nsec := 0, 0
	if i < len(s) && s[i] == ':' {
		second, j = digits(s, i+1, 2)
		if j-i != 3 {
			return time.Time{}, "the seconds must have two digits"
		}
		i = j
		if i < len(s) && (s[i] == '.' || s[i] == ',') {
			j := i + 1
			scale := 100_000_000
			for ; j < len(s) && isDigit(s[j]); j++ {
				nsec += int(s[j]-'0') * scale
				scale /= 10
			}
			if j == i+1 {
				return time.Time{}, "the fraction of a second has no digits"
			}
			i = j
		}
	}
	switch {
	case hour > 23:
		return time.Time{}, fmt.Sprintf("hour %d does not exist", hour)
	case minute > 59:
		return time.Time{}, fmt.Sprintf("minute %d does not exist", minute)
	case second > 59:
		return time.Time{}, fmt.Sprintf("second %d does not exist", second)
	}

	if i < len(s) && s[i] == ' ' && i+1 < len(s) {
		i++ // "2025-10-27 11:47:46 +08:00"
	}
	if i == len(s) {
		return time.Date(year, time.Month(month), day, hour, minute, second, nsec, loc).UTC(), ""
	}
	utc := time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC)
	switch c := s[i]; c {
	case 'Z', 'z':
		if i+1 != len(s) {
			return time.Time{}, fmt.Sprintf("unexpected %q after the zone Z", clip(s[i+1:]))
		}
		return utc, ""
	case '+', '-':
		offset, ok := parseOffset(s[i+1:])
		if !ok {
			return time.Time{}, fmt.Sprintf("the zone offset %q is not ±hh:mm", clip(s[i:]))
		}
		if c == '-' {
			offset = -offset
		}
		return utc.Add(-offset), ""
	}
	return time.Time{}, fmt.Sprintf("unexpected %q after the time", clip(s[i:]))
}

// parseOffset reads a zone offset without its sign: hh, hhmm or hh:mm, with
// hh at most 23 and mm at most 59.
func parseOffset(s string) (time.Duration, bool) {
	if len(s) < 2 || !isDigits(s[:2]) {
		return 0, false
	}
	h, m := atoi(s[:2]), 0
	switch rest := s[2:]; {
	case rest == "":
	case len(rest) == 2 && isDigits(rest):
		m = atoi(rest)
	case len(rest) == 3 && rest[0] == ':' && isDigits(rest[1:]):
		m = atoi(rest[1:])
	default:
		return 0, false
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

// parseSerial reads s, which looks like a number, as an Excel serial day
// number. It returns the instant, or a description of what is wrong.
func parseSerial(s string, loc *time.Location) (time.Time, string) {
	ms, ok := serialMillis(s)
	if !ok {
		d, err := decimal.NewFromString(s)
		if err != nil {
			return time.Time{}, "it is neither an ISO 8601 date-time nor an Excel date"
		}
		switch {
		case d.LessThan(decimal.NewFromInt(1)):
			ms = 0
		case d.GreaterThanOrEqual(decimal.NewFromInt(endSerialMs / msPerDay)):
			ms = endSerialMs
		default:
			ms = d.Mul(decimal.NewFromInt(msPerDay)).Round(0).IntPart()
		}
	}
	switch {
	case ms < minSerialMs:
		return time.Time{}, "as an Excel date it is before 1900-01-01 (a time of day without a date?)"
	case ms >= endSerialMs:
		return time.Time{}, "as an Excel date it is after 9999-12-31 (a date written as a plain number?)"
	}
	days, msOfDay := ms/msPerDay, ms%msPerDay
	if days == fakeLeapDay {
		return time.Time{}, "as an Excel date it is 1900-02-29, which does not exist"
	}
	// Serial 1 is 1900-01-01, and Excel counts a 1900-02-29 after serial 59.
	epoch := 30 // day of December 1899 that serial 0 would be
	if days < fakeLeapDay {
		epoch = 31
	}
	if msOfDay == 0 {
		y, m, d := time.Date(1899, time.December, epoch+int(days), 12, 0, 0, 0, time.UTC).Date()
		return dayStart(y, m, d, loc).UTC(), ""
	}
	return time.Date(1899, time.December, epoch+int(days),
		int(msOfDay/3_600_000), int(msOfDay/60_000%60), int(msOfDay/1000%60), int(msOfDay%1000)*1e6, loc).UTC(), ""
}

// serialMillis converts a serial day number written as up to seven digits,
// optionally followed by a dot and digits, to milliseconds rounded to the
// nearest. It reports false for any other form (a sign, an exponent); a
// result of endSerialMs or more means the serial is too large.
func serialMillis(s string) (int64, bool) {
	i := 0
	var whole int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		if i == 7 {
			return endSerialMs, true
		}
		whole = whole*10 + int64(s[i]-'0')
	}
	if i == 0 && (len(s) < 2 || s[0] != '.') {
		return 0, false
	}
	ms := whole * msPerDay
	if i == len(s) {
		return ms, true
	}
	if s[i] != '.' {
		return 0, false
	}
	frac, pow := uint64(0), uint64(1)
	for i++; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		if pow < 1e19 {
			frac = frac*10 + uint64(s[i]-'0')
			pow *= 10
		}
	}
	// frac/pow of a day, in milliseconds: frac*msPerDay/pow, rounded half up.
	hi, lo := bits.Mul64(frac, msPerDay)
	q, r := bits.Div64(hi, lo, pow)
	if r >= pow-r {
		q++
	}
	return ms + int64(q), true
}

// ParseAmount returns the decimal that s, a statement's amount cell, holds.
// Surrounding spaces are ignored. It accepts an optional sign, digits with
// an optional dot (10, 9.90, -0.5, .5, 5.) and an optional exponent as
// spreadsheets write raw values (1E-3, 1.5e+2). The returned decimal keeps
// the scale written: 9.90 has two decimal places.
//
// It rejects an empty cell, currency signs, thousands separators, decimal
// commas, spaces inside, percentages, NaN and infinities, text longer than
// 64 characters, and numbers with more than 38 digits or an exponent beyond
// ±24. The error wraps ErrAmount; its text quotes s, says what is wrong and
// how to write the number, so it can be shown to the carrier.
func ParseAmount(s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if detail := checkAmount(s); detail != "" {
		return decimal.Decimal{}, amountError(s, detail)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, amountError(s, "it is not a plain number")
	}
	if d.Exponent() < -maxAmountExp || d.Exponent() > maxAmountExp || d.NumDigits() > maxAmountDigits {
		return decimal.Decimal{}, amountError(s, "it is out of range")
	}
	return d, nil
}

// amountError returns the error of ParseAmount for s.
func amountError(s, detail string) error {
	return fmt.Errorf("%q is %w: %s; write digits with a dot for decimals, for example 9.90 or -0.5, without currency sign, thousands separator or spaces",
		clip(s), ErrAmount, detail)
}

// checkAmount returns what is wrong with s as an amount, or "" when it has
// the form [+-] digits [. digits] [eE [+-] digits].
func checkAmount(s string) string {
	if s == "" {
		return "it is empty"
	}
	if utf8.RuneCountInString(s) > maxAmountLen {
		return fmt.Sprintf("it is longer than %d characters", maxAmountLen)
	}
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	n := 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		n++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			n++
		}
	}
	if n > 0 && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for ; k < len(s) && isDigit(s[k]); k++ {
		}
		if k > j && k-j <= 4 {
			i = k
		} else if k > j {
			return "it is out of range"
		}
	}
	if n > 0 && i == len(s) {
		return ""
	}
	switch lower := strings.ToLower(strings.TrimLeft(s, "+-")); {
	case lower == "nan" || lower == "inf" || lower == "infinity" || lower == "∞":
		return "it is not a finite number"
	case strings.ContainsRune(s, ','):
		return "it has a comma (a thousands separator or a decimal comma)"
	case strings.ContainsFunc(s, unicode.IsSpace):
		return "it has a space inside"
	case strings.ContainsRune(s, '%'):
		return "it is a percentage"
	}
	if r, ok := firstRune(s, func(r rune) bool { return unicode.Is(unicode.Sc, r) }); ok {
		return fmt.Sprintf("it has the currency sign %q", r)
	}
	return "it is not a plain number"
}

// formatAmount writes d without exponent, keeping its decimal places: 0.50
// stays "0.50", 1E-3 is "0.001", 1E3 is "1000".
func formatAmount(d decimal.Decimal) string {
	return d.StringFixed(max(0, -d.Exponent()))
}

// firstRune returns the first rune of s for which f is true.
func firstRune(s string, f func(rune) bool) (rune, bool) {
	for _, r := range s {
		if f(r) {
			return r, true
		}
	}
	return 0, false
}

// clip returns s, shortened to 64 runes with an ellipsis when it is longer,
// so that a huge cell does not make a huge error message, and with bytes
// that are not UTF-8 replaced by U+FFFD. Messages quote it with %q.
func clip(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	n := 0
	for i := range s {
		if n == 64 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// clipValue is clip with control characters escaped as Go writes them
// (\x00, \n): it makes the value of a row error, which is stored, and
// PostgreSQL cannot store a NUL in text.
func clipValue(s string) string {
	return escapeControls(clip(s))
}

// escapeControls returns s with its control characters escaped.
func escapeControls(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			b.WriteString(escapeControl(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isControl reports whether r is a C0 control character or DEL.
func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// escapeControl returns the control character r as Go writes it in a
// string: \x00, \t, \n.
func escapeControl(r rune) string {
	return strings.Trim(strconv.QuoteRune(r), "'")
}

// digits reads 1 to n ASCII digits of s from i. It returns the value and
// the index after them, or -1 and i when there is no digit at i.
func digits(s string, i, n int) (int, int) {
	v, j := 0, i
	for ; j < len(s) && j-i < n && isDigit(s[j]); j++ {
		v = v*10 + int(s[j]-'0')
	}
	if j == i {
		return -1, i
	}
	return v, j
}

// looksNumeric reports whether s has only the characters of a number.
func looksNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c), c == '.', c == 'e', c == 'E', c == '+', c == '-':
		default:
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isDigits reports whether s is made of ASCII digits only.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi returns the value of s, made of ASCII digits.
func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
