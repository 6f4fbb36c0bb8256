package risk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/tabular"
)

// Columns are the risk file's columns, in the order Input returns them.
var Columns = []sheet.Column{
	{Name: "mobile_no", Required: true, Type: "text", Meaning: "The mobile number with country code, or its MD5.",
		Formats: "Digits only with the country code (915586685366; a leading + is dropped), hashed on import as md5(915586685366); or the MD5 itself as 32 hexadecimal digits in either case."},
	{Name: "day", Required: true, Type: "date", Meaning: "The day of the record.", Formats: "YYYY-MM-DD, or an Excel date cell."},
	{Name: "source", Required: true, Type: "text", Meaning: "The data source.", Formats: "seat, voice or sms (any case)."},
	{Name: "cid", Required: true, Type: "text", Meaning: "The customer ID.", Formats: "Any text up to 128 characters."},
	{Name: "duration", Type: "integer", Meaning: "Connection time to the service agent, in seconds; answered for seat records only.",
		Formats: "Whole seconds, 0 or more; required for seat records, optional for the others."},
	{Name: "level", Required: true, Type: "integer", Meaning: "1 whitelist, 2 secondary whitelist, 3 normal customer, 4 greylist, 5 blacklist.", Formats: "1 to 5."},
}

// The index of each column in Columns and in Input's values.
const (
	colMobile = iota
	colDay
	colSource
	colCID
	colDuration
	colLevel
	numCols
)

// Values are one row's values of Columns, in order ("" when absent).
type Values [numCols]string

// Input is a stream of rows of a risk file.
type Input interface {
	// Next returns the next row's number (as the file's reader counts it)
	// and values, or io.EOF after the last row. The values are overwritten
	// by the next call.
	Next() (row int64, v *Values, err error)
	// Progress returns the fraction of the input read so far, 0 to 1.
	Progress() float64
	Close() error
}

// MaxReportedErrors is how many row errors an import reports at most.
const MaxReportedErrors = tabular.MaxReportedErrors

// ImportError is a refused import: every row error found (up to
// MaxReportedErrors) and how many there were in all. Nothing was stored.
type ImportError = tabular.RowErrors

// IndexMode says whether an import drops and rebuilds the look-up index.
type IndexMode int

// The index modes.
const (
	// IndexAuto rebuilds the index when the import replaces the list, or
	// when it is expected to add at least half as many records as the list
	// holds and at least RebuildMinRows.
	IndexAuto IndexMode = iota
	IndexRebuild
	IndexKeep
)

// RebuildMinRows is the smallest import IndexAuto rebuilds the index for.
const RebuildMinRows = 100_000

// ImportParams are the inputs of Import.
type ImportParams struct {
	Input Input
	// Replace makes the file the whole new list: the stored records are
	// removed in the same transaction.
	Replace bool
	// Index says whether to rebuild the look-up index (IndexAuto by
	// default); ExpectedRows guides IndexAuto (0 when unknown).
	Index        IndexMode
	ExpectedRows int64
	// Progress, when set, is called now and then with the fraction read
	// and the rows read so far.
	Progress func(fraction float64, rows int64)
}

// ImportResult is what an import stored.
type ImportResult struct {
	Imported       int64 `json:"imported"`
	Replaced       bool  `json:"replaced"`
	IndexRebuilt   bool  `json:"indexRebuilt"`
	RecordsInTotal int64 `json:"recordsInTotal"`
}

// Import reads every row of the input and adds the records to the list in
// one transaction (replacing the list when p.Replace is set). When any row
// is bad it stores nothing and returns an *ImportError listing the rows; a
// file with no rows is an EINVALID *trueup.Error.
func (s *Service) Import(ctx context.Context, p ImportParams) (ImportResult, error) {
	list, err := s.Store.RiskList(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	existing := list.Records
	rebuild := false
	switch p.Index {
	case IndexRebuild:
		rebuild = true
	case IndexAuto:
		rebuild = p.Replace || existing == 0 || (p.ExpectedRows >= RebuildMinRows && p.ExpectedRows >= existing/2)
	}
	imp, err := s.Store.BeginRiskImport(ctx, ImportOptions{Replace: p.Replace, RebuildIndex: rebuild})
	if err != nil {
		return ImportResult{}, err
	}
	defer imp.Rollback()

	// One goroutine reads and checks the rows while this one writes them:
	// parsing and hashing overlap with the store's work.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Record, 4)
	free := make(chan []Record, 6)
	var read readResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(batches)
		read = readRecords(ctx, p, batches, free)
	}()
	var werr error
	for batch := range batches {
		if werr == nil {
			for _, r := range batch {
				if werr = imp.Add(ctx, r); werr != nil {
					cancel() // stop the reader
					break
				}
			}
		}
		clear(batch)
		select {
		case free <- batch[:0]:
		default:
		}
	}
	<-done
	switch {
	case werr != nil:
		return ImportResult{}, werr
	case read.err != nil:
		return ImportResult{}, read.err
	}
	if p.Progress != nil {
		p.Progress(1, read.rows)
	}
	if read.bad.Total > 0 {
		return ImportResult{}, read.bad
	}
	if read.rows == 0 {
		return ImportResult{}, trueup.Errorf(trueup.EINVALID, "the file has no risk records; add one row per record below the header")
	}
	n, err := imp.Commit(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	total := existing + n
	if p.Replace {
		total = n
	}
	return ImportResult{Imported: n, Replaced: p.Replace, IndexRebuilt: rebuild, RecordsInTotal: total}, nil
}

// importBatch is how many records the reader hands over at once.
const importBatch = 1024

type readResult struct {
	rows int64
	bad  *ImportError
	err  error
}

// readRecords reads and checks every row of p.Input, sending the good
// records in batches until the first bad row (the rows after it are only
// checked). It stops early when ctx ends.
func readRecords(ctx context.Context, p ImportParams, batches chan<- []Record, free <-chan []Record) readResult {
	res := readResult{bad: &ImportError{}}
	batch := make([]Record, 0, importBatch)
	send := func() bool {
		select {
		case batches <- batch:
		case <-ctx.Done():
			return false
		}
		select {
		case batch = <-free:
		default:
			batch = make([]Record, 0, importBatch)
		}
		return true
	}
	for {
		n, v, err := p.Input.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.err = fmt.Errorf("read risk records: %w", err)
			return res
		}
		res.rows++
		if p.Progress != nil && res.rows%16384 == 0 {
			p.Progress(p.Input.Progress(), res.rows)
		}
		r, errs := ParseRecord(n, v)
		if len(errs) > 0 {
			res.bad.Add(errs...)
			continue
		}
		if res.bad.Total > 0 {
			continue // keep checking, store nothing
		}
		batch = append(batch, r)
		if len(batch) == importBatch && !send() {
			return res
		}
	}
	if len(batch) > 0 && res.bad.Total == 0 {
		send()
	}
	return res
}

// ParseRecord reads one row's values into a record, or returns every
// problem of the row.
func ParseRecord(row int64, v *Values) (Record, []trueup.RowError) {
	var r Record
	var errs []trueup.RowError
	fail := func(col int, value, reason string) {
		if len(value) > 64 {
			value = value[:64] + "..."
		}
		errs = append(errs, trueup.RowError{Row: row, Column: Columns[col].Name, Value: value, Reason: reason})
	}
	field := func(col int) string {
		s := v[col]
		if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '\t' || s[len(s)-1] == '\t') {
			s = strings.TrimSpace(s)
		}
		if s == "" && Columns[col].Required {
			fail(col, "", "required value is empty; fill it in")
		}
		return s
	}

	if m := field(colMobile); m != "" {
		var ok bool
		if r.Mobile, ok = mobileKey(m); !ok {
			fail(colMobile, m, "not a mobile number with country code (digits only, such as 915586685366) nor its MD5 (32 hexadecimal digits)")
		}
	}
	if d := field(colDay); d != "" {
		var ok bool
		if r.Day, ok = ParseDay(d); !ok {
			if r.Day, ok = excelDay(d); !ok {
				fail(colDay, d, "not a date; write YYYY-MM-DD, such as 2022-10-03")
			}
		}
	}
	if src := field(colSource); src != "" {
		var ok bool
		if r.Source, ok = ParseSource(strings.ToLower(src)); !ok {
			fail(colSource, src, "not a source; write seat, voice or sms")
		}
	}
	if cid := field(colCID); cid != "" {
		if len(cid) > 128 {
			fail(colCID, cid, "longer than 128 characters; shorten it")
		}
		r.CID = cid
	}
	if d := field(colDuration); d != "" {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n < 0 {
			fail(colDuration, d, "not a duration; write whole seconds, 0 or more, such as 17")
		} else {
			r.Duration, r.HasDuration = n, true
		}
	} else if r.Source == SourceSeat {
		fail(colDuration, "", "seat records need the duration in seconds; fill it in")
	}
	if l := field(colLevel); l != "" {
		if len(l) != 1 || l[0] < '1' || l[0] > '5' {
			fail(colLevel, l, "not a level; write 1 (whitelist) to 5 (blacklist)")
		} else {
			r.Level = Level(l[0] - '0')
		}
	}
	return r, errs
}

// mobileKey returns the MD5 key of a mobile_no value: the value itself when
// it is 32 hexadecimal digits, else the MD5 of the number's digits (a
// leading + dropped) when it is 5 to 20 digits.
func mobileKey(s string) (MD5, bool) {
	if m, ok := ParseMD5(s); ok {
		return m, true
	}
	s = strings.TrimPrefix(s, "+")
	if len(s) < 5 || len(s) > 20 {
		return MD5{}, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return MD5{}, false
		}
	}
	return HashMobile(s), true
}

// excelDay reads an Excel serial day number (1900 date system; a time of
// day, the fraction, is dropped) as a day from 1970-01-01 to 9999-12-31.
func excelDay(s string) (Day, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 32)
	if err != nil || n < 25569 || n > 2958465 || strings.Trim(frac, "0123456789") != "" || whole[0] == '+' || whole[0] == '-' {
		return 0, false
	}
	return Day(n - 25569), true
}

// spec is the risk file's columns as tabular reads them.
var spec = tabular.Spec{Columns: Columns, What: "a risk record field"}

// sourceInput is an Input over a tabular.Source.
type sourceInput struct {
	tabular.Source
	v Values
}

func (in *sourceInput) Next() (int64, *Values, error) {
	n, get, err := in.Source.Next()
	if err != nil {
		return 0, nil, err
	}
	for col, c := range Columns {
		in.v[col] = get(c.Name)
	}
	return n, &in.v, nil
}

// OpenFile opens a risk file as tabular.Open does: JSON Lines when it is
// named .jsonl or .ndjson, else CSV, xlsx or xls as sheet.Detect tells.
// It returns the Input and the file's size in bytes, or an EINVALID
// *trueup.Error (or one wrapping sheet.ErrWrongFormat) for a file
// that is none of these or whose header is wrong. The file is read within
// lim (zero fields take the defaults of sheet.DefaultLimits).
func OpenFile(path string, lim sheet.Limits) (Input, int64, error) {
	sp := spec
	sp.Limits = lim
	src, size, err := tabular.Open(path, sp)
	if err != nil {
		return nil, 0, err
	}
	return &sourceInput{Source: src}, size, nil
}
