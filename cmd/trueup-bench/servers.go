package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// benchDB is the database the statement check's servers share: a SQLite
// data directory, or a PostgreSQL database created for the run.
type benchDB struct {
	engine string // "sqlite" or "postgres"
	data   string // sqlite: the data directory
	url    string // postgres: the run's database
	admin  string // postgres: the URL the database was created from
	name   string // postgres: the run's database name
}

// newBenchDB returns the run's database on engine: for sqlite the data
// directory under dir; for postgres a new database trueup_bench_<unix
// time>_<pid> created on the server of pgURL, whose URL is pgURL's with
// that database in its path.
func newBenchDB(ctx context.Context, engine, dir, pgURL string) (*benchDB, error) {
	switch engine {
	case "sqlite":
		return &benchDB{engine: engine, data: filepath.Join(dir, "data")}, nil
	case "postgres":
	default:
		return nil, fmt.Errorf("-engine %q: use sqlite or postgres", engine)
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		return nil, fmt.Errorf("parse -pg: %w", err)
	}
	name := fmt.Sprintf("trueup_bench_%d_%d", time.Now().Unix(), os.Getpid())
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return nil, fmt.Errorf("connect -pg: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &benchDB{engine: engine, url: u.String(), admin: pgURL, name: name}, nil
}

// open opens the run's database, applying trueup's migrations.
func (d *benchDB) open(ctx context.Context) (*sqlstore.DB, error) {
	if d.engine == "postgres" {
		return postgres.Open(ctx, d.url)
	}
	return sqlite.Open(ctx, d.data)
}

// serveArgs returns the flags of `trueup serve` that name the database
// and the replica's own temporary folder (none for SQLite, whose server
// keeps them in its data directory).
func (d *benchDB) serveArgs(tempDir string) []string {
	if d.engine == "postgres" {
		return []string{"--database-url", d.url, "--temp-dir", tempDir}
	}
	return []string{"--data", d.data}
}

// drop drops the run's PostgreSQL database, ending the sessions still on
// it; for SQLite it does nothing (the data directory goes with the work
// directory).
func (d *benchDB) drop() error {
	if d.engine != "postgres" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, d.admin)
	if err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+d.name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", d.name, err)
	}
	return nil
}

// replicaSet is R `trueup serve` processes on one database, each with its
// own address and temporary folder; the first takes the uploads and the
// list reads.
type replicaSet struct {
	procs  []*exec.Cmd
	exited []chan struct{} // closed when the process has exited
	addrs  []string
	rss    []*rssWatch
}

// startReplicas starts r servers of bin on db with the extra flags and
// waits until each is ready. Each replica's temporary folder is
// dir/tmp-<i>: a server empties its own at start, so replicas must not
// share one. On error the servers already started are stopped.
func startReplicas(ctx context.Context, bin string, db *benchDB, dir string, r int, extra []string) (*replicaSet, error) {
	s := &replicaSet{}
	for i := range r {
		addr, err := freeAddr()
		if err != nil {
			s.stop()
			return nil, err
		}
		args := append([]string{"serve"}, db.serveArgs(filepath.Join(dir, fmt.Sprintf("tmp-%d", i+1)))...)
		args = append(args, "--addr", addr, "--log-level", "warn", "--max-upload-bytes", "2147483648")
		srv := exec.Command(bin, append(args, extra...)...)
		srv.Stderr = os.Stderr
		if err := srv.Start(); err != nil {
			s.stop()
			return nil, fmt.Errorf("start replica %d: %w", i+1, err)
		}
		exited := make(chan struct{})
		go func() { srv.Wait(); close(exited) }()
		s.procs, s.exited, s.addrs = append(s.procs, srv), append(s.exited, exited), append(s.addrs, addr)
		if err := waitServer(ctx, client.New("http://"+addr), exited); err != nil {
			s.stop()
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		s.rss = append(s.rss, watchRSS(ctx, srv.Process.Pid))
	}
	return s, nil
}

// stop kills the servers and waits for them to exit.
func (s *replicaSet) stop() {
	for i, p := range s.procs {
		p.Process.Kill()
		<-s.exited[i]
	}
}

// waitServer waits until the server answers /readyz, for 30 s at most; it
// returns an error at once when the server exits first (exited closed;
// nil when the caller does not watch the process).
func waitServer(ctx context.Context, c *client.Client, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Readyz(ctx); err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("server exited before it was ready (its error is above)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("server not ready after 30 s")
}

// cpu returns the CPU time (user and system) the servers have used, summed.
func (s *replicaSet) cpu() time.Duration {
	var sum time.Duration
	for _, d := range s.cpuEach() {
		sum += d
	}
	return sum
}

// cpuEach returns the CPU time (user and system) each server has used, in
// replica order.
func (s *replicaSet) cpuEach() []time.Duration {
	each := make([]time.Duration, len(s.procs))
	for i, p := range s.procs {
		each[i] = cpuTime(p.Process.Pid)
	}
	return each
}

// resetRSS starts a new sampled peak for every server.
func (s *replicaSet) resetRSS() {
	for _, w := range s.rss {
		w.reset()
	}
}

// sampledPeak returns the largest resident set sampled since resetRSS,
// of the replica that had it (named when there are several).
func (s *replicaSet) sampledPeak() string {
	best, at := int64(0), 0
	for i, w := range s.rss {
		if v := w.peak(); v > best {
			best, at = v, i
		}
	}
	return fmt.Sprintf("%.0f MiB", float64(best)/(1<<20)) + s.which(at)
}

// peakRSS returns the largest high-water resident set (VmHWM) of the
// servers so far, of the replica that had it (named when there are
// several).
func (s *replicaSet) peakRSS() string {
	if len(s.procs) == 1 {
		return peakRSS(s.procs[0].Process.Pid)
	}
	best, at := int64(0), 0
	for i, p := range s.procs {
		if v := statusKiB(p.Process.Pid, "VmHWM:"); v > best {
			best, at = v, i
		}
	}
	if best == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(best)/1024) + s.which(at)
}

// which names replica i (counted from 1) when there are several.
func (s *replicaSet) which(i int) string {
	if len(s.procs) == 1 {
		return ""
	}
	return fmt.Sprintf(" (replica %d)", i+1)
}
