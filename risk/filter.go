package risk

import (
	"context"
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
)

// A server keeps a Bloom filter of the numbers on the list, so that a
// check of a number that is not on it (most checks) is answered without a
// look-up in the store. The filter may say "maybe" of a number that is not
// on the list (about 1 in 100; the store then answers) but never "no" of
// one that is, as long as it reflects the list's current version. Each
// import changes the version in its transaction; a server reads the version
// at most FilterRecheck apart and stops using its filter as soon as it sees
// a new one, until a filter of the new list is built in the background.
// Records removed by an import (--replace) only leave numbers that are no
// longer on the list answering "maybe".

// FilterRecheck is how often a server reads the list's version: an import
// reaches the checks of every server within it.
const FilterRecheck = 100 * time.Millisecond

// filterBitsPerRecord sizes the filter: 12 bits per record (less per
// number when numbers have several records), k = 6, blocked: about 1%
// false "maybe".
const filterBitsPerRecord = 12

// MaxFilterBytes caps the filter's memory (records beyond 178 million are
// checked in the store only).
const MaxFilterBytes = 256 << 20

// bloom is a blocked Bloom filter keyed by MD5 digests: one 512-bit block
// per number (one cache line), six bits in it. Digests are uniformly
// distributed, so their bytes serve as the hashes.
type bloom struct {
	words   []uint64 // 8 words a block
	nblocks uint64
}

func newBloom(records int64) *bloom {
	nblocks := uint64(max(1, (records*filterBitsPerRecord+511)/512))
	return &bloom{words: make([]uint64, nblocks*8), nblocks: nblocks}
}

// spots returns the block's first word and the six bits of m.
func (b *bloom) spots(m MD5) (uint64, [6]uint16) {
	h := binary.LittleEndian.Uint64(m[0:8])
	block, _ := bits.Mul64(h, b.nblocks) // uniform in [0, nblocks)
	g := binary.LittleEndian.Uint64(m[8:16])
	var s [6]uint16
	for i := range s {
		s[i] = uint16(g & 511)
		g >>= 9
	}
	return block * 8, s
}

func (b *bloom) add(m MD5) {
	base, s := b.spots(m)
	for _, bit := range s {
		b.words[base+uint64(bit>>6)] |= 1 << (bit & 63)
	}
}

// mayContain reports false only for a number never added.
func (b *bloom) mayContain(m MD5) bool {
	base, s := b.spots(m)
	for _, bit := range s {
		if b.words[base+uint64(bit>>6)]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// listFilter is a server's filter of the list and what it knows of the
// list's version.
type listFilter struct {
	current   atomic.Pointer[filterState] // nil: none usable, ask the store
	checkedAt atomic.Int64                // UnixNano of the last version read
	checking  atomic.Bool

	mu       sync.Mutex
	building int64 // version+1 of the filter being built, 0 when none
}

type filterState struct {
	b       *bloom
	version int64
}

// filterFor returns the filter to use for a check, reading the list's version
// first when the last read is FilterRecheck old, and starting a build when
// the version changed. It returns nil when no filter reflects the current
// version.
func (s *Service) filterFor(ctx context.Context) *bloom {
	f := &s.filter
	now := s.now().UnixNano()
	// A clock set back (by a test, or a step of the system clock) makes
	// the recheck due too.
	if since := now - f.checkedAt.Load(); (since >= int64(FilterRecheck) || since < 0) && f.checking.CompareAndSwap(false, true) {
		s.recheckFilter(ctx)
		f.checkedAt.Store(s.now().UnixNano())
		f.checking.Store(false)
	}
	if st := f.current.Load(); st != nil {
		return st.b
	}
	return nil
}

// recheckFilter reads the list's version and drops the filter when it is
// not the version's, starting a build of the new one.
func (s *Service) recheckFilter(ctx context.Context) {
	f := &s.filter
	l, err := s.Store.RiskList(ctx)
	if err != nil {
		f.current.Store(nil) // not knowing the version, trust the store only
		s.logger().Warn("risk filter: read list version", "err", err)
		return
	}
	if st := f.current.Load(); st != nil && st.version == l.Version {
		return
	}
	f.current.Store(nil)
	if l.Records*filterBitsPerRecord/8 > MaxFilterBytes {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.building == l.Version+1 {
		return // already being built
	}
	if s.background(func(ctx context.Context) { s.buildFilter(ctx, l) }) {
		f.building = l.Version + 1
	}
}

// buildFilter builds the filter of the list at version l and puts it in use
// unless the list changed meanwhile.
func (s *Service) buildFilter(ctx context.Context, l ListState) {
	f := &s.filter
	start := time.Now()
	b := newBloom(l.Records)
	n := int64(0)
	err := s.Store.EachRiskMobile(ctx, func(m MD5) error {
		b.add(m)
		n++
		return nil
	})
	after, err2 := s.Store.RiskList(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.building != l.Version+1 {
		return // a newer version's build has started
	}
	f.building = 0
	switch {
	case err != nil:
		s.logger().Warn("risk filter: build", "version", l.Version, "err", err)
	case err2 != nil || after.Version != l.Version:
		// The list changed while it was read; the next recheck builds again.
	default:
		f.current.Store(&filterState{b: b, version: l.Version})
		s.logger().Info("risk filter ready", "version", l.Version, "records", n, "bytes", len(b.words)*8, "ms", time.Since(start).Milliseconds())
	}
}
