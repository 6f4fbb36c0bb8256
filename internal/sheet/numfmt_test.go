package sheet

import "testing"

func TestIsDateFormat(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"General", false},
		{"0.00", false},
		{"#,##0.00;[Red]-#,##0.00", false},
		{"0%", false},
		{"0.00E+00", false},
		{"@", false},
		{`#,##0 "元"`, false},
		{`0.0 "days"`, false},
		{`\d0`, false},
		{"_(* #,##0_);_(* (#,##0);_(* \"-\"_);_(@_)", false},
		{"[Blue]0;[Red]-0", false},
		{"[$-804]0.00", false},
		{"yyyy-mm-dd hh:mm:ss", true},
		{"m/d/yyyy", true},
		{"YYYY\\-MM\\-DD", true},
		{"d-mmm-yy", true},
		{"h:mm AM/PM", true},
		{"[h]:mm:ss", true},
		{"[$-409]mmmm d, yyyy;@", true},
		{"yyyy\"年\"m\"月\"d\"日\"", true},
		{"[DBNum1][$-804]yyyy年m月d日", true},
		{"0.00;yyyy", false}, // only the first section counts
		{"#,##0.00 [$USD]", false},
		{`0.0"days"`, false},
		{`0.0\d`, false},
		{"yyyy-mm-dd", true},
		{"d/m/yy h:mm", true},
		{"[ss]", true},
		{`"Date: "dd`, true},
		{"DD.MM.YYYY", true},
	}
	for _, tt := range tests {
		if got := isDateFormat(tt.code); got != tt.want {
			t.Errorf("isDateFormat(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
	for id, want := range map[int]bool{0: false, 1: false, 13: false, 14: true, 22: true, 23: false, 27: true, 36: true, 37: false, 45: true, 47: true, 49: false, 50: true, 58: true, 59: false} {
		if got := isDateFormatID(id); got != want {
			t.Errorf("isDateFormatID(%d) = %v, want %v", id, got, want)
		}
	}
}
