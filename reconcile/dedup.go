package reconcile

import (
	"fmt"
	"hash/maphash"
	"math"

	"github.com/trueup/trueup"
)

// Dedup finds carrierOrderIds that appear more than once in a statement. It
// remembers each ID and the row it first appeared in, with the ID's bytes
// copied into an arena and indexed by an open-addressing hash table of
// integers: it holds no pointer per ID (the garbage collector does not scan
// it), keeps no cell of the caller alive, and never copies what it stored
// when it grows, except the table. It costs about 40 bytes an ID plus the
// ID's bytes: BenchmarkDedup measures 57 MB for a million 15-character IDs.
//
// The zero Dedup is empty and ready to use. A Dedup is not safe for
// concurrent use.
type Dedup struct {
	seed maphash.Seed
	// slots is the hash table, linearly probed, its length a power of two:
	// 0 for an empty slot, else the ID's hash tag (the hash's top 32 bits,
	// which also choose the first slot) << 32 | its entry's index + 1.
	slots   []uint64
	entries [][]dedupEntry // in chunks of entryChunk, so that growing copies nothing
	arena   [][]byte       // the IDs' bytes, in chunks of at least arenaChunk bytes
	n       int            // number of entries
}

// Sizes of a Dedup's storage.
const (
	entryChunk = 1 << 14
	arenaChunk = 1 << 20
	minSlots   = 1 << 10
)

// dedupEntry is one remembered ID, arena[chunk][off:off+n], first seen in
// row.
type dedupEntry struct {
	row   int64
	chunk uint32
	off   uint32
	n     uint32
}

// NewDedup returns an empty Dedup with room for about n IDs in its table.
func NewDedup(n int) *Dedup {
	d := &Dedup{}
	d.init(n)
	return d
}

// init makes the table for about n IDs.
func (d *Dedup) init(n int) {
	d.seed = maphash.MakeSeed()
	size := minSlots
	for size*7/10 < n {
		size *= 2
	}
	d.slots = make([]uint64, size)
}

// Add records that carrierOrderId id appears in row number. It returns nil
// the first time id is added, and otherwise a RowError for row number that
// names the row where id first appeared.
func (d *Dedup) Add(number int64, id string) *trueup.RowError {
	if d.slots == nil {
		d.init(0)
	}
	return d.add(d.tag(id), number, id)
}

// add is Add of id, whose hash tag is tag.
func (d *Dedup) add(tag uint32, number int64, id string) *trueup.RowError {
	p, first, dup := d.probe(tag, id)
	if dup {
		e := DuplicateError(number, first, id)
		return &e
	}
	if d.n == math.MaxInt32-1 {
		panic("reconcile: Dedup holds 2^31-2 IDs")
	}
	if (d.n+1)*10 > len(d.slots)*7 {
		d.grow()
		p, _, _ = d.probe(tag, id)
	}

	last := len(d.arena) - 1
	if last < 0 || len(d.arena[last])+len(id) > cap(d.arena[last]) {
		d.arena = append(d.arena, make([]byte, 0, max(arenaChunk, len(id))))
		last++
	}
	if d.n%entryChunk == 0 {
		d.entries = append(d.entries, make([]dedupEntry, 0, entryChunk))
	}
	c := &d.entries[d.n/entryChunk]
	*c = append(*c, dedupEntry{row: number, chunk: uint32(last), off: uint32(len(d.arena[last])), n: uint32(len(id))})
	d.arena[last] = append(d.arena[last], id...)
	d.n++
	d.slots[p] = uint64(tag)<<32 | uint64(d.n)
	return nil
}

// Lookup returns the row in which id was first added, and whether it was.
func (d *Dedup) Lookup(id string) (row int64, ok bool) {
	if d.slots == nil {
		return 0, false
	}
	_, row, ok = d.probe(d.tag(id), id)
	return row, ok
}

// Len returns the number of distinct IDs added.
func (d *Dedup) Len() int { return d.n }

// tag returns the top 32 bits of id's hash.
func (d *Dedup) tag(id string) uint32 { return uint32(maphash.String(d.seed, id) >> 32) }

// probe looks id, whose hash tag is tag, up in the table. It returns the
// row of the ID's entry and true when it is there, and otherwise the empty
// slot where it belongs.
func (d *Dedup) probe(tag uint32, id string) (slot int, row int64, found bool) {
	mask := len(d.slots) - 1
	for p := int(tag) & mask; ; p = (p + 1) & mask {
		s := d.slots[p]
		if s == 0 {
			return p, 0, false
		}
		if uint32(s>>32) == tag {
			i := int(uint32(s)) - 1
			e := &d.entries[i/entryChunk][i%entryChunk]
			if string(d.arena[e.chunk][e.off:e.off+e.n]) == id {
				return p, e.row, true
			}
		}
	}
}

// grow doubles the table. The tags in the slots tell where each goes.
func (d *Dedup) grow() {
	old := d.slots
	d.slots = make([]uint64, 2*len(old))
	mask := len(d.slots) - 1
	for _, s := range old {
		if s == 0 {
			continue
		}
		p := int(s>>32) & mask
		for d.slots[p] != 0 {
			p = (p + 1) & mask
		}
		d.slots[p] = s
	}
}

// DuplicateError returns the row error of row number, whose carrierOrderId
// id already appeared in row first.
func DuplicateError(number, first int64, id string) trueup.RowError {
	return trueup.RowError{
		Row:    number,
		Column: ColCarrierOrderID,
		Value:  clip(id),
		Reason: fmt.Sprintf("carrierOrderId %q already appears in row %d; each order must appear once, so merge the two rows or remove one", clip(id), first),
	}
}
