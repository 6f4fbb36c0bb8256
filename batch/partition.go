package batch

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/reconcile"
)

// A batch may be checked in parts that any replica sharing the database
// works (Service.Partitions above 1):
//
//  1. The batch's job (JobKind) reads and validates the statement exactly
//     as a check in one job does: the same row errors, in the same order,
//     with the same bound, and repeats found. A refused statement ends
//     there. Otherwise the valid rows, in carrierOrderId order, are cut
//     into at most Partitions ranges of about equal size, and each range's
//     rows are stored as records (batch_part_rows); one transaction then
//     records the ranges and queues one job (JobPart) a part.
//  2. A part's job joins its rows with the ledger orders of its range of
//     carrierOrderIds, as the check from disk does, and stores its
//     discrepancies, its counts and "done" in one transaction that
//     completes its job: a part whose worker dies is simply done again by
//     another worker, from nothing. The last part done queues the
//     assembly (JobAssemble).
//  3. The assembly sums the parts' counts and money at stake and finishes
//     the batch as a check in one job does (FinishBatch: outcome, cases).
//
// The list keeps the order of a check in one job: the ledger's side in
// carrierOrderId order, then the rows the ledger lacks in statement order.
// Each discrepancy's seq (the list's order and its cursor's key) says so
// without any renumbering: a part's ledger-side discrepancies are numbered
// (part+1)<<40 + 1, 2, ... in carrierOrderId order (parts are ranges, in
// order), and a row the ledger lacks gets 1<<62 + its place in the
// statement. Seqs are then increasing along the list but not consecutive;
// nothing reads them as positions.

// Job kinds of a batch checked in parts.
const (
	// JobPart checks one part of a split batch.
	JobPart = "batch.part"
	// JobAssemble finishes a split batch once all its parts are done.
	JobAssemble = "batch.assemble"
)

// MaxPartitions is the largest Service.Partitions.
const MaxPartitions = 256

const (
	partChunk     = 1 << 20 // bytes of records in a stored chunk
	partSeqShift  = 40      // a part's ledger-side seqs are (part+1)<<partSeqShift + n
	statementSeqs = 1 << 62 // the seqs of rows the ledger lacks are statementSeqs + place
)

// partArgs are the arguments of JobPart and JobAssemble.
type partArgs struct {
	BatchNo trueup.BatchNo `json:"batchNo"`
	Attempt int            `json:"attempt"`
	Part    int            `json:"part"`
}

// split is Process for a batch checked in parts: it reads and validates
// the statement of p, finishing a refused one as Process does, and
// otherwise stores its rows in parts and queues their jobs.
func (s *Service) split(ctx context.Context, job trueup.Job, b trueup.Batch, p CheckParams) error {
	r := &run{s: s, p: p, opt: reconcile.Options{Cycle: p.Cycle, Location: p.Carrier.Location(), Tolerance: s.Tolerance}}
	sh := &shuffle{r: r, no: b.No, attempt: job.Attempt, parts: min(s.Partitions, MaxPartitions)}
	r.split = sh.run
	if err := r.do(ctx); err != nil {
		return err
	}
	if r.res.Failure != "" {
		return s.finish(ctx, job, b, job.Attempt, r.res, func() { s.dropSplit(ctx, b.No) })
	}
	args := make([]string, len(sh.from))
	for k := range sh.from {
		a, err := json.Marshal(partArgs{BatchNo: b.No, Attempt: job.Attempt, Part: k})
		if err != nil {
			return fmt.Errorf("part job args: %w", err)
		}
		args[k] = string(a)
	}
	err := s.Store.SplitBatch(ctx, SplitBatchParams{No: b.No, Attempt: job.Attempt, From: sh.from, RowsRead: r.res.RowsRead,
		SkippedSheets: r.res.SkippedSheets, Job: job, PartJobKind: JobPart, PartJobArgs: args})
	if errors.Is(err, trueup.ErrLeaseLost) {
		return nil // a newer attempt owns the batch
	}
	if err != nil {
		return err
	}
	s.Logger.Info("batch split into parts", "batch_no", b.No, "parts", len(sh.from), "rows", r.res.RowsRead)
	if s.Notify != nil {
		s.Notify()
	}
	return nil
}

// shuffle stores the valid rows of a statement in parts: contiguous
// ranges of carrierOrderIds, about equal in rows.
type shuffle struct {
	r       *run
	no      trueup.BatchNo
	attempt int
	parts   int // at most

	from  []string // the first carrierOrderId of each part begun ("" for the first)
	chunk []byte   // records of the current part not stored yet
	n     int      // chunks of the current part stored
	rec   []byte
}

// run stores the rows the run holds, in memory or spilled, in parts.
func (sh *shuffle) run(ctx context.Context) error {
	r := sh.r
	if r.spill == nil {
		rows := &r.rows
		order := make([]int32, rows.len())
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(rows.id(int(a)), rows.id(int(b))) })
		n := len(order)
		parts := max(1, min(sh.parts, n))
		for k := range parts {
			lo, hi := k*n/parts, (k+1)*n/parts
			if err := sh.begin(ctx, k, func() string { return rows.id(int(order[lo])) }); err != nil {
				return err
			}
			for _, i := range order[lo:hi] {
				sh.rec = rows.appendRecord(sh.rec[:0], int(i))
				if err := sh.add(ctx, sh.rec); err != nil {
					return err
				}
			}
		}
		return sh.flush(ctx)
	}
	// Spilled rows come merged in carrierOrderId order; the repeats among
	// them are row errors found on the way. Every row read was kept, so
	// the rows read bound their number.
	u, err := r.uniqueRows()
	if err != nil {
		return err
	}
	n := max(1, int(r.res.RowsRead))
	parts := max(1, min(sh.parts, n))
	for i := 0; ; i++ {
		rec, err := u.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if k := i * parts / n; k == len(sh.from) {
			if err := sh.begin(ctx, k, func() string { return string(recID(rec)) }); err != nil {
				return err
			}
		}
		if err := sh.add(ctx, rec); err != nil {
			return err
		}
	}
	if r.res.ErrTotal > 0 {
		return r.failRows()
	}
	if len(sh.from) == 0 {
		sh.from = append(sh.from, "")
	}
	return sh.flush(ctx)
}

// begin stores what is left of the current part and begins part k, whose
// first carrierOrderId is first() (the first part starts at "": it takes
// every ledger order below the next part's).
func (sh *shuffle) begin(ctx context.Context, k int, first func() string) error {
	if err := sh.flush(ctx); err != nil {
		return err
	}
	from := ""
	if k > 0 {
		from = first()
	}
	sh.from = append(sh.from, from)
	sh.n = 0
	return nil
}

// add appends rec, length first, to the current part's chunk, storing the
// chunk once full.
func (sh *shuffle) add(ctx context.Context, rec []byte) error {
	sh.chunk = binary.AppendUvarint(sh.chunk, uint64(len(rec)))
	sh.chunk = append(sh.chunk, rec...)
	if len(sh.chunk) < partChunk {
		return nil
	}
	return sh.flush(ctx)
}

// flush stores the current part's chunk, if any.
func (sh *shuffle) flush(ctx context.Context) error {
	if len(sh.chunk) == 0 {
		return nil
	}
	err := sh.r.s.Store.PutBatchPartRows(ctx, PartRowsParams{No: sh.no, Attempt: sh.attempt, Part: len(sh.from) - 1, Chunk: sh.n, Data: sh.chunk})
	sh.chunk = sh.chunk[:0]
	sh.n++
	return err
}

// ProcessPart is the job handler of JobPart: it checks one part of a split
// batch and stores its discrepancies. It is safe to run again after a
// crash: a part is stored whole, with its job's completion, or not at all.
func (s *Service) ProcessPart(ctx context.Context, job trueup.Job) error {
	var a partArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	b, attempt, err := s.Store.Batch(ctx, a.BatchNo)
	if err != nil {
		return err
	}
	if b.State != trueup.BatchProcessing || attempt != a.Attempt {
		return nil // the batch ended, or runs another attempt: nothing to do
	}
	sp, err := s.Store.BatchSplit(ctx, a.BatchNo, a.Attempt)
	if err != nil {
		return err
	}
	if a.Part < 0 || a.Part >= len(sp.Parts) {
		return fmt.Errorf("batch %s has no part %d (%d parts)", a.BatchNo, a.Part, len(sp.Parts))
	}
	pt := sp.Parts[a.Part]
	if pt.Done {
		return nil
	}
	carrier, err := s.Store.Carrier(ctx, b.CarrierID)
	if err != nil {
		return err
	}
	cycle, err := trueup.ParseCycle(b.Cycle)
	if err != nil {
		return err
	}
	rows, err := s.partRows(ctx, a)
	if err != nil {
		return err
	}
	defer rows.close()
	out, err := newDiffSpool(s.tempDir())
	if err != nil {
		return err
	}
	defer out.close()
	var n int64
	r := &run{s: s, opt: reconcile.Options{Cycle: cycle, Location: carrier.Location(), Tolerance: s.Tolerance},
		p: CheckParams{Carrier: carrier, Cycle: cycle, Sink: func(_ context.Context, d trueup.Discrepancy) error {
			if d.Seq == 0 { // a ledger-side discrepancy, in carrierOrderId order
				n++
				d.Seq = int64(a.Part+1)<<partSeqShift | n
			}
			return out.add(d)
		}}}
	if err := r.matchPart(ctx, rows, OrderRange{Carrier: carrier.ID, Cycle: b.Cycle, From: pt.From, To: pt.To}); err != nil {
		return err
	}
	args, err := json.Marshal(partArgs{BatchNo: a.BatchNo, Attempt: a.Attempt})
	if err != nil {
		return fmt.Errorf("assemble job args: %w", err)
	}
	assembled, err := s.Store.FinishPart(ctx, FinishPartParams{No: a.BatchNo, Attempt: a.Attempt, Part: a.Part, Counts: r.res.Counts, AtStake: r.res.AtStake,
		Discrepancies: out.each, Job: job, AssembleJobKind: JobAssemble, AssembleJobArgs: string(args)})
	if errors.Is(err, trueup.ErrLeaseLost) {
		return nil // another worker holds the part, or the batch moved on
	}
	if err != nil {
		return err
	}
	if assembled && s.Notify != nil {
		s.Notify()
	}
	return nil
}

// Assemble is the job handler of JobAssemble: once every part of a split
// batch is done, it sums their counts and money at stake and finishes the
// batch as a check in one job does.
func (s *Service) Assemble(ctx context.Context, job trueup.Job) error {
	var a partArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	b, attempt, err := s.Store.Batch(ctx, a.BatchNo)
	if err != nil {
		return err
	}
	if b.State != trueup.BatchProcessing || attempt != a.Attempt {
		return nil
	}
	sp, err := s.Store.BatchSplit(ctx, a.BatchNo, a.Attempt)
	if err != nil {
		return err
	}
	res := CheckResult{RowsRead: sp.RowsRead, SkippedSheets: sp.SkippedSheets}
	for k, pt := range sp.Parts {
		if !pt.Done {
			return fmt.Errorf("batch %s: part %d of %d is not done", a.BatchNo, k, len(sp.Parts))
		}
		for t, c := range pt.Counts {
			res.Counts[t] += c
		}
		res.AtStake = res.AtStake.Add(pt.AtStake)
	}
	return s.finish(ctx, job, b, a.Attempt, res, func() { s.dropSplit(ctx, b.No) })
}

// dropSplit removes what is left of the split of batch no once it has
// ended (each part's statement rows went with the part), even during a
// shutdown; a failure only leaves a few rows behind.
func (s *Service) dropSplit(ctx context.Context, no trueup.BatchNo) {
	if err := s.Store.DropBatchSplit(context.WithoutCancel(ctx), no); err != nil {
		s.Logger.Warn("remove the parts of an ended batch", "batch_no", no, "err", err)
	}
}

// matchPart joins the records of it (a part's rows, in carrierOrderId
// order) with the ledger orders of rng, as matchSpilled does, writing the
// rows the ledger lacks at once, numbered by their place.
func (r *run) matchPart(ctx context.Context, it recordIter, rng OrderRange) error {
	spool, err := newSpool(r.s.tempDir())
	if err != nil {
		return err
	}
	defer spool.close()
	// statementOnly writes the discrepancy of rec, a row the ledger lacks.
	statementOnly := func(rec []byte) error {
		d := reconcile.MissingOnPlatform(recordView(rec, true), r.opt)
		d.Seq = statementSeqs + recPlace(rec)
		return r.write(ctx, d)
	}
	err = joinLedger(func(fn func(trueup.Order) error) error {
		return r.s.Store.EachOrderKeyRange(ctx, rng, fn)
	}, it.next, statementOnly, r.opt, spool)
	if err != nil {
		return err
	}
	return r.writeDiffering(ctx, spool)
}

// partFile reads the records of a part copied to a temporary file.
type partFile struct {
	f  *os.File
	rr runReader
}

// partRows copies the rows of part a to a temporary file, already
// unlinked, and returns a reader of its records.
func (s *Service) partRows(ctx context.Context, a partArgs) (*partFile, error) {
	f, err := os.CreateTemp(s.tempDir(), "trueup-part-*.rows")
	if err != nil {
		return nil, fmt.Errorf("create part rows: %w", err)
	}
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 256<<10)
	if err := s.Store.CopyBatchPartRows(ctx, a.BatchNo, a.Attempt, a.Part, w); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("write part rows: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("rewind part rows: %w", err)
	}
	return &partFile{f: f, rr: runReader{r: bufio.NewReaderSize(f, 256<<10)}}, nil
}

func (p *partFile) next() ([]byte, error) {
	ok, err := p.rr.read()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, io.EOF
	}
	return p.rr.cur, nil
}

func (p *partFile) close() { p.f.Close() }

// diffSpool holds a part's discrepancies in a temporary file until they
// are stored, all in one transaction.
type diffSpool struct {
	f   *os.File
	w   *bufio.Writer
	enc *gob.Encoder
}

func newDiffSpool(dir string) (*diffSpool, error) {
	f, err := os.CreateTemp(dir, "trueup-part-*.diffs")
	if err != nil {
		return nil, fmt.Errorf("create part spool: %w", err)
	}
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 256<<10)
	return &diffSpool{f: f, w: w, enc: gob.NewEncoder(w)}, nil
}

func (s *diffSpool) add(d trueup.Discrepancy) error {
	if err := s.enc.Encode(&d); err != nil {
		return fmt.Errorf("write part spool: %w", err)
	}
	return nil
}

// each calls fn for every discrepancy added, in order.
func (s *diffSpool) each(fn func(trueup.Discrepancy) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write part spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind part spool: %w", err)
	}
	dec := gob.NewDecoder(bufio.NewReaderSize(s.f, 256<<10))
	for {
		var d trueup.Discrepancy
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read part spool: %w", err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
}

func (s *diffSpool) close() { s.f.Close() }
