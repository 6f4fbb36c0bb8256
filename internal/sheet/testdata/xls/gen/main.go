// Command gen writes the xlsx sources of the .xls test fixtures into the
// folder named by its argument; make.sh converts them with LibreOffice.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gen DIR")
	}
	dir := os.Args[1]
	for name, write := range map[string]func(*excelize.File) error{
		"statement": writeStatement,
		"date1904":  writeDate1904,
		"many":      writeMany,
	} {
		f := excelize.NewFile()
		if err := write(f); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := f.SaveAs(filepath.Join(dir, name+".xlsx")); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
}

var header = []any{"carrierOrderId", "carrierUserId", "carrierOrderTime", "skuCode", "carrierPackageId",
	"carrierActiveTime", "carrierEndTime", "carrierSale", "carrierSaleToKd", "channel"}

// writeStatement writes a statement with strings, numbers, decimals, dates,
// an empty cell, a blank row, unicode, formulas, a boolean and a percentage
// on its first sheet, and a second sheet that must not be read.
func writeStatement(f *excelize.File) error {
	const sheet = "Statement"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	dateTime, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return err
	}
	dateOnly, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	percent, err := f.NewStyle(&excelize.Style{NumFmt: 9})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	t1 := time.Date(2025, 9, 3, 8, 0, 0, 0, time.UTC)
	t2 := time.Date(2025, 10, 27, 11, 47, 46, 977e6, time.UTC)
	rows := [][]any{
		header,
		{"CO-1001", "U-1", t1, "1p500g", "PKG1", time.Date(2025, 9, 3, 0, 0, 0, 0, time.UTC), t2, 10, 0.5, "0"},
		{"中国移动-订单2", "😀user", "2025-09-03T08:00:00.000Z", "1p500g", 1235666, t1, t2, nil, 9.9, 1},
		{},
		{123124444435355, 4565523231, t2, "2p1g", "PKG3", t1, t2, -3, -0.25, 1234567.891},
		{"CO-1004", "U-4", t1, "x", "PKG4", t1, t2, 30, nil, true},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return err
		}
	}
	for _, s := range []struct {
		cells string
		style int
	}{
		{"A1:J1", bold}, {"C2:C6", dateTime}, {"F2", dateOnly}, {"F3:G6", dateTime}, {"G2", dateTime},
		{"A4:J4", bold}, // a formatted but empty row
		{"K2:M6", bold}, // formatted empty cells after the last column
	} {
		from, to, _ := cut(s.cells)
		if err := f.SetCellStyle(sheet, from, to, s.style); err != nil {
			return err
		}
	}
	// Formulas: a number, a string and a percentage result.
	for cell, formula := range map[string]string{"I6": "H6*0.05", "D6": `"sku-"&B2`, "J5": "1/20"} {
		if err := f.SetCellFormula(sheet, cell, formula); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "J5", "J5", percent); err != nil {
		return err
	}
	if _, err := f.NewSheet("Notes"); err != nil {
		return err
	}
	return f.SetSheetRow("Notes", "A1", &[]any{"not", "the", "statement"})
}

// writeDate1904 writes a workbook of the 1904 date system with one date cell.
func writeDate1904(f *excelize.File) error {
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: ptr(true)}); err != nil {
		return err
	}
	style, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return err
	}
	if err := f.SetSheetRow("Sheet1", "A1", &[]any{"carrierOrderId", "carrierOrderTime", "carrierSale"}); err != nil {
		return err
	}
	if err := f.SetSheetRow("Sheet1", "A2", &[]any{"CO-1", time.Date(2025, 9, 3, 8, 0, 0, 0, time.UTC), 2.5}); err != nil {
		return err
	}
	return f.SetCellStyle("Sheet1", "B2", "B2", style)
}

// writeMany writes 500 rows of distinct strings, enough for the shared
// string table to span CONTINUE records, mixing Latin-1 and CJK text of
// varied lengths so that strings straddle the records' ends.
func writeMany(f *excelize.File) error {
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{"id", "name", "amount"}); err != nil {
		return err
	}
	for i := 1; i <= 500; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		row := []any{fmt.Sprintf("order-%05d", i), fmt.Sprintf("用户%d号é%s", i, strings.Repeat("测", i%23)), float64(i) / 4}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

func cut(r string) (string, string, bool) {
	for i := range r {
		if r[i] == ':' {
			return r[:i], r[i+1:], true
		}
	}
	return r, r, false
}

func ptr[T any](v T) *T { return &v }
