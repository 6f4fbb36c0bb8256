package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"unsafe"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// DefaultMatchMemory is the default of Service.MatchMemory.
const DefaultMatchMemory = 160 << 20

// rowStoreRowBytes is about what a row takes in the row store (its slot,
// its text, its share of the table), to size the store's first reserve.
const rowStoreRowBytes = 180

// matchMemory returns the bytes of statement rows a check holds in memory.
func (s *Service) matchMemory() int {
	if s.MatchMemory > 0 {
		return int(s.MatchMemory)
	}
	return DefaultMatchMemory
}

// tempDir returns the folder of the check's temporary files.
func (s *Service) tempDir() string {
	if s.TempDir != "" {
		return s.TempDir
	}
	return os.TempDir()
}

// bytes returns the memory the store holds, by capacity.
func (s *rowStore) bytes() int {
	return len(s.chunks)*arenaChunk + cap(s.slots)*int(unsafe.Sizeof(slot{})) + cap(s.table)*4
}

// spillRows moves the rows held in memory to a first run on disk, sorted
// by carrierOrderId, and reads the rest of the statement into runs.
func (r *run) spillRows() error {
	r.s.Logger.Info("statement past the match memory: matching through sorted runs on disk",
		"rows_held", r.rows.len(), "match_memory", r.budget, "dir", r.s.tempDir())
	sorter := newRecordSorter(r.s.tempDir(), r.budget, r.s.matchRunRows, byIDThenPlace)
	order := make([]int32, r.rows.len())
	for i := range order {
		order[i] = int32(i)
	}
	rows := &r.rows
	slices.SortFunc(order, func(a, b int32) int {
		if c := strings.Compare(rows.id(int(a)), rows.id(int(b))); c != 0 {
			return c
		}
		return cmpInt64(rows.slots[a].number, rows.slots[b].number)
	})
	err := sorter.writeRunFunc(len(order), func(k int, b []byte) []byte { return rows.appendRecord(b, int(order[k])) })
	if err != nil {
		sorter.close()
		return err
	}
	r.rows = rowStore{}
	r.spill = sorter
	// Hand the store's memory back before the runs take theirs.
	debug.FreeOSMemory()
	return nil
}

// uniqueRows reads the merged runs in carrierOrderId order, reporting each
// row whose carrierOrderId repeats an earlier row's as a row error (the
// first row of the id is the one kept, as when the rows are held in
// memory).
type uniqueRows struct {
	r         *run
	it        recordIter
	prev      []byte // the id of the last row returned
	prevPlace int64
	started   bool
}

func (u *uniqueRows) next() ([]byte, error) {
	for {
		rec, err := u.it.next()
		if err != nil {
			return nil, err
		}
		id := recID(rec)
		if u.started && bytes.Equal(id, u.prev) {
			place := recPlace(rec)
			_, number := placeRow(place)
			u.r.repeatError(place, u.r.duplicateError(number, u.prevPlace, string(id)))
			continue
		}
		u.started = true
		u.prev = append(u.prev[:0], id...)
		u.prevPlace = recPlace(rec)
		return rec, nil
	}
}

// rows returns the spilled rows, merged, without repeats.
func (r *run) uniqueRows() (*uniqueRows, error) {
	it, err := r.spill.iter()
	if err != nil {
		return nil, err
	}
	return &uniqueRows{r: r, it: it}, nil
}

// findRepeats reads the spilled rows for the row errors of repeats.
func (r *run) findRepeats() error {
	u, err := r.uniqueRows()
	if err != nil {
		return err
	}
	for {
		if _, err := u.next(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// The kinds of the entries of the spool of differing ledger orders.
const (
	spoolLedgerOnly byte = iota // the id: the statement has no row
	spoolBoth                   // the statement's record
)

// matchSpilled is match for rows spilled to runs: the merged runs and the
// ledger, both in carrierOrderId order, are joined in one pass; the
// ledger orders that differ or that the statement lacks go to a spool, read
// back in chunks with their full orders; the rows the ledger lacks are
// sorted back into statement order.
func (r *run) matchSpilled(ctx context.Context) error {
	u, err := r.uniqueRows()
	if err != nil {
		return err
	}
	spool, err := newSpool(r.s.tempDir())
	if err != nil {
		return err
	}
	defer spool.close()
	missing := newRecordSorter(r.s.tempDir(), r.budget/2, r.s.matchRunRows, byPlace)
	defer missing.close()

	err = joinLedger(func(fn func(trueup.Order) error) error {
		return r.s.Store.EachOrderKey(ctx, r.p.Carrier.ID, r.p.Cycle.String(), fn)
	}, u.next, missing.add, r.opt, spool)
	if err != nil {
		return err
	}
	if r.res.ErrTotal > 0 {
		return r.failRows()
	}
	r.progress(0.93)
	if err := r.writeDiffering(ctx, spool); err != nil {
		return err
	}
	r.progress(0.96)
	it, err := missing.iter()
	if err != nil {
		return err
	}
	for {
		rec, err := it.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := r.write(ctx, reconcile.MissingOnPlatform(recordView(rec, true), r.opt)); err != nil {
			return err
		}
	}
}

// joinLedger joins the statement records next yields with the ledger
// orders each yields, both in carrierOrderId order, in one pass: a record
// the ledger lacks goes to statementOnly; a ledger order that differs
// from its record goes to spool with the record (spoolBoth), one the
// statement lacks with its id (spoolLedgerOnly). next returns io.EOF
// after the last record.
func joinLedger(each func(func(trueup.Order) error) error, next func() ([]byte, error), statementOnly func(rec []byte) error,
	opt reconcile.Options, spool *spool) error {
	cur, err := next()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	advance := func() error {
		var err error
		if cur, err = next(); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		return nil
	}
	err = each(func(o trueup.Order) error {
		id := unsafe.Slice(unsafe.StringData(o.CarrierOrderID), len(o.CarrierOrderID))
		for cur != nil && bytes.Compare(recID(cur), id) < 0 {
			if err := statementOnly(cur); err != nil {
				return err
			}
			if err := advance(); err != nil {
				return err
			}
		}
		if cur != nil && bytes.Equal(recID(cur), id) {
			if reconcile.Compare(recordView(cur, false), o, opt) != nil {
				if err := spool.write(spoolBoth, cur); err != nil {
					return err
				}
			}
			return advance()
		}
		return spool.write(spoolLedgerOnly, id)
	})
	if err != nil {
		return err
	}
	for cur != nil {
		if err := statementOnly(cur); err != nil {
			return err
		}
		if err := advance(); err != nil {
			return err
		}
	}
	return nil
}

// spoolChunk is how many differing ledger orders are read back at a time.
const spoolChunk = 5000

// writeDiffering reads the spool back in chunks and writes the
// discrepancies of each entry against its full ledger order.
func (r *run) writeDiffering(ctx context.Context, spool *spool) error {
	if err := spool.rewind(); err != nil {
		return err
	}
	type entry struct {
		kind byte
		data []byte
	}
	var (
		entries []entry
		arena   []byte
		ids     []string
	)
	for {
		entries, arena, ids = entries[:0], arena[:0], ids[:0]
		var offs [][2]int
		for len(offs) < spoolChunk {
			kind, data, err := spool.read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			offs = append(offs, [2]int{len(arena), len(data)})
			arena = append(arena, kind)
			arena = append(arena, data...)
		}
		if len(offs) == 0 {
			return nil
		}
		for _, o := range offs {
			e := entry{kind: arena[o[0]], data: arena[o[0]+1 : o[0]+1+o[1]]}
			entries = append(entries, e)
			id := e.data
			if e.kind == spoolBoth {
				id = recID(e.data)
			}
			ids = append(ids, string(id))
		}
		j := 0
		err := r.s.Store.OrdersByID(ctx, r.p.Carrier.ID, r.p.Cycle.String(), ids, func(o trueup.Order) error {
			for j < len(ids) && ids[j] < o.CarrierOrderID {
				j++
			}
			if j == len(ids) || ids[j] != o.CarrierOrderID {
				return nil
			}
			e := entries[j]
			j++
			if e.kind == spoolLedgerOnly {
				return r.write(ctx, reconcile.MissingOnCarrier(o, r.opt))
			}
			for _, d := range reconcile.Compare(recordView(e.data, true), o, r.opt) {
				if err := r.write(ctx, d); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// spool is a temporary file of entries written and read back in order.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	r   *bufio.Reader
	buf []byte
}

func newSpool(dir string) (*spool, error) {
	f, err := os.CreateTemp(dir, "trueup-match-*.spool")
	if err != nil {
		return nil, fmt.Errorf("create match spool: %w", err)
	}
	os.Remove(f.Name())
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *spool) write(kind byte, data []byte) error {
	var head [1 + binary.MaxVarintLen64]byte
	head[0] = kind
	n := binary.PutUvarint(head[1:], uint64(len(data)))
	s.w.Write(head[:1+n])
	if _, err := s.w.Write(data); err != nil {
		return fmt.Errorf("write match spool: %w", err)
	}
	return nil
}

func (s *spool) rewind() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write match spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind match spool: %w", err)
	}
	s.r = bufio.NewReaderSize(s.f, 256<<10)
	return nil
}

// read returns the next entry; its data is valid until the next read.
func (s *spool) read() (byte, []byte, error) {
	kind, err := s.r.ReadByte()
	if err != nil {
		return 0, nil, err // io.EOF at the end
	}
	n, err := binary.ReadUvarint(s.r)
	if err != nil {
		return 0, nil, fmt.Errorf("read match spool: %w", err)
	}
	if cap(s.buf) < int(n) {
		s.buf = make([]byte, n)
	}
	s.buf = s.buf[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return 0, nil, fmt.Errorf("read match spool: %w", err)
	}
	return kind, s.buf, nil
}

func (s *spool) close() { s.f.Close() }
