// Package reconcile is trueup's matching engine: it reads the rows of a
// carrier statement, compares each with the platform's ledger order of the
// same carrierOrderId, and describes every difference as a
// trueup.Discrepancy. It does no I/O: rows, ledger orders and discrepancies
// are values passed in and out, so the caller decides where they live.
//
// # Checking a statement
//
// The caller (package batch) checks a statement in two passes:
//
//  1. Validate. Every row goes through ParseRow, which returns the row or all
//     of its errors; ParseRow reads cells by column name, through a getter
//     (a closure over the row's cells and the header index of
//     statement.MapHeader). The caller keeps the valid rows, finds repeated
//     carrierOrderIds and reports them with DuplicateError.
//  2. Match. For each ledger order the caller finds the row of the same
//     carrierOrderId and calls Compare; an order without a row is
//     MissingOnCarrier, a row without an order MissingOnPlatform.
//
// The package example shows both passes.
//
// # Discrepancies
//
// One discrepancy is recorded per order and kind. The kinds are declared
// once, in the table trueup.Kinds (batch.go); this package is where each is
// produced (docs/kinds.md says how to add one):
//
//   - 1 (trueup.DiffMissingOnCarrier): the ledger has the order, the
//     statement does not. Carrier-side fields are empty, except
//     carrierOrderId and carrierUserId, which the ledger knows.
//   - 2 (trueup.DiffMissingOnPlatform): the statement has the row, the
//     ledger has no order. Platform-side fields are empty (skuPrice and
//     kdSaleTotal are 0); skuCode and channel are the row's.
//   - 3 (trueup.DiffRights): carrierPackageId differs from kdPackageId,
//     skuCode from the ledger's skuCode, carrierActiveTime from
//     kdActiveTime or carrierEndTime from kdEndTime. Text is compared
//     exactly (the row's cells are trimmed of surrounding spaces); times are
//     compared at millisecond precision, as trueup.FormatTime writes them.
//     diffReason names each differing field with both values, in that order,
//     separated by "; ".
//   - 4 (trueup.DiffAmount): carrierSaleToKd differs from kdSaleTotal by
//     more than the tolerance. A difference exactly equal to the tolerance
//     is not a discrepancy. The tolerance is Options.Tolerance, or
//     DefaultTolerance (0.01) when that is zero; a negative tolerance asks
//     for exact equality. Amounts are compared as decimals, never floats.
//
// An order can have both kind 3 and kind 4: Compare then returns two
// discrepancies, kind 3 first. For kinds 3 and 4, carrier-side fields come
// from the row and platform-side fields from the ledger order; skuCode is
// the ledger's (it goes with skuPrice; a carrier skuCode that differs is in
// diffReason), channel is the row's when the row has one and the ledger's
// otherwise. Times are written with trueup.FormatTime (UTC, milliseconds);
// amounts are written as decimals without exponent, keeping the scale they
// were given with (the carrier's "0.50" stays 0.50, "1E-3" becomes 0.001).
// billingCycle is always the cycle being reconciled.
//
// # Billing split
//
// thisMouthBilling and nextMouthBilling split the platform's amount,
// kdSaleTotal, by the days of the ledger's active period
// [kdActiveTime, kdEndTime) that fall before the end of the cycle (this
// month) and from it on (next month). The cycle ends at the first instant
// of the next month in Options.Location, the carrier's zone.
//
//   - The part of the period before the cycle starts is billed this month:
//     the cycle being reconciled is the first one that bills it.
//   - A period that ends by the cycle's end is billed this month entirely;
//     one that starts at or after it, next month entirely.
//   - A period with no start or end, an empty one (kdEndTime not after
//     kdActiveTime, at millisecond precision) or a reversed one is billed
//     this month entirely.
//   - Days are calendar days of the carrier's zone, not 24-hour spans: every
//     day weighs 1, so a month's share does not change when it holds a
//     daylight-saving switch (a 23- or 25-hour day), and finance staff can
//     check a split against a calendar. A part of a day counts as the
//     fraction of that day's length elapsed (in milliseconds). In UTC, the
//     default, this equals counting elapsed time.
//   - this = kdSaleTotal × (days this month ÷ days in the period), rounded
//     half away from zero to max(2, scale of kdSaleTotal) decimal places;
//     next = kdSaleTotal − this. The two always add up to kdSaleTotal
//     exactly, and carry the same number of decimal places.
//
// # Reading cells
//
// ParseTime reads RFC 3339 / ISO 8601 instants with Z or an offset
// (2025-10-27T11:47:46.977Z, 2025-10-27T19:47:46+08:00, +0800 and +08 too),
// zone-less date-times (2025-10-27 11:47:46, 2025-10-27T11:47:46, 2025/10/27
// 11:47, one-digit month, day and hour allowed, fractional seconds allowed)
// and dates (2025-10-27: the first instant of the day) in the carrier's
// zone, and Excel serial day numbers of the 1900 date system
// (45922.76168981481), also in the carrier's zone, rounded to the nearest
// millisecond. A serial must lie in Excel's range, 1 (1900-01-01) to
// 2958465 (9999-12-31), and not be 60, the 1900-02-29 that Excel counts but
// the calendar lacks; a plain number in a CSV date column is read as a
// serial too. A zone-less time that the carrier's zone skips or repeats at a
// daylight-saving switch is read as time.Date reads it; carriers who care
// send an offset. Years run from 1900 to 9999. Day-first and month-first
// dates (27/10/2025, 10/27/2025) are refused: they are ambiguous.
//
// ParseAmount reads a plain decimal with a dot (10, 9.90, -0.5, .5) or
// spreadsheet scientific notation (1E-3, 1.5e+2). It rejects currency signs,
// thousands separators, decimal commas, spaces inside, NaN and infinities,
// and numbers with more than 38 digits or an exponent beyond ±24.
//
// # Cost
//
// Measured on the 2-core machine of the field notes, busy with other work
// (go test ./reconcile/ -run '^$' -bench . -benchmem): Compare of an
// agreeing pair 28 ns and no allocation; ParseRow 0.45 µs; ParseTime
// 40-50 ns, no allocation.
package reconcile
