package sheet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// A shared strings table past Limits.StringsMemory moves to a temporary
// file: each string as its length (a uvarint) and its bytes, end to end, in
// table order. Memory then holds the offset of every 64th string (8 bytes
// for 64 strings), a few read windows over the file and a small cache of
// the strings used again and again (the same SKU or channel on every row),
// whatever the size of the table.
const (
	// spillGroupBits: the index holds the offset of string i<<spillGroupBits.
	spillGroupBits = 6
	// spillWindow is the size of one read of the file, and spillWindows
	// how many such windows are kept (the least recently used is read
	// anew).
	spillWindow  = 64 << 10
	spillWindows = 4
	// spillHotSlots is the number of slots of the cache of strings (by
	// index, one slot for each index modulo it), spillHotMax the longest
	// string kept there.
	spillHotSlots = 4096
	spillHotMax   = 256
	// spillWriteBuf is the buffer of the writes to the file.
	spillWriteBuf = 256 << 10
)

// errSpillDamaged is a spill file that does not hold what was written to
// it.
var errSpillDamaged = errors.New("the temporary file of the shared strings is damaged")

// xlsxStringsSpill is a shared strings table in a temporary file. It is
// written once (add, then finish), then read with get. It is not safe for
// concurrent use: a workbook's sheets are read one at a time.
type xlsxStringsSpill struct {
	f    *os.File
	name string // the file's name when it could not be removed at once
	w    *bufio.Writer
	hbuf [binary.MaxVarintLen64]byte
	size uint64   // bytes written
	n    int      // strings
	idx  []uint64 // idx[g] is the offset of string g<<spillGroupBits; idx[len] the end

	// The read side.
	win   [spillWindows]spillWindowBuf
	last  int // the window last read
	tick  uint64
	big   []byte // a read longer than a window
	cur   int    // the index of the string at curAt (its uvarint), -1 when none
	curAt uint64
	hot   []spillHot
}

// spillWindowBuf is bytes [off, off+len(buf)) of the file.
type spillWindowBuf struct {
	off  uint64
	buf  []byte
	used uint64 // tick of the last use
}

// spillHot is a slot of the cache of strings: string idx-1 (none when idx
// is 0), and whether it was used since the slot last kept it from being
// taken (a second chance: a string used on every row stays).
type spillHot struct {
	idx int
	ref bool
	buf []byte
}

// newXLSXStringsSpill creates the temporary file in dir (os.TempDir when
// empty). The file is removed at once where the system allows it, so that
// nothing is left behind whatever happens; close releases it.
func newXLSXStringsSpill(dir string) (*xlsxStringsSpill, error) {
	f, err := os.CreateTemp(dir, "trueup-sst-*")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the shared strings: %w", err)
	}
	s := &xlsxStringsSpill{f: f, w: bufio.NewWriterSize(f, spillWriteBuf), cur: -1}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name()
	}
	return s, nil
}

// add appends string p.
func (s *xlsxStringsSpill) add(p []byte) error {
	s.head(len(p))
	_, err := s.w.Write(p)
	return s.added(len(p), err)
}

// addString appends string p.
func (s *xlsxStringsSpill) addString(p string) error {
	s.head(len(p))
	_, err := s.w.WriteString(p)
	return s.added(len(p), err)
}

// head writes the length of the next string, n bytes.
func (s *xlsxStringsSpill) head(n int) {
	if s.n&(1<<spillGroupBits-1) == 0 {
		s.idx = append(s.idx, s.size)
	}
	k := binary.PutUvarint(s.hbuf[:], uint64(n))
	s.w.Write(s.hbuf[:k]) // bufio keeps the first error
	s.size += uint64(k)
}

// added counts the string of n bytes written, with the error of the
// write.
func (s *xlsxStringsSpill) added(n int, err error) error {
	if err != nil {
		return fmt.Errorf("write the shared strings to a temporary file: %w", err)
	}
	s.size += uint64(n)
	s.n++
	return nil
}

// finish ends the writing: the table can then be read.
func (s *xlsxStringsSpill) finish() error {
	s.idx = append(s.idx, s.size)
	if len(s.idx) > 1 && cap(s.idx)-len(s.idx) > len(s.idx)/8+1<<10 {
		s.idx = append([]uint64(nil), s.idx...)
	}
	err := s.w.Flush()
	s.w = nil
	if err != nil {
		return fmt.Errorf("open xlsx: write the shared strings to a temporary file: %w", err)
	}
	s.hot = make([]spillHot, spillHotSlots)
	return nil
}

// close releases the file.
func (s *xlsxStringsSpill) close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	s.f, s.hot, s.big = nil, nil, nil
	for i := range s.win {
		s.win[i] = spillWindowBuf{}
	}
	return err
}

// get returns string i, which must be in range. The bytes are valid until
// the next call.
func (s *xlsxStringsSpill) get(i int) ([]byte, error) {
	if s.f == nil {
		return nil, errors.New("read xlsx: the workbook is closed")
	}
	h := &s.hot[i&(spillHotSlots-1)]
	if h.idx == i+1 {
		h.ref = true
		return h.buf, nil
	}
	g := i >> spillGroupBits
	end := s.idx[g+1] // the end of the group
	j, at := g<<spillGroupBits, s.idx[g]
	if s.cur >= j && s.cur <= i {
		j, at = s.cur, s.curAt // go on from the last string read
	}
	for ; ; j++ {
		if j == i {
			// The common case, strings read in order: string i is in the
			// window last read.
			if w := &s.win[s.last]; at >= w.off && at-w.off < uint64(len(w.buf)) {
				b := w.buf[at-w.off:]
				n, k := binary.Uvarint(b)
				if k > 0 && n <= uint64(len(b)-k) && n <= end-at-uint64(k) {
					p := b[k : k+int(n)]
					s.cur, s.curAt = i+1, at+uint64(k)+n
					s.keep(h, i, p)
					return p, nil
				}
			}
		}
		head, err := s.read(at, min(binary.MaxVarintLen64, end-at), end)
		if err != nil {
			return nil, err
		}
		n, k := binary.Uvarint(head)
		if k <= 0 || n > end-at-uint64(k) {
			return nil, errSpillDamaged
		}
		if j < i {
			at += uint64(k) + n
			continue
		}
		p, err := s.read(at+uint64(k), n, end)
		if err != nil {
			return nil, err
		}
		s.cur, s.curAt = i+1, at+uint64(k)+n
		s.keep(h, i, p)
		return p, nil
	}
}

// keep puts string i, p, in its slot h of the cache, unless the string
// there was used since it was last spared.
func (s *xlsxStringsSpill) keep(h *spillHot, i int, p []byte) {
	if len(p) <= spillHotMax {
		if h.idx == 0 || !h.ref {
			h.idx, h.buf = i+1, append(h.buf[:0], p...)
		}
		h.ref = false
	}
}

// read returns bytes [off, off+n) of the file, valid until the next read;
// end is the end of the group of strings they are in. A read that goes on
// from a window reads a whole window ahead (the strings are read in order);
// any other reads to the end of the group only, so that strings looked up
// out of order cost a read of about 64 strings each.
func (s *xlsxStringsSpill) read(off, n, end uint64) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	s.tick++
	lru, ahead := 0, false
	for k := range s.win {
		w := &s.win[k]
		wend := w.off + uint64(len(w.buf))
		if off >= w.off && off+n <= wend {
			w.used, s.last = s.tick, k
			return w.buf[off-w.off:][:n], nil
		}
		if off >= w.off && off <= wend && len(w.buf) > 0 {
			ahead = true
		}
		if w.used < s.win[lru].used {
			lru = k
		}
	}
	if n > spillWindow {
		if uint64(cap(s.big)) < n {
			s.big = make([]byte, n)
		}
		if _, err := s.f.ReadAt(s.big[:n], int64(off)); err != nil {
			return nil, s.readError(err)
		}
		return s.big[:n], nil
	}
	w := &s.win[lru]
	if w.buf == nil {
		w.buf = make([]byte, spillWindow)
	}
	m := min(spillWindow, s.size-off)
	if !ahead {
		m = min(m, max(n, end-off))
	}
	if m < n {
		return nil, errSpillDamaged
	}
	w.buf = w.buf[:m]
	if _, err := s.f.ReadAt(w.buf, int64(off)); err != nil {
		w.buf = w.buf[:0]
		return nil, s.readError(err)
	}
	w.off, w.used, s.last = off, s.tick, lru
	return w.buf[:n], nil
}

// readError is the error of a failed read of the file.
func (s *xlsxStringsSpill) readError(err error) error {
	if errors.Is(err, io.EOF) {
		return errSpillDamaged
	}
	return fmt.Errorf("read xlsx: read the shared strings from their temporary file: %w", err)
}
