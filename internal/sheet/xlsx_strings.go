package sheet

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xlsxSharedStrings is a workbook's shared strings table, held compactly:
// the text of all the strings, end to end, in chunks of 1<<bits bytes (a
// string never crosses from one chunk into the next; one longer than a
// chunk has a chunk of its own, which takes the place of as many chunks as
// it needs), and the offset of each string in that sequence. Chunks let the
// table grow without copying it, so that its memory is the text and four
// bytes a string, even when the part does not say how many strings it
// holds.
//
// A table past its budget in memory (Limits.StringsMemory) is in a
// temporary file instead: disk is then set, and chunks and off are not
// used.
type xlsxSharedStrings struct {
	chunks []string
	bits   uint
	off    []uint32 // string i starts at off[i]; off[len] is the end
	disk   *xlsxStringsSpill
}

// len returns the number of strings.
func (t *xlsxSharedStrings) len() int {
	if t.disk != nil {
		return t.disk.n
	}
	return len(t.off) - 1
}

// close releases the temporary file of a table on disk.
func (t *xlsxSharedStrings) close() error {
	if t == nil || t.disk == nil {
		return nil
	}
	return t.disk.close()
}

// at returns string i, which must be in range, of a table in memory.
func (t *xlsxSharedStrings) at(i int) string {
	a, b := t.off[i], t.off[i+1]
	mask := uint32(1)<<t.bits - 1
	c := a >> t.bits
	if b>>t.bits != c {
		// The last string of its chunk.
		return t.chunks[c][a&mask:]
	}
	return t.chunks[c][a&mask : b&mask]
}

// xlsxStringsBuilder builds an xlsxSharedStrings.
type xlsxStringsBuilder struct {
	t   xlsxSharedStrings
	cur strings.Builder // the chunk being filled: chunk len(t.chunks)
	// max, when not 0, bounds the bytes the table holds: its text and 4
	// bytes a string; held counts them.
	max, held int64
	// spillAt, when not 0 and below max, is the bytes past which the table
	// moves to a temporary file in dir; disk is that file once it has.
	spillAt int64
	dir     string
	disk    *xlsxStringsSpill
}

// newXLSXStringsBuilder returns a builder of a table of n strings (0 when
// unknown) of about size bytes of text at most.
func newXLSXStringsBuilder(n, size uint64) *xlsxStringsBuilder {
	b := &xlsxStringsBuilder{}
	// Chunks of 4 KiB to 16 MiB: no larger than the text needs, and at
	// most 256 of them for 4 GiB.
	b.t.bits = uint(min(max(bits.Len64(size), 12), 24))
	b.t.off = make([]uint32, 0, n+1)
	return b
}

// pos returns the offset of the next string.
func (b *xlsxStringsBuilder) pos() uint64 {
	return uint64(len(b.t.chunks))<<b.t.bits + uint64(b.cur.Len())
}

// count returns the number of strings added.
func (b *xlsxStringsBuilder) count() int {
	if b.disk != nil {
		return b.disk.n
	}
	return len(b.t.off)
}

// add appends the string s to the table.
func (b *xlsxStringsBuilder) add(s []byte) error {
	if b.disk != nil {
		return b.disk.add(s)
	}
	b.held += int64(len(s)) + 4
	if b.spillAt > 0 && b.held > b.spillAt && (b.max <= 0 || b.spillAt < b.max) {
		if err := b.spill(); err != nil {
			return err
		}
		return b.disk.add(s)
	}
	if b.max > 0 && b.held > b.max {
		return &LimitError{Limit: LimitSharedStrings, Max: b.max}
	}
	size := 1 << b.t.bits
	if b.cur.Len()+len(s) > size || b.cur.Len() == size {
		b.t.chunks = append(b.t.chunks, b.cur.String())
		b.cur = strings.Builder{}
	}
	start := b.pos()
	if start+uint64(len(s)) > math.MaxUint32 {
		return fmt.Errorf("shared strings longer than 4 GiB: %w", ErrCorrupt)
	}
	b.t.off = append(b.t.off, uint32(start))
	if len(s) > size {
		b.t.chunks = append(b.t.chunks, string(s))
		for range (len(s) - 1) / size {
			b.t.chunks = append(b.t.chunks, "")
		}
		return nil
	}
	if b.cur.Cap() == 0 {
		b.cur.Grow(size)
	}
	b.cur.Write(s)
	return nil
}

// spill moves the strings added so far to a temporary file, where the
// next ones go too, and lets go of their memory.
func (b *xlsxStringsBuilder) spill() error {
	d, err := newXLSXStringsSpill(b.dir)
	if err != nil {
		return err
	}
	t := b.table()
	for i := range t.len() {
		if err := d.addString(t.at(i)); err != nil {
			d.close()
			return err
		}
	}
	t, b.t, b.cur, b.disk = nil, xlsxSharedStrings{}, strings.Builder{}, d
	// Hand the table's memory back now, before the rows of the sheets
	// take theirs: left to the collector, its pages stay resident beside
	// them.
	debug.FreeOSMemory()
	return nil
}

// finish returns the table built, in memory or on disk.
func (b *xlsxStringsBuilder) finish() (*xlsxSharedStrings, error) {
	if b.disk == nil {
		return b.table(), nil
	}
	d := b.disk
	b.disk = nil
	if err := d.finish(); err != nil {
		d.close()
		return nil, err
	}
	return &xlsxSharedStrings{disk: d}, nil
}

// abort releases the temporary file of a table not finished.
func (b *xlsxStringsBuilder) abort() {
	if b != nil && b.disk != nil {
		b.disk.close()
		b.disk = nil
	}
}

// table returns the table built in memory.
func (b *xlsxStringsBuilder) table() *xlsxSharedStrings {
	t := b.t
	t.off = append(t.off, uint32(b.pos()))
	last := b.cur.String()
	if b.cur.Cap()-len(last) > len(last)/8+1<<16 {
		last = strings.Clone(last) // give back the room not used
	}
	t.chunks = append(t.chunks, last)
	if cap(t.off)-len(t.off) > len(t.off)/8+1<<14 {
		t.off = append([]uint32(nil), t.off...)
	}
	return &t
}

// sstOptions are the options of xlsxReadSharedStrings.
type sstOptions struct {
	// head, when not 0, is how many strings to read: the table's end is
	// then not checked.
	head int
	// budget, when not nil, counts the bytes the part inflates to.
	budget *inflateBudget
	// limits bound the table (SharedStrings) and each string
	// (FieldBytes); zero fields take their defaults.
	limits Limits
}

// xlsxReadSharedStrings reads the shared strings part f. Past a limit of
// o, the error is the *LimitError; any other wraps ErrCorrupt or is a read
// error.
func xlsxReadSharedStrings(f *zip.File, o sstOptions) (*xlsxSharedStrings, error) {
	limit, lim := o.head, o.limits.WithDefaults()
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open xlsx: open %s: %w: %w", f.Name, ErrCorrupt, err)
	}
	defer rc.Close()
	fail := func(err error) (*xlsxSharedStrings, error) {
		var le *LimitError
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, fmt.Errorf("open xlsx: read %s: %w", f.Name, err)
	}
	var src io.Reader = rc
	if o.budget != nil {
		src = o.budget.reader(rc)
	}
	size := min(f.UncompressedSize64, f.CompressedSize64*xlsxMaxRatio+1<<20)
	var s xlsxScanner
	if f.UncompressedSize64 > xlsxPrefetchMin {
		pf := newXLSXPrefetch(src)
		defer pf.Close()
		s.init(pf, int64(size))
	} else {
		s.init(src, int64(size))
	}
	// appendText appends the text at s to item, within FieldBytes.
	appendText := func(item []byte) ([]byte, bool) {
		item, ok := s.appendText(item, lim.FieldBytes)
		if !ok && s.err == errTextTooLong {
			s.err = &LimitError{Limit: LimitFieldBytes, Max: int64(lim.FieldBytes)}
		}
		return item, ok
	}
	var (
		b      *xlsxStringsBuilder
		item   []byte // the text of the current <si>
		inItem bool
		inPh   bool // in a phonetic run (<rPh>)
		sawEnd bool
	)
	defer func() { b.abort() }() // a table finished is no longer b's
	for s.nextTag() {
		if limit > 0 && b != nil && b.count() >= limit {
			return b.finish() // enough for a look at the first rows
		}
		switch string(s.name()) {
		case "sst":
			if s.isEnd || s.empty {
				sawEnd = true
			}
			if b != nil || s.isEnd {
				continue
			}
			// The text is at most the part's size less the shortest
			// markup of each string (<si><t></t></si>).
			n := uint64(0)
			if v, ok := s.attrValue("uniqueCount"); ok {
				if u, err := strconv.ParseUint(string(v), 10, 32); err == nil {
					n = min(u, size/5)
				}
			}
			if limit > 0 {
				n, size = min(n, uint64(limit)), min(size, 1<<20)
			}
			n = min(n, uint64(lim.SharedStrings/4))
			// No more offsets reserved than a quarter of the memory the
			// table may hold before it moves to disk: a large table grows
			// into its budget instead of reserving it whole.
			n = min(n, uint64(lim.StringsMemory/16))
			b = newXLSXStringsBuilder(n, size-min(size, 16*n))
			b.max, b.spillAt, b.dir = lim.SharedStrings, lim.StringsMemory, lim.TempDir
		case "si":
			if b == nil {
				return fail(fmt.Errorf("<si> outside <sst>: %w", ErrCorrupt))
			}
			switch {
			case s.empty && !s.isEnd:
				if err := b.add(nil); err != nil {
					return fail(err)
				}
				continue
			case !s.isEnd:
				inItem, inPh, item = true, false, item[:0]
				// The common <si><t>text</t></si> takes a shortcut.
				if !s.skip("<t>") {
					continue
				}
				var ok bool
				if item, ok = appendText(item); !ok {
					return fail(s.error())
				}
				if !s.skip("</t></si>") {
					continue
				}
			case !inItem:
				continue
			}
			inItem = false
			if bytes.IndexByte(item, '_') >= 0 {
				item = xlsxUnescape(item)
			}
			if err := b.add(item); err != nil {
				return fail(err)
			}
		case "t":
			if inItem && !inPh && !s.isEnd && !s.empty {
				var ok bool
				if item, ok = appendText(item); !ok {
					return fail(s.error())
				}
			}
		case "rPh":
			inPh = !s.isEnd && !s.empty
		}
	}
	if s.err != io.EOF {
		return fail(s.error())
	}
	if !sawEnd || inItem || b == nil {
		return fail(fmt.Errorf("no closing </sst> tag: %w", ErrCorrupt))
	}
	return b.finish()
}

// xlsxUnescape decodes, in place, the _xHHHH_ escapes with which OOXML
// writes characters XML cannot hold (_x000D_ is a carriage return,
// _x005F_ an underscore), and returns the shortened b.
func xlsxUnescape(b []byte) []byte {
	w := 0
	for r := 0; r < len(b); {
		if b[r] == '_' && r+7 <= len(b) && b[r+1] == 'x' && b[r+6] == '_' {
			if v, err := strconv.ParseUint(string(b[r+2:r+6]), 16, 16); err == nil {
				var enc [utf8.UTFMax]byte
				n := utf8.EncodeRune(enc[:], rune(v))
				w += copy(b[w:], enc[:n]) // an escape is longer than its rune
				r += 7
				continue
			}
		}
		b[w] = b[r]
		w++
		r++
	}
	return b[:w]
}
