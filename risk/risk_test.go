package risk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
)

func TestRiskParseDay(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when invalid
	}{
		{"1970-01-01", "1970-01-01"},
		{"2022-10-03", "2022-10-03"},
		{"2024-02-29", "2024-02-29"},
		{"2000-02-29", "2000-02-29"},
		{"9999-12-31", "9999-12-31"},
		{"2022-02-29", ""},
		{"1900-02-29", ""},
		{"2022-04-31", ""},
		{"2022-13-01", ""},
		{"2022-00-10", ""},
		{"2022-10-00", ""},
		{"1969-12-31", ""},
		{"2022-1-03", ""},
		{"2022/10/03", ""},
		{"2022-10-03 ", ""},
		{"+022-10-03", ""},
		{"", ""},
	}
	for _, tt := range tests {
		d, ok := ParseDay(tt.in)
		got := ""
		if ok {
			got = d.String()
		}
		if got != tt.want {
			t.Errorf("ParseDay(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if d, _ := ParseDay("2022-10-03"); d != DayOf(time.Date(2022, 10, 3, 23, 59, 0, 0, time.UTC)) {
		t.Errorf("ParseDay and DayOf disagree")
	}
	kolkata, _ := time.LoadLocation("Asia/Kolkata")
	if got := DayOf(time.Date(2022, 10, 3, 20, 0, 0, 0, time.UTC).In(kolkata)).String(); got != "2022-10-04" {
		t.Errorf("DayOf(20:00 UTC in Kolkata) = %s, want 2022-10-04", got)
	}
}

func TestRiskParseMD5(t *testing.T) {
	want := HashMobile("915586685366")
	if want.String() != "29c1ebf81909046ca6adcf8200e71189" {
		t.Fatalf("HashMobile(915586685366) = %s, want seed 003's md5(915586685366)", want)
	}
	for _, in := range []string{"29c1ebf81909046ca6adcf8200e71189", "29C1EBF81909046CA6ADCF8200E71189", "29c1EBf81909046ca6adcf8200e71189"} {
		if got, ok := ParseMD5(in); !ok || got != want {
			t.Errorf("ParseMD5(%q) = %s, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "29c1ebf81909046ca6adcf8200e7118", "29c1ebf81909046ca6adcf8200e711890", "29c1ebf81909046ca6adcf8200e7118g", " 9c1ebf81909046ca6adcf8200e71189"} {
		if _, ok := ParseMD5(in); ok {
			t.Errorf("ParseMD5(%q) accepted", in)
		}
	}
}

func TestRiskParseRecord(t *testing.T) {
	md5 := HashMobile("915586685366")
	day, _ := ParseDay("2022-10-03")
	tests := []struct {
		name string
		v    Values
		want Record
		errs []string // column: reason fragment
	}{
		{"plain number, seat", Values{"915586685366", "2022-10-03", "seat", "11323", "17", "5"},
			Record{Mobile: md5, Day: day, Source: SourceSeat, CID: "11323", Duration: 17, HasDuration: true, Level: 5}, nil},
		{"leading plus dropped", Values{"+915586685366", "2022-10-03", "seat", "1", "0", "1"},
			Record{Mobile: md5, Day: day, Source: SourceSeat, CID: "1", Duration: 0, HasDuration: true, Level: 1}, nil},
		{"upper-case MD5, spaces, SMS", Values{" 29C1EBF81909046CA6ADCF8200E71189 ", " 2022-10-03", "SMS", "c", "", "3"},
			Record{Mobile: md5, Day: day, Source: SourceSMS, CID: "c", Level: 3}, nil},
		{"Excel date serial", Values{"915586685366", "44837", "voice", "c", "", "2"},
			Record{Mobile: md5, Day: day, Source: SourceVoice, CID: "c", Level: 2}, nil},
		{"Excel date-time serial", Values{"915586685366", "44837.75", "voice", "c", "12", "2"},
			Record{Mobile: md5, Day: day, Source: SourceVoice, CID: "c", Duration: 12, HasDuration: true, Level: 2}, nil},
		{"everything wrong", Values{"91-5586", "03/10/2022", "fax", "", "-1", "6"}, Record{},
			[]string{"mobile_no: not a mobile number", "day: not a date", "source: not a source", "cid: required", "duration: not a duration", "level: not a level"}},
		{"seat without duration", Values{"915586685366", "2022-10-03", "seat", "c", "", "5"}, Record{},
			[]string{"duration: seat records need the duration"}},
		{"empty row", Values{}, Record{},
			[]string{"mobile_no: required", "day: required", "source: required", "cid: required", "level: required"}},
		{"too short a number", Values{"9155", "2022-10-03", "sms", "c", "", "5"}, Record{}, []string{"mobile_no:"}},
		{"scientific notation", Values{"9.15586685366E+11", "2022-10-03", "sms", "c", "", "5"}, Record{}, []string{"mobile_no:"}},
		{"fractional duration", Values{"915586685366", "2022-10-03", "seat", "c", "1.5", "5"}, Record{}, []string{"duration: not a duration"}},
		{"long cid", Values{"915586685366", "2022-10-03", "sms", strings.Repeat("c", 129), "", "5"}, Record{}, []string{"cid: longer than 128"}},
		{"level 0", Values{"915586685366", "2022-10-03", "sms", "c", "", "0"}, Record{}, []string{"level: not a level"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			got, errs := ParseRecord(7, &v)
			var gotErrs []string
			for _, e := range errs {
				if e.Row != 7 {
					t.Errorf("row %d, want 7", e.Row)
				}
				gotErrs = append(gotErrs, e.Column+": "+e.Reason)
			}
			if len(gotErrs) != len(tt.errs) {
				t.Fatalf("errors %q, want %q", gotErrs, tt.errs)
			}
			for i, e := range tt.errs {
				if !strings.HasPrefix(gotErrs[i], e) {
					t.Errorf("error %d = %q, want %q...", i, gotErrs[i], e)
				}
			}
			if len(tt.errs) == 0 && got != tt.want {
				t.Errorf("ParseRecord = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRiskParseQuery(t *testing.T) {
	c := Client{WindowDays: 90}
	now := time.Date(2022, 10, 3, 12, 0, 0, 0, time.UTC)
	md5 := "29c1ebf81909046ca6adcf8200e71189"
	tests := []struct {
		name string
		req  CheckRequest
		from string
		to   string
		src  Source
		err  string
	}{
		{"defaults", CheckRequest{MobileNo: Text(md5)}, "2022-07-06", "2022-10-03", 0, ""},
		{"date and source", CheckRequest{MobileNo: Text(md5), Source: Text("Seat"), Date: Text("2022-01-31")}, "2021-11-03", "2022-01-31", SourceSeat, ""},
		{"empty strings are absent", CheckRequest{MobileNo: Text(md5), Source: Text(""), Date: Text("")}, "2022-07-06", "2022-10-03", 0, ""},
		{"absent", CheckRequest{}, "", "", 0, "argument 'mobile_no': not found"},
		{"empty", CheckRequest{MobileNo: Text("")}, "", "", 0, "argument 'mobile_no': not found"},
		{"not text", CheckRequest{MobileNo: Arg{Present: true, NotText: true}}, "", "", 0, "argument 'mobile_no': is not a string"},
		{"bad md5", CheckRequest{MobileNo: Text("abc")}, "", "", 0, "argument 'mobile_no': \"abc\" is not an MD5"},
		{"bad source", CheckRequest{MobileNo: Text(md5), Source: Text("fax")}, "", "", 0, "argument 'source': \"fax\" is not a source"},
		{"bad date", CheckRequest{MobileNo: Text(md5), Date: Text("03-10-2022")}, "", "", 0, "argument 'date': \"03-10-2022\" is not a date"},
		{"date not text", CheckRequest{MobileNo: Text(md5), Date: Arg{Present: true, NotText: true}}, "", "", 0, "argument 'date': is not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := parseQuery(tt.req, c, now)
			if tt.err != "" {
				if trueup.ErrorKind(err) != trueup.EINVALID || !strings.HasPrefix(trueup.ErrorMessage(err), tt.err) {
					t.Errorf("err = %v, want EINVALID %q", err, tt.err)
				}
				return
			}
			if err != nil || q.From.String() != tt.from || q.To.String() != tt.to || q.Source != tt.src {
				t.Errorf("query = %s, %v; want %s..%s source %d", q, err, tt.from, tt.to, tt.src)
			}
		})
	}
}

func TestRiskBloom(t *testing.T) {
	const n = 100_000
	b := newBloom(n)
	for i := range n {
		b.add(HashMobile(fmt.Sprint(910000000000 + i)))
	}
	for i := range n {
		if !b.mayContain(HashMobile(fmt.Sprint(910000000000 + i))) {
			t.Fatalf("number %d added, but the filter says no", i)
		}
	}
	fp := 0
	for i := range n {
		if b.mayContain(HashMobile(fmt.Sprint(920000000000 + i))) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.03 {
		t.Errorf("false positive rate %.4f, want about 0.01", rate)
	}
	empty := newBloom(0)
	if empty.mayContain(HashMobile("1")) {
		t.Error("an empty filter says maybe")
	}
}

func TestRiskCreateClientSettings(t *testing.T) {
	for _, tt := range []struct {
		p    CreateClientParams
		want string
	}{
		{CreateClientParams{Name: " "}, "name must be"},
		{CreateClientParams{Name: "a", APIs: []API{"other"}}, `API "other" is unknown`},
		{CreateClientParams{Name: "a", TimeZone: "Mars/Base"}, `time zone "Mars/Base" is unknown`},
		{CreateClientParams{Name: "a", WindowDays: -1}, "window must be 1 to 3660"},
		{CreateClientParams{Name: "a", WindowDays: 3661}, "window must be 1 to 3660"},
		{CreateClientParams{Name: "a", Quota: -1}, "quota must be"},
		{CreateClientParams{Name: "a", Rate: -1}, "rate must be"},
	} {
		_, err := New(nil).CreateClient(t.Context(), tt.p)
		if trueup.ErrorKind(err) != trueup.EINVALID || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CreateClient(%+v) err = %v, want invalid %q", tt.p, err, tt.want)
		}
	}
	if apis, err := ParseAPIs(" multiple_order, multiple_order "); err != nil || len(apis) != 1 || apis[0] != APIMultipleOrder {
		t.Errorf("ParseAPIs = %v, %v", apis, err)
	}
	if apis, err := ParseAPIs(""); err != nil || len(apis) != 0 {
		t.Errorf("ParseAPIs(\"\") = %v, %v; want none", apis, err)
	}
}
