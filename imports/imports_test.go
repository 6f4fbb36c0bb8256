package imports_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/tabular"
)

func newService(t *testing.T) *imports.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return imports.New(db, nil)
}

// finish waits for the service's imports with Close and returns the
// import with the given id.
func finish(t *testing.T, s *imports.Service, id imports.ID) imports.Import {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	im, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return im
}

func TestOutcomes(t *testing.T) {
	rowErrs := &tabular.RowErrors{}
	rowErrs.Add(trueup.RowError{Row: 4, Column: "level", Value: "9", Reason: "not 1 to 5"})
	tests := []struct {
		name       string
		n          int64
		err        error
		state      imports.State
		imported   int64
		errorCount int
		reason     string
	}{
		{"success", 7, nil, imports.Succeeded, 7, 0, ""},
		{"row errors", 0, rowErrs, imports.Failed, 0, 1, "1 row error(s); nothing was imported"},
		{"refused input", 0, trueup.Errorf(trueup.EINVALID, "the file has no order rows"), imports.Failed, 0, 0, "the file has no order rows; nothing was imported"},
		{"internal", 0, errors.New("disk on fire"), imports.Failed, 0, 0, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			done := false
			im, err := s.Start(context.Background(), imports.StartParams{Kind: imports.KindRisk, FileName: "f.csv", KeyID: "key_1",
				Run: func(ctx context.Context, progress func(float64, int64)) (int64, error) {
					progress(1, 4)
					return tt.n, tt.err
				},
				Done: func() { done = true }})
			if err != nil || im.State != imports.Running {
				t.Fatalf("Start = %+v, %v", im, err)
			}
			got := finish(t, s, im.ID)
			if got.State != tt.state || got.Imported != tt.imported || got.ErrorCount != tt.errorCount || !strings.Contains(got.Reason, tt.reason) || got.FinishedAt == nil {
				t.Errorf("import = %+v; want %s, %d imported, %d errors, reason with %q", got, tt.state, tt.imported, tt.errorCount, tt.reason)
			}
			if strings.Contains(got.Reason, "disk on fire") {
				t.Errorf("reason %q shows an internal error", got.Reason)
			}
			if !done {
				t.Error("Done was not called")
			}
		})
	}
}

// TestProgressWhileRunning reads an import while it runs: running, with
// the rows read so far.
func TestProgressWhileRunning(t *testing.T) {
	s := newService(t)
	reported, release := make(chan struct{}), make(chan struct{})
	im, err := s.Start(context.Background(), imports.StartParams{Kind: imports.KindOrders, Target: "car_1", FileName: "o.csv", KeyID: "k",
		Run: func(ctx context.Context, progress func(float64, int64)) (int64, error) {
			progress(0.5, 20000)
			close(reported)
			<-release
			progress(1, 40000)
			return 40000, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	<-reported
	got, err := s.Get(context.Background(), im.ID)
	if err != nil || got.State != imports.Running || got.RowsRead != 20000 {
		t.Errorf("while running: %+v, %v; want running with 20000 rows read", got, err)
	}
	close(release)
	if got := finish(t, s, im.ID); got.State != imports.Succeeded || got.RowsRead != 40000 || got.Imported != 40000 {
		t.Errorf("after: %+v", got)
	}
}

// TestCloseCancels checks that Close past its deadline cancels a running
// import, which is recorded as failed, and that Abandon marks imports a
// stopped process left running.
func TestCloseCancels(t *testing.T) {
	s := newService(t)
	started := make(chan struct{})
	im, err := s.Start(context.Background(), imports.StartParams{Kind: imports.KindRisk, FileName: "r.csv", KeyID: "k",
		Run: func(ctx context.Context, progress func(float64, int64)) (int64, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	got, err := s.Get(context.Background(), im.ID)
	if err != nil || got.State != imports.Failed || !strings.Contains(got.Reason, "server stopped") {
		t.Errorf("cancelled import = %+v, %v", got, err)
	}

	left := imports.Import{ID: "imp_left", Kind: imports.KindRisk, FileName: "f", State: imports.Running, KeyID: "k", CreatedAt: time.Now().Add(-time.Minute)}
	if err := s.Store.CreateImport(context.Background(), left); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Abandon(context.Background()); err != nil || n != 1 {
		t.Fatalf("Abandon = %d, %v; want 1", n, err)
	}
	if got, _ := s.Get(context.Background(), "imp_left"); got.State != imports.Failed || got.Reason == "" {
		t.Errorf("abandoned import = %+v", got)
	}
}
