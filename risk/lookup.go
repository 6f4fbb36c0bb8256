package risk

import (
	"context"
	"fmt"
	"strings"

	"github.com/trueup/trueup"
)

// LookupParams are the inputs of Lookup: an operator's look-up of one
// mobile number.
type LookupParams struct {
	// Mobile is the number with its country code (digits, a leading +
	// and spaces or dashes dropped) or its MD5 as 32 hexadecimal digits.
	Mobile string
	// To is the last day looked at; From the first. Both 0: every day.
	From, To Day
	// Source keeps one source's records; 0 keeps all.
	Source Source
}

// LookupResult is the answer of Lookup: the MD5 the number was looked up
// by and the matching records, newest first.
type LookupResult struct {
	Mobile  MD5
	Records []Record
}

// Lookup hashes a mobile number as the risk API's clients do, md5 of the
// digits with the country code, and returns the records stored for it.
// The number itself is neither stored nor logged, nor put in any error: an
// unreadable number is an EINVALID *trueup.Error that does not repeat it.
// It counts against no client's quota.
func (s *Service) Lookup(ctx context.Context, p LookupParams) (LookupResult, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, strings.TrimSpace(p.Mobile))
	m, ok := mobileKey(clean)
	if !ok {
		return LookupResult{}, trueup.Errorf(trueup.EINVALID, "the mobile number is not a number with its country code (5 to 20 digits, such as 915586685366) nor its MD5 (32 hexadecimal digits); type it again")
	}
	q := Query{Mobile: m, From: p.From, To: p.To, Source: p.Source}
	if p.From == 0 && p.To == 0 {
		q.From, q.To = 0, DayOf(s.now().AddDate(100, 0, 0))
	}
	if q.From > q.To {
		return LookupResult{}, trueup.Errorf(trueup.EINVALID, "the first day %s is after the last day %s; swap them", q.From, q.To)
	}
	recs, err := s.Store.RiskRecords(ctx, q)
	if err != nil {
		return LookupResult{}, fmt.Errorf("risk look-up: %w", err)
	}
	if recs == nil {
		recs = []Record{}
	}
	return LookupResult{Mobile: m, Records: recs}, nil
}
