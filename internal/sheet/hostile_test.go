package sheet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestOpenXLSXHostileXML reads workbooks built to attack an XML parser:
// entity expansion (billion laughs), external entities (XXE) and
// relationships that point outside the package (path traversal). The
// reader declares no entity and opens no file or URL: each is refused as a
// damaged file, or the package's own worksheet is read, never an entity
// expanded or a path outside the archive followed.
func TestOpenXLSXHostileXML(t *testing.T) {
	laughs := `<!DOCTYPE worksheet [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`
	xxe := `<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`
	doctype := func(dtd, rows string) string {
		s := xlsxSheetXML(rows)
		i := strings.Index(s, "<worksheet")
		return s[:i] + dtd + s[i:]
	}
	tests := []struct {
		name    string
		book    xlsxBook
		openErr error // from OpenXLSX
		readErr error // from reading the rows; nil: read to the end
	}{
		{"billion laughs in a cell", xlsxBook{sheet: doctype(laughs, `<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>`)}, nil, ErrCorrupt},
		{"billion laughs in the shared strings", xlsxBook{sst: strings.Replace(xlsxSSTXML(`<t>&lol3;</t>`), "<sst", laughs+"<sst", 1),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)}, ErrCorrupt, nil},
		{"external entity in a cell", xlsxBook{sheet: doctype(xxe, `<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>`)}, nil, ErrCorrupt},
		{"external entity in the shared strings", xlsxBook{sst: strings.Replace(xlsxSSTXML(`<t>&xxe;</t>`), "<sst", xxe+"<sst", 1),
			sheet: xlsxSheetXML(`<row r="1"><c r="A1" t="s"><v>0</v></c></row>`)}, ErrCorrupt, nil},
		{"relationship to ../../etc/passwd", xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>1</v></c></row>`),
			rels: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `worksheet" Target="../../../../etc/passwd"/></Relationships>`}, ErrCorrupt, nil},
		{"relationship to an absolute file path", xlsxBook{sheet: xlsxSheetXML(`<row r="1"><c r="A1"><v>1</v></c></row>`),
			rels: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="` + xlsxRel + `worksheet" Target="file:///etc/passwd" TargetMode="External"/></Relationships>`}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.book.zip(t)
			r, err := OpenXLSX(bytes.NewReader(data), int64(len(data)))
			if tt.openErr != nil || err != nil {
				if !errors.Is(err, tt.openErr) || tt.openErr == nil {
					t.Fatalf("OpenXLSX error = %v, want one wrapping %v", err, tt.openErr)
				}
				return
			}
			defer r.Close()
			rows, err := readRows(t, r)
			if !errors.Is(err, tt.readErr) {
				t.Fatalf("after %d rows, error = %v, want one wrapping %v", len(rows), err, tt.readErr)
			}
			for _, row := range rows {
				for _, c := range row.Cells {
					if strings.Contains(c, "lollol") || strings.Contains(c, "root:") {
						t.Fatalf("a cell holds %.40q: an entity was expanded", c)
					}
				}
			}
		})
	}
}
