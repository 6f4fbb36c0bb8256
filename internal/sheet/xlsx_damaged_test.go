package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestOpenXLSXDamaged(t *testing.T) {
	sst := xlsxSSTXML(`<t>even</t>`, `<t>odd</t>`)
	sheet := xlsxSheetXML(xlsxManyRows(2000))
	good := xlsxBook{sst: sst, sheet: sheet}
	// A sheet over xlsxPrefetchMin, read ahead by a goroutine.
	big := xlsxSheetXML(xlsxManyRows(12000))
	if len(big) < 1<<20+1<<17 {
		t.Fatalf("the large sheet has only %d bytes", len(big))
	}
	// flip returns data with a byte in the middle of the part name's data
	// changed by change.
	flip := func(t *testing.T, data []byte, name string, change func(byte) byte) []byte {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == name {
				off, err := f.DataOffset()
				if err != nil {
					t.Fatal(err)
				}
				d := bytes.Clone(data)
				i := off + int64(f.CompressedSize64)/2
				d[i] = change(d[i])
				return d
			}
		}
		t.Fatalf("no %s", name)
		return nil
	}
	// digit turns a digit into another one, so that the XML stays
	// well-formed and only the CRC finds the change.
	digit := func(t *testing.T, data []byte) []byte {
		t.Helper()
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		off, err := zr.File[len(zr.File)-1].DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		d := bytes.Clone(data)
		for i := off + int64(zr.File[len(zr.File)-1].CompressedSize64)/2; ; i++ {
			if d[i] >= '0' && d[i] <= '8' && d[i-1] >= '0' && d[i-1] <= '9' {
				d[i]++
				return d
			}
		}
	}
	tests := []struct {
		name     string
		data     func(t *testing.T) []byte
		openErr  error // wanted from OpenXLSX
		readErr  error // wanted from Next
		also     error // also wrapped
		maxRows  int   // at most this many rows before the error
		row      int64 // the error's row, when not 0
		column   string
		nonEmpty bool // the reader must return some rows before failing
	}{{
		name: "cut at a row boundary",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 700)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  700,
		row:      701,
		nonEmpty: true,
	}, {
		name: "cut at a row boundary of a large sheet",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, big, "</row>", 11000)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  11000,
		row:      11001,
		nonEmpty: true,
	}, {
		name: "cut inside a tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 700) + "<row r=\"701\"><c r=\"A7"}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 700,
	}, {
		name: "cut inside a value",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxCutAfter(t, sheet, "</row>", 3) + `<row r="4"><c r="A4"><v>12`}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 3,
	}, {
		name: "no closing worksheet tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: strings.TrimSuffix(sheet, "<pageMargins left=\"0.7\"/></worksheet>")}.zip(t)
		},
		readErr: ErrCorrupt,
		maxRows: 2000,
	}, {
		name:    "no sheetData",
		data:    func(t *testing.T) []byte { return xlsxBook{sheet: `<worksheet ` + xlsxNS + `></worksheet>`}.zip(t) },
		readErr: ErrCorrupt,
	}, {
		name: "flipped compressed byte",
		data: func(t *testing.T) []byte {
			return flip(t, good.zip(t), "xl/worksheets/sheet1.xml", func(b byte) byte { return b ^ 0x55 })
		},
		readErr: ErrCorrupt,
		maxRows: 2000,
	}, {
		name: "flipped compressed byte in a large sheet",
		data: func(t *testing.T) []byte {
			return flip(t, xlsxBook{sst: sst, sheet: big}.zip(t), "xl/worksheets/sheet1.xml", func(b byte) byte { return b ^ 0x55 })
		},
		readErr: ErrCorrupt,
		maxRows: 12000,
	}, {
		name:     "CRC mismatch in a large stored sheet",
		data:     func(t *testing.T) []byte { return digit(t, xlsxBook{sst: sst, sheet: big, store: true}.zip(t)) },
		readErr:  ErrCorrupt,
		also:     zip.ErrChecksum,
		maxRows:  12000,
		nonEmpty: true,
	}, {
		name:     "CRC mismatch in a stored sheet",
		data:     func(t *testing.T) []byte { return digit(t, xlsxBook{sst: sst, sheet: sheet, store: true}.zip(t)) },
		readErr:  ErrCorrupt,
		also:     zip.ErrChecksum,
		maxRows:  2000,
		nonEmpty: true,
	}, {
		name: "flipped byte in the shared strings",
		data: func(t *testing.T) []byte {
			return flip(t, good.zip(t), "xl/sharedStrings.xml", func(b byte) byte { return b ^ 0x55 })
		},
		openErr: ErrCorrupt,
	}, {
		name:    "truncated file",
		data:    func(t *testing.T) []byte { d := good.zip(t); return d[:len(d)/2] },
		openErr: ErrCorrupt,
	}, {
		name:    "truncated end of central directory",
		data:    func(t *testing.T) []byte { d := good.zip(t); return d[:len(d)-5] },
		openErr: ErrCorrupt,
	}, {
		name:    "not a zip",
		data:    func(*testing.T) []byte { return []byte("carrierOrderId,carrierUserId\nCO1,U1\n") },
		openErr: ErrWrongFormat,
	}, {
		name: "an OLE2 file",
		data: func(*testing.T) []byte {
			return append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 600)...)
		},
		openErr: ErrWrongFormat,
	}, {
		name:    "empty",
		data:    func(*testing.T) []byte { return nil },
		openErr: ErrEmpty,
	}, {
		name: "a zip with no workbook",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "word/document.xml", body: "<document/>"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "a word document",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "_rels/.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="word/document.xml"/></Relationships>`},
				xlsxPart{name: "word/document.xml", body: "<w:document xmlns:w=\"urn:w\"/>"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "an xlsb workbook",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "_rels/.rels", body: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `officeDocument" Target="xl/workbook.bin"/></Relationships>`},
				xlsxPart{name: "xl/workbook.bin", body: "\x83\x01\x00"})
		},
		openErr: ErrWrongFormat,
	}, {
		name: "no sheet part",
		data: func(t *testing.T) []byte {
			return xlsxZip(t, xlsxPart{name: "xl/workbook.xml", body: "<workbook><sheets/></workbook>"})
		},
		openErr: ErrCorrupt,
	}, {
		name:    "malformed workbook",
		data:    func(t *testing.T) []byte { return xlsxBook{workbook: "<workbook><sheets>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name: "shared strings without their end",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: strings.TrimSuffix(sst, "</sst>"), sheet: sheet}.zip(t)
		},
		openErr: ErrCorrupt,
	}, {
		name:    "shared strings with an end tag only",
		data:    func(t *testing.T) []byte { return xlsxBook{sst: "</sst>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name:    "shared strings outside a table",
		data:    func(t *testing.T) []byte { return xlsxBook{sst: "<si><t>x</t></si>", sheet: sheet}.zip(t) },
		openErr: ErrCorrupt,
	}, {
		name: "shared string index out of range",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>1</v></c></row><row r="2"><c r="A2"><v>1</v></c><c r="B2" t="s"><v>2</v></c></row>`)}.zip(t)
		},
		readErr:  ErrCorrupt,
		maxRows:  1,
		row:      2,
		column:   "B",
		nonEmpty: true,
	}, {
		name: "shared string index not a number",
		data: func(t *testing.T) []byte {
			return xlsxBook{sst: sst, sheet: xlsxSheetXML(`<row r="3"><c r="C3" t="s"><v>x</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     3,
		column:  "C",
	}, {
		name: "unknown entity",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     1,
	}, {
		name: "bad cell reference",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="1A"><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
		row:     1,
	}, {
		name: "column beyond XFD",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="XFE1"><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "bad row number",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="0"><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "unquoted attribute",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r=1><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}, {
		name: "huge tag",
		data: func(t *testing.T) []byte {
			return xlsxBook{sheet: xlsxSheetXML(`<row r="1" x="` + strings.Repeat("a", 2<<20) + `"><c><v>1</v></c></row>`)}.zip(t)
		},
		readErr: ErrCorrupt,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
			if tt.openErr != nil {
				if !errors.Is(err, tt.openErr) {
					t.Fatalf("OpenXLSX error = %v, want one wrapping %v", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenXLSX: %v", err)
			}
			defer r.Close()
			rows, err := readRows(t, r)
			if !errors.Is(err, tt.readErr) {
				t.Fatalf("after %d rows, error = %v, want one wrapping %v", len(rows), err, tt.readErr)
			}
			if tt.also != nil && !errors.Is(err, tt.also) {
				t.Errorf("error = %v, want one wrapping %v too", err, tt.also)
			}
			if len(rows) > tt.maxRows {
				t.Errorf("read %d rows before the error, want at most %d", len(rows), tt.maxRows)
			}
			if tt.nonEmpty && len(rows) == 0 {
				t.Error("read no rows before the error")
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Sheet != "Data" {
				t.Errorf("ParseError.Sheet = %q, want Data", pe.Sheet)
			}
			if tt.row != 0 && pe.Row != tt.row {
				t.Errorf("ParseError.Row = %d, want %d (%v)", pe.Row, tt.row, err)
			}
			if pe.Column != tt.column {
				t.Errorf("ParseError.Column = %q, want %q (%v)", pe.Column, tt.column, err)
			}
			if _, again := r.Next(); again != err {
				t.Errorf("Next after the error = %v, want the same error %v", again, err)
			}
		})
	}
}
