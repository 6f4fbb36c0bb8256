package batch

import (
	"context"
	"io"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/statement"
)

// Batch returns a batch and its current attempt, or an ENOTFOUND error.
func (s *Service) Batch(ctx context.Context, no trueup.BatchNo) (trueup.Batch, int, error) {
	return s.Store.Batch(ctx, no)
}

// Batches returns a carrier's latest batches (at most limit), newest first.
func (s *Service) Batches(ctx context.Context, carrier trueup.CarrierID, limit int) ([]trueup.Batch, error) {
	return s.Store.Batches(ctx, carrier, limit)
}

// RowErrors returns the first limit row errors of a batch's attempt.
func (s *Service) RowErrors(ctx context.Context, no trueup.BatchNo, attempt, limit int) ([]trueup.RowError, error) {
	return s.Store.BatchRowErrors(ctx, no, attempt, limit)
}

// DiscrepancyPage returns at most limit discrepancies of a batch's attempt
// after the one numbered after, in order.
func (s *Service) DiscrepancyPage(ctx context.Context, no trueup.BatchNo, attempt int, after int64, limit int) ([]trueup.Discrepancy, error) {
	return s.Store.DiscrepancyPage(ctx, no, attempt, after, limit)
}

// EachDiscrepancy calls fn for every discrepancy of a batch's attempt, in
// order, stopping at fn's first error.
func (s *Service) EachDiscrepancy(ctx context.Context, no trueup.BatchNo, attempt int, fn func(trueup.Discrepancy) error) error {
	return s.Store.EachDiscrepancy(ctx, no, attempt, fn)
}

// Export writes the discrepancies of a batch's attempt to w as an export of
// format (statement.XLSX or statement.CSV), in list order, with formula
// injection neutralised. An error after the first byte leaves w cut short.
func (s *Service) Export(ctx context.Context, w io.Writer, no trueup.BatchNo, attempt int, format statement.Format) error {
	ew, err := statement.NewExportWriter(w, format)
	if err != nil {
		return err
	}
	if err := s.Store.EachDiscrepancy(ctx, no, attempt, ew.Write); err != nil {
		return err
	}
	return ew.Close()
}
