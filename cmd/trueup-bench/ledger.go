package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/ledger"
)

// ledgerParams are the inputs of runLedger.
type ledgerParams struct {
	N     int
	Dir   string
	PGURL string // a database trueup may migrate and fill; skipped when empty
	Bin   string // the trueup binary; built from this tree when empty
	Check bool   // also time `trueup verify` of an N-row statement after the import
}

// runLedger measures the ledger import as an operator runs it, on SQLite
// and on PostgreSQL: `trueup import orders` of a generated N-order CSV
// into a new carrier, then the same file again (every order an upsert);
// then the same two through the admin ingest API of a `trueup serve` on
// the same database (POST /admin/v1/imports/orders, polled until it
// finishes) into another new carrier; with Check, `trueup verify` of an
// N-row statement straight after (no statistics but those the import
// leaves). First it times the floors: reading every cell of the file with
// the import's own reader, in this process, and the engines storing the
// file's rows with no trueup work (engineFloors). Each step gives wall
// time, trueup's CPU, the CPU of the PostgreSQL processes of the database
// (pgRun) and orders per CPU-second of the two.
func runLedger(p ledgerParams) error {
	spec := gen.Spec{Orders: p.N, Cycle: trueup.CycleOf(time.Now().UTC()).Prev(), Seed: 1,
		MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
	ledgerCSV := filepath.Join(p.Dir, "ledger.csv")
	if err := writeFile(ledgerCSV, spec.WriteLedgerCSV); err != nil {
		return err
	}
	statementCSV := filepath.Join(p.Dir, "statement.csv")
	if p.Check {
		if err := writeFile(statementCSV, spec.WriteCSV); err != nil {
			return err
		}
	}
	bin := p.Bin
	if bin == "" {
		var err error
		if bin, err = buildServer(p.Dir); err != nil {
			return err
		}
	}
	floor, err := readFloor(ledgerCSV)
	if err != nil {
		return err
	}
	fmt.Printf("# ledger import: %d orders, %s\n\nfloor (every cell read by ledger.OpenFile, in process): %.2f s = %.0f orders/s\n\n", p.N, bin, floor.Seconds(), float64(p.N)/floor.Seconds())
	if err := engineFloors(p, ledgerCSV); err != nil {
		return err
	}
	fmt.Printf("| engine | route | step | wall | trueup CPU (user+sys) | PostgreSQL CPU | orders/s (wall) | orders per CPU-second | peak RSS | load average |\n|---|---|---|---|---|---|---|---|---|---|\n")
	engines := [][2]string{{"sqlite", "--data=" + filepath.Join(p.Dir, "data")}}
	if p.PGURL != "" {
		engines = append(engines, [2]string{"postgres", "--database-url=" + p.PGURL})
	}
	for _, e := range engines {
		car, err := newCarrier(bin, e[1])
		if err != nil {
			return fmt.Errorf("%s: %w", e[0], err)
		}
		steps := []struct {
			name string
			args []string
		}{
			{"import", []string{"import", "orders", "--carrier", car, e[1], ledgerCSV}},
			{"re-import", []string{"import", "orders", "--carrier", car, e[1], ledgerCSV}},
		}
		for _, s := range steps {
			start, pg := time.Now(), startPGRun(e[0], p.PGURL)
			_, use, err := trueupRun(bin, s.args...)
			if err != nil {
				return fmt.Errorf("%s %s: %w", e[0], s.name, err)
			}
			d := time.Since(start)
			cpu := time.Duration(use.Utime.Nano() + use.Stime.Nano())
			pgUsed := pg.Stop()
			fmt.Printf("| %s | CLI | %s | %.2f s | %.2f s | %s | %.0f | %.0f | %d MiB | %s |\n", e[0], s.name, d.Seconds(), cpu.Seconds(), pgCPU(e[0], pgUsed),
				float64(p.N)/d.Seconds(), float64(p.N)/(cpu+pgUsed).Seconds(), use.Maxrss/1024, loadAvg())
		}
		if err := apiImports(p.N, bin, e, p.PGURL, ledgerCSV); err != nil {
			return fmt.Errorf("%s admin API: %w", e[0], err)
		}
		if p.Check {
			start, pg := time.Now(), startPGRun(e[0], p.PGURL)
			_, use, err := trueupRun(bin, "verify", "--carrier", car, "--cycle", spec.Cycle.String(), e[1], statementCSV)
			if err != nil {
				return fmt.Errorf("%s verify: %w", e[0], err)
			}
			d := time.Since(start)
			cpu := time.Duration(use.Utime.Nano() + use.Stime.Nano())
			fmt.Printf("| %s | CLI | verify after import | %.2f s | %.2f s | %s | | | %d MiB | %s |\n", e[0], d.Seconds(), cpu.Seconds(), pgCPU(e[0], pg.Stop()), use.Maxrss/1024, loadAvg())
		}
	}
	return nil
}

// newCarrier creates a carrier through the command and returns its id.
func newCarrier(bin, db string) (string, error) {
	out, _, err := trueupRun(bin, "admin", "carrier", "create", "--json", "--name", fmt.Sprintf("Ledger bench %d", time.Now().UnixNano()), db)
	if err != nil {
		return "", fmt.Errorf("create carrier: %w", err)
	}
	var car struct {
		CarrierID string `json:"carrierId"`
	}
	if err := json.Unmarshal(out, &car); err != nil {
		return "", fmt.Errorf("carrier: %w", err)
	}
	return car.CarrierID, nil
}

// apiImports serves the database of e and imports the ledger twice into
// a new carrier through the admin API, timing each from the POST to the
// import's end; the server's peak RSS is its high-water mark so far.
func apiImports(n int, bin string, e [2]string, pgURL, ledgerCSV string) error {
	ctx := context.Background()
	car, err := newCarrier(bin, e[1])
	if err != nil {
		return err
	}
	out, _, err := trueupRun(bin, "admin", "apikey", "create", "--name", "ledger bench", "--json", e[1])
	if err != nil {
		return err
	}
	var key struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out, &key); err != nil {
		return fmt.Errorf("apikey: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	srv := exec.Command(bin, "serve", e[1], "--addr", addr, "--log-level", "warn", "--max-upload-bytes", "4294967296")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	if err := waitServer(ctx, client.New("http://"+addr), nil); err != nil {
		return err
	}
	api := client.NewAdminClient("http://"+addr, key.Key, &http.Client{})
	for _, step := range []string{"import", "re-import"} {
		f, err := os.Open(ledgerCSV)
		if err != nil {
			return err
		}
		start, pg, own := time.Now(), startPGRun(e[0], pgURL), procCPU(srv.Process.Pid)
		im, err := api.ImportOrders(ctx, car, client.ImportBody{Body: f, ContentType: "text/csv"})
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", step, err)
		}
		for im.State == client.ImportRunning {
			time.Sleep(20 * time.Millisecond)
			if im, err = api.Import(ctx, im.ImportID); err != nil {
				return fmt.Errorf("%s: %w", step, err)
			}
		}
		d := time.Since(start)
		cpu, pgUsed := procCPU(srv.Process.Pid)-own, pg.Stop()
		if im.State != client.ImportSucceeded || im.Imported != int64(n) {
			return fmt.Errorf("%s: import %s ended %s with %d orders: %s", step, im.ImportID, im.State, im.Imported, im.Reason)
		}
		fmt.Printf("| %s | admin API | %s | %.2f s | %.2f s | %s | %.0f | %.0f | %s | %s |\n", e[0], step, d.Seconds(), cpu.Seconds(), pgCPU(e[0], pgUsed),
			float64(n)/d.Seconds(), float64(n)/(cpu+pgUsed).Seconds(), peakRSS(srv.Process.Pid), loadAvg())
	}
	return nil
}

// readFloor reads every cell of the order file with the import's reader
// and returns how long that took: what no import of the file can beat.
func readFloor(path string) (time.Duration, error) {
	start := time.Now()
	src, err := ledger.OpenFile(path, sheet.Limits{})
	if err != nil {
		return 0, err
	}
	defer src.Close()
	cells := 0
	for {
		_, get, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		for _, c := range ledger.Columns {
			cells += len(get(c.Name))
		}
	}
	if cells == 0 {
		return 0, errors.New("the order file is empty")
	}
	return time.Since(start), nil
}

// pgRun measures the CPU time (user+sys) of the PostgreSQL processes that
// serve one database: its backends and autovacuum workers, found by their
// process titles and sampled every 50 ms, so that other work on the same
// server does not count (nor do the server's shared processes, the WAL
// writer and the checkpointer; a backend's last 50 ms before it exits may
// be missed).
type pgRun struct {
	db         string
	stop, done chan struct{}
	base, last map[int]time.Duration
}

// startPGRun starts measuring the database of url for the postgres engine;
// for the others it returns nil, whose Stop returns zero.
func startPGRun(engine, pgURL string) *pgRun {
	u, err := url.Parse(pgURL)
	if engine != "postgres" || err != nil {
		return nil
	}
	r := &pgRun{db: strings.TrimPrefix(u.Path, "/"), stop: make(chan struct{}), done: make(chan struct{}),
		base: map[int]time.Duration{}, last: map[int]time.Duration{}}
	r.sample(r.base)
	go func() {
		defer close(r.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				r.sample(r.last)
				return
			case <-t.C:
				r.sample(r.last)
			}
		}
	}()
	return r
}

// sample notes the CPU time of each process of the database in into.
func (r *pgRun) sample(into map[int]time.Duration) {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/stat")
		if err != nil || !bytes.Contains(b, []byte("(postgres)")) {
			continue
		}
		title, err := os.ReadFile(d + "/cmdline")
		if err != nil || !slices.Contains(strings.Fields(strings.ReplaceAll(string(title), "\x00", " ")), r.db) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		into[pid] = statCPU(b)
	}
}

// Stop ends the measure and returns the CPU time used since the start.
func (r *pgRun) Stop() time.Duration {
	if r == nil {
		return 0
	}
	close(r.stop)
	<-r.done
	var sum time.Duration
	for pid, c := range r.last {
		sum += c - r.base[pid]
	}
	return sum
}

// pgCPU returns d for the postgres engine, and nothing for the others.
func pgCPU(engine string, d time.Duration) string {
	if engine != "postgres" {
		return ""
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// procCPU returns the CPU time (user+sys) that process pid has used so
// far, or zero when /proc does not tell.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return statCPU(b)
}

// statCPU returns the user+sys time of a /proc/PID/stat line.
func statCPU(b []byte) time.Duration {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var ticks int64
	for _, v := range f[11:13] {
		var n int64
		fmt.Sscan(v, &n)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// engineFloors times what the engines themselves take to store the
// file's rows, with no work of trueup: the sqlite3 shell (C SQLite, when
// on PATH) importing the CSV into a table of its 13 columns with the
// orders' primary key and user index, in one transaction; on PostgreSQL
// a bare COPY of the CSV into a temporary table with no index, then a
// COPY into a logged table of the same columns, typed, with that primary
// key and index. Each line gives wall time, CPU (the shell's; the
// PostgreSQL server's) and orders per CPU-second.
func engineFloors(p ledgerParams, csvPath string) error {
	const cols = `carrier_order_id TEXT NOT NULL, billing_cycle TEXT NOT NULL, kd_order_id TEXT, carrier_user_id TEXT, kd_user_id TEXT,
		sku_code TEXT, sku_price %[1]s, kd_package_id TEXT, kd_active_time %[2]s, kd_end_time %[2]s, kd_order_time %[2]s, kd_sale_total %[1]s, channel TEXT`
	if shell, err := exec.LookPath("sqlite3"); err == nil {
		db := filepath.Join(p.Dir, "floor.db")
		os.Remove(db)
		script := "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=NORMAL;\n" +
			"CREATE TABLE o (" + fmt.Sprintf(cols, "TEXT", "TEXT") + ", PRIMARY KEY (billing_cycle, carrier_order_id));\n" +
			"CREATE INDEX o_user ON o (carrier_user_id, kd_package_id);\n" +
			".import --csv --skip 1 " + csvPath + " o\n"
		cmd := exec.Command(shell, db)
		cmd.Stdin = strings.NewReader(script)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("sqlite3 floor: %w: %s", err, errb.String())
		}
		d := time.Since(start)
		use, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if use != nil {
			cpu := time.Duration(use.Utime.Nano() + use.Stime.Nano())
			fmt.Printf("SQLite floor (sqlite3 shell, .import of the CSV with the primary key and user index): %.2f s wall, %.2f s CPU = %.0f orders per CPU-second, load %s\n",
				d.Seconds(), cpu.Seconds(), float64(p.N)/cpu.Seconds(), loadAvg())
		}
		os.Remove(db)
		os.Remove(db + "-wal")
		os.Remove(db + "-shm")
	}
	if p.PGURL == "" {
		fmt.Println()
		return nil
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.PGURL)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	defer conn.Close(ctx)
	for _, f := range []struct{ what, ddl string }{
		{"bare COPY into a temporary table, no index", "CREATE TEMP TABLE floor_orders (" + fmt.Sprintf(cols, "TEXT", "TEXT") + ")"},
		{"COPY into a logged table, typed, with the primary key and user index", "CREATE TABLE floor_orders (" + fmt.Sprintf(cols, "NUMERIC", "TIMESTAMPTZ") +
			", PRIMARY KEY (billing_cycle, carrier_order_id)); CREATE INDEX ON floor_orders (carrier_user_id, kd_package_id)"},
	} {
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS floor_orders; "+f.ddl); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		file, err := os.Open(csvPath)
		if err != nil {
			return err
		}
		start, pg := time.Now(), startPGRun("postgres", p.PGURL)
		_, err = conn.PgConn().CopyFrom(ctx, file, "COPY floor_orders FROM STDIN WITH (FORMAT csv, HEADER true)")
		file.Close()
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		d, cpu := time.Since(start), pg.Stop()
		fmt.Printf("PostgreSQL floor (%s): %.2f s wall, %.2f s PostgreSQL CPU = %.0f orders per CPU-second, load %s\n",
			f.what, d.Seconds(), cpu.Seconds(), float64(p.N)/cpu.Seconds(), loadAvg())
		if _, err := conn.Exec(ctx, "DROP TABLE floor_orders"); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
	}
	fmt.Println()
	return nil
}

// loadAvg returns the one-minute load average of the machine.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	return strings.Fields(string(b))[0]
}

// trueupRun runs the trueup binary and returns its output and resource
// use.
func trueupRun(bin string, args ...string) ([]byte, *syscall.Rusage, error) {
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v: %w: %s", args[:2], err, errb.String())
	}
	use, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if use == nil {
		use = &syscall.Rusage{}
	}
	os.Stdout.Sync()
	return out.Bytes(), use, nil
}
