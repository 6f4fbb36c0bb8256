package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	trueuphttp "github.com/trueup/trueup/http"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/statement"
)

// e2eSpec is the synthetic ledger and statement of the statement checks:
// some 110 discrepancies of the four kinds, over 100 so that the default
// page is not the whole list.
func e2eSpec(seed uint64) gen.Spec {
	return gen.Spec{Orders: 600, Cycle: lastCycle(), Seed: seed, MissingEvery: 37, ExtraEvery: 41, RightsEvery: 23, AmountEvery: 11}
}

// The columns of gen's statement rows (gen.StatementHeader).
const (
	genColID = iota
	genColUser
	genColOrderTime
	genColSku
	genColPackage
	genColActive
	genColEnd
	genColSale
	genColShare
	genColChannel
)

// diffKey names one expected discrepancy.
type diffKey struct {
	id  string
	typ trueup.DiffType
}

// diffWant is what an expected discrepancy is made of: the ledger order
// (nil for kind 2) and the statement row's cells as gen writes them (nil for
// kind 1).
type diffWant struct {
	order *trueup.Order
	row   []string
}

// statementRows returns the cells of the spec's statement rows.
func statementRows(tb testing.TB, spec gen.Spec) [][]string {
	tb.Helper()
	var rows [][]string
	if err := spec.EachStatementRow(func(cells []string) error {
		rows = append(rows, append([]string(nil), cells...))
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// expectedDiffs works out, from the spec's ledger and statement rows alone,
// which carrierOrderIds get which diffType, and checks that the counts agree
// with spec.Expected().
func expectedDiffs(tb testing.TB, spec gen.Spec) map[diffKey]diffWant {
	tb.Helper()
	ledger := map[string]*trueup.Order{}
	for i := 0; i < spec.Orders; i++ {
		o := spec.Order(i)
		ledger[o.CarrierOrderID] = &o
	}
	want := map[diffKey]diffWant{}
	matched := map[string]bool{}
	tol := decimal.New(1, -2)
	for _, row := range statementRows(tb, spec) {
		o, ok := ledger[row[genColID]]
		if !ok {
			want[diffKey{row[genColID], trueup.DiffMissingOnPlatform}] = diffWant{row: row}
			continue
		}
		matched[o.CarrierOrderID] = true
		if row[genColPackage] != o.KdPackageID || row[genColSku] != o.SkuCode ||
			row[genColActive] != trueup.FormatTime(o.KdActiveTime) || row[genColEnd] != trueup.FormatTime(o.KdEndTime) {
			want[diffKey{o.CarrierOrderID, trueup.DiffRights}] = diffWant{order: o, row: row}
		}
		if decimalOf(tb, "carrierSaleToKd", row[genColShare]).Sub(o.KdSaleTotal).Abs().GreaterThan(tol) {
			want[diffKey{o.CarrierOrderID, trueup.DiffAmount}] = diffWant{order: o, row: row}
		}
	}
	for id, o := range ledger {
		if !matched[id] {
			want[diffKey{id, trueup.DiffMissingOnCarrier}] = diffWant{order: o}
		}
	}
	var got trueup.DiffCounts
	for k := range want {
		got.Add(k.typ)
	}
	exp := spec.Expected()
	for _, k := range []trueup.DiffType{trueup.DiffMissingOnCarrier, trueup.DiffMissingOnPlatform, trueup.DiffRights, trueup.DiffAmount} {
		if exp[k] == 0 {
			tb.Fatalf("spec.Expected() = %v has no discrepancy of kind %d; want every kind the generator makes", exp, k)
		}
	}
	if got != exp {
		tb.Fatalf("the spec's rows give counts %+v, spec.Expected() says %+v; want them equal", got, exp)
	}
	return want
}

// billCheck says how to check discrepancies.
type billCheck struct {
	cycle trueup.Cycle
	// loc is the carrier's time zone, which ends the cycle.
	loc *time.Location
	// exactText says whether the carrier's amounts reach the server as gen
	// writes them (CSV and text cells) rather than as spreadsheet numbers.
	exactText bool
}

// checkBills checks that bills are exactly the expected discrepancies, each
// once, with every field filled as seed 004 and the package documentation
// say.
func checkBills(t *testing.T, bills []client.DiffBill, want map[diffKey]diffWant, bc billCheck) {
	t.Helper()
	seen := map[diffKey]bool{}
	for _, b := range bills {
		k := diffKey{b.CarrierOrderID, b.Type()}
		if seen[k] {
			t.Errorf("discrepancy %s type %s listed twice", k.id, b.DiffType)
			continue
		}
		seen[k] = true
		w, ok := want[k]
		if !ok {
			t.Errorf("unexpected discrepancy %s type %s: %s", k.id, b.DiffType, b.DiffReason)
			continue
		}
		checkBill(t, b, k.typ, w, bc)
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("missing discrepancy %s type %d", k.id, k.typ)
		}
	}
}

// checkBill checks the fields of one discrepancy against what it is made of.
func checkBill(t *testing.T, b client.DiffBill, typ trueup.DiffType, w diffWant, bc billCheck) {
	t.Helper()
	cycle := bc.cycle
	id := b.CarrierOrderID
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s type %d: %s", id, typ, fmt.Sprintf(format, args...))
	}
	eq := func(field, got, want string) {
		t.Helper()
		if got != want {
			errorf("%s = %q, want %q", field, got, want)
		}
	}
	eq("diffType", b.DiffType, strconv.Itoa(int(typ)))
	eq("billingCycle", b.BillingCycle, cycle.String())
	if b.DiffReason == "" {
		errorf("diffReason is empty")
	}
	if typ == trueup.DiffMissingOnCarrier || typ == trueup.DiffMissingOnPlatform {
		if !strings.Contains(b.DiffReason, id) {
			errorf("diffReason %q does not name the order", b.DiffReason)
		}
	}
	if typ == trueup.DiffRights && !strings.Contains(b.DiffReason, "carrierPackageId") {
		errorf("diffReason %q does not name carrierPackageId", b.DiffReason)
	}
	if typ == trueup.DiffAmount && !(strings.Contains(b.DiffReason, "carrierSaleToKd") && strings.Contains(b.DiffReason, "kdSaleTotal")) {
		errorf("diffReason %q does not name both amounts", b.DiffReason)
	}

	if w.row != nil { // the carrier side, as the row has it
		r := w.row
		eq("carrierOrderId", b.CarrierOrderID, r[genColID])
		eq("carrierUserId", b.CarrierUserID, r[genColUser])
		eq("carrierOrderTime", b.CarrierOrderTime, r[genColOrderTime])
		eq("carrierPackageId", b.CarrierPackageID, r[genColPackage])
		eq("carrierActiveTime", b.CarrierActiveTime, r[genColActive])
		eq("carrierEndTime", b.CarrierEndTime, r[genColEnd])
		eq("channel", b.Channel, r[genColChannel])
		if bc.exactText {
			eq("carrierSale", b.CarrierSale, r[genColSale])
			eq("carrierSaleToKd", b.CarrierSaleToKd, r[genColShare])
		} else {
			for _, f := range []struct{ name, got, want string }{{"carrierSale", b.CarrierSale, r[genColSale]}, {"carrierSaleToKd", b.CarrierSaleToKd, r[genColShare]}} {
				if got, want := decimalOf(t, f.name, f.got), decimalOf(t, f.name, f.want); !got.Equal(want) {
					errorf("%s = %s, want %s", f.name, got, want)
				}
			}
		}
	} else { // kind 1: the carrier side is empty but for what the ledger knows
		eq("carrierOrderId", b.CarrierOrderID, w.order.CarrierOrderID)
		eq("carrierUserId", b.CarrierUserID, w.order.CarrierUserID)
		for _, f := range []struct{ name, v string }{{"carrierOrderTime", b.CarrierOrderTime}, {"carrierSale", b.CarrierSale},
			{"carrierSaleToKd", b.CarrierSaleToKd}, {"carrierActiveTime", b.CarrierActiveTime}, {"carrierEndTime", b.CarrierEndTime},
			{"carrierPackageId", b.CarrierPackageID}} {
			eq(f.name, f.v, "")
		}
		eq("channel", b.Channel, w.order.Channel)
	}

	if w.order != nil { // the platform side, as the ledger has it
		o := w.order
		eq("kdOrderId", b.KdOrderID, o.KdOrderID)
		eq("kdUserId", b.KdUserID, o.KdUserID)
		wantStatus := o.UserStatus
		if wantStatus == "" {
			wantStatus = "1" // a new user is active
		}
		eq("userStatus", b.UserStatus, wantStatus)
		eq("skuCode", b.SkuCode, o.SkuCode)
		eq("kdPackageId", b.KdPackageID, o.KdPackageID)
		eq("kdActiveTime", b.KdActiveTime, trueup.FormatTime(o.KdActiveTime))
		eq("kdEndTime", b.KdEndTime, trueup.FormatTime(o.KdEndTime))
		eq("kdOrderTime", b.KdOrderTime, trueup.FormatTime(o.KdOrderTime))
		if !b.SkuPrice.Equal(o.SkuPrice) || b.SkuPrice.String() != o.SkuPrice.String() {
			errorf("skuPrice = %s, want exactly %s", b.SkuPrice, o.SkuPrice)
		}
		if !b.KdSaleTotal.Equal(o.KdSaleTotal) {
			errorf("kdSaleTotal = %s, want exactly %s", b.KdSaleTotal, o.KdSaleTotal)
		}
		this := decimalOf(t, "thisMouthBilling", b.ThisMouthBilling)
		next := decimalOf(t, "nextMouthBilling", b.NextMouthBilling)
		if sum := this.Add(next); !sum.Equal(b.KdSaleTotal) {
			errorf("thisMouthBilling %s + nextMouthBilling %s = %s, want kdSaleTotal %s exactly", b.ThisMouthBilling, b.NextMouthBilling, sum, b.KdSaleTotal)
		}
		wantPlaces := max(2, -b.KdSaleTotal.Exponent())
		if decimalPlaces(b.ThisMouthBilling) != int(wantPlaces) || decimalPlaces(b.NextMouthBilling) != int(wantPlaces) {
			errorf("thisMouthBilling %q and nextMouthBilling %q: want %d decimal places each", b.ThisMouthBilling, b.NextMouthBilling, wantPlaces)
		}
		if want := splitWant(o.KdSaleTotal, o.KdActiveTime, o.KdEndTime, cycle, bc.loc); !this.Equal(want) {
			errorf("thisMouthBilling = %s, want %s (kdSaleTotal %s over %s..%s, cycle ending %s)", b.ThisMouthBilling, want, o.KdSaleTotal,
				trueup.FormatTime(o.KdActiveTime), trueup.FormatTime(o.KdEndTime), trueup.FormatTime(cycle.End(bc.loc)))
		}
	} else { // kind 2: the platform side is empty
		for _, f := range []struct{ name, v string }{{"kdOrderId", b.KdOrderID}, {"kdUserId", b.KdUserID}, {"userStatus", b.UserStatus},
			{"kdActiveTime", b.KdActiveTime}, {"kdEndTime", b.KdEndTime}, {"kdOrderTime", b.KdOrderTime}, {"kdPackageId", b.KdPackageID},
			{"thisMouthBilling", b.ThisMouthBilling}, {"nextMouthBilling", b.NextMouthBilling}} {
			eq(f.name, f.v, "")
		}
		if !b.SkuPrice.IsZero() || !b.KdSaleTotal.IsZero() {
			errorf("skuPrice %s and kdSaleTotal %s, want 0 and 0", b.SkuPrice, b.KdSaleTotal)
		}
		eq("skuCode", b.SkuCode, w.row[genColSku])
	}
}

// csvStatement returns the spec's statement as gen writes it.
func csvStatement(tb testing.TB, spec gen.Spec) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := spec.WriteCSV(&b); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// windowsCSV returns the spec's statement as a spreadsheet program on
// Windows saves CSV UTF-8: a byte order mark, CRLF line ends, every cell
// quoted, and the header as a person retyped it.
func windowsCSV(tb testing.TB, spec gen.Spec) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("\ufeff")
	header := []string{"Carrier Order Id", "CARRIERUSERID", "carrier OrderTime", "SkuCode", "carrier package id",
		"Carrier Active Time", "carrierEndTime ", " carrierSale", "carrierSaleToKD", "Channel"}
	write := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(c, `"`, `""`) + `"`)
		}
		b.WriteString("\r\n")
	}
	write(header)
	for _, r := range statementRows(tb, spec) {
		write(r)
	}
	return b.Bytes()
}

// genTime reads a time gen wrote.
func genTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatalf("gen time %q: %v", s, err)
	}
	return t
}

// xlsxSharedStatement returns the spec's statement as an xlsx workbook
// written cell by cell (SetSheetRow), so its text goes to the shared
// string table; carrierEndTime is a real date cell with a date-time format.
func xlsxSharedStatement(tb testing.TB, spec gen.Spec) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		tb.Fatal(err)
	}
	header := append([]string(nil), gen.StatementHeader...)
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		tb.Fatal(err)
	}
	rows := statementRows(tb, spec)
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		vals[genColEnd] = genTime(tb, r[genColEnd])
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			tb.Fatal(err)
		}
	}
	last, _ := excelize.CoordinatesToCellName(genColEnd+1, len(rows)+1)
	if err := f.SetCellStyle(sheet, "G2", last, dateStyle); err != nil {
		tb.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	if !zipHasEntry(tb, buf.Bytes(), "xl/sharedStrings.xml") {
		tb.Fatal("the workbook written with SetSheetRow has no shared string table")
	}
	return buf.Bytes()
}

// xlsxStreamStatement returns the spec's statement as an xlsx workbook
// written by excelize's StreamWriter: inline strings, carrierOrderTime and
// carrierActiveTime as date cells with date-time formats (the wall clock of
// loc, as a carrier there would type them), the amounts as number cells.
func xlsxStreamStatement(tb testing.TB, spec gen.Spec, loc *time.Location) []byte {
	tb.Helper()
	return xlsxStream(tb, spec, loc, false)
}

// xlsxStream is xlsxStreamStatement, in a workbook of the 1904 date system
// when date1904 is set.
func xlsxStream(tb testing.TB, spec gen.Spec, loc *time.Location, date1904 bool) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if date1904 {
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &date1904}); err != nil {
			tb.Fatal(err)
		}
	}
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		tb.Fatal(err)
	}
	builtin, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm
	if err != nil {
		tb.Fatal(err)
	}
	header := make([]any, len(gen.StatementHeader))
	for i, h := range gen.StatementHeader {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		tb.Fatal(err)
	}
	for i, r := range statementRows(tb, spec) {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		vals[genColOrderTime] = excelize.Cell{StyleID: builtin, Value: genTime(tb, r[genColOrderTime]).In(loc)}
		vals[genColActive] = excelize.Cell{StyleID: dateStyle, Value: genTime(tb, r[genColActive]).In(loc)}
		vals[genColSale] = decimalOf(tb, "carrierSale", r[genColSale]).InexactFloat64()
		vals[genColShare] = decimalOf(tb, "carrierSaleToKd", r[genColShare]).InexactFloat64()
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, vals); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		tb.Fatal(err)
	}
	if date1904 && !bytes.Contains(zipEntry(tb, buf.Bytes(), "xl/workbook.xml"), []byte(`date1904="true"`)) {
		tb.Fatal("the workbook is not of the 1904 date system")
	}
	sheetXML := zipEntry(tb, buf.Bytes(), "xl/worksheets/sheet1.xml")
	if !bytes.Contains(sheetXML, []byte(`t="inlineStr"`)) {
		tb.Fatal("the streamed workbook has no inline strings")
	}
	return buf.Bytes()
}

// zipEntry returns the content of name in the zip archive b.
func zipEntry(tb testing.TB, b []byte, name string) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer rc.Close()
			var out bytes.Buffer
			if _, err := out.ReadFrom(rc); err != nil {
				tb.Fatal(err)
			}
			return out.Bytes()
		}
	}
	tb.Fatalf("no %s in the archive", name)
	return nil
}

// zipHasEntry reports whether the zip archive b holds name.
func zipHasEntry(tb testing.TB, b []byte, name string) bool {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

// TestE2EStatementCheck uploads the same synthetic statement as CSV (as gen
// writes it, and as Excel on Windows saves it), as an xlsx workbook of
// shared strings, and as streamed xlsx workbooks of inline strings, number
// and date cells (also of the 1904 date system, and for a carrier in
// Asia/Shanghai), all at once, and reads back every discrepancy page by
// page: the counts, the set of discrepancies and every field of each are
// what the ledger and the statement make.
func TestE2EStatementCheck(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		acme := s.newCarrier(t, "Acme Mobile")
		spec := e2eSpec(11)
		seedLedger(t, s.store, acme.cred.CarrierID, spec)
		want := expectedDiffs(t, spec)
		counts := spec.Expected()

		// A carrier in Asia/Shanghai: its date cells are read on its wall
		// clock and its cycle ends at its midnight (UTC 16:00).
		var shCred auth.Credentials
		s.cliJSON(t, &shCred, "admin", "carrier", "create", "--name", "Shanghai Mobile", "--timezone", "Asia/Shanghai")
		shanghai, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		sh := &e2eCarrier{cred: shCred, api: s.client(shCred)}
		seedLedger(t, s.store, sh.cred.CarrierID, spec)

		formats := []struct {
			name      string
			carrier   *e2eCarrier
			file      string
			format    string
			data      []byte
			loc       *time.Location
			exactText bool
			// smallPages walks the list 7 bills at a time too; the
			// variants read it in one page.
			smallPages bool
		}{
			{"csv", acme, "statement.csv", "csv", csvStatement(t, spec), time.UTC, true, true},
			{"csv with BOM, CRLF and a header in other case and spaces", acme, "statement.CSV", "csv", windowsCSV(t, spec), time.UTC, true, false},
			{"xlsx shared strings", acme, "statement.xlsx", "xlsx", xlsxSharedStatement(t, spec), time.UTC, true, true},
			{"xlsx stream inline strings and dates", acme, "Statement.XLSX", "xlsx", xlsxStreamStatement(t, spec, time.UTC), time.UTC, false, true},
			{"xlsx stream, carrier in Asia/Shanghai", sh, "statement.xlsx", "xlsx", xlsxStreamStatement(t, spec, shanghai), shanghai, false, false},
			{"xlsx of the 1904 date system", acme, "mac.xlsx", "xlsx", xlsxStream(t, spec, time.UTC, true), time.UTC, false, false},
		}
		// The uploads run at once, two carriers' batches side by side.
		for _, f := range formats {
			t.Run(f.name, func(t *testing.T) {
				t.Parallel()
				c := f.carrier
				no := verifyUpload(t, c.api, spec.Cycle.String(), f.file, f.data)
				if !batchNoPattern.MatchString(string(no)) {
					t.Errorf("batchNo %q is not yyyymmdd_ and 19 digits as the seed's example", no)
				}
				st := waitSucceeded(t, c.api, no)
				b := st.Batch
				if b.Counts != counts {
					t.Errorf("counts = %+v, want %+v", b.Counts, counts)
				}
				if b.Format != f.format || b.FileName != f.file || b.Cycle != spec.Cycle.String() || b.CarrierID != c.cred.CarrierID {
					t.Errorf("batch = format %q file %q cycle %q carrier %q; want %q %q %q %q", b.Format, b.FileName, b.Cycle, b.CarrierID,
						f.format, f.file, spec.Cycle.String(), c.cred.CarrierID)
				}
				if rows := int64(len(statementRows(t, spec))); b.RowsRead != rows || b.RowErrors != 0 || b.Percent != 100 {
					t.Errorf("rowsRead %d, rowErrorCount %d, percent %d; want %d, 0, 100", b.RowsRead, b.RowErrors, b.Percent, rows)
				}
				if len(st.RowErrors) != 0 {
					t.Errorf("row errors of a good statement: %+v", st.RowErrors)
				}
				if b.StartedAt == nil || b.FinishedAt == nil || b.StartedAt.Before(b.CreatedAt.Add(-time.Second)) || b.FinishedAt.Before(*b.StartedAt) {
					t.Errorf("createdAt %v, startedAt %v, finishedAt %v; want them set and in order", b.CreatedAt, b.StartedAt, b.FinishedAt)
				}
				sizes := []int{1000}
				if f.smallPages {
					sizes = []int{7, 1000}
				}
				for _, size := range sizes {
					bills := walkPages(t, c.api, no, size, counts.Total())
					if int64(len(bills)) != counts.Total() {
						t.Errorf("pageSize %d: %d bills, want %d", size, len(bills), counts.Total())
					}
					checkBills(t, bills, want, billCheck{cycle: spec.Cycle, loc: f.loc, exactText: f.exactText})
				}
				// The default page is 100 bills with a cursor.
				first, err := c.api.DiffList(context.Background(), client.DiffListParams{BatchNo: no})
				if err != nil {
					t.Fatal(err)
				}
				if len(first.DiffList) != 100 || first.NextPageCursor == "" || first.Msg == "" {
					t.Errorf("default page: %d bills, cursor %q, msg %q; want 100 with a cursor", len(first.DiffList), first.NextPageCursor, first.Msg)
				}
			})
		}
	})
}

// e2eXLSFixture is internal/sheet/testdata/xls/statement.xls, a BIFF8 workbook
// LibreOffice made (see make.sh there): four statement rows of cycle
// 2025-09 with text, numbers, date and date-time cells, a blank row,
// formulas and a second sheet that is not the statement.
func e2eXLSFixture(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "internal", "sheet", "testdata", "xls", "statement.xls"))
	if err != nil {
		tb.Fatalf("read the xls fixture: %v", err)
	}
	return b
}

// TestE2EStatementXLS checks the committed .xls fixture against a ledger
// seeded to match it: one row agrees, one differs in package, one in amount,
// one is unknown to the ledger, and the ledger has an order the statement
// lacks.
func TestE2EStatementXLS(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Legacy Excel Telecom")
		cycle := trueup.Cycle{Year: 2025, Month: time.September}
		t1 := time.Date(2025, 9, 3, 8, 0, 0, 0, time.UTC)
		t2 := time.Date(2025, 10, 27, 11, 47, 46, 977e6, time.UTC)
		day := time.Date(2025, 9, 3, 0, 0, 0, 0, time.UTC)
		order := func(id, user, sku, pkg string, active time.Time, total string) trueup.Order {
			return trueup.Order{CarrierOrderID: id, BillingCycle: cycle.String(), KdOrderID: "KD-" + id, CarrierUserID: user,
				KdUserID: "KU-" + user, SkuCode: sku, SkuPrice: decimal.RequireFromString("0.00012"), KdPackageID: pkg,
				KdActiveTime: active, KdEndTime: t2, KdOrderTime: t1, KdSaleTotal: decimal.RequireFromString(total), Channel: "9"}
		}
		agrees := order("CO-1001", "U-1", "1p500g", "PKG1", day, "0.50")
		rights := order("中国移动-订单2", "😀user", "1p500g", "PKG2", t1, "9.90")
		amount := order("123124444435355", "4565523231", "2p1g", "PKG3", t1, "1.00")
		ledgerOnly := order("CO-0999", "U-9", "1p1t", "PKG9", t1, "12.34")
		seedLedgerOrders(t, s.store, c.cred.CarrierID, agrees, rights, amount, ledgerOnly)

		no := verifyUpload(t, c.api, cycle.String(), "statement.xls", e2eXLSFixture(t))
		st := waitSucceeded(t, c.api, no)
		wantCounts := trueup.DiffCounts{trueup.DiffMissingOnCarrier: 1, trueup.DiffMissingOnPlatform: 1, trueup.DiffRights: 1, trueup.DiffAmount: 1}
		if st.Batch.Counts != wantCounts || st.Batch.Format != "xls" || st.Batch.RowsRead != 4 {
			t.Errorf("batch counts %+v, format %q, rowsRead %d; want %+v, xls, 4 (the blank row skipped)", st.Batch.Counts, st.Batch.Format, st.Batch.RowsRead, wantCounts)
		}
		want := map[diffKey]diffWant{
			{rights.CarrierOrderID, trueup.DiffRights}: {order: &rights, row: []string{rights.CarrierOrderID, "😀user",
				"2025-09-03T08:00:00.000Z", "1p500g", "1235666", trueup.FormatTime(t1), trueup.FormatTime(t2), "", "9.9", "1"}},
			{amount.CarrierOrderID, trueup.DiffAmount}: {order: &amount, row: []string{amount.CarrierOrderID, "4565523231",
				trueup.FormatTime(t2), "2p1g", "PKG3", trueup.FormatTime(t1), trueup.FormatTime(t2), "-3", "-0.25", "0.05"}},
			{"CO-1004", trueup.DiffMissingOnPlatform}: {row: []string{"CO-1004", "U-4", trueup.FormatTime(t1), "sku-U-1", "PKG4",
				trueup.FormatTime(t1), trueup.FormatTime(t2), "30", "1.5", "TRUE"}},
			{ledgerOnly.CarrierOrderID, trueup.DiffMissingOnCarrier}: {order: &ledgerOnly},
		}
		bills := walkPages(t, c.api, no, 1, 4)
		checkBills(t, bills, want, billCheck{cycle: cycle, loc: time.UTC, exactText: true})
		for _, b := range bills {
			switch b.Type() {
			case trueup.DiffRights:
				if !strings.Contains(b.DiffReason, `"1235666"`) || !strings.Contains(b.DiffReason, `"PKG2"`) {
					t.Errorf("diffReason %q does not show both packages", b.DiffReason)
				}
			case trueup.DiffAmount:
				if !strings.Contains(b.DiffReason, "-0.25") || !strings.Contains(b.DiffReason, "1.25") {
					t.Errorf("diffReason %q does not show both amounts", b.DiffReason)
				}
			}
		}
	})
}

// TestE2EVerifyRefusals sends statements and forms the check refuses at
// once: each answer is a 4xx with its numeric code and a msg that names the
// problem.
func TestE2EVerifyRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		defer checkNoTempFiles(t)()
		const limit = 16 << 10
		s := startE2E(t, eng, ServeConfig{MaxUploadBytes: limit})
		c := s.newCarrier(t, "Refusal Mobile")
		ctx := context.Background()
		past := lastCycle().String()
		small := gen.Spec{Orders: 20, Cycle: lastCycle(), Seed: 3, MissingEvery: 5}
		good := csvStatement(t, small)
		header := strings.Join(gen.StatementHeader, ",") + "\n"
		goodRow := strings.SplitN(string(good), "\n", 3)[1] + "\n"
		now := time.Now().UTC()

		damaged := xlsxSharedStatement(t, small)
		damaged = damaged[:len(damaged)*2/3]

		tests := []struct {
			name   string
			cycle  string
			file   string
			data   []byte
			status int
			code   int
			words  []string
		}{
			{"current month", now.Format("2006-01"), "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", now.Format("2006-01"), "past"}},
			{"future", now.AddDate(1, 0, 0).Format("2006-01"), "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", "past"}},
			{"month 13", "2025-13", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"2025-13", "yyyy-mm"}},
			{"not yyyy-mm", "2025/09", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"2025/09", "yyyy-mm"}},
			{"empty cycle", "", "s.csv", good, 400, trueuphttp.CodeInvalidParam, []string{"billingCycle", "required"}},
			{"empty file", past, "s.csv", nil, 400, trueuphttp.CodeInvalidFile, []string{"empty"}},
			{"header only", past, "s.csv", []byte(header), 400, trueuphttp.CodeInvalidFile, []string{"no data rows"}},
			{"missing required column", past, "s.csv",
				[]byte(strings.Replace(header, "carrierSaleToKd", "carrierSaleToKdX", 1) + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"carrierSaleToKdX"}},
			{"required column absent", past, "s.csv",
				[]byte(strings.Replace(header, ",carrierSaleToKd,", ",,", 1) + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"missing", "carrierSaleToKd"}},
			{"unknown column", past, "s.csv",
				[]byte(strings.TrimSuffix(header, "\n") + ",remark\n" + strings.TrimSuffix(goodRow, "\n") + ",x\n"), 400, trueuphttp.CodeInvalidFile, []string{"remark"}},
			{"xlsx name, csv content", past, "statement.xlsx", good, 400, trueuphttp.CodeInvalidFile, []string{"xlsx", "CSV"}},
			{"csv name, xlsx content", past, "statement.csv", xlsxSharedStatement(t, small), 400, trueuphttp.CodeInvalidFile, []string{"csv", "xlsx"}},
			{"no extension", past, "statement", good, 400, trueuphttp.CodeInvalidFile, []string{"extension"}},
			{"pdf", past, "statement.pdf", []byte("%PDF-1.4\n"), 400, trueuphttp.CodeInvalidFile, []string{".pdf"}},
			{"utf-16 csv", past, "s.csv", utf16LE(header + goodRow), 400, trueuphttp.CodeInvalidFile, []string{"UTF-16", "UTF-8"}},
			{"html named xls", past, "s.xls", []byte("<html><table><tr><td>carrierOrderId</td></tr></table></html>"), 400, trueuphttp.CodeInvalidFile, []string{"HTML", "xlsx"}},
			{"truncated xlsx", past, "statement.xlsx", damaged, 400, trueuphttp.CodeInvalidFile, []string{"damaged"}},
			{"over the limit", past, "big.csv", csvStatement(t, gen.Spec{Orders: 200, Cycle: lastCycle(), Seed: 4}), 413, trueuphttp.CodeTooLarge, []string{strconv.Itoa(limit)}},
			// Far over: the server answers before reading the body, and the
			// client still gets the answer rather than a broken pipe.
			{"far over the limit", past, "huge.csv", csvStatement(t, gen.Spec{Orders: 6000, Cycle: lastCycle(), Seed: 4}), 413, trueuphttp.CodeTooLarge, []string{strconv.Itoa(limit)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				no, err := c.api.Verify(ctx, client.VerifyParams{BillingCycle: tt.cycle, FileName: tt.file, File: bytes.NewReader(tt.data)})
				if err == nil {
					st := waitBatchDone(t, c.api, no)
					t.Fatalf("accepted as batch %s (%s: %s); want HTTP %d code %d", no, st.Batch.State, st.Batch.Failure, tt.status, tt.code)
				}
				wantAPIError(t, err, tt.status, tt.code, tt.words...)
			})
		}

		// Forms the typed client cannot send: no billingCycle field, no
		// data field, not multipart at all.
		post := func(t *testing.T, contentType string, body []byte) error {
			t.Helper()
			req, err := http.NewRequest(http.MethodPost, client.PathVerify, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			resp, err := c.api.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if err := client.CheckResponse(resp); err != nil {
				return err
			}
			resp.Body.Close()
			return errors.New("accepted")
		}
		form := func(t *testing.T, cycle *string, files ...[]byte) (string, []byte) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			if cycle != nil {
				mw.WriteField("billingCycle", *cycle)
			}
			for _, file := range files {
				w, _ := mw.CreateFormFile("data", "s.csv")
				w.Write(file)
			}
			mw.Close()
			return mw.FormDataContentType(), b.Bytes()
		}
		t.Run("billingCycle field missing", func(t *testing.T) {
			ct, body := form(t, nil, good)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "billingCycle", "missing")
		})
		t.Run("data field missing", func(t *testing.T) {
			ct, body := form(t, &past)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "data", "missing")
		})
		t.Run("data before billingCycle", func(t *testing.T) {
			var b bytes.Buffer
			mw := multipart.NewWriter(&b)
			w, _ := mw.CreateFormFile("data", "s.csv")
			w.Write(good)
			mw.WriteField("billingCycle", " "+past+" ")
			mw.Close()
			err := post(t, mw.FormDataContentType(), b.Bytes())
			if err == nil || err.Error() != "accepted" {
				t.Errorf("a form with data first and a cycle in spaces: %v; want accepted", err)
			}
		})
		t.Run("data field twice", func(t *testing.T) {
			ct, body := form(t, &past, good, good)
			wantAPIError(t, post(t, ct, body), 400, trueuphttp.CodeInvalidParam, "data", "twice")
		})
		t.Run("not multipart", func(t *testing.T) {
			wantAPIError(t, post(t, "application/json", []byte(`{"billingCycle":"`+past+`"}`)), 400, trueuphttp.CodeInvalidParam, "multipart")
		})

		// The limit is inclusive: a file of exactly the limit is read, one
		// byte more is refused. Blank lines pad the CSV.
		t.Run("exactly the limit", func(t *testing.T) {
			exact := append(append([]byte(nil), good...), bytes.Repeat([]byte("\n"), limit-len(good))...)
			no := verifyUpload(t, c.api, past, "exact.csv", exact)
			st := waitBatchDone(t, c.api, no)
			if st.Batch.FileSize != limit {
				t.Errorf("fileSize = %d, want %d", st.Batch.FileSize, limit)
			}
			// The carrier has no ledger: every row is unknown to the platform.
			if rows := int64(len(statementRows(t, small))); st.Batch.State != trueup.BatchSucceeded || st.Batch.Counts != (trueup.DiffCounts{trueup.DiffMissingOnPlatform: rows}) {
				t.Errorf("batch of exactly the limit: %s (%s), counts %+v", st.Batch.State, st.Batch.Failure, st.Batch.Counts)
			}
			_, err := c.api.Verify(ctx, client.VerifyParams{BillingCycle: past, FileName: "over.csv", File: bytes.NewReader(append(exact, '\n'))})
			wantAPIError(t, err, 413, trueuphttp.CodeTooLarge)
		})
	})
}

// checkNoTempFiles points the temporary directory, where the server
// spools uploads and the worker copies them, to a fresh one, and returns a
// function that fails the test if files stay in it. (A worker removes its
// copy just after the batch is finished, so the check waits a little.)
func checkNoTempFiles(t *testing.T) func() {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			left, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if len(left) == 0 {
				return
			}
			if time.Now().After(deadline) {
				for _, e := range left {
					t.Errorf("temporary file %s left behind", e.Name())
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// utf16LE returns s as UTF-16 little endian with a byte order mark, as
// "Unicode text" exports of spreadsheet programs are.
func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestE2EDamagedXLSX uploads an xlsx workbook whose central directory is
// intact but whose sheet is damaged past its header: the upload is accepted
// (the header reads), and the batch fails with a message, no discrepancies.
// (A workbook cut short, its central directory lost, is refused at upload:
// see TestE2EVerifyRefusals.)
func TestE2EDamagedXLSX(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		defer checkNoTempFiles(t)()
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Damaged Files Ltd")
		spec := gen.Spec{Orders: 1200, Cycle: lastCycle(), Seed: 5}
		book := xlsxStreamStatement(t, spec, time.UTC)
		data := damageSheet(t, book)
		no, err := c.api.Verify(context.Background(), client.VerifyParams{BillingCycle: spec.Cycle.String(), FileName: "damaged.xlsx", File: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("refused at upload: %v; want accepted, since its header reads", err)
		}
		st := waitBatchDone(t, c.api, no)
		t.Logf("failure: %s", st.Batch.Failure)
		if st.Batch.State != trueup.BatchFailed || st.Batch.Failure == "" {
			t.Fatalf("damaged workbook: batch %s, failure %q; want failed with a message", st.Batch.State, st.Batch.Failure)
		}
		if !strings.Contains(strings.ToLower(st.Batch.Failure), "damaged") {
			t.Errorf("failure %q does not say the file is damaged", st.Batch.Failure)
		}
		if st.Batch.Counts.Total() != 0 {
			t.Errorf("a failed batch has counts %+v", st.Batch.Counts)
		}
		_, err = c.api.DiffList(context.Background(), client.DiffListParams{BatchNo: no})
		wantAPIError(t, err, 409, trueuphttp.CodeBatchFailed, "failed")
	})
}

// damageSheet returns book with the compressed bytes of its sheet
// overwritten from two thirds of the way in, keeping the zip's structure.
func damageSheet(tb testing.TB, book []byte) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			tb.Fatal(err)
		}
		out := append([]byte(nil), book...)
		n := int64(f.CompressedSize64)
		for i := off + n*2/3; i < off+n*2/3+64 && i < off+n; i++ {
			out[i] ^= 0x5a
		}
		return out
	}
	tb.Fatal("no sheet1.xml in the workbook")
	return nil
}

// TestE2EExport exports a batch as CSV and xlsx, parses both back and
// compares them with the list; text a spreadsheet would run as a formula
// comes out neutralised.
func TestE2EExport(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		c := s.newCarrier(t, "Export Mobile")
		spec := gen.Spec{Orders: 90, Cycle: lastCycle(), Seed: 21, MissingEvery: 9, ExtraEvery: 13, RightsEvery: 7, AmountEvery: 5}
		seedLedger(t, s.store, c.cred.CarrierID, spec)
		o := spec.Order(0)
		injected := o
		injected.CarrierOrderID, injected.CarrierUserID, injected.KdOrderID = "=1+1", "+CU", "KD-EQ"
		ledgerOnly := o
		ledgerOnly.CarrierOrderID, ledgerOnly.KdOrderID = "+CO-9", "@KD-9"
		seedLedgerOrders(t, s.store, c.cred.CarrierID, injected, ledgerOnly)

		var b bytes.Buffer
		if err := spec.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		w := csv.NewWriter(&b)
		ft := trueup.FormatTime
		w.Write([]string{"=1+1", "+CU", ft(o.KdOrderTime), o.SkuCode, "=HYPERLINK(\"x\")", ft(o.KdActiveTime), ft(o.KdEndTime), "", "-0.25", "@SUM(A1)"})
		w.Write([]string{"-2+3", "U-X", ft(o.KdOrderTime), o.SkuCode, "P", ft(o.KdActiveTime), ft(o.KdEndTime), "-1", "1.00", "=cmd|' /C calc'!A0"})
		w.Flush()
		no := verifyUpload(t, c.api, spec.Cycle.String(), "statement.csv", b.Bytes())
		st := waitSucceeded(t, c.api, no)
		wantCounts := spec.Expected()
		wantCounts[trueup.DiffMissingOnCarrier]++  // +CO-9
		wantCounts[trueup.DiffMissingOnPlatform]++ // -2+3
		wantCounts[trueup.DiffRights]++            // =1+1: the package
		wantCounts[trueup.DiffAmount]++            // =1+1: -0.25
		if st.Batch.Counts != wantCounts {
			t.Fatalf("counts = %+v, want %+v", st.Batch.Counts, wantCounts)
		}
		list := walkPages(t, c.api, no, 1000, wantCounts.Total())
		// The list gives the text as the carrier wrote it.
		found := 0
		for _, bill := range list {
			if bill.CarrierOrderID == "=1+1" && bill.Channel == "@SUM(A1)" && bill.CarrierUserID == "+CU" {
				found++
			}
		}
		if found != 2 {
			t.Errorf("the list has %d bills of =1+1 with its text unchanged, want 2", found)
		}

		for _, format := range []client.ExportFormat{client.ExportCSV, client.ExportXLSX, ""} {
			name := string(format)
			if name == "" {
				name = "default"
			}
			t.Run(name, func(t *testing.T) {
				data, err := c.api.ExportBytes(context.Background(), no, format)
				if err != nil {
					t.Fatal(err)
				}
				var rows [][]string
				if format == client.ExportCSV {
					rows = parseCSVExport(t, data)
				} else {
					rows = parseXLSXExport(t, data)
				}
				if len(rows) == 0 {
					t.Fatal("the export is empty")
				}
				if !stringsEqual(rows[0], statement.ExportColumns) {
					t.Fatalf("header = %q, want %q", rows[0], statement.ExportColumns)
				}
				rows = rows[1:]
				if len(rows) != len(list) {
					t.Fatalf("export has %d rows, the list %d", len(rows), len(list))
				}
				for i, bill := range list {
					compareExportRow(t, i+2, rows[i], bill)
				}
				// The injected cells, explicitly.
				for _, r := range rows {
					if r[0] == "'=1+1" {
						if r[2] != "'+CU" || r[15] != "'@SUM(A1)" || r[12] != "-0.25" {
							t.Errorf("injected row: carrierUserId %q, channel %q, carrierSaleToKd %q; want '+CU, '@SUM(A1), -0.25", r[2], r[15], r[12])
						}
						if r[18] != `'=HYPERLINK("x")` {
							t.Errorf("carrierPackageId %q, want '=HYPERLINK(\"x\")", r[18])
						}
					}
				}
			})
		}
	})
}

// exportText is the export's text of s: a single quote before text a
// spreadsheet could run (starting with =, +, -, @, tab or CR), unless it is
// a plain decimal number.
func exportText(s string) string {
	if s == "" || !strings.ContainsAny(s[:1], "=+-@\t\r") || plainDecimal.MatchString(s) {
		return s
	}
	return "'" + s
}

// plainDecimal matches the numbers the export leaves as they are.
var plainDecimal = regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`)

// batchNoPattern matches batch numbers like the seed's example,
// 20251021_1801572310432403201.
var batchNoPattern = regexp.MustCompile(`^[0-9]{8}_[0-9]{19}$`)

// exportFields returns the bill's fields in the order of
// statement.ExportColumns.
func exportFields(b client.DiffBill) []string {
	return []string{b.CarrierOrderID, b.KdOrderID, b.CarrierUserID, b.CarrierOrderTime, b.KdUserID, b.UserStatus,
		b.DiffType, b.DiffReason, b.SkuCode, b.SkuPrice.String(), b.BillingCycle, b.CarrierSale, b.CarrierSaleToKd,
		b.ThisMouthBilling, b.NextMouthBilling, b.Channel, b.CarrierActiveTime, b.CarrierEndTime, b.CarrierPackageID,
		b.KdActiveTime, b.KdEndTime, b.KdOrderTime, b.KdPackageID, b.KdSaleTotal.String()}
}

// compareExportRow checks an export row against the list's bill.
func compareExportRow(t *testing.T, line int, row []string, b client.DiffBill) {
	t.Helper()
	want := exportFields(b)
	for len(row) < len(want) {
		row = append(row, "") // trailing empty cells
	}
	for i, col := range statement.ExportColumns {
		got, w := row[i], want[i]
		switch col {
		case "diffType", "skuPrice", "kdSaleTotal":
			gd, err1 := decimal.NewFromString(got)
			wd, err2 := decimal.NewFromString(w)
			if err1 != nil || err2 != nil || !gd.Equal(wd) {
				t.Errorf("row %d %s = %q, want %s", line, col, got, w)
			}
		default:
			if got != exportText(w) {
				t.Errorf("row %d %s = %q, want %q", line, col, got, exportText(w))
			}
		}
	}
}

// parseCSVExport reads a CSV export: UTF-8 with a byte order mark.
func parseCSVExport(t *testing.T, data []byte) [][]string {
	t.Helper()
	rest, ok := bytes.CutPrefix(data, []byte("\ufeff"))
	if !ok {
		t.Errorf("the CSV export does not start with a UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(bytes.NewReader(rest)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV export does not parse: %v", err)
	}
	return rows
}

// parseXLSXExport reads an xlsx export's one sheet, raw values, and checks
// that no cell is a formula.
func parseXLSXExport(t *testing.T, data []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the xlsx export does not open: %v", err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 1 || sheets[0] != statement.ExportSheet {
		t.Errorf("sheets = %q, want [%s]", sheets, statement.ExportSheet)
	}
	rows, err := f.GetRows(statement.ExportSheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if panes, err := f.GetPanes(statement.ExportSheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes = %+v, %v; want the header row frozen", panes, err)
	}
	for i, r := range rows {
		for j := range r {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if formula, _ := f.GetCellFormula(statement.ExportSheet, cell); formula != "" {
				t.Errorf("cell %s is the formula %q", cell, formula)
			}
		}
	}
	return rows
}

// stringsEqual reports whether a and b hold the same strings in order.
func stringsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
