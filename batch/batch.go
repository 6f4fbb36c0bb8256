// Package batch runs the carrier statement check: it accepts an upload
// (format and header checked at once), stores it with a queued job, and in
// that job streams the file through the reconcile engine against the
// ledger, recording discrepancies or, when any row is bad, the row errors
// and no discrepancies.
package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/reconcile"
	"github.com/trueup/trueup/statement"
)

// JobKind is the kind of the job that checks a batch.
const JobKind = "batch.check"

// MaxStoredRowErrors is how many row errors a failed batch keeps.
const MaxStoredRowErrors = 1000

// Service accepts and checks statement batches.
type Service struct {
	Store  Store
	Logger *slog.Logger
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Tolerance of the amount comparison; zero means the engine's default
	// (0.01).
	Tolerance decimal.Decimal
	// TempDir holds the worker's copy of an upload kept in the database
	// (PostgreSQL): the server sets its own folder, cleaned at start;
	// os.TempDir when empty.
	TempDir string
	// Notify, when set, wakes a worker after a batch is queued.
	Notify func()
	// Limits bound the statement files read, at upload and in the check
	// (zero fields take the defaults of sheet.DefaultLimits).
	Limits sheet.Limits
	// Events, when set, records uploads once committed (a batch's outcome
	// is recorded by the job its FinishBatch enqueues).
	Events trueup.Recorder
	// MatchMemory bounds the bytes of statement rows a check holds in
	// memory; a larger statement is matched through sorted runs in
	// TempDir, with the same results. Zero means DefaultMatchMemory.
	MatchMemory int64
	// Partitions, above 1, checks a batch in that many parts, each a job
	// that any replica sharing the database may work (partition.go); 0 or
	// 1 checks a batch in one job.
	Partitions int

	// matchRunRows, when above 0, also bounds the rows of a run (tests).
	matchRunRows int
}

// New returns a Service over store. A nil logger means slog.Default().
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{Store: store, Logger: logger, Clock: trueup.SystemClock{}}
}

// SubmitParams are the inputs of Submit.
type SubmitParams struct {
	Carrier  trueup.Carrier
	Cycle    string
	FileName string
	// File is the upload, already on disk, and its size.
	File    *os.File
	Size    int64
	TraceID string
}

// CheckCycle parses a billing cycle and checks that it is strictly before
// the month of now.
func CheckCycle(s string, now time.Time) (trueup.Cycle, error) {
	if strings.TrimSpace(s) == "" {
		return trueup.Cycle{}, trueup.Errorf(trueup.EINVALID, "billingCycle is required; send the past cycle as yyyy-mm, for example %s", trueup.CycleOf(now.UTC()).Prev())
	}
	c, err := trueup.ParseCycle(s)
	if err != nil {
		return c, err
	}
	if !c.Before(now.UTC()) {
		return c, trueup.Errorf(trueup.EINVALID, "billingCycle %s is not a past cycle; reconcile a month before %s, for example %s", s, trueup.CycleOf(now.UTC()), trueup.CycleOf(now.UTC()).Prev())
	}
	return c, nil
}

// Submit checks an upload's cycle, format and header, then stores it as a
// queued batch with the job that will check it, and returns its number.
func (s *Service) Submit(ctx context.Context, p SubmitParams) (trueup.BatchNo, error) {
	now := s.Clock.Now().UTC()
	cycle, err := CheckCycle(p.Cycle, now)
	if err != nil {
		return "", err
	}
	if closed, err := s.Store.CycleClosed(ctx, p.Carrier.ID, cycle.String()); err != nil {
		return "", err
	} else if closed {
		return "", trueup.Reasonf(trueup.ECONFLICT, ReasonCycleClosed,
			"billing cycle %s is closed: its settlement is final and no statement for it is taken; ask your trueup contact to reopen the cycle if the statement must change", cycle)
	}
	if p.Size == 0 {
		return "", trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "the file %q is empty; fill the template and upload it again", p.FileName)
	}
	format, err := DetectFile(p.File, p.FileName)
	if err != nil {
		return "", err
	}
	if err := checkHeader(s.Limits, p.File, p.Size, format); err != nil {
		return "", err
	}
	if _, err := p.File.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("rewind upload: %w", err)
	}
	no := NewBatchNo(now)
	args, _ := json.Marshal(jobArgs{BatchNo: no})
	err = s.Store.CreateBatch(ctx, CreateBatchParams{
		Batch: trueup.Batch{No: no, CarrierID: p.Carrier.ID, Cycle: cycle.String(), FileName: p.FileName, Format: string(format),
			FileSize: p.Size, CreatedAt: now},
		File: p.File, TraceID: p.TraceID, JobKind: JobKind, JobArgs: string(args),
	})
	if err != nil {
		return "", err
	}
	trueup.Emit(ctx, s.Events, s.Logger, trueup.Event{Type: trueup.EventBatchUploaded, CarrierID: p.Carrier.ID, Subject: string(no),
		Data: map[string]any{"batchNo": no, "cycle": cycle.String(), "fileName": p.FileName, "fileSize": p.Size}})
	if s.Notify != nil {
		s.Notify()
	}
	return no, nil
}

// NewBatchNo returns a batch number like the seeds' examples: the UTC date,
// an underscore and 19 random digits (20251021_1801572310432403201).
func NewBatchNo(now time.Time) trueup.BatchNo {
	return trueup.BatchNo(now.UTC().Format("20060102") + "_" + trueup.NewDigits(19))
}

// DetectFile names the format of an upload from its first bytes and name.
func DetectFile(f io.ReaderAt, name string) (statement.Format, error) {
	head := make([]byte, 4096)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read upload: %w", err)
	}
	format, err := sheet.Detect(head[:n], name)
	if err != nil {
		return "", fileError(err)
	}
	return format, nil
}

// fileError turns a reader error into the client's error.
func fileError(err error) error {
	if trueup.ErrorKind(err) != trueup.EINTERNAL {
		return err
	}
	var pe *sheet.ParseError
	hasPlace := errors.As(err, &pe)
	if errors.Is(err, sheet.ErrCorrupt) {
		// The cause may quote damaged bytes: say where, not what.
		where := ""
		if hasPlace && pe.Row > 0 {
			where = fmt.Sprintf(" (near row %d)", pe.Row)
		}
		return trueup.Reasonf(trueup.EINVALID, ReasonBadFile,
			"the file is damaged or truncated%s; save it again from your spreadsheet program (or re-export it) and upload the new file", where)
	}
	switch {
	case errors.Is(err, sheet.ErrEmpty), errors.Is(err, sheet.ErrWrongFormat), errors.Is(err, statement.ErrHeader):
		return trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "%s", err.Error())
	}
	if hasPlace {
		return trueup.Reasonf(trueup.EINVALID, ReasonBadFile, "%s", err.Error())
	}
	return err
}

// checkHeader opens the file within lim and makes sure it holds a
// statement: a sheet (of a workbook, any) whose first row is the template
// header, with a data row below it.
func checkHeader(lim sheet.Limits, f io.ReaderAt, size int64, format statement.Format) error {
	if format == statement.XLSX {
		// A first look that skips most of a large shared-strings table;
		// when it is not enough, the whole workbook decides.
		if err := checkBook(lim.OpenXLSXHeadBook(f, size)); err == nil || !errors.Is(err, sheet.ErrCorrupt) {
			return fileError(err)
		}
	}
	return fileError(checkBook(lim.OpenBook(f, size, format)))
}

type jobArgs struct {
	BatchNo trueup.BatchNo `json:"batchNo"`
}

// Process is the job handler of JobKind. It is safe to run again after a
// crash: each attempt starts over and only the attempt that finishes while
// holding the job decides the batch's outcome.
func (s *Service) Process(ctx context.Context, job trueup.Job) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	b, _, err := s.Store.Batch(ctx, a.BatchNo)
	if err != nil {
		return err
	}
	carrier, err := s.Store.Carrier(ctx, b.CarrierID)
	if err != nil {
		return err
	}
	if err := s.Store.StartBatch(ctx, b.No, job.Attempt); err != nil {
		if trueup.ErrorKind(err) == trueup.ECONFLICT {
			return nil // finished by an earlier attempt
		}
		return err
	}
	file, size, err := s.Store.OpenBatchFile(ctx, b.No, s.TempDir)
	if err != nil {
		return err
	}
	defer file.Close()
	cycle, err := trueup.ParseCycle(b.Cycle)
	if err != nil {
		return err
	}
	p := CheckParams{Carrier: carrier, Cycle: cycle, File: file, Size: size, Format: statement.Format(b.Format),
		Progress: s.saveProgress(ctx, b.No, job.Attempt)}
	if s.Partitions > 1 {
		return s.split(ctx, job, b, p)
	}
	writer := s.Store.NewDiscrepancyWriter(b.No, job.Attempt)
	defer writer.Close()
	p.Sink = writer.Write
	res, err := s.Check(ctx, p)
	if err != nil {
		return err
	}
	if res.Failure == "" {
		if err := writer.Flush(ctx); err != nil {
			return err
		}
	}
	return s.finish(ctx, job, b, job.Attempt, res, nil)
}

// saveProgress returns a CheckParams.Progress that records the progress of
// the batch's attempt, at most twice a second.
func (s *Service) saveProgress(ctx context.Context, no trueup.BatchNo, attempt int) func(float64, int64) {
	var lastSaved time.Time
	return func(fraction float64, rows int64) {
		if time.Since(lastSaved) < 500*time.Millisecond {
			return
		}
		lastSaved = time.Now()
		if err := s.Store.SetBatchProgress(ctx, no, attempt, rows, int(fraction*100)); err != nil && ctx.Err() == nil {
			s.Logger.Warn("batch progress", "batch_no", no, "err", err)
		}
	}
}

// finish records the outcome res of the batch b's attempt, completing job
// in the same transaction (which also queues the job recording the batch's
// events), then calls ended (when not nil). A lost attempt is no error: the
// newer one decides.
func (s *Service) finish(ctx context.Context, job trueup.Job, b trueup.Batch, attempt int, res CheckResult, ended func()) error {
	state := trueup.BatchSucceeded
	if res.Failure != "" {
		state = trueup.BatchFailed
	}
	err := s.Store.FinishBatch(ctx, FinishBatchParams{
		No: b.No, Attempt: attempt, State: state, Counts: res.Counts, RowsRead: res.RowsRead,
		RowErrors: res.RowErrors, ErrTotal: res.ErrTotal, Failure: res.Failure, Job: job, AtStake: res.AtStake,
		SkippedSheets: res.SkippedSheets,
	})
	if errors.Is(err, trueup.ErrLeaseLost) {
		return nil // a newer attempt owns the batch; it decides
	}
	if err == nil && ended != nil {
		ended()
	}
	if err == nil && s.Notify != nil {
		// FinishBatch enqueued, with the outcome, the job recording the
		// batch's events (cases.EventsJobKind): wake a worker for it.
		s.Notify()
	}
	return err
}

// GiveUp is the give-up function of JobKind: when the runner gives up the
// job of a batch, it fails the batch with a message the carrier reads in
// the batch status and in the discrepancy list's answer (ReasonFailed). The cause
// itself is internal: it stays in the job and the log. A batch already
// final is left as it is.
func (s *Service) GiveUp(ctx context.Context, job trueup.Job, cause error) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		s.Logger.Error("give up batch job with unreadable args", "job_id", job.ID, "err", err)
		return nil // no batch to finalise
	}
	s.Logger.Warn("batch given up", "batch_no", a.BatchNo, "cause", cause)
	// AbandonBatch queues the batch.failed event in its transaction.
	if err := s.Store.AbandonBatch(ctx, a.BatchNo, giveUpMessage(cause)); err != nil {
		return err
	}
	if s.Notify != nil {
		s.Notify()
	}
	return s.Store.DropBatchSplit(ctx, a.BatchNo)
}

// giveUpMessage is what a carrier reads about a batch whose check was given
// up for cause.
func giveUpMessage(cause error) string {
	var lost *trueup.JobLostError
	switch {
	case trueup.ErrorKind(cause) != trueup.EINTERNAL:
		return trueup.ErrorMessage(cause)
	case errors.Is(cause, fs.ErrNotExist):
		return "the uploaded statement file of this batch is no longer stored, so it cannot be checked; upload the statement again as a new batch"
	case errors.As(cause, &lost):
		return fmt.Sprintf("the check was interrupted %d times before it finished and was given up; upload the statement again as a new batch, and if this repeats send this batchNo to your trueup contact", lost.Times)
	}
	return "the check failed on a fault of trueup's after every retry and was given up; upload the statement again as a new batch, and if this repeats send this batchNo to your trueup contact"
}

// CheckParams are the inputs of Check.
type CheckParams struct {
	Carrier trueup.Carrier
	Cycle   trueup.Cycle
	File    io.ReaderAt
	Size    int64
	Format  statement.Format
	// Sink receives every discrepancy, in order.
	Sink func(context.Context, trueup.Discrepancy) error
	// Progress, when set, is called now and then with the fraction done
	// (0 to 1) and the rows read.
	Progress func(fraction float64, rows int64)
}

// CheckResult is the outcome of Check. A non-empty Failure means the
// statement was refused (row errors or an unreadable file): the sink may
// have received nothing and must be discarded.
type CheckResult struct {
	Counts    trueup.DiffCounts
	RowsRead  int64
	RowErrors []trueup.RowError // the first MaxStoredRowErrors
	ErrTotal  int64
	Failure   string
	// SkippedSheets names the sheets of a workbook that were not read:
	// their first row is not the template header (notes, the template's
	// Columns sheet).
	SkippedSheets []string
	// AtStake is the money at stake: the sum of the absolute amount
	// differences (AmountDiff) of the discrepancies.
	AtStake decimal.Decimal
}

// Check reads a statement file as a stream, validates every row, and when
// all are good matches them with the carrier's ledger orders of the cycle,
// sending each discrepancy to p.Sink. It returns an error only for faults
// of trueup's (storage, the sink); a bad file is a result with a Failure.
func (s *Service) Check(ctx context.Context, p CheckParams) (CheckResult, error) {
	r := &run{
		s: s, p: p,
		opt: reconcile.Options{Cycle: p.Cycle, Location: p.Carrier.Location(), Tolerance: s.Tolerance},
	}
	err := r.do(ctx)
	return r.res, err
}

// run is one check of a statement.
type run struct {
	s    *Service
	p    CheckParams
	opt  reconcile.Options
	rows rowStore
	plan statementSheets
	res  CheckResult

	errs []placedError // row errors kept
	kept int           // of them, those of reading (not repeats found later)

	budget int           // bytes of statement rows held in memory
	spill  *recordSorter // the rows, once past budget; nil before
	rec    []byte        // a record being encoded

	// split, when set, takes the rows once read and valid instead of the
	// matching (a partitioned check's first job, partition.go).
	split func(ctx context.Context) error
}

func (r *run) fail(msg string) error {
	r.res.Failure = msg
	return nil
}

func (r *run) progress(fraction float64) {
	if r.p.Progress != nil {
		r.p.Progress(fraction, r.res.RowsRead)
	}
}

func (r *run) do(ctx context.Context) error {
	book, err := r.s.Limits.OpenBook(r.p.File, r.p.Size, r.p.Format)
	if err != nil {
		return r.fail(trueup.ErrorMessage(fileError(err)))
	}
	defer book.Close()
	plan, failure := planSheets(book)
	r.res.SkippedSheets = plan.skipped
	if failure != "" {
		return r.fail(failure)
	}
	r.plan = plan
	r.budget = r.s.matchMemory()
	r.rows.reserve(int(min(r.p.Size/64, 1<<20, int64(r.budget)/rowStoreRowBytes)))
	defer func() {
		if r.spill != nil {
			r.spill.close()
		}
	}()
	for k, i := range plan.read {
		if err := r.readSheet(book, k, i); err != nil || r.res.Failure != "" {
			return err
		}
	}
	if r.spill != nil {
		if r.res.ErrTotal > 0 {
			// Rows that repeat are found by merging the runs.
			if err := r.findRepeats(); err != nil {
				return err
			}
		}
	}
	if r.res.ErrTotal > 0 {
		return r.failRows()
	}
	r.progress(0.9)
	if r.split != nil {
		return r.split(ctx)
	}
	if r.spill != nil {
		return r.matchSpilled(ctx)
	}
	return r.match(ctx)
}

// failRows fails the check with the row errors found.
func (r *run) failRows() error {
	// Errors come in statement order, but for the repeats found in
	// carrierOrderId order when the rows were spilled.
	slices.SortStableFunc(r.errs, func(a, b placedError) int { return cmpInt64(a.place, b.place) })
	for _, pe := range r.errs[:min(len(r.errs), MaxStoredRowErrors)] {
		e := pe.err
		if r.plan.split() {
			sheetIndex, _ := placeRow(pe.place)
			e = sheetRowError(e, r.plan.names[sheetIndex])
		}
		r.res.RowErrors = append(r.res.RowErrors, e)
	}
	return r.fail(fmt.Sprintf("%d row error(s); fix the rows listed and upload the statement again", r.res.ErrTotal))
}

// placedError is a row error and the place of its row (see rowPlace).
type placedError struct {
	place int64
	err   trueup.RowError
}

// rowError counts e, an error of the row at place, and keeps it when fewer
// than MaxStoredRowErrors are kept. Errors come in statement order.
func (r *run) rowError(place int64, e trueup.RowError) {
	r.res.ErrTotal++
	if r.kept < MaxStoredRowErrors {
		r.kept++
		r.errs = append(r.errs, placedError{place, e})
	}
}

// repeatError counts e, the error of a repeated row at place found while
// merging spilled rows (in carrierOrderId order), keeping the first
// MaxStoredRowErrors in statement order.
func (r *run) repeatError(place int64, e trueup.RowError) {
	r.res.ErrTotal++
	r.errs = append(r.errs, placedError{place, e})
	if len(r.errs) > 4*MaxStoredRowErrors {
		slices.SortStableFunc(r.errs, func(a, b placedError) int { return cmpInt64(a.place, b.place) })
		r.errs = r.errs[:MaxStoredRowErrors]
	}
}

// readSheet reads the rows of sheet i of the book, the k-th of the
// statement's sheets, below its header.
func (r *run) readSheet(book sheet.Book, k, i int) error {
	rd, err := book.Open(i)
	if err != nil {
		return r.fail(trueup.ErrorMessage(fileError(err)))
	}
	defer rd.Close()
	head, err := rd.Next()
	if err != nil {
		return r.fail(trueup.ErrorMessage(fileError(err)))
	}
	header, err := statement.MapHeader(head.Cells)
	if err != nil {
		return r.fail(trueup.ErrorMessage(fileError(err)))
	}
	var cells []string
	get := func(col string) string { return header.Get(cells, col) }
	res := &r.res
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var pe *sheet.ParseError
		if errors.Is(err, sheet.ErrRow) && errors.As(err, &pe) {
			// A refused row (a CSV record of the wrong field count) is a
			// row error; the reader reads on.
			res.RowsRead++
			r.rowError(rowPlace(i, pe.Row), trueup.RowError{Row: pe.Row, Reason: pe.Err.Error()})
			continue
		}
		if err != nil {
			// A damaged file fails the batch; nothing is matched.
			return r.fail(trueup.ErrorMessage(fileError(err)))
		}
		res.RowsRead++
		cells = row.Cells
		parsed, errs := reconcile.ParseRow(row.Number, get, r.opt)
		place := rowPlace(i, row.Number)
		if len(errs) == 0 && parsed.CarrierOrderID != "" {
			// Rows are kept even after an error, to find every repeat:
			// in memory while they fit the budget, then in runs on disk,
			// where repeats are found when the runs are merged.
			if r.spill == nil {
				parsed.Number = place
				if first, dup := r.rows.add(parsed); dup {
					errs = append(errs, r.duplicateError(row.Number, first, parsed.CarrierOrderID))
				} else if r.rows.bytes() > r.budget || (r.s.matchRunRows > 0 && r.rows.len() >= r.s.matchRunRows) {
					if err := r.spillRows(); err != nil {
						return err
					}
				}
			} else {
				r.rec = appendRowRecord(r.rec[:0], parsed, place)
				if err := r.spill.add(r.rec); err != nil {
					return err
				}
			}
		}
		if len(errs) > 0 {
			for _, e := range errs {
				r.rowError(place, e)
			}
			continue
		}
		if res.RowsRead%4096 == 0 {
			r.progress((float64(k) + rd.Progress()) / float64(len(r.plan.read)) * 0.9)
		}
	}
}

// duplicateError returns the row error of row number, whose carrierOrderId
// id was first seen at place first (see rowPlace).
func (r *run) duplicateError(number, first int64, id string) trueup.RowError {
	sheetIndex, firstRow := placeRow(first)
	if !r.plan.split() {
		return reconcile.DuplicateError(number, firstRow, id)
	}
	return reconcile.DuplicateErrorAt(number, fmt.Sprintf("sheet %q row %d", r.plan.names[sheetIndex], firstRow), id)
}

func (r *run) write(ctx context.Context, d trueup.Discrepancy) error {
	r.res.Counts.Add(d.DiffType)
	r.res.AtStake = r.res.AtStake.Add(AmountDiff(d).Abs())
	return r.p.Sink(ctx, d)
}

// match streams the ledger of the carrier and cycle against the rows held,
// in two passes: the first reads only the fields a row is compared with,
// the second reads the full orders of those that differ or are missing
// from the statement (usually few), so a million matching orders cost a
// third of reading them whole.
func (r *run) match(ctx context.Context) error {
	matched := make([]bool, r.rows.len())
	var differ []string // ledger orders with a discrepancy, in order
	err := r.s.Store.EachOrderKey(ctx, r.p.Carrier.ID, r.p.Cycle.String(), func(o trueup.Order) error {
		i := r.rows.lookup(o.CarrierOrderID)
		if i < 0 {
			differ = append(differ, o.CarrierOrderID)
			return nil
		}
		matched[i] = true
		if reconcile.Compare(r.rows.view(i, false), o, r.opt) != nil {
			differ = append(differ, o.CarrierOrderID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.progress(0.93)
	err = r.s.Store.OrdersByID(ctx, r.p.Carrier.ID, r.p.Cycle.String(), differ, func(o trueup.Order) error {
		i := r.rows.lookup(o.CarrierOrderID)
		if i < 0 {
			return r.write(ctx, reconcile.MissingOnCarrier(o, r.opt))
		}
		for _, d := range reconcile.Compare(r.rows.view(i, true), o, r.opt) {
			if err := r.write(ctx, d); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.progress(0.96)
	for i := range matched {
		if !matched[i] {
			if err := r.write(ctx, reconcile.MissingOnPlatform(r.rows.view(i, true), r.opt)); err != nil {
				return err
			}
		}
	}
	return nil
}

// rowStore holds validated rows compactly: fixed-size slots with times as
// Unix milliseconds and the text in an arena of 1 MiB chunks (a row's text
// in one chunk; the arena grows without copying what it holds, nor holding
// it twice while it grows), so a million rows take some 120 MB rather than
// the 400 MB of reconcile.Row values. An open-addressing
// table of slot numbers, hashed by carrierOrderId, finds a row by its id
// and catches repeats, without a second copy of the ids.
type rowStore struct {
	slots  []slot
	chunks [][]byte // the arena: a slot's off is its chunk << arenaChunkBits + its place in it
	table  []int32  // slot index + 1; 0 is empty; a power of two long
	seed   maphash.Seed
}

// The size of the row store's arena chunks: more than the largest text of
// a row (nText lengths of at most 65,535 bytes).
const (
	arenaChunkBits = 20
	arenaChunk     = 1 << arenaChunkBits
)

// text returns the n bytes of the arena at off.
func (s *rowStore) text(off uint64, n int) []byte {
	c := s.chunks[off>>arenaChunkBits]
	o := off & (arenaChunk - 1)
	return c[o : o+uint64(n) : o+uint64(n)]
}

const nText = 7 // carrierOrderId, carrierUserId, skuCode, carrierPackageId, channel, carrierSale, carrierSaleToKd

type slot struct {
	number                   int64
	orderMs, activeMs, endMs int64
	off                      uint64
	lens                     [nText]uint16
	hasSale                  bool
}

func (s *rowStore) len() int { return len(s.slots) }

// reserve makes room for about n rows.
func (s *rowStore) reserve(n int) {
	s.seed = maphash.MakeSeed()
	s.slots = make([]slot, 0, n)
	s.rehash(max(1024, n*4/3))
}

// rehash rebuilds the table with at least n entries.
func (s *rowStore) rehash(n int) {
	size := 1
	for size < n {
		size <<= 1
	}
	s.table = make([]int32, size)
	for i := range s.slots {
		s.table[s.free(s.id(i))] = int32(i + 1)
	}
}

// free returns the table position where id is or would go.
func (s *rowStore) free(id string) int {
	mask := len(s.table) - 1
	for p := int(maphash.String(s.seed, id)) & mask; ; p = (p + 1) & mask {
		v := s.table[p]
		if v == 0 || s.id(int(v-1)) == id {
			return p
		}
	}
}

// id returns the carrierOrderId of slot i, pointing into the arena.
func (s *rowStore) id(i int) string {
	sl := &s.slots[i]
	if sl.lens[0] == 0 {
		return ""
	}
	b := s.text(sl.off, int(sl.lens[0]))
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// lookup returns the slot of the row with carrierOrderId id, or -1.
func (s *rowStore) lookup(id string) int {
	if len(s.table) == 0 {
		return -1
	}
	return int(s.table[s.free(id)]) - 1
}

// add stores r unless a row with its carrierOrderId is held already; then
// it returns that row's number and true.
func (s *rowStore) add(r reconcile.Row) (first int64, dup bool) {
	if len(s.table) == 0 {
		s.reserve(0)
	}
	if p := s.free(r.CarrierOrderID); s.table[p] != 0 {
		return s.slots[s.table[p]-1].number, true
	}
	s.append(r)
	if len(s.slots)*4 > len(s.table)*3 {
		s.rehash(len(s.table) * 2)
	} else {
		s.table[s.free(r.CarrierOrderID)] = int32(len(s.slots))
	}
	return 0, false
}

func (s *rowStore) append(r reconcile.Row) {
	sale := ""
	if r.HasCarrierSale {
		sale = keepScale(r.CarrierSale)
	}
	texts := [nText]string{r.CarrierOrderID, r.CarrierUserID, r.SkuCode, r.CarrierPackageID, r.Channel, sale, keepScale(r.CarrierSaleToKd)}
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1])+n > arenaChunk {
		s.chunks = append(s.chunks, make([]byte, 0, arenaChunk))
	}
	last := &s.chunks[len(s.chunks)-1]
	sl := slot{number: r.Number, orderMs: r.OrderTime.UnixMilli(), activeMs: r.ActiveTime.UnixMilli(), endMs: r.EndTime.UnixMilli(),
		off: uint64(len(s.chunks)-1)<<arenaChunkBits | uint64(len(*last)), hasSale: r.HasCarrierSale}
	for i, t := range texts {
		sl.lens[i] = uint16(len(t))
		*last = append(*last, t...)
	}
	s.slots = append(s.slots, sl)
}

// keepScale writes d with the decimal places it was written with (0.50
// stays 0.50), so that discrepancies show the carrier's amounts as written.
func keepScale(d decimal.Decimal) string {
	if e := d.Exponent(); e < 0 {
		return d.StringFixed(-e)
	}
	return d.String()
}

// view returns row i. Its strings point into the store (no copy): they
// are valid while the store is, and the store is never changed once the
// file is read. carrierSale is parsed only when full is true (it is
// shown in discrepancies, never compared).
func (s *rowStore) view(i int, full bool) reconcile.Row {
	sl := &s.slots[i]
	var texts [nText]string
	off := sl.off
	for k, n := range sl.lens {
		if n > 0 {
			b := s.text(off, int(n))
			texts[k] = unsafe.String(unsafe.SliceData(b), len(b))
		}
		off += uint64(n)
	}
	r := reconcile.Row{
		Number: sl.number & (1<<40 - 1), CarrierOrderID: texts[0], CarrierUserID: texts[1], SkuCode: texts[2], CarrierPackageID: texts[3], Channel: texts[4],
		OrderTime: time.UnixMilli(sl.orderMs).UTC(), ActiveTime: time.UnixMilli(sl.activeMs).UTC(), EndTime: time.UnixMilli(sl.endMs).UTC(),
		HasCarrierSale: sl.hasSale,
	}
	if sl.hasSale && full {
		r.CarrierSale = decimal.RequireFromString(texts[5])
	}
	r.CarrierSaleToKd = decimal.RequireFromString(texts[6])
	return r
}

// Reasons of batch errors, finer than their kinds.
const (
	// ReasonBadFile (EINVALID): the uploaded file is not a readable
	// statement (empty, wrong format, bad header).
	ReasonBadFile trueup.Reason = "bad_file"
	// ReasonFailed (ECONFLICT): discrepancies were asked of a batch that
	// failed (row errors or an unreadable file).
	ReasonFailed trueup.Reason = "batch_failed"
	// ReasonCycleClosed (ECONFLICT): a statement was uploaded for a
	// billing cycle that is closed.
	ReasonCycleClosed trueup.Reason = "cycle_closed"
)
