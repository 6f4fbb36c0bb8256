// Package statement knows the carrier statement: its columns and header
// rules, the import template, and the discrepancy exports. Statement files
// are read through package sheet.
package statement

import "github.com/trueup/trueup/internal/sheet"

// Format is a file format of the discrepancy exports (CSV or XLSX).
type Format = sheet.Format

// The export formats.
const (
	CSV  = sheet.CSV
	XLSX = sheet.XLSX
)

// ParseError is the error MapHeader returns, at a place of the statement.
type ParseError = sheet.ParseError

// Column describes one column of the carrier statement.
type Column = sheet.Column

// Columns lists the carrier-side fields of seed 004's DiffBill, in the
// template's order.
var Columns = []Column{
	{Name: "carrierOrderId", Required: true, Type: "text", Meaning: "The carrier's order ID; unique within the statement. Matched with the ledger's carrierOrderId.", Formats: "Text up to 128 characters."},
	{Name: "carrierUserId", Required: true, Type: "text", Meaning: "The carrier's user ID of the subscriber.", Formats: "Text up to 128 characters."},
	{Name: "carrierOrderTime", Required: true, Type: "date-time", Meaning: "When the subscriber ordered the package on the carrier side.", Formats: "ISO 8601 (2025-10-27T11:47:46.977Z, 2025-10-27T19:47:46+08:00, 2025-10-27 11:47:46) or an Excel date cell, read in the carrier's time zone (UTC unless configured)."},
	{Name: "skuCode", Required: true, Type: "text", Meaning: "The SKU code of the package.", Formats: "Text up to 128 characters, for example 1p500g."},
	{Name: "carrierPackageId", Required: true, Type: "text", Meaning: "The package ID recorded by the carrier.", Formats: "Text up to 128 characters."},
	{Name: "carrierActiveTime", Required: true, Type: "date-time", Meaning: "When the package became effective on the carrier side.", Formats: "As carrierOrderTime."},
	{Name: "carrierEndTime", Required: true, Type: "date-time", Meaning: "When the package ends on the carrier side.", Formats: "As carrierOrderTime; not before carrierActiveTime."},
	{Name: "carrierSale", Required: false, Type: "decimal", Meaning: "The carrier's revenue of the order.", Formats: "A decimal number with a dot, for example 10 or 9.90; no currency sign or thousands separator."},
	{Name: "carrierSaleToKd", Required: true, Type: "decimal", Meaning: "The revenue share the carrier owes the platform for the order. Compared with the ledger's kdSaleTotal.", Formats: "As carrierSale."},
	{Name: "channel", Required: false, Type: "text", Meaning: "The sales channel value.", Formats: "Text up to 128 characters, for example 0."},
}
