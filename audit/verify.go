package audit

import (
	"context"
	"fmt"

	"github.com/trueup/trueup"
)

// Problems Verify finds, in Break.Problem.
const (
	// ProblemChanged: the entry's stored hash is not the hash of its
	// contents (a field was changed).
	ProblemChanged = "changed"
	// ProblemRemoved: the entry is missing (a gap in seq, or cut off the
	// end of the chain).
	ProblemRemoved = "removed"
	// ProblemInserted: the entry follows the chain's recorded head.
	ProblemInserted = "inserted"
	// ProblemRelinked: the entry's prev_hash is not the previous entry's
	// hash: the previous entry was replaced (its hash recomputed) or this
	// one was inserted in its place.
	ProblemRelinked = "relinked"
	// ProblemHead: the chain's head row is missing or disagrees with the
	// chain's last entry.
	ProblemHead = "head"
)

// Break is the first place the chain is broken.
type Break struct {
	// Seq is the entry named (the first missing one for ProblemRemoved).
	Seq     int64  `json:"seq"`
	Problem string `json:"problem"`
	// Message says what is wrong, for the operator.
	Message string `json:"message"`
}

func (b *Break) Error() string { return b.Message }

// Report is what Verify found.
type Report struct {
	// Entries is how many entries were checked.
	Entries int64 `json:"entries"`
	// Head is the chain's head when the walk ended.
	Head   Head   `json:"head"`
	Intact bool   `json:"intact"`
	Break  *Break `json:"break,omitempty"`
}

// Verify walks the chain in seq order, a page at a time, recomputing each
// entry's hash and checking that it links to the previous one, then checks
// the chain's end against its head. It returns a report with Intact true,
// or with Break naming the first entry changed, removed or inserted; an
// error only when the store cannot be read. Entries appended while it walks
// are walked too.
func (s *Service) Verify(ctx context.Context) (Report, error) {
	var r Report
	var last Entry // Seq 0, Hash "": before the first entry
	verifyPage := s.VerifyPage
	if verifyPage <= 0 {
		verifyPage = 1000
	}
	walk := func() (*Break, error) {
		for {
			page, err := s.Store.AuditEntries(ctx, ListParams{After: last.Seq, Limit: verifyPage})
			if err != nil {
				return nil, err
			}
			for _, e := range page {
				if b := check(last, e); b != nil {
					return b, nil
				}
				last = e
				r.Entries++
			}
			if len(page) < verifyPage {
				return nil, nil
			}
		}
	}
	for {
		b, err := walk()
		if err != nil {
			return r, fmt.Errorf("verify audit chain: %w", err)
		}
		if b != nil {
			r.Break = b
			return r, nil
		}
		// The head is read after the walk: an append moves it in the
		// transaction that stores its entry, so an entry the walk saw is
		// never beyond a head read later.
		head, err := s.Store.AuditHead(ctx)
		if trueup.ErrorKind(err) == trueup.ENOTFOUND {
			r.Break = &Break{Seq: last.Seq, Problem: ProblemHead,
				Message: fmt.Sprintf("the chain's head row is missing (the chain ends at entry %d); it was deleted", last.Seq)}
			return r, nil
		}
		if err != nil {
			return r, fmt.Errorf("verify audit chain: %w", err)
		}
		r.Head = head
		switch {
		case head.Seq > last.Seq:
			seen := last.Seq
			if b, err := walk(); err != nil || b != nil {
				r.Break = b
				return r, err
			}
			if last.Seq > seen {
				continue // appended while walking: check the new end
			}
			r.Break = &Break{Seq: last.Seq + 1, Problem: ProblemRemoved,
				Message: fmt.Sprintf("entry %d is missing: the chain ends at entry %d but its head records entry %d; entries %d to %d were removed", last.Seq+1, last.Seq, head.Seq, last.Seq+1, head.Seq)}
		case head.Seq < last.Seq:
			// Cannot happen through appends: an entry beyond the head
			// was written around them.
			r.Break = &Break{Seq: head.Seq + 1, Problem: ProblemInserted,
				Message: fmt.Sprintf("entry %d was inserted: the chain's head records entry %d as the last, yet the chain goes on to entry %d", head.Seq+1, head.Seq, last.Seq)}
		case head.Hash != last.Hash:
			r.Break = &Break{Seq: last.Seq, Problem: ProblemHead,
				Message: fmt.Sprintf("entry %d does not match the chain's head: the head records hash %s, the entry has %s; the entry was replaced", last.Seq, short(head.Hash), short(last.Hash))}
		default:
			r.Intact = true
		}
		return r, nil
	}
}

// check returns how e breaks the chain after prev, or nil.
func check(prev, e Entry) *Break {
	if e.Seq != prev.Seq+1 {
		return &Break{Seq: prev.Seq + 1, Problem: ProblemRemoved,
			Message: fmt.Sprintf("entry %d is missing: entry %d follows entry %d; entries %d to %d were removed", prev.Seq+1, e.Seq, prev.Seq, prev.Seq+1, e.Seq-1)}
	}
	if got := Hash(e); got != e.Hash {
		return &Break{Seq: e.Seq, Problem: ProblemChanged,
			Message: fmt.Sprintf("entry %d was changed: its contents hash to %s, not to its stored hash %s", e.Seq, short(got), short(e.Hash))}
	}
	if e.PrevHash != prev.Hash {
		if prev.Seq == 0 {
			return &Break{Seq: e.Seq, Problem: ProblemRelinked,
				Message: fmt.Sprintf("entry %d does not start the chain: its prev_hash is %s, not empty; it was inserted or replaced", e.Seq, short(e.PrevHash))}
		}
		return &Break{Seq: e.Seq, Problem: ProblemRelinked,
			Message: fmt.Sprintf("entry %d does not follow entry %d: its prev_hash %s is not entry %d's hash %s; entry %d was replaced or entry %d was inserted", e.Seq, prev.Seq, short(e.PrevHash), prev.Seq, short(prev.Hash), prev.Seq, e.Seq)}
	}
	return nil
}

// short returns the first 12 characters of a hash, for messages.
func short(h string) string {
	if h == "" {
		return `""`
	}
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
