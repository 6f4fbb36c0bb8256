package batch

import (
	"context"

	"github.com/trueup/trueup"
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
