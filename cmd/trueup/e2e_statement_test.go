package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
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
