package sheet

import (
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	zip := "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"
	ods := "PK\x03\x04\x14\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
	ole := "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00"
	text := "carrierOrderId,carrierUserId\nCO1,U1\n"
	tests := []struct {
		name     string
		head     string
		file     string
		want     Format
		sentinel error
		wantText []string
	}{
		{name: "xlsx", head: zip, file: "report.xlsx", want: XLSX},
		{name: "xlsx upper case", head: zip, file: "REPORT.XLSX", want: XLSX},
		{name: "xls", head: ole, file: "September.Xls", want: XLS},
		{name: "csv", head: text, file: "a/b/report.csv", want: CSV},
		{name: "csv with BOM", head: utf8BOM + text, file: "r.CSV", want: CSV},
		{name: "csv unicode cut mid-character", head: "名称,金额\n中国移"[:len("名称,金额\n中国移")-1], file: "r.csv", want: CSV},
		{name: "csv one byte", head: "a", file: "r.csv", want: CSV},
		{
			name: "empty", head: "", file: "r.csv", sentinel: ErrEmpty,
		},
		{
			name: "csv named xlsx", head: text, file: "report.xlsx", sentinel: ErrWrongFormat,
			wantText: []string{"file named report.xlsx is not an xlsx workbook (it looks like CSV text); upload the workbook saved as .xlsx, or name the CSV file .csv"},
		},
		{
			name: "xlsx named csv", head: zip, file: "report.csv", sentinel: ErrWrongFormat,
			wantText: []string{"file named report.csv is not CSV text (it looks like an xlsx workbook or another zip archive); upload the CSV text saved as .csv (UTF-8), or name the workbook .xlsx"},
		},
		{
			name: "xls named xlsx", head: ole, file: "report.xlsx", sentinel: ErrWrongFormat,
			wantText: []string{"is not an xlsx workbook (it looks like an xls (Excel 97-2003) workbook); name the file .xls, or save it as .xlsx"},
		},
		{
			name: "xlsx named xls", head: zip, file: "report.xls", sentinel: ErrWrongFormat,
			wantText: []string{"name the file .xlsx, or save it as .xls"},
		},
		{
			name: "html named xls", head: "\r\n<HTML><body><table>", file: "export.xls", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like an HTML page); open it in a spreadsheet program and save it as .xlsx"},
		},
		{
			name: "xml named xls", head: "<?xml version=\"1.0\"?><Workbook>", file: "export.xls", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like XML text)"},
		},
		{
			name: "ods named xlsx", head: ods, file: "r.xlsx", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like an OpenDocument .ods spreadsheet); open it in a spreadsheet program and save it as .xlsx"},
		},
		{
			name: "utf-16 named csv", head: "\xff\xfea\x00,\x00", file: "r.csv", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like UTF-16 text); save it as CSV UTF-8"},
		},
		{
			name: "GBK named csv", head: "a,b\n\xd6\xd0\xb9\xfa,1\n", file: "r.csv", sentinel: ErrWrongFormat,
			wantText: []string{"is not CSV text (it looks like binary data); upload the statement saved as CSV UTF-8"},
		},
		{
			name: "NUL in text", head: "a,b\x00", file: "r.csv", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like binary data)"},
		},
		{
			name: "pdf named xlsx", head: "%PDF-1.7\n", file: "r.xlsx", sentinel: ErrWrongFormat,
			wantText: []string{"(it looks like a PDF document); upload the workbook saved as .xlsx"},
		},
		{
			name: "txt extension", head: text, file: "report.txt", sentinel: ErrWrongFormat,
			wantText: []string{`file "report.txt" has the extension .txt; trueup reads .xlsx, .xls and .csv files; it looks like CSV text: name it .csv`},
		},
		{
			name: "no extension", head: zip, file: "report", sentinel: ErrWrongFormat,
			wantText: []string{`file "report" has no extension;`, "name it .xlsx"},
		},
		{
			name: "no name, binary", head: "\x01\x00", file: "", sentinel: ErrWrongFormat,
			wantText: []string{"upload a statement saved as .xlsx, .xls or .csv"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect([]byte(tt.head), tt.file)
			if tt.sentinel == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Detect = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("Detect = %q, %v; want an error wrapping %v", got, err, tt.sentinel)
			}
			if got != "" {
				t.Errorf("format %q returned with the error", got)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
}
