// Package imports runs the imports sent through the admin API (ledger
// orders, buyer transactions, risk records) in the background and records
// each one's state, rows and row errors, so that a caller can read where a
// large import stands while it runs. The import itself is all or nothing:
// it is the feature's own import (ledger, buyer, risk) in one transaction.
package imports

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/tabular"
)

// ID names an import.
type ID string

// Kind is what an import loads.
type Kind string

// The kinds of import.
const (
	KindOrders       Kind = "orders"       // a carrier's ledger orders
	KindTransactions Kind = "transactions" // a buyer's survey transactions
	KindRisk         Kind = "risk"         // records of the multiple-order risk list
)

// State is where an import stands.
type State string

// The states of an import: running until its transaction commits
// (succeeded) or rolls back (failed: nothing was imported).
const (
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
)

// Import is one import and where it stands.
type Import struct {
	ID       ID     `json:"importId"`
	Kind     Kind   `json:"kind"`
	Target   string `json:"target,omitempty"` // the carrier or buyer id
	FileName string `json:"fileName"`
	State    State  `json:"state"`
	// RowsRead counts the rows read so far (while running, as last
	// reported by the reader, every 10,000 rows).
	RowsRead int64 `json:"rowsRead"`
	// Imported is how many rows were stored (succeeded only).
	Imported int64 `json:"imported"`
	// ErrorCount is how many row errors were found; RowErrors lists the
	// first 1000.
	ErrorCount int               `json:"errorCount"`
	RowErrors  []trueup.RowError `json:"rowErrors"`
	// Reason says why a failed import failed and what to do.
	Reason     string     `json:"reason,omitempty"`
	KeyID      string     `json:"keyId"`
	CreatedAt  time.Time  `json:"createdAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// Store is the storage the service needs. Not-found answers are ENOTFOUND
// *trueup.Errors.
type Store interface {
	// CreateImport stores a new import.
	CreateImport(ctx context.Context, im Import) error
	// FinishImport records an import's outcome.
	FinishImport(ctx context.Context, p FinishParams) error
	// Import returns the import with the given id.
	Import(ctx context.Context, id ID) (Import, error)
	// Imports returns the most recent imports, newest first, at most limit.
	Imports(ctx context.Context, limit int) ([]Import, error)
	// AbandonImports marks every import still running and created before
	// p.Before as failed with p.Reason, and returns how many.
	AbandonImports(ctx context.Context, p AbandonParams) (int64, error)
}

// FinishParams are the inputs of Store.FinishImport.
type FinishParams struct {
	ID         ID
	State      State
	RowsRead   int64
	Imported   int64
	ErrorCount int
	RowErrors  []trueup.RowError
	Reason     string
	At         time.Time
}

// AbandonParams are the inputs of Store.AbandonImports.
type AbandonParams struct {
	Before time.Time
	Reason string
	At     time.Time
}

// RunFunc performs an import: it reads the whole input, stores it in one
// transaction and returns how many rows it stored; a refused input is a
// *tabular.RowErrors or an EINVALID *trueup.Error. It calls progress now
// and then with the fraction and the rows read.
type RunFunc func(ctx context.Context, progress func(fraction float64, rows int64)) (int64, error)

// Service starts imports and reports their state.
type Service struct {
	Store  Store
	Logger *slog.Logger
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Events, when set, records each import's outcome.
	Events trueup.Recorder

	mu     sync.Mutex
	live   map[ID]*liveImport
	wg     sync.WaitGroup
	ctx    context.Context // cancelled by Close when its deadline passes
	cancel context.CancelFunc
}

type liveImport struct {
	rows int64
}

// New returns a Service over store. A nil logger means slog.Default().
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{Store: store, Logger: logger, Clock: trueup.SystemClock{}, live: map[ID]*liveImport{}, ctx: ctx, cancel: cancel}
}

// StartParams are the inputs of Start.
type StartParams struct {
	Kind     Kind
	Target   string
	FileName string
	KeyID    string
	Run      RunFunc
	// Done, when set, is called once the import has finished (to remove
	// its spooled input).
	Done func()
}

// Start records a running import, runs it in the background and returns
// it at once. Read its state with Get.
func (s *Service) Start(ctx context.Context, p StartParams) (Import, error) {
	im := Import{ID: ID(trueup.NewID("imp_")), Kind: p.Kind, Target: p.Target, FileName: p.FileName, State: Running,
		RowErrors: []trueup.RowError{}, KeyID: p.KeyID, CreatedAt: s.Clock.Now().UTC()}
	if err := s.Store.CreateImport(ctx, im); err != nil {
		return Import{}, err
	}
	live := &liveImport{}
	s.mu.Lock()
	s.live[im.ID] = live
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if p.Done != nil {
			defer p.Done()
		}
		s.run(im, live, p.Run)
	}()
	return im, nil
}

// run performs an import and records its outcome.
func (s *Service) run(im Import, live *liveImport, fn RunFunc) {
	progress := func(_ float64, rows int64) {
		s.mu.Lock()
		live.rows = rows
		s.mu.Unlock()
	}
	n, err := fn(s.ctx, progress)
	s.mu.Lock()
	rows := live.rows
	delete(s.live, im.ID)
	s.mu.Unlock()
	f := FinishParams{ID: im.ID, State: Succeeded, RowsRead: rows, Imported: n, RowErrors: []trueup.RowError{}, At: s.Clock.Now().UTC()}
	if err != nil {
		f.State, f.Imported = Failed, 0
		f.Reason = s.reason(im, err)
		var re *tabular.RowErrors
		if errors.As(err, &re) {
			f.ErrorCount, f.RowErrors = re.Total, re.Rows
		}
	} else if f.RowsRead < n {
		f.RowsRead = n
	}
	// The outcome is recorded even when the service is closing.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Store.FinishImport(ctx, f); err != nil {
		s.Logger.Error("record import outcome", "import_id", im.ID, "state", f.State, "err", err)
		return
	}
	e := trueup.Event{Type: trueup.EventImportFinished, Subject: string(im.ID), Actor: trueup.Actor("apikey:" + im.KeyID),
		Data: map[string]any{"kind": im.Kind, "target": im.Target, "fileName": im.FileName, "state": f.State, "imported": f.Imported, "errorCount": f.ErrorCount}}
	if im.KeyID == "" {
		e.Actor = trueup.ActorSystem
	}
	if im.Kind == KindOrders {
		e.CarrierID = trueup.CarrierID(im.Target)
	}
	trueup.Emit(ctx, s.Events, s.Logger, e)
}

// reason returns the user-facing reason of a failed import.
func (s *Service) reason(im Import, err error) string {
	var re *tabular.RowErrors
	switch {
	case errors.As(err, &re):
		return fmt.Sprintf("%d row error(s); nothing was imported: fix the rows listed in rowErrors and send the file again", re.Total)
	case s.ctx.Err() != nil:
		// Cancelled by Close: the engines wrap the cancellation differently.
		return "the server stopped before the import finished; nothing was imported: send the file again"
	case trueup.ErrorKind(err) != trueup.EINTERNAL:
		return trueup.ErrorMessage(err) + "; nothing was imported"
	}
	s.Logger.Error("import failed", "import_id", im.ID, "kind", im.Kind, "err", err)
	return "internal error; nothing was imported: send the file again later or contact the operator with the import id"
}

// Get returns the import with the given id; while it runs in this process
// its rows read are the latest reported. An unknown id is an ENOTFOUND
// *trueup.Error.
func (s *Service) Get(ctx context.Context, id ID) (Import, error) {
	im, err := s.Store.Import(ctx, id)
	if err != nil {
		return im, err
	}
	s.mu.Lock()
	if live, ok := s.live[id]; ok && im.State == Running {
		im.RowsRead = live.rows
	}
	s.mu.Unlock()
	return im, nil
}

// List returns the most recent imports, newest first, at most limit.
func (s *Service) List(ctx context.Context, limit int) ([]Import, error) {
	list, err := s.Store.Imports(ctx, limit)
	if list == nil {
		list = []Import{}
	}
	return list, err
}

// Abandon marks as failed the imports left running by a process that
// stopped before they finished (their transactions were rolled back).
// Call it once at start, before any import of this process begins.
func (s *Service) Abandon(ctx context.Context) (int64, error) {
	now := s.Clock.Now().UTC()
	return s.Store.AbandonImports(ctx, AbandonParams{Before: now, At: now,
		Reason: "the server stopped before the import finished; nothing was imported: send the file again"})
}

// Close waits for the running imports to finish; when ctx ends first it
// cancels them (their transactions roll back, and they are recorded as
// failed) and waits for that.
func (s *Service) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return ctx.Err()
	}
}
