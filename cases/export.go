package cases

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/statement"
	"github.com/xuri/excelize/v2"
)

// ExportColumns are the columns of a cycle export's case rows.
var ExportColumns = []string{"caseId", "carrierOrderId", "kdOrderId", "diffType", "state", "resolution", "note", "assignee",
	"amount", "kdSaleTotal", "carrierSaleToKd", "agreedThisMonth", "agreedNextMonth", "ageDays", "overdue", "flag",
	"openedBatch", "seenBatch", "fixedBy", "openedAt", "resolvedAt", "resolvedBy", "diffReason"}

// ExportHeader returns the Content-Type and Content-Disposition of the
// export of a cycle in format f.
func ExportHeader(carrier trueup.CarrierID, cycle string, f statement.Format) (contentType, disposition string) {
	contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	if f == statement.CSV {
		contentType = "text/csv; charset=utf-8"
	}
	return contentType, fmt.Sprintf(`attachment; filename="cycle-%s-%s.%s"`, carrier, cycle, f)
}

// ExportInput names the cycle to export and the format (csv or xlsx).
type ExportInput struct {
	CarrierID trueup.CarrierID
	Cycle     string
	Format    statement.Format
}

// Export writes a cycle to w: the summary and settlement figure (as
// field/value rows), then one row per case with the part of the
// settlement its order counts for this month and next month. A CSV holds
// the summary rows, an empty row, then the case rows; an xlsx workbook has
// a "settlement" sheet and a "cases" sheet. Text that a spreadsheet could
// take for a formula is neutralised.
func (s *Service) Export(ctx context.Context, w io.Writer, in ExportInput) error {
	if in.Format != statement.CSV && in.Format != statement.XLSX {
		return trueup.Errorf(trueup.EINVALID, "export format %q is not supported; use xlsx or csv", in.Format)
	}
	var rows [][]string
	c, _, err := s.cycle(ctx, in.cycleInput(), func(cs Case, this, next decimal.Decimal) error {
		rows = append(rows, caseRecord(cs, this, next))
		return nil
	})
	if err != nil {
		return err
	}
	summary := summaryRecords(c)
	if in.Format == statement.CSV {
		cw := csv.NewWriter(w)
		for _, r := range summary {
			cw.Write(neutral(r))
		}
		cw.Write([]string{})
		cw.Write(ExportColumns)
		for _, r := range rows {
			cw.Write(neutral(r))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("export cycle csv: %w", err)
		}
		return nil
	}
	return writeXLSX(w, summary, rows)
}

// cycleInput returns the cycle named by in.
func (in ExportInput) cycleInput() CycleInput {
	return CycleInput{CarrierID: in.CarrierID, Cycle: in.Cycle}
}

func writeXLSX(w io.Writer, summary, rows [][]string) (err error) {
	book := excelize.NewFile()
	defer func() {
		if cerr := book.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export cycle xlsx: %w", cerr)
		}
	}()
	if err := book.SetSheetName("Sheet1", "settlement"); err != nil {
		return fmt.Errorf("export cycle xlsx: %w", err)
	}
	for i, r := range summary {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := []any{r[0], r[1]}
		if err := book.SetSheetRow("settlement", cell, &vals); err != nil {
			return fmt.Errorf("export cycle xlsx: %w", err)
		}
	}
	if _, err := book.NewSheet("cases"); err != nil {
		return fmt.Errorf("export cycle xlsx: %w", err)
	}
	sw, err := book.NewStreamWriter("cases")
	if err != nil {
		return fmt.Errorf("export cycle xlsx: %w", err)
	}
	vals := make([]any, len(ExportColumns))
	for i, n := range ExportColumns {
		vals[i] = n
	}
	if err := sw.SetRow("A1", vals); err != nil {
		return fmt.Errorf("export cycle xlsx: %w", err)
	}
	for i, r := range rows {
		for j, v := range neutral(r) {
			vals[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return fmt.Errorf("export cycle xlsx: row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("export cycle xlsx: %w", err)
	}
	if _, err := book.WriteTo(w); err != nil {
		return fmt.Errorf("export cycle xlsx: write: %w", err)
	}
	return nil
}

func neutral(r []string) []string {
	out := make([]string, len(r))
	for i, s := range r {
		out[i] = statement.NeutraliseFormula(s)
	}
	return out
}

func summaryRecords(c Cycle) [][]string {
	closed := "no"
	if c.ClosedAt != nil {
		closed = trueup.FormatTime(*c.ClosedAt) + " by " + string(c.ClosedBy)
	}
	out := [][]string{
		{"carrierId", string(c.CarrierID)},
		{"billingCycle", c.Cycle},
		{"appliedBatch", string(c.AppliedBatch)},
		{"ledgerOrders", strconv.FormatInt(c.LedgerOrders, 10)},
		{"ordersMatched", strconv.FormatInt(c.OrdersMatched, 10)},
		{"openCases", strconv.FormatInt(c.Open, 10)},
		{"resolvedCases", strconv.FormatInt(c.Resolved, 10)},
		{"overdueCases", strconv.FormatInt(c.Overdue, 10)},
	}
	for _, k := range c.Kinds {
		n := strconv.Itoa(int(k.DiffType))
		out = append(out,
			[]string{"kind" + n + "Open", strconv.FormatInt(k.Open, 10)},
			[]string{"kind" + n + "OpenAmount", k.OpenAmount.String()},
			[]string{"kind" + n + "Resolved", strconv.FormatInt(k.Resolved, 10)},
			[]string{"kind" + n + "ResolvedAmount", k.ResolvedAmount.String()})
	}
	return append(out,
		[]string{"settlementTotal", c.Settlement.Total.String()},
		[]string{"settlementThisMonth", c.Settlement.ThisMonth.String()},
		[]string{"settlementNextMonth", c.Settlement.NextMonth.String()},
		[]string{"settlementOrders", strconv.FormatInt(c.Settlement.Orders, 10)},
		[]string{"disputed", c.Settlement.Disputed.String()},
		[]string{"disputedOrders", strconv.FormatInt(c.Settlement.DisputedOrders, 10)},
		[]string{"closed", closed})
}

func caseRecord(c Case, this, next decimal.Decimal) []string {
	res := ""
	if c.Resolution != nil {
		res = *c.Resolution
	}
	resolvedAt := ""
	if c.ResolvedAt != nil {
		resolvedAt = trueup.FormatTime(*c.ResolvedAt)
	}
	return []string{string(c.ID), c.CarrierOrderID, c.KdOrderID, strconv.Itoa(int(c.DiffType)), string(c.State), res, c.Note, c.Assignee,
		c.Amount.String(), c.KdSaleTotal, c.CarrierSaleToKd, this.String(), next.String(), strconv.Itoa(c.AgeDays), strconv.FormatBool(c.Overdue), c.Flag,
		string(c.OpenedBatch), string(c.SeenBatch), string(c.FixedBy), trueup.FormatTime(c.OpenedAt), resolvedAt, string(c.ResolvedBy), c.DiffReason}
}
