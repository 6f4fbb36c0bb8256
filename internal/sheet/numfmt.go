package sheet

import "strings"

// Number formats are the same language in .xls and .xlsx workbooks: both
// readers tell date cells from number cells with these two functions.

// isDateFormatID reports whether the built-in number format id is a date or
// time format (those of all locales: 14-22 and 45-47, and the East Asian
// 27-36 and 50-58).
func isDateFormatID(id int) bool {
	return id >= 14 && id <= 22 || id >= 27 && id <= 36 || id >= 45 && id <= 47 || id >= 50 && id <= 58
}

// isDateFormat reports whether the number format code shows numbers as
// dates or times: its first section holds a y, m, d, h or s (or 年, 月, 日,
// 时, 分, 秒) outside quoted text, escaped characters and brackets other than
// the elapsed-time ones ([h], [mm], [ss]).
func isDateFormat(code string) bool {
	rs := []rune(code)
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case ';':
			return false
		case '"':
			for i++; i < len(rs) && rs[i] != '"'; i++ {
			}
		case '\\', '_', '*':
			i++
		case '[':
			j := i + 1
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			inner := strings.ToLower(string(rs[i+1 : min(j, len(rs))]))
			if inner != "" && strings.Trim(inner, "hms") == "" {
				return true
			}
			i = j
		case 'y', 'Y', 'm', 'M', 'd', 'D', 'h', 'H', 's', 'S', '年', '月', '日', '时', '分', '秒':
			return true
		}
	}
	return false
}
