package sheet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// xlsFixture returns the content of testdata/xls/name.
func xlsFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/xls/" + name)
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// openXLSBytes opens b with OpenXLS.
func openXLSBytes(b []byte) (Reader, error) {
	return OpenXLS(bytes.NewReader(b), int64(len(b)))
}

func TestOpenXLS(t *testing.T) {
	header := templateHeader()
	// The fixtures' cells as make.sh writes them; 45903.333333333336 is
	// 2025-09-03 08:00 and 45957.4915159375 2025-10-27 11:47:46.977.
	const t1, t2 = "45903.333333333336", "45957.4915159375"
	many := []Row{{1, []string{"id", "name", "amount"}}}
	for i := 1; i <= 500; i++ {
		many = append(many, Row{int64(i + 1), []string{
			fmt.Sprintf("order-%05d", i),
			fmt.Sprintf("用户%d号é%s", i, strings.Repeat("测", i%23)),
			strconv.FormatFloat(float64(i)/4, 'f', -1, 64),
		}})
	}
	tests := []struct {
		file string
		want []Row
	}{
		{
			// Strings, numbers, decimals, date and date-time cells, an empty
			// cell, a blank but formatted row (4), unicode, formulas (D6, I6,
			// J5), a percentage (J5), a boolean; the second sheet is ignored.
			file: "statement.xls",
			want: []Row{
				{1, header},
				{2, []string{"CO-1001", "U-1", t1, "1p500g", "PKG1", "45903", t2, "10", "0.5", "0"}},
				{3, []string{"中国移动-订单2", "😀user", "2025-09-03T08:00:00.000Z", "1p500g", "1235666", t1, t2, "", "9.9", "1"}},
				{5, []string{"123124444435355", "4565523231", t2, "2p1g", "PKG3", t1, t2, "-3", "-0.25", "0.05"}},
				{6, []string{"CO-1004", "U-4", t1, "sku-U-1", "PKG4", t1, t2, "30", "1.5", "TRUE"}},
			},
		},
		{
			// A workbook of the 1904 date system: the date reads as in 1900.
			file: "date1904.xls",
			want: []Row{
				{1, []string{"carrierOrderId", "carrierOrderTime", "carrierSale"}},
				{2, []string{"CO-1", t1, "2.5"}},
			},
		},
		{
			// A shared string table over 8 KiB, continued in CONTINUE records.
			file: "many.xls",
			want: many,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := openXLSBytes(xlsFixture(t, tt.file))
			if err != nil {
				t.Fatalf("OpenXLS: %v", err)
			}
			if p := r.Progress(); p != 0 {
				t.Errorf("progress before reading = %v, want 0", p)
			}
			got, err := readRows(t, r)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("read %d rows, want %d", len(got), len(tt.want))
			}
			for i := range min(len(got), len(tt.want)) {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("row %d:\n got %d %q\nwant %d %q", i, got[i].Number, got[i].Cells, tt.want[i].Number, tt.want[i].Cells)
				}
			}
			if p := r.Progress(); p != 1 {
				t.Errorf("progress at the end = %v, want 1", p)
			}
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestOpenXLSSerialDates checks that the serial numbers of the fixture's
// date cells are the times written, to the millisecond.
func TestOpenXLSSerialDates(t *testing.T) {
	tests := []struct {
		serial string
		want   string
	}{
		{"45903.333333333336", "2025-09-03T08:00:00.000Z"},
		{"45957.4915159375", "2025-10-27T11:47:46.977Z"},
		{"45903", "2025-09-03T00:00:00.000Z"},
	}
	for _, tt := range tests {
		v, err := strconv.ParseFloat(tt.serial, 64)
		if err != nil {
			t.Fatal(err)
		}
		ms := math.Round((v - 25569) * 86400000) // days since 1970-01-01
		got := time.UnixMilli(int64(ms)).UTC().Format("2006-01-02T15:04:05.000Z")
		if got != tt.want {
			t.Errorf("serial %s is %s, want %s", tt.serial, got, tt.want)
		}
	}
}

func TestOpenXLSErrors(t *testing.T) {
	good := xlsFixture(t, "statement.xls")
	patch := func(old, new []byte) []byte {
		i := bytes.Index(good, old)
		if i < 0 {
			t.Fatalf("fixture lacks % x", old)
		}
		b := bytes.Clone(good)
		copy(b[i:], new)
		return b
	}
	// The workbook globals' BOF record: type 0809, 16 bytes, BIFF8, globals.
	bof := []byte{0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00}
	tests := []struct {
		name     string
		in       []byte
		sentinel error
		wantText string
	}{
		{name: "empty", in: nil, sentinel: ErrEmpty},
		{name: "csv", in: []byte("a,b\n1,2\n"), sentinel: ErrWrongFormat, wantText: "it looks like CSV text"},
		{name: "xlsx", in: []byte("PK\x03\x04rest of a zip"), sentinel: ErrWrongFormat, wantText: "not an xls (Excel 97-2003) workbook"},
		{name: "magic only", in: ole2Magic, sentinel: ErrCorrupt},
		{
			name: "compound file without a workbook", in: patch(biffUTF16("Workbook"), biffUTF16("Xorkbook")),
			sentinel: ErrWrongFormat, wantText: "not an Excel workbook",
		},
		{
			name: "Excel 95", in: patch(bof, []byte{0x09, 0x08, 0x10, 0x00, 0x00, 0x05, 0x05, 0x00}),
			sentinel: ErrWrongFormat, wantText: "Excel 5.0/95 workbook",
		},
		{
			name: "older than Excel 5", in: patch(bof, []byte{0x09, 0x04}),
			sentinel: ErrWrongFormat, wantText: "older than Excel 5.0",
		},
		{name: "truncated to half", in: good[:len(good)/2], sentinel: ErrCorrupt},
		{name: "truncated by one byte", in: good[:len(good)-1], sentinel: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openXLSBytes(tt.in)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("OpenXLS = %v, %v; want an error wrapping %v", r, err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("message %q lacks %q", err, tt.wantText)
			}
		})
	}
}

// TestOpenXLSTruncated cuts a fixture at many places: each cut file must
// fail with an error wrapping ErrCorrupt (or ErrWrongFormat when too short
// to be recognised), or read every row; never fewer.
func TestOpenXLSTruncated(t *testing.T) {
	for _, file := range []string{"statement.xls", "many.xls"} {
		good := xlsFixture(t, file)
		r, err := openXLSBytes(good)
		if err != nil {
			t.Fatal(err)
		}
		want, err := readRows(t, r)
		if err != nil {
			t.Fatal(err)
		}
		step := max(1, len(good)/400)
		cuts, corrupt := 0, 0
		for n := 0; n < len(good); n += step {
			cuts++
			r, err := openXLSBytes(good[:n])
			switch {
			case n < len(ole2Magic) && errors.Is(err, ErrWrongFormat), n == 0 && errors.Is(err, ErrEmpty):
			case errors.Is(err, ErrCorrupt):
				corrupt++
			case err != nil:
				t.Errorf("%s cut to %d bytes: error %v wraps neither ErrCorrupt nor ErrWrongFormat", file, n, err)
			default:
				got, err := readRows(t, r)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("%s cut to %d bytes: read %d rows (%v), want an error or all %d", file, n, len(got), err, len(want))
				}
			}
		}
		t.Logf("%s: %d of %d cuts reported as corrupt", file, corrupt, cuts)
	}
}

// FuzzOpenXLS checks that no input makes OpenXLS panic, and that its errors
// wrap the package's sentinels. The seeds are the fixtures.
func FuzzOpenXLS(f *testing.F) {
	for _, name := range []string{"statement.xls", "date1904.xls"} {
		f.Add(xlsFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := openXLSBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongFormat) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if _, err := readRows(t, r); err != nil {
			t.Fatalf("Next failed after a successful open: %v", err)
		}
	})
}

// TestOpenXLSFlippedBytes damages a fixture one byte at a time: OpenXLS must
// not panic and must return the package's sentinel errors.
func TestOpenXLSFlippedBytes(t *testing.T) {
	good := xlsFixture(t, "statement.xls")
	for i := 0; i < len(good); i += 7 {
		b := bytes.Clone(good)
		b[i] ^= 0xA5
		r, err := openXLSBytes(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrWrongFormat) {
				t.Errorf("byte %d flipped: error %v wraps neither ErrCorrupt nor ErrWrongFormat", i, err)
			}
			continue
		}
		if _, err := readRows(t, r); err != nil {
			t.Errorf("byte %d flipped: Next failed after a successful open: %v", i, err)
		}
	}
}

// biffRecord returns a BIFF record of type typ whose data is the
// concatenation of parts.
func biffRecord(typ uint16, parts ...[]byte) []byte {
	d := bytes.Join(parts, nil)
	b := binary.LittleEndian.AppendUint16(nil, typ)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(d)))
	return append(b, d...)
}

func biffU16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func biffU32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func biffF64(v float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
}

// biffCellHead returns the row, column and XF index that start a cell record.
func biffCellHead(row, col, xf uint16) []byte {
	return bytes.Join([][]byte{biffU16(row), biffU16(col), biffU16(xf)}, nil)
}

// biffRK returns the RK encoding of integer v, divided by 100 when x100.
func biffRK(v int32, x100 bool) []byte {
	rk := uint32(v)<<2 | 2
	if x100 {
		rk |= 1
	}
	return biffU32(rk)
}

// buildBIFF returns a BIFF8 workbook stream: globals holding XF records of
// the given number formats (XF 0 General, 1 a built-in date, 2 a custom
// date-time), the extra globals records, one worksheet whose substream
// holds the sheet records, and a chart sheet listed first.
func buildBIFF(extraGlobals []byte, sheet ...[]byte) []byte {
	bofGlobals := biffRecord(recBOF, biffU16(0x0600), biffU16(0x0005), make([]byte, 12))
	var globals []byte
	globals = append(globals, bofGlobals...)
	for _, ifmt := range []uint16{0, 14, 200} {
		globals = append(globals, biffRecord(recXF, biffU16(0), biffU16(ifmt), make([]byte, 16))...)
	}
	code := "yyyy-mm-dd hh:mm"
	globals = append(globals, biffRecord(recFormat, biffU16(200), biffU16(uint16(len(code))), []byte{0}, []byte(code))...)
	globals = append(globals, extraGlobals...)
	name := "账单"
	chartName := []byte("Chart1")
	sheetRec := func(pos uint32, dt byte, name []byte, wide bool) []byte {
		flags, n := byte(0), len(name)
		if wide {
			flags, n = 1, len(name)/2
		}
		return biffRecord(recBoundSheet, biffU32(pos), []byte{0, dt, byte(n), flags}, name)
	}
	var wideName []byte
	for _, u := range utf16.Encode([]rune(name)) {
		wideName = binary.LittleEndian.AppendUint16(wideName, u)
	}
	eof := biffRecord(recEOF)
	// Lay out: globals, two BOUNDSHEETs, EOF, chart substream, worksheet.
	headLen := len(globals) + len(sheetRec(0, 2, chartName, false)) + len(sheetRec(0, 0, wideName, true)) + len(eof)
	chart := bytes.Join([][]byte{biffRecord(recBOF, biffU16(0x0600), biffU16(0x0020), make([]byte, 12)), eof}, nil)
	sheetPos := uint32(headLen + len(chart))
	var b []byte
	b = append(b, globals...)
	b = append(b, sheetRec(uint32(headLen), 2, chartName, false)...)
	b = append(b, sheetRec(sheetPos, 0, wideName, true)...)
	b = append(b, eof...)
	b = append(b, chart...)
	b = append(b, biffRecord(recBOF, biffU16(0x0600), biffU16(0x0010), make([]byte, 12))...)
	for _, r := range sheet {
		b = append(b, r...)
	}
	return append(b, eof...)
}

func TestParseBIFF(t *testing.T) {
	formulaString := bytes.Join([][]byte{biffCellHead(3, 0, 0), {0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, make([]byte, 8)}, nil)
	formulaBool := bytes.Join([][]byte{biffCellHead(3, 1, 0), {1, 0, 1, 0, 0, 0, 0xFF, 0xFF}, make([]byte, 8)}, nil)
	formulaErr := bytes.Join([][]byte{biffCellHead(3, 2, 0), {2, 0, 0x2A, 0, 0, 0, 0xFF, 0xFF}, make([]byte, 8)}, nil)
	formulaEmpty := bytes.Join([][]byte{biffCellHead(3, 3, 0), {3, 0, 0, 0, 0, 0, 0xFF, 0xFF}, make([]byte, 8)}, nil)
	formulaNum := bytes.Join([][]byte{biffCellHead(3, 4, 2), biffF64(45903.5), make([]byte, 6)}, nil)
	sst := biffRecord(recSST, biffU32(3), biffU32(3),
		biffU16(3), []byte{0}, []byte("abc"), // compressed
		biffU16(2), []byte{1}, biffUTF16("中文"), // wide
		biffU16(6), []byte{0x08}, biffU16(1), []byte("rich"), // formatting runs: cut by the record's end
	)
	sstMore := biffRecord(recContinue, []byte{0}, []byte("xt"), biffU32(0)) // the rest: flags byte, chars, the run
	stream := buildBIFF(bytes.Join([][]byte{biffRecord(recDateMode, biffU16(1)), sst, sstMore}, nil),
		biffRecord(recLabelSST, biffCellHead(0, 0, 0), biffU32(0)),
		biffRecord(recLabelSST, biffCellHead(0, 1, 0), biffU32(1)),
		biffRecord(recLabelSST, biffCellHead(0, 2, 0), biffU32(2)),
		biffRecord(recLabel, biffCellHead(0, 3, 0), biffU16(4), []byte{0}, []byte{'c', 'a', 'f', 0xE9}), // Latin-1 é
		biffRecord(recRK, biffCellHead(1, 0, 0), biffRK(-3, false)),
		biffRecord(recRK, biffCellHead(1, 1, 0), biffRK(-25, true)),
		biffRecord(recMulRK, biffU16(1), biffU16(2), biffU16(0), biffRK(7, false), biffU16(1), biffRK(44441, false), biffU16(2), biffRK(4443950, true), biffU16(4)),
		biffRecord(recNumber, biffCellHead(1, 6, 0), biffF64(0.30000000000000004)),
		biffRecord(recNumber, biffCellHead(1, 7, 99), biffF64(1.5)), // an XF index past the table
		biffRecord(recBoolErr, biffCellHead(2, 0, 0), []byte{1, 0}),
		biffRecord(recBoolErr, biffCellHead(2, 1, 0), []byte{0x07, 1}),
		biffRecord(biffBlank, biffCellHead(2, 5, 1)),
		// An embedded chart: its records are not cells.
		biffRecord(recBOF, biffU16(0x0600), biffU16(0x0020), make([]byte, 12)),
		biffRecord(recNumber, biffCellHead(2, 9, 0), biffF64(99)),
		biffRecord(recEOF),
		biffRecord(recFormula, formulaString),
		biffRecord(recString, biffU16(8), []byte{0}, []byte("long")),
		biffRecord(recContinue, []byte{1}, biffUTF16("文本ab")),
		biffRecord(recFormula, formulaBool),
		biffRecord(recFormula, formulaErr),
		biffRecord(recFormula, formulaEmpty),
		biffRecord(recFormula, formulaNum),
		biffRecord(recNumber, biffCellHead(4, 1, 0), biffF64(1)),
		biffRecord(recNumber, biffCellHead(4, 1, 0), biffF64(2)),   // a later record for the same cell wins
		biffRecord(recLabelSST, biffCellHead(4, 0, 0), biffU32(0)), // out of order
	)
	b, err := DefaultLimits().parseBIFF(stream)
	if err != nil {
		t.Fatalf("parseBIFF: %v", err)
	}
	if b.sheet != "账单" || !b.date1904 {
		t.Errorf("sheet %q, date1904 %v; want 账单, true", b.sheet, b.date1904)
	}
	r := &xlsReader{cells: b.cells}
	got, err := readRows(t, r)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{1, []string{"abc", "中文", "richxt", "café"}},
		{2, []string{"-3", "-0.25", "7", "45903", "45901.5", "", "0.30000000000000004", "1.5"}},
		{3, []string{"TRUE", "#DIV/0!"}},
		{4, []string{"long文本ab", "TRUE", "#N/A", "", "47365.5"}},
		{5, []string{"abc", "2"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
}

// biffBlank is the BLANK record, which OpenXLS skips.
const biffBlank = 0x0201

// biffUTF16 returns s in UTF-16LE.
func biffUTF16(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func TestParseBIFFErrors(t *testing.T) {
	tests := []struct {
		name     string
		stream   []byte
		sentinel error
		wantText string
	}{
		{
			name:     "shared string index out of range",
			stream:   buildBIFF(biffRecord(recSST, biffU32(1), biffU32(1), biffU16(1), []byte{0}, []byte("a")), biffRecord(recLabelSST, biffCellHead(2, 1, 0), biffU32(5))),
			sentinel: ErrCorrupt, wantText: "row 3 column B refers to shared string 5 of 1",
		},
		{
			name:     "shared string table shorter than its count",
			stream:   buildBIFF(biffRecord(recSST, biffU32(2), biffU32(2), biffU16(1), []byte{0}, []byte("a"), biffU16(9), []byte{0}, []byte("ab"))),
			sentinel: ErrCorrupt, wantText: "a string runs past the end of its records",
		},
		{
			name:     "shared string count beyond the data",
			stream:   buildBIFF(biffRecord(recSST, biffU32(1), biffU32(0xFFFFFFF), biffU16(1), []byte{0}, []byte("a"))),
			sentinel: ErrCorrupt, wantText: "claims 268435455 strings",
		},
		{
			name:     "column past IV",
			stream:   buildBIFF(nil, biffRecord(recNumber, biffCellHead(0, 256, 0), biffF64(1))),
			sentinel: ErrCorrupt, wantText: "column 257",
		},
		{
			name:     "short cell record",
			stream:   buildBIFF(nil, biffRecord(recNumber, biffCellHead(0, 1, 0), []byte{1, 2, 3})),
			sentinel: ErrCorrupt, wantText: "NUMBER record is 9 bytes long",
		},
		{
			name:     "sheet without its end",
			stream:   buildBIFF(nil)[:len(buildBIFF(nil))-4],
			sentinel: ErrCorrupt, wantText: "before its end record",
		},
		{
			name:     "record past the end",
			stream:   append(buildBIFF(nil), 0x03, 0x02, 0xFF),
			sentinel: nil,
		},
		{
			name: "no worksheet",
			stream: bytes.Join([][]byte{
				biffRecord(recBOF, biffU16(0x0600), biffU16(0x0005), make([]byte, 12)),
				biffRecord(recBoundSheet, biffU32(0), []byte{0, 2, 1, 0, 'C'}),
				biffRecord(recEOF),
			}, nil),
			sentinel: ErrWrongFormat, wantText: "no worksheet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DefaultLimits().parseBIFF(tt.stream)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("parseBIFF: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("parseBIFF error %v does not wrap %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("message %q lacks %q", err, tt.wantText)
			}
		})
	}
}

func TestRKValue(t *testing.T) {
	tests := []struct {
		rk   []byte
		want float64
	}{
		{biffRK(0, false), 0},
		{biffRK(1235666, false), 1235666},
		{biffRK(-3, false), -3},
		{biffRK(-536870912, false), -536870912}, // the smallest 30-bit integer
		{biffRK(536870911, false), 536870911},
		{biffRK(50, true), 0.5},
		{biffRK(990, true), 9.9},
		{biffRK(-25, true), -0.25},
		{biffU32(uint32(math.Float64bits(45903) >> 32)), 45903},
		{biffU32(uint32(math.Float64bits(-2.5) >> 32)), -2.5},
		{biffU32(uint32(math.Float64bits(1234.5)>>32) | 1), 12.345},
	}
	for _, tt := range tests {
		if got := rkValue(binary.LittleEndian.Uint32(tt.rk)); got != tt.want {
			t.Errorf("rkValue(% x) = %v, want %v", tt.rk, got, tt.want)
		}
	}
}

func TestParseSSTSplits(t *testing.T) {
	tests := []struct {
		name string
		segs [][]byte
		want []string
	}{
		{
			name: "compressed then wide after the break",
			segs: [][]byte{
				bytes.Join([][]byte{biffU32(1), biffU32(1), biffU16(5), {0}, []byte("ab")}, nil),
				bytes.Join([][]byte{{1}, biffUTF16("中文é")}, nil),
			},
			want: []string{"ab中文é"},
		},
		{
			name: "wide then compressed after the break",
			segs: [][]byte{
				bytes.Join([][]byte{biffU32(2), biffU32(2), biffU16(3), {1}, biffUTF16("中")}, nil),
				bytes.Join([][]byte{{0}, []byte("xy"), biffU16(1), {0}, []byte("z")}, nil),
			},
			want: []string{"中xy", "z"},
		},
		{
			name: "header cut by the break",
			segs: [][]byte{
				bytes.Join([][]byte{biffU32(2), biffU32(2), biffU16(1), {0}, []byte("a"), biffU16(2)}, nil),
				bytes.Join([][]byte{{0}, []byte("bc")}, nil),
			},
			want: []string{"a", "bc"},
		},
		{
			name: "string ends at the break",
			segs: [][]byte{
				bytes.Join([][]byte{biffU32(2), biffU32(2), biffU16(2), {0}, []byte("ab")}, nil),
				bytes.Join([][]byte{biffU16(1), {1}, biffUTF16("中")}, nil),
			},
			want: []string{"ab", "中"},
		},
		{
			name: "phonetic block across the break",
			segs: [][]byte{
				bytes.Join([][]byte{biffU32(2), biffU32(2), biffU16(1), {0x04}, biffU32(6), []byte("a"), {1, 2, 3}}, nil),
				bytes.Join([][]byte{{4, 5, 6}, biffU16(1), {0}, []byte("b")}, nil),
			},
			want: []string{"a", "b"},
		},
		{
			name: "empty strings",
			segs: [][]byte{bytes.Join([][]byte{biffU32(2), biffU32(2), biffU16(0), {0}, biffU16(0), {1}}, nil)},
			want: []string{"", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSST(tt.segs, DefaultSharedStrings)
			if err != nil {
				t.Fatalf("parseSST: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestManyXLSSpansContinue checks that the fixture many.xls still holds a
// shared string table continued in several CONTINUE records, which its test
// is for.
func TestManyXLSSpansContinue(t *testing.T) {
	b := xlsFixture(t, "many.xls")
	stream, err := DefaultLimits().workbookStream(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	recs := &biffRecords{b: stream}
	var prev uint16
	continues := 0
	for {
		typ, _, err := recs.next()
		if err != nil {
			t.Fatal(err)
		}
		if typ == recContinue && (prev == recSST || prev == recContinue) {
			continues++
		}
		if typ == recEOF {
			break
		}
		prev = typ
	}
	if continues < 2 {
		t.Errorf("the shared string table spans %d CONTINUE records, want 2 or more", continues)
	}
}

func TestXLSReaderProgress(t *testing.T) {
	r, err := openXLSBytes(xlsFixture(t, "many.xls"))
	if err != nil {
		t.Fatal(err)
	}
	prev := r.Progress()
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := r.Progress()
		if p <= prev || p > 1 {
			t.Fatalf("progress went from %v to %v", prev, p)
		}
		prev = p
	}
	if prev != 1 {
		t.Errorf("progress at the end = %v, want 1", prev)
	}
}
