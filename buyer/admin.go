package buyer

import (
	"context"

	"github.com/trueup/trueup"
)

// Buyers returns every buyer, oldest first (an empty list is not nil).
func (s *Service) Buyers(ctx context.Context) ([]Buyer, error) {
	list, err := s.Store.Buyers(ctx)
	if list == nil {
		list = []Buyer{}
	}
	return list, err
}

// SetRejectCap sets a buyer's reject cap (nil: none) and returns the buyer.
// An unknown buyer is an ENOTFOUND *trueup.Error.
func (s *Service) SetRejectCap(ctx context.Context, id BuyerID, cap *Percent) (Buyer, error) {
	if _, err := s.Store.Buyer(ctx, id); err != nil {
		return Buyer{}, err
	}
	if err := s.Store.SetBuyerRejectCap(ctx, id, cap); err != nil {
		return Buyer{}, err
	}
	s.partnerChanged(ctx, trueup.EventPartnerChanged, id, map[string]any{"action": "buyer.reject_cap", "rejectCap": cap})
	return s.Store.Buyer(ctx, id)
}

// Adjustment returns the process with the given id, or an ENOTFOUND
// *trueup.Error.
func (s *Service) Adjustment(ctx context.Context, id AdjustmentID) (Adjustment, error) {
	return s.Store.Adjustment(ctx, id)
}

// Buyer returns the buyer with the given id, or an ENOTFOUND
// *trueup.Error.
func (s *Service) Buyer(ctx context.Context, id BuyerID) (Buyer, error) {
	return s.Store.Buyer(ctx, id)
}

// BuyerAdjustments returns a buyer's processes, newest first; an unknown
// buyer is an ENOTFOUND *trueup.Error.
func (s *Service) BuyerAdjustments(ctx context.Context, id BuyerID) ([]Adjustment, error) {
	if _, err := s.Store.Buyer(ctx, id); err != nil {
		return nil, err
	}
	list, err := s.Store.BuyerAdjustments(ctx, id)
	if list == nil {
		list = []Adjustment{}
	}
	return list, err
}
