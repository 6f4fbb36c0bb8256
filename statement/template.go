package statement

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the import template.
const (
	TemplateSheet        = "Statement"
	TemplateColumnsSheet = "Columns"
)

// templateExample is the example row of the template, by column name.
var templateExample = map[string]any{
	"carrierOrderId":    "123124444435355",
	"carrierUserId":     "4565523231",
	"carrierOrderTime":  "2025-09-03T08:00:00.000Z",
	"skuCode":           "1p500g",
	"carrierPackageId":  "1235666",
	"carrierActiveTime": "2025-09-03T08:00:00.000Z",
	"carrierEndTime":    "2025-10-03T08:00:00.000Z",
	"carrierSale":       10,
	"carrierSaleToKd":   0.5,
	"channel":           "0",
}

// WriteTemplate writes the statement import template to w as an xlsx
// workbook. Its first sheet, Statement, holds the header row (the names of
// Columns in order, bold) and one example row; its text and date-time
// columns are formatted as text, so that long IDs typed into them stay
// exact. Its second sheet, Columns, describes each column: name, whether it
// is required (yes or no), type, meaning and accepted formats.
//
// It returns the error of building the workbook or of writing to w.
func WriteTemplate(w io.Writer) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("template: %w", cerr)
		}
	}()
	if err := f.SetSheetName("Sheet1", TemplateSheet); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if err := writeTemplateSheet(f); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	if err := writeColumnsSheet(f); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	f.SetActiveSheet(0)
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("template: write: %w", err)
	}
	return nil
}

// writeTemplateSheet fills the Statement sheet.
func writeTemplateSheet(f *excelize.File) error {
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // @, text
	if err != nil {
		return err
	}
	header := make([]any, len(Columns))
	example := make([]any, len(Columns))
	for i, c := range Columns {
		col, err := excelize.ColumnNumberToName(i + 1)
		if err != nil {
			return err
		}
		header[i] = c.Name
		example[i] = templateExample[c.Name]
		width := float64(max(len(c.Name), len(fmt.Sprint(example[i])))) + 4
		if err := f.SetColWidth(TemplateSheet, col, col, width); err != nil {
			return err
		}
		if c.Type != "decimal" {
			if err := f.SetColStyle(TemplateSheet, col, text); err != nil {
				return err
			}
		}
	}
	if err := f.SetSheetRow(TemplateSheet, "A1", &header); err != nil {
		return err
	}
	last, err := excelize.CoordinatesToCellName(len(Columns), 1)
	if err != nil {
		return err
	}
	if err := f.SetCellStyle(TemplateSheet, "A1", last, bold); err != nil {
		return err
	}
	if err := f.SetSheetRow(TemplateSheet, "A2", &example); err != nil {
		return err
	}
	return f.SetPanes(TemplateSheet, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
	})
}

// writeColumnsSheet adds the Columns sheet, describing each column.
func writeColumnsSheet(f *excelize.File) error {
	if _, err := f.NewSheet(TemplateColumnsSheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	const sheet = TemplateColumnsSheet
	if err := f.SetSheetRow(sheet, "A1", &[]any{"name", "required", "type", "meaning", "accepted formats"}); err != nil {
		return err
	}
	if err := f.SetCellStyle(sheet, "A1", "E1", bold); err != nil {
		return err
	}
	for i, c := range Columns {
		required := "no"
		if c.Required {
			required = "yes"
		}
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &[]any{c.Name, required, c.Type, c.Meaning, c.Formats}); err != nil {
			return err
		}
	}
	for col, width := range map[string]float64{"A": 20, "B": 10, "C": 11, "D": 60, "E": 60} {
		if err := f.SetColWidth(sheet, col, col, width); err != nil {
			return err
		}
	}
	if err := f.SetColStyle(sheet, "A:E", wrap); err != nil {
		return err
	}
	return f.SetCellStyle(sheet, "A1", "E1", bold)
}
