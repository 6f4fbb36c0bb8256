package batch

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup/reconcile"
)

// A statement larger than the matching memory (Service.MatchMemory) is
// matched from disk: its rows are written as records to sorted runs in the
// batch's temporary folder, the runs are merged in carrierOrderId order
// and joined with the ledger, which the store reads in the same order, and
// the rows the ledger lacks are sorted back into statement order the same
// way. The list comes out exactly as from memory: the ledger's side in
// carrierOrderId order, then the statement's rows the ledger lacks in
// statement order; row errors in statement order.

// A record is one validated statement row, its fields end to end:
//
//	place (8 bytes, see rowPlace), orderMs, activeMs, endMs (8 each),
//	hasSale (1), the lengths of the nText texts (2 each), the texts.
const recHead = 4*8 + 1 + 2*nText

// recPlace returns the place of the row of record rec.
func recPlace(rec []byte) int64 { return int64(binary.LittleEndian.Uint64(rec)) }

// recID returns the carrierOrderId of record rec, pointing into it.
func recID(rec []byte) []byte {
	n := int(binary.LittleEndian.Uint16(rec[4*8+1:]))
	return rec[recHead : recHead+n]
}

// appendRecord appends the record of slot i of the store to b.
func (s *rowStore) appendRecord(b []byte, i int) []byte {
	sl := &s.slots[i]
	b = binary.LittleEndian.AppendUint64(b, uint64(sl.number))
	b = binary.LittleEndian.AppendUint64(b, uint64(sl.orderMs))
	b = binary.LittleEndian.AppendUint64(b, uint64(sl.activeMs))
	b = binary.LittleEndian.AppendUint64(b, uint64(sl.endMs))
	if sl.hasSale {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	n := 0
	for _, l := range sl.lens {
		b = binary.LittleEndian.AppendUint16(b, l)
		n += int(l)
	}
	return append(b, s.text(sl.off, n)...)
}

// appendRowRecord appends the record of row r, at place, to b.
func appendRowRecord(b []byte, r reconcile.Row, place int64) []byte {
	sale := ""
	if r.HasCarrierSale {
		sale = keepScale(r.CarrierSale)
	}
	texts := [nText]string{r.CarrierOrderID, r.CarrierUserID, r.SkuCode, r.CarrierPackageID, r.Channel, sale, keepScale(r.CarrierSaleToKd)}
	b = binary.LittleEndian.AppendUint64(b, uint64(place))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.OrderTime.UnixMilli()))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.ActiveTime.UnixMilli()))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.EndTime.UnixMilli()))
	if r.HasCarrierSale {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, t := range texts {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(t)))
	}
	for _, t := range texts {
		b = append(b, t...)
	}
	return b
}

// recordView returns the row of record rec. With full false, its strings
// point into rec (valid while rec is) and carrierSale is not parsed (a
// look for the comparison); with full true, the row owns its text (a row
// whose discrepancies are written).
func recordView(rec []byte, full bool) reconcile.Row {
	var texts [nText]string
	text := rec[recHead:]
	if full {
		owned := string(text)
		text = unsafe.Slice(unsafe.StringData(owned), len(owned))
	}
	off := 0
	for k := range nText {
		n := int(binary.LittleEndian.Uint16(rec[4*8+1+2*k:]))
		if n > 0 {
			texts[k] = unsafe.String(&text[off], n)
		}
		off += n
	}
	hasSale := rec[4*8] == 1
	r := reconcile.Row{
		Number: recPlace(rec) & (1<<40 - 1), CarrierOrderID: texts[0], CarrierUserID: texts[1], SkuCode: texts[2], CarrierPackageID: texts[3], Channel: texts[4],
		OrderTime:      time.UnixMilli(int64(binary.LittleEndian.Uint64(rec[8:]))).UTC(),
		ActiveTime:     time.UnixMilli(int64(binary.LittleEndian.Uint64(rec[16:]))).UTC(),
		EndTime:        time.UnixMilli(int64(binary.LittleEndian.Uint64(rec[24:]))).UTC(),
		HasCarrierSale: hasSale,
	}
	if hasSale && full {
		r.CarrierSale = decimal.RequireFromString(texts[5])
	}
	r.CarrierSaleToKd = decimal.RequireFromString(texts[6])
	return r
}

// byIDThenPlace orders records by carrierOrderId (bytewise, as the store
// orders the ledger), then by place.
func byIDThenPlace(a, b []byte) int {
	if c := bytes.Compare(recID(a), recID(b)); c != 0 {
		return c
	}
	return cmpInt64(recPlace(a), recPlace(b))
}

// byPlace orders records by place: statement order.
func byPlace(a, b []byte) int { return cmpInt64(recPlace(a), recPlace(b)) }

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// recordSorter sorts records within a memory budget: it holds them until
// the budget (or maxRecords) is reached, then writes them sorted to a run
// file in dir; reading merges the runs.
type recordSorter struct {
	dir        string
	budget     int // bytes of records held
	maxRecords int // records held at most; 0 for no bound but budget
	cmp        func(a, b []byte) int
	arena      []byte
	refs       []recRef
	runs       []*os.File
	closed     bool
}

// recRef is where a record held lies in the arena.
type recRef struct{ off, n uint32 }

func newRecordSorter(dir string, budget, maxRecords int, cmp func(a, b []byte) int) *recordSorter {
	return &recordSorter{dir: dir, budget: max(budget, 1<<16), maxRecords: maxRecords, cmp: cmp}
}

// add holds a copy of rec, writing a run first when the budget is reached.
func (s *recordSorter) add(rec []byte) error {
	full := len(s.arena)+len(rec) > s.budget || (s.maxRecords > 0 && len(s.refs) >= s.maxRecords)
	if full && len(s.refs) > 0 {
		if err := s.writeRun(); err != nil {
			return err
		}
	}
	if s.arena == nil {
		s.arena = make([]byte, 0, s.budget)
	}
	s.refs = append(s.refs, recRef{uint32(len(s.arena)), uint32(len(rec))})
	s.arena = append(s.arena, rec...)
	return nil
}

func (s *recordSorter) rec(r recRef) []byte { return s.arena[r.off : r.off+r.n] }

// sortHeld sorts the records held.
func (s *recordSorter) sortHeld() {
	slices.SortFunc(s.refs, func(a, b recRef) int { return s.cmp(s.rec(a), s.rec(b)) })
}

// writeRun writes the records held, sorted, to a new run file and lets
// them go.
func (s *recordSorter) writeRun() error {
	s.sortHeld()
	err := s.writeRunFunc(len(s.refs), func(i int, b []byte) []byte { return append(b, s.rec(s.refs[i])...) })
	s.refs = s.refs[:0]
	s.arena = s.arena[:0]
	return err
}

// writeRunFunc writes a run of n records, already in order: record i is
// what rec appends to b.
func (s *recordSorter) writeRunFunc(n int, rec func(i int, b []byte) []byte) error {
	f, err := os.CreateTemp(s.dir, "trueup-match-*.run")
	if err != nil {
		return fmt.Errorf("create match run: %w", err)
	}
	// The file is unlinked at once: it goes away when closed, or with
	// the process.
	os.Remove(f.Name())
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 256<<10)
	var lenBuf [binary.MaxVarintLen64]byte
	var b []byte
	for i := range n {
		b = rec(i, b[:0])
		k := binary.PutUvarint(lenBuf[:], uint64(len(b)))
		w.Write(lenBuf[:k])
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write match run: %w", err)
	}
	return nil
}

// close removes the run files.
func (s *recordSorter) close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, f := range s.runs {
		f.Close()
	}
	s.runs, s.arena, s.refs = nil, nil, nil
}

// recordIter reads records in order. The slice next returns is valid until
// the following call.
type recordIter interface {
	next() ([]byte, error) // io.EOF after the last
}

// iter returns the records added, in order. No record may be added after.
func (s *recordSorter) iter() (recordIter, error) {
	if len(s.runs) == 0 {
		s.sortHeld()
		return &heldIter{s: s}, nil
	}
	if len(s.refs) > 0 {
		if err := s.writeRun(); err != nil {
			return nil, err
		}
	}
	s.arena, s.refs = nil, nil
	m := &runMerge{cmp: s.cmp}
	// The read buffers of the runs share the budget (many runs, from a
	// small budget, read through smaller buffers).
	bufSize := min(64<<10, max(4<<10, s.budget/len(s.runs)))
	for _, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind match run: %w", err)
		}
		rr := &runReader{r: bufio.NewReaderSize(f, bufSize)}
		ok, err := rr.read()
		if err != nil {
			return nil, err
		}
		if ok {
			m.h = append(m.h, rr)
		}
	}
	heap.Init(m)
	return m, nil
}

// heldIter reads the records held in memory, sorted.
type heldIter struct {
	s *recordSorter
	i int
}

func (it *heldIter) next() ([]byte, error) {
	if it.i >= len(it.s.refs) {
		return nil, io.EOF
	}
	it.i++
	return it.s.rec(it.s.refs[it.i-1]), nil
}

// runReader reads the records of one run file.
type runReader struct {
	r   *bufio.Reader
	cur []byte
}

// read reads the next record into cur; false at the end of the run.
func (rr *runReader) read() (bool, error) {
	n, err := binary.ReadUvarint(rr.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read match run: %w", err)
	}
	if cap(rr.cur) < int(n) {
		rr.cur = make([]byte, n, max(int(n), 256))
	}
	rr.cur = rr.cur[:n]
	if _, err := io.ReadFull(rr.r, rr.cur); err != nil {
		return false, fmt.Errorf("read match run: %w", err)
	}
	return true, nil
}

// runMerge merges run files: a heap of their readers by current record.
type runMerge struct {
	h    []*runReader
	cmp  func(a, b []byte) int
	last *runReader // the reader whose record was returned last
}

func (m *runMerge) Len() int           { return len(m.h) }
func (m *runMerge) Less(i, j int) bool { return m.cmp(m.h[i].cur, m.h[j].cur) < 0 }
func (m *runMerge) Swap(i, j int)      { m.h[i], m.h[j] = m.h[j], m.h[i] }
func (m *runMerge) Push(x any)         { m.h = append(m.h, x.(*runReader)) }
func (m *runMerge) Pop() any {
	x := m.h[len(m.h)-1]
	m.h = m.h[:len(m.h)-1]
	return x
}

func (m *runMerge) next() ([]byte, error) {
	if m.last != nil {
		// Move the reader returned last on; its record has been used.
		ok, err := m.last.read()
		if err != nil {
			return nil, err
		}
		if ok {
			heap.Fix(m, 0)
		} else {
			heap.Pop(m)
		}
		m.last = nil
	}
	if len(m.h) == 0 {
		return nil, io.EOF
	}
	m.last = m.h[0]
	return m.h[0].cur, nil
}
