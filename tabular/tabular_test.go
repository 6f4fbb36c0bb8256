package tabular_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/tabular"
)

var spec = tabular.Spec{
	Columns: []sheet.Column{
		{Name: "order_id", Required: true},
		{Name: "amount", Required: true},
		{Name: "note"},
	},
	What: "a test field",
}

// readAll returns every record of src as column=value lists, or the first
// error.
func readAll(tb testing.TB, src tabular.Source) ([]string, error) {
	tb.Helper()
	var out []string
	for {
		n, get, err := src.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var fields []string
		for _, c := range spec.Columns {
			fields = append(fields, c.Name+"="+get(c.Name))
		}
		out = append(out, strings.Join(append([]string{strconv.FormatInt(n, 10)}, fields...), " "))
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"order_id", "orderid"},
		{"Order ID", "orderid"},
		{"orderId", "orderid"},
		{"\ufeff order-id\t", "orderid"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := tabular.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMapHeader(t *testing.T) {
	tests := []struct {
		name     string
		cells    []string
		want     map[string]int
		wantText string // in the error, "" for none
	}{
		{"exact", []string{"order_id", "amount", "note"}, map[string]int{"order_id": 0, "amount": 1, "note": 2}, ""},
		{"case, spaces, order and empty cells", []string{"", "AMOUNT", "Order Id", ""}, map[string]int{"order_id": 2, "amount": 1}, ""},
		{"unknown", []string{"order_id", "amount", "colour"}, nil, `header column 3 "colour" is not a test field; the accepted columns are order_id, amount, note`},
		{"twice", []string{"order_id", "amount", "OrderId"}, nil, `header column "order_id" appears twice; keep one`},
		{"missing", []string{"note"}, nil, "header lacks required column(s) order_id, amount; add them to the first row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := spec.MapHeader(tt.cells)
			if tt.wantText != "" {
				if err == nil || err.Error() != tt.wantText || trueup.ErrorKind(err) != trueup.EINVALID {
					t.Fatalf("error %v (%s), want %q (EINVALID)", err, trueup.ErrorKind(err), tt.wantText)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestSheetSource(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		want     []string
		wantText string // in the error of NewSheetSource or Next
	}{
		{"rows", "Order ID,amount\nA,1.50\nB,2\n", []string{"2 order_id=A amount=1.50 note=", "3 order_id=B amount=2 note="}, ""},
		{"short row", "amount,note,order_id\n3,x\n", nil, "row 2: the row has 2 fields but the header has 3"},
		{"empty", "", nil, "the file is empty; the first row must name the columns: order_id, amount, note"},
		{"bad header", "order_id\n", nil, "header lacks required column(s) amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := sheet.Open(strings.NewReader(tt.text), int64(len(tt.text)), sheet.CSV)
			if err != nil {
				t.Fatal(err)
			}
			src, err := tabular.NewSheetSource(r, spec)
			var got []string
			if err == nil {
				got, err = readAll(t, src)
				src.Close()
			}
			checkRead(t, got, err, tt.want, tt.wantText)
		})
	}
}

func TestJSONLSource(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		want     []string
		wantText string
	}{
		{"values as written", `{"order_id":"A","amount":1.50,"note":null}` + "\n\n" + `{"Order ID":"B","amount":2e3,"note":true}` + "\n",
			[]string{"1 order_id=A amount=1.50 note=", "3 order_id=B amount=2e3 note=true"}, ""},
		{"unknown key", `{"order_id":"A"}` + "\n" + `{"colour":"red"}`, []string{"1 order_id=A amount= note="},
			`line 2: key "colour" is not a test field; the accepted keys are order_id, amount, note`},
		{"not an object", `["A"]`, nil, "line 1 is not a JSON object"},
		{"trailing data", `{"order_id":"A"} x`, nil, "line 1 is not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closed := false
			src := tabular.NewJSONLSource(strings.NewReader(tt.text), int64(len(tt.text)), func() error { closed = true; return nil }, spec)
			got, err := readAll(t, src)
			if err == nil && src.Progress() != 1 {
				t.Errorf("Progress() = %v at the end, want 1", src.Progress())
			}
			if src.Close(); !closed {
				t.Error("Close did not call closer")
			}
			checkRead(t, got, err, tt.want, tt.wantText)
		})
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		file, text string
		want       []string
		wantText   string
	}{
		{"orders.csv", "order_id,amount\nA,1\n", []string{"2 order_id=A amount=1 note="}, ""},
		{"orders.JSONL", `{"order_id":"A","amount":"1"}`, []string{"1 order_id=A amount=1 note="}, ""},
		{"orders.ndjson", `{"order_id":"A","amount":1}`, []string{"1 order_id=A amount=1 note="}, ""},
		{"orders.txt", "order_id,amount\nA,1\n", nil, "orders.txt: "},
		{"bad.csv", "order_id\nA\n", nil, "bad.csv: header lacks required column(s) amount"},
		{"orders.pdf", "%PDF-1.4\n", nil, "orders.pdf: "},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			src, size, err := tabular.Open(path, spec)
			var got []string
			if err == nil {
				if size != int64(len(tt.text)) {
					t.Errorf("size %d, want %d", size, len(tt.text))
				}
				got, err = readAll(t, src)
				if cerr := src.Close(); cerr != nil {
					t.Errorf("Close: %v", cerr)
				}
			}
			checkRead(t, got, err, tt.want, tt.wantText)
		})
	}
	if _, _, err := tabular.Open(filepath.Join(dir, "absent.csv"), spec); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v, want os.ErrNotExist", err)
	}
}

func checkRead(tb testing.TB, got []string, err error, want []string, wantText string) {
	tb.Helper()
	if wantText == "" && err != nil {
		tb.Fatalf("error %v", err)
	}
	if wantText != "" && (err == nil || !strings.Contains(err.Error(), wantText)) {
		tb.Fatalf("error %v, want one containing %q", err, wantText)
	}
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("records %q, want %q", got, want)
	}
}

func TestRowErrors(t *testing.T) {
	tests := []struct {
		name string
		add  int
		want string
		kept int
	}{
		{"one", 1, `1 row error(s); nothing was imported; row 1 column amount value "x": not a number`, 1},
		{"six", 6, "6 row error(s); nothing was imported" + strings.Repeat(`; row 1 column amount value "x": not a number`, 5) + "; ...", 6},
		{"too many", tabular.MaxReportedErrors + 3, "", tabular.MaxReportedErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &tabular.RowErrors{}
			for range tt.add {
				e.Add(trueup.RowError{Row: 1, Column: "amount", Value: "x", Reason: "not a number"})
			}
			if e.Total != tt.add || len(e.Rows) != tt.kept {
				t.Errorf("Total %d, %d rows; want %d, %d", e.Total, len(e.Rows), tt.add, tt.kept)
			}
			if tt.want != "" && e.Error() != tt.want {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.want)
			}
		})
	}
}
