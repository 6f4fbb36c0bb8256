package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// openCSVString opens s with OpenCSV and fails the test on an error.
func openCSVString(tb testing.TB, s string) Reader {
	tb.Helper()
	r, err := OpenCSV(strings.NewReader(s), int64(len(s)))
	if err != nil {
		tb.Fatalf("OpenCSV: %v", err)
	}
	return r
}

func TestOpenCSV(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Row
	}{
		{
			name: "plain",
			in:   "a,b,c\n1,2,3\n",
			want: []Row{{1, []string{"a", "b", "c"}}, {2, []string{"1", "2", "3"}}},
		},
		{
			name: "no final newline and CRLF",
			in:   "a,b\r\n1,2",
			want: []Row{{1, []string{"a", "b"}}, {2, []string{"1", "2"}}},
		},
		{
			name: "BOM stripped",
			in:   "\ufeffcarrierOrderId,skuCode\nA1,1p500g\n",
			want: []Row{{1, []string{"carrierOrderId", "skuCode"}}, {2, []string{"A1", "1p500g"}}},
		},
		{
			name: "semicolons",
			in:   "\ufeffa;b;c\n1;2,5;3\n",
			want: []Row{{1, []string{"a", "b", "c"}}, {2, []string{"1", "2,5", "3"}}},
		},
		{
			name: "comma wins when the first line has both",
			in:   "a;x,b\n1;2,3\n",
			want: []Row{{1, []string{"a;x", "b"}}, {2, []string{"1;2", "3"}}},
		},
		{
			name: "blank lines and empty records skipped but counted",
			in:   "a,b\n\n1,2\n,\n , \n3,4\n\n",
			want: []Row{{1, []string{"a", "b"}}, {3, []string{"1", "2"}}, {6, []string{"3", "4"}}},
		},
		{
			name: "leading blank line",
			in:   "\na,b\n1,2\n",
			want: []Row{{2, []string{"a", "b"}}, {3, []string{"1", "2"}}},
		},
		{
			name: "quoted fields spanning lines count as one row",
			in:   "a,b\n\"x\ny\",\"p\r\nq\nr\"\n1,2\n\"m\nn\",z\n3,4\n",
			want: []Row{
				{1, []string{"a", "b"}},
				{2, []string{"x\ny", "p\nq\nr"}},
				{3, []string{"1", "2"}},
				{4, []string{"m\nn", "z"}},
				{5, []string{"3", "4"}},
			},
		},
		{
			name: "unicode and quotes",
			in:   "名称,\"say \"\"hi\"\"\"\n中国移动,\"=1+2\"\n",
			want: []Row{{1, []string{"名称", `say "hi"`}}, {2, []string{"中国移动", "=1+2"}}},
		},
		{name: "empty", in: "", want: nil},
		{name: "BOM only", in: "\ufeff", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRows(t, openCSVString(t, tt.in))
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOpenCSVErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		rowsOK   int // rows returned before the error
		wantRow  int64
		wantCol  string
		sentinel error
		wantCSV  bool // wraps a *csv.ParseError
	}{
		{
			name:   "bare quote",
			in:     "a,b\n1,2\n3,x\"y\n",
			rowsOK: 2, wantRow: 3, sentinel: ErrCorrupt, wantCSV: true,
		},
		{
			name:   "unterminated quote after a multi-line field",
			in:     "a,b\n\"1\n2\",3\n4,\"5\n",
			rowsOK: 2, wantRow: 3, sentinel: ErrCorrupt, wantCSV: true,
		},
		{
			name:   "invalid UTF-8 (GBK)",
			in:     "a,b\n1,\xd6\xd0\xb9\xfa\n",
			rowsOK: 1, wantRow: 2, wantCol: "B", sentinel: ErrEncoding,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := openCSVString(t, tt.in)
			rows, err := readRows(t, r)
			if len(rows) != tt.rowsOK {
				t.Errorf("got %d rows before the error, want %d", len(rows), tt.rowsOK)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Row != tt.wantRow || pe.Column != tt.wantCol {
				t.Errorf("place = row %d column %q, want row %d column %q", pe.Row, pe.Column, tt.wantRow, tt.wantCol)
			}
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			var ce *csv.ParseError
			if got := errors.As(err, &ce); got != tt.wantCSV {
				t.Errorf("wraps *csv.ParseError = %v, want %v (%v)", got, tt.wantCSV, err)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("second Next returned %v, want the same error %v", again, err)
			}
		})
	}
}

func TestOpenCSVReadError(t *testing.T) {
	boom := errors.New("boom")
	r, err := OpenCSV(io.MultiReader(strings.NewReader("a,b\n1,2\n"), iotest.ErrReader(boom)), 0)
	if err != nil {
		// The failure may surface at open, where the first line is examined.
		if !errors.Is(err, boom) {
			t.Fatalf("OpenCSV error %v does not wrap the read error", err)
		}
		return
	}
	_, err = readRows(t, r)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the read error", err)
	}
}

func TestOpenCSVProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 20000 {
		b.WriteString(strconv.Itoa(i) + ",x\n")
	}
	in := b.String()
	r, err := OpenCSV(iotest.HalfReader(strings.NewReader(in)), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Progress(); p < 0 || p > 0.5 {
		t.Errorf("progress before reading = %v, want near 0", p)
	}
	if rows := readWithProgress(t, r); rows != 20001 {
		t.Errorf("read %d rows, want 20001", rows)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestLetterOfColumn(t *testing.T) {
	tests := []struct {
		in   int
		want string
	}{{0, "A"}, {1, "B"}, {25, "Z"}, {26, "AA"}, {27, "AB"}, {51, "AZ"}, {52, "BA"}, {701, "ZZ"}, {702, "AAA"}, {16383, "XFD"}}
	for _, tt := range tests {
		if got := ColumnLetter(tt.in); got != tt.want {
			t.Errorf("ColumnLetter(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// benchCSV returns a CSV statement of n data rows of 10 columns, and its
// header.
func benchCSV(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	for i, c := range Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.Name)
	}
	b.WriteByte('\n')
	for i := range n {
		id := strconv.Itoa(100000000 + i)
		b.WriteString("CO" + id + ",U" + id + ",2025-09-03T08:00:00.000Z,1p500g,PKG1235666,")
		b.WriteString("2025-09-03T08:00:00.000Z,2025-10-03T08:00:00.000Z,10,0.5,0\n")
	}
	return b.Bytes()
}

// BenchmarkCSV reads TRUEUP_BENCH_ROWS rows (100000 by default) of 10
// columns through OpenCSV, and through a bare encoding/csv Reader for
// comparison. Run it with
//
//	TRUEUP_BENCH_ROWS=1000000 go test -run '^$' -bench CSV -benchmem ./internal/sheet/
func BenchmarkCSV(b *testing.B) {
	n := benchRows(b)
	data := benchCSV(b, n)
	b.Run("OpenCSV", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			r, err := OpenCSV(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			if rows := countRows(b, r); rows != n+1 {
				b.Fatalf("read %d rows, want %d", rows, n+1)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
	})
	b.Run("encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			c := csv.NewReader(bytes.NewReader(data))
			c.ReuseRecord = true
			c.FieldsPerRecord = -1
			rows := 0
			for {
				_, err := c.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				rows++
			}
			if rows != n+1 {
				b.Fatalf("read %d rows, want %d", rows, n+1)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/row")
	})
}

func TestCountingReaderUTF8(t *testing.T) {
	samples := []string{
		"plain ascii",
		"中国移动,é,😀",
		"\xef\xbb\xbfa,b",
		"a\xd6\xd0b",          // GBK
		"ab\xe4\xb8",          // cut at the end
		"\xe4\xb8\xad\xe4",    // cut at the end after a whole character
		"x\x80y",              // stray continuation byte
		"\xed\xa0\x80",        // surrogate
		"\xc0\xaf",            // overlong
		"😀\xf0\x9f\x98",       // four-byte character cut
		"a😀b\xf4\x90\x80\x80", // beyond U+10FFFF
	}
	for _, s := range samples {
		want := !utf8.ValidString(s)
		// Every way of cutting s into chunks of one to five bytes.
		for chunk := 1; chunk <= 5; chunk++ {
			for first := 0; first <= len(s); first++ {
				c := &countingReader{r: strings.NewReader(s)}
				var parts []string
				parts = append(parts, s[:first])
				for rest := s[first:]; rest != ""; {
					k := min(chunk, len(rest))
					parts = append(parts, rest[:k])
					rest = rest[k:]
				}
				for _, p := range parts {
					c.check([]byte(p))
				}
				if c.nCarry > 0 {
					c.invalid = true // what Read does at the end of the input
				}
				if c.invalid != want {
					t.Errorf("%q cut as %q: invalid = %v, want %v", s, parts, c.invalid, want)
				}
			}
		}
	}
}

func TestOpenCSVInvalidUTF8OneByteReads(t *testing.T) {
	tests := []struct {
		in      string
		wantRow int64
		wantCol string
	}{
		{"a,b\n中,国\n", 0, ""},
		{"a,b\n中,国\n1,\xe4\xb8", 3, "B"},
		{"a,b\n中,国\n\xe4\n", 3, "A"},
		{"a,b\n中,\"x\ny\xff\"\n", 2, "B"},
	}
	for _, tt := range tests {
		r, err := OpenCSV(iotest.OneByteReader(strings.NewReader(tt.in)), int64(len(tt.in)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = readRows(t, r)
		var pe *ParseError
		switch {
		case tt.wantRow == 0 && err != nil:
			t.Errorf("%q: unexpected error %v", tt.in, err)
		case tt.wantRow == 0:
		case !errors.As(err, &pe) || !errors.Is(err, ErrEncoding):
			t.Errorf("%q: error %v, want a *ParseError wrapping ErrEncoding", tt.in, err)
		case pe.Row != tt.wantRow || pe.Column != tt.wantCol:
			t.Errorf("%q: place row %d column %q, want row %d column %q", tt.in, pe.Row, pe.Column, tt.wantRow, tt.wantCol)
		}
	}
}
