package reconcile

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// The canonical names of the statement's columns, as statement.Columns and
// the import template write them.
const (
	ColCarrierOrderID    = "carrierOrderId"
	ColCarrierUserID     = "carrierUserId"
	ColCarrierOrderTime  = "carrierOrderTime"
	ColSkuCode           = "skuCode"
	ColCarrierPackageID  = "carrierPackageId"
	ColCarrierActiveTime = "carrierActiveTime"
	ColCarrierEndTime    = "carrierEndTime"
	ColCarrierSale       = "carrierSale"
	ColCarrierSaleToKd   = "carrierSaleToKd"
	ColChannel           = "channel"
)

// MaxTextLen is the most characters (runes) a text cell may hold.
const MaxTextLen = 128

// Row is one validated statement row. Its strings are the cells' text
// trimmed of surrounding spaces (they may share memory with the cells the
// caller passed); its times are UTC.
type Row struct {
	// Number is the row's number in the sheet, the header being row 1.
	Number           int64
	CarrierOrderID   string
	CarrierUserID    string
	SkuCode          string
	CarrierPackageID string
	// Channel is "" when the statement has none for the row.
	Channel    string
	OrderTime  time.Time // carrierOrderTime
	ActiveTime time.Time // carrierActiveTime
	EndTime    time.Time // carrierEndTime
	// CarrierSale is meaningful only when HasCarrierSale is true: the
	// column is optional.
	CarrierSale     decimal.Decimal
	HasCarrierSale  bool
	CarrierSaleToKd decimal.Decimal
}

// column describes a statement column for ParseRow.
type column struct {
	name     string
	required bool
	want     string // what to write, for the error of an empty required cell
}

// The statement's columns, in the template's order, which is the order of a
// row's errors.
var (
	colOrderID    = column{ColCarrierOrderID, true, "the carrier's order ID, up to 128 characters, unique within the statement"}
	colUserID     = column{ColCarrierUserID, true, "the carrier's user ID of the subscriber, up to 128 characters"}
	colOrderTime  = column{ColCarrierOrderTime, true, "when the package was ordered, for example 2025-10-27T11:47:46Z"}
	colSkuCode    = column{ColSkuCode, true, "the SKU code of the package, for example 1p500g"}
	colPackageID  = column{ColCarrierPackageID, true, "the package ID the carrier recorded"}
	colActiveTime = column{ColCarrierActiveTime, true, "when the package became effective, for example 2025-10-27T11:47:46Z"}
	colEndTime    = column{ColCarrierEndTime, true, "when the package ends, for example 2025-11-27T11:47:46Z"}
	colSale       = column{ColCarrierSale, false, ""}
	colSaleToKd   = column{ColCarrierSaleToKd, true, "the revenue share owed to the platform, for example 0.50"}
	colChannel    = column{ColChannel, false, ""}
)

// ParseRow reads the statement row numbered number. get returns the text of
// the cell of a column, given its canonical name (one of the Col
// constants), or "" when the row or the sheet has no such cell; ParseRow
// calls it once per column, in the template's order, and trims the cells
// of surrounding spaces. Zone-less times and Excel serials are read in
// opt.Location.
//
// When the row is valid, ParseRow returns it and no errors. Otherwise it
// returns every error of the row, in column order, each naming the row, the
// column, the trimmed cell's text (cut to 64 characters) and a reason that
// says how to fix it; the returned Row then holds the values that could be
// read. Errors are: a required cell empty; a text cell longer than
// MaxTextLen characters or not valid UTF-8; a date-time or amount ParseTime
// or ParseAmount refuses; carrierEndTime before carrierActiveTime.
//
// ParseRow does not look for repeated carrierOrderIds: the caller, which
// holds the rows, does, and reports a repeat with DuplicateError.
func ParseRow(number int64, get func(column string) string, opt Options) (Row, []trueup.RowError) {
	p := rowParser{number: number, get: get, loc: opt.location()}
	row := Row{Number: number}
	row.CarrierOrderID = p.text(&colOrderID)
	row.CarrierUserID = p.text(&colUserID)
	row.OrderTime, _ = p.time(&colOrderTime)
	row.SkuCode = p.text(&colSkuCode)
	row.CarrierPackageID = p.text(&colPackageID)
	row.ActiveTime, _ = p.time(&colActiveTime)
	var end string
	row.EndTime, end = p.time(&colEndTime)
	if !row.EndTime.IsZero() && !row.ActiveTime.IsZero() && row.EndTime.Before(row.ActiveTime) {
		p.fail(&colEndTime, end, fmt.Sprintf("carrierEndTime %s is before carrierActiveTime %s; the package cannot end before it becomes effective",
			trueup.FormatTime(row.EndTime), trueup.FormatTime(row.ActiveTime)))
	}
	row.CarrierSale, row.HasCarrierSale = p.amount(&colSale)
	row.CarrierSaleToKd, _ = p.amount(&colSaleToKd)
	row.Channel = p.text(&colChannel)
	return row, p.errs
}

// rowParser reads the cells of one row and gathers their errors.
type rowParser struct {
	number int64
	get    func(string) string
	loc    *time.Location
	errs   []trueup.RowError
}

// fail records an error of column c, whose cell holds value.
func (p *rowParser) fail(c *column, value, reason string) {
	p.errs = append(p.errs, trueup.RowError{Row: p.number, Column: c.name, Value: clipValue(value), Reason: reason})
}

// cell returns the trimmed text of column c, failing when c is required
// and the cell empty.
func (p *rowParser) cell(c *column) string {
	v := strings.TrimSpace(p.get(c.name))
	if v == "" && c.required {
		p.fail(c, "", fmt.Sprintf("%s is required; write %s", c.name, c.want))
	}
	return v
}

// text returns the text of column c, or "" when it is empty or invalid.
func (p *rowParser) text(c *column) string {
	v := p.cell(c)
	if v == "" {
		return ""
	}
	if reason := checkText(c.name, v); reason != "" {
		p.fail(c, v, reason)
		return ""
	}
	return v
}

// time returns the instant of column c, the zero time when it is empty or
// invalid, and the cell's text.
func (p *rowParser) time(c *column) (time.Time, string) {
	v := p.cell(c)
	if v == "" {
		return time.Time{}, v
	}
	t, err := ParseTime(v, p.loc)
	if err != nil {
		p.fail(c, v, err.Error())
	}
	return t, v
}

// amount returns the decimal of column c and whether there is a valid one.
func (p *rowParser) amount(c *column) (decimal.Decimal, bool) {
	v := p.cell(c)
	if v == "" {
		return decimal.Decimal{}, false
	}
	d, err := ParseAmount(v)
	if err != nil {
		p.fail(c, v, err.Error())
		return decimal.Decimal{}, false
	}
	return d, true
}

// checkText returns why v cannot be the text of column name, or "". The
// text columns are ids and codes: a control character (U+0000 to U+001F,
// U+007F: a NUL, a tab, a line break) is refused, which also keeps a NUL
// from reaching PostgreSQL, which cannot store it in text.
func checkText(name, v string) string {
	n := 0
	for i := 0; i < len(v); {
		if c := v[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return fmt.Sprintf("%s holds the control character %s; remove it (ids and codes are written on one line, without tabs or other control characters)",
					name, escapeControl(rune(c)))
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(v[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Sprintf("%s is not valid UTF-8 text; save a CSV file as UTF-8, or upload the .xlsx file", name)
			}
			i += size
		}
		n++
	}
	if n > MaxTextLen {
		return fmt.Sprintf("%s has %d characters; write at most %d", name, n, MaxTextLen)
	}
	return ""
}

// DuplicateError returns the row error of row number, whose carrierOrderId
// id already appeared in row first.
func DuplicateError(number, first int64, id string) trueup.RowError {
	return DuplicateErrorAt(number, fmt.Sprintf("row %d", first), id)
}

// DuplicateErrorAt is DuplicateError for a statement read from several
// sheets: first names the place of the first row (sheet "Orders 2" row 7).
func DuplicateErrorAt(number int64, first string, id string) trueup.RowError {
	return trueup.RowError{
		Row:    number,
		Column: ColCarrierOrderID,
		Value:  clipValue(id),
		Reason: fmt.Sprintf("carrierOrderId %q already appears in %s; each order must appear once, so merge the two rows or remove one", clip(id), first),
	}
}
