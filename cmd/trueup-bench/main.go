// Command trueup-bench measures the carrier statement check end to end on
// generated data: it makes a ledger of N orders and statements of N rows
// with known discrepancies of each kind (CSV, xlsx with shared strings,
// xlsx with inline strings), starts the real trueup server as a child
// process on SQLite, uploads each statement, waits for the batch to
// succeed, checks the counts, and reports the time, the server's CPU and
// its peak RSS. With -engine postgres the server runs on a PostgreSQL
// database created for the run on the server of -pg (dropped at the end
// unless -keep-db), and the table gives that database's CPU too; with
// -replicas R, R servers share it (uploads go to the first), their CPU is
// summed and the largest peak RSS named with its replica. In the same run it measures two references: the floor (archive/zip
// inflating the sheet XML and scanning it for row ends) and the PostgreSQL
// route (COPY both sides as CSV into unlogged tables, one FULL OUTER JOIN
// classifying the four kinds), plus the cost of the first and the last page
// of the discrepancy list. With -ledger it measures the ledger import
// through `trueup import orders` instead (and with -check the statement
// check after it), on SQLite and on PostgreSQL.
//
//	go run ./cmd/trueup-bench -n 1000000
//	go run ./cmd/trueup-bench -n 1000000 -formats csv -engine postgres -replicas 3 -serve-flags "--batch-partitions 6" -pg postgres://...
//	go run ./cmd/trueup-bench -ledger -n 1000000 -pg postgres://...
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/gen"
	"github.com/trueup/trueup/sqlstore"
)

func main() {
	n := flag.Int("n", 1_000_000, "orders in the ledger and rows in each statement")
	dir := flag.String("dir", "", "work directory (a temporary one when empty; kept when given)")
	pgURL := flag.String("pg", os.Getenv("TRUEUP_TEST_POSTGRES_URL"), "PostgreSQL URL for the reference route (skipped when empty)")
	formats := flag.String("formats", "csv,xlsx-shared,xlsx-inline", "statements to check: csv, xlsx-shared, xlsx-inline, and for more rows than a sheet holds xlsx-split (inline strings) and xlsx-split-shared, workbooks split over sheets of 1,048,575 rows")
	pages := flag.Int("pages", 50, "requests averaged for the first and the last page")
	ledgerOnly := flag.Bool("ledger", false, "measure only the ledger import (trueup import orders and the admin ingest API, insert and re-import, beside the file-reading floor) on SQLite and on PostgreSQL (-pg)")
	check := flag.Bool("check", false, "with -ledger: also time trueup verify of an N-row statement after the import")
	bin := flag.String("bin", "", "with -ledger: the trueup binary to measure (built from this tree when empty)")
	serveFlags := flag.String("serve-flags", "", "extra flags of trueup serve, space-separated, given to every replica (for example --match-memory 67108864)")
	engine := flag.String("engine", "sqlite", "the statement check's database: sqlite (a data directory) or postgres (a database created on the server of -pg for the run, dropped at its end)")
	replicas := flag.Int("replicas", 1, "trueup serve processes sharing the database (more than 1 needs -engine postgres); uploads and list reads go to the first")
	keepDB := flag.Bool("keep-db", false, "with -engine postgres: keep the run's database instead of dropping it")
	flag.Parse()
	if *ledgerOnly {
		d := *dir
		if d == "" {
			tmp, err := os.MkdirTemp("", "trueup-bench-*")
			if err != nil {
				log.Fatal(err)
			}
			defer os.RemoveAll(tmp)
			d = tmp
		}
		if err := runLedger(ledgerParams{N: *n, Dir: d, PGURL: *pgURL, Bin: *bin, Check: *check}); err != nil {
			log.Fatal(err)
		}
		return
	}
	switch {
	case *engine != "sqlite" && *engine != "postgres":
		log.Fatalf("-engine %q: use sqlite or postgres", *engine)
	case *replicas < 1:
		log.Fatalf("-replicas %d: use 1 or more", *replicas)
	case *replicas > 1 && *engine != "postgres":
		log.Fatalf("-replicas %d: replicas share a PostgreSQL database; add -engine postgres -pg postgres://...", *replicas)
	case *engine == "postgres" && *pgURL == "":
		log.Fatal("-engine postgres: give the server's URL with -pg postgres://... or TRUEUP_TEST_POSTGRES_URL")
	}
	// An interrupt ends the run through its context, so that the servers
	// are stopped and the run's database dropped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, runParams{n: *n, dir: *dir, pgURL: *pgURL, formats: strings.Split(*formats, ","), pages: *pages, serveFlags: strings.Fields(*serveFlags),
		engine: *engine, replicas: *replicas, keepDB: *keepDB}); err != nil {
		stop()
		log.Fatal(err)
	}
}

// runParams are the inputs of run.
type runParams struct {
	n          int
	dir, pgURL string
	formats    []string
	pages      int
	serveFlags []string
	engine     string // "sqlite" or "postgres"
	replicas   int    // servers on the database; more than 1 on postgres only
	keepDB     bool   // postgres: keep the run's database
}

func run(ctx context.Context, p runParams) error {
	n, dir, pgURL, formats, pages := p.n, p.dir, p.pgURL, p.formats, p.pages
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	} else {
		d, err := os.MkdirTemp("", "trueup-bench-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	now := time.Now().UTC()
	// Every 20th order of each kind: 200,000 discrepancies for a million.
	spec := gen.Spec{Orders: n, Cycle: trueup.CycleOf(now).Prev(), Seed: 1,
		MissingEvery: 20, ExtraEvery: 20, RightsEvery: 20, AmountEvery: 20}
	want := spec.Expected()
	// The engine and replicas are named when not the default, so that a
	// pasted output says what ran; a default run's header is as it was.
	setup := ""
	if p.engine != "sqlite" || p.replicas != 1 {
		setup = fmt.Sprintf(", engine %s, %d replica%s", p.engine, p.replicas, map[bool]string{true: "s"}[p.replicas != 1])
	}
	fmt.Printf("# trueup-bench: N=%d, %d discrepancies expected (%+v)%s\n", n, want.Total(), want, setup)
	fmt.Printf("machine: %d cores, %s, %s/%s\n\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)

	files := map[string]string{}
	t0 := time.Now()
	for _, f := range formats {
		path := filepath.Join(dir, "statement-"+f+map[bool]string{true: ".csv", false: ".xlsx"}[f == "csv"])
		if err := writeFile(path, func(w io.Writer) error {
			switch f {
			case "csv":
				return spec.WriteCSV(w)
			case "xlsx-shared":
				return spec.WriteXLSX(w, gen.XLSXOptions{SharedStrings: true, NumericAmounts: true})
			case "xlsx-inline":
				return spec.WriteXLSX(w, gen.XLSXOptions{NumericAmounts: true})
			case "xlsx-split":
				// Inline strings, split over sheets of the most rows an
				// xlsx sheet holds below its header.
				return spec.WriteXLSX(w, gen.XLSXOptions{NumericAmounts: true, SheetRows: 1<<20 - 1})
			case "xlsx-split-shared":
				// The same with every text cell in the shared strings
				// table, as Excel saves it: a table of 8 strings a row.
				return spec.WriteXLSX(w, gen.XLSXOptions{SharedStrings: true, NumericAmounts: true, SheetRows: 1<<20 - 1})
			}
			return fmt.Errorf("unknown format %q", f)
		}); err != nil {
			return err
		}
		files[f] = path
	}
	ledgerCSV := filepath.Join(dir, "ledger.csv")
	if err := writeFile(ledgerCSV, spec.WriteLedgerCSV); err != nil {
		return err
	}
	fmt.Printf("generated files in %s\n", time.Since(t0).Round(time.Millisecond))

	db, err := newBenchDB(ctx, p.engine, dir, pgURL)
	if err != nil {
		return err
	}
	if db.engine == "postgres" {
		if p.keepDB {
			defer fmt.Printf("database kept: %s\n", db.url)
		} else {
			defer func() {
				if err := db.drop(); err != nil {
					log.Print(err)
				}
			}()
		}
	}
	cred, err := provision(ctx, db, spec)
	if err != nil {
		return err
	}
	bin, err := buildServer(dir)
	if err != nil {
		return err
	}
	srvs, err := startReplicas(ctx, bin, db, dir, p.replicas, p.serveFlags)
	if err != nil {
		return err
	}
	defer srvs.stop()
	c := client.New("http://"+srvs.addrs[0], client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))

	// On PostgreSQL the table has the CPU of the database's own server
	// processes too; with replicas the server CPU is their sum and a peak
	// RSS the largest replica's.
	cpuHead, rssHead, pgHead := "server CPU", "server peak RSS", ""
	if p.replicas > 1 {
		cpuHead, rssHead = fmt.Sprintf("server CPU (%d replicas, summed)", p.replicas), "largest replica's peak RSS"
	}
	if db.engine == "postgres" {
		pgHead = " PostgreSQL CPU |"
	}
	fmt.Printf("\n| statement | size | upload → succeeded | %s |%s %s (run so far) | %s (this statement, sampled) |\n", cpuHead, pgHead, rssHead, rssHead)
	sep := "|---|---|---|---|---|---|"
	if pgHead != "" {
		sep += "---|"
	}
	fmt.Println(sep)
	var lastBatch trueup.BatchNo
	took := map[string]time.Duration{}
	perReplica := map[string][]time.Duration{}
	store, err := db.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	var followUps []string
	for _, f := range formats {
		st, _ := os.Stat(files[f])
		srvs.resetRSS()
		cpu0, each0, pg := srvs.cpu(), srvs.cpuEach(), startPGRun(db.engine, db.url)
		start := time.Now()
		no, err := c.VerifyFile(ctx, spec.Cycle.String(), files[f])
		if err != nil {
			return fmt.Errorf("%s: verify: %w", f, err)
		}
		b, err := c.WaitBatch(ctx, no, 20*time.Millisecond)
		if err != nil {
			return fmt.Errorf("%s: wait: %w", f, err)
		}
		d, pgUsed := time.Since(start), pg.Stop()
		if b.Batch.State != trueup.BatchSucceeded {
			return fmt.Errorf("%s: batch %s ended %s: %s", f, no, b.Batch.State, b.Batch.Failure)
		}
		if b.Batch.Counts != want {
			return fmt.Errorf("%s: counts %+v, want %+v", f, b.Batch.Counts, want)
		}
		pgCol := ""
		if db.engine == "postgres" {
			pgCol = fmt.Sprintf(" %.1f s |", pgUsed.Seconds())
		}
		fmt.Printf("| %s | %.1f MB | %.2f s | %.1f s |%s %s | %s |\n", f, float64(st.Size())/1e6, d.Seconds(),
			(srvs.cpu() - cpu0).Seconds(), pgCol, srvs.peakRSS(), srvs.sampledPeak())
		if p.replicas > 1 {
			each := srvs.cpuEach()
			for i := range each {
				each[i] -= each0[i]
			}
			perReplica[f] = each
		}
		// A batch's follow-up jobs (its events: the audit chain and
		// webhooks, one entry a case it changed) run after it succeeded;
		// the next statement starts once they are done, so that it does
		// not share the machine with them, and their cost is told apart.
		cpuF, startF := srvs.cpu(), time.Now()
		if err := waitIdle(ctx, store); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		followUps = append(followUps, fmt.Sprintf("- %s: the batch's follow-up jobs (events) took %.2f s after it succeeded, %.1f s of server CPU",
			f, time.Since(startF).Seconds(), (srvs.cpu()-cpuF).Seconds()))
		lastBatch = no
		took[f] = d
	}

	if len(perReplica) > 0 {
		fmt.Println()
	}
	for _, f := range formats {
		if each := perReplica[f]; each != nil {
			s := make([]string, len(each))
			for i, d := range each {
				s[i] = fmt.Sprintf("%.1f s", d.Seconds())
			}
			fmt.Printf("server CPU per replica, %s: %s\n", f, strings.Join(s, ", "))
		}
	}
	fmt.Println()
	for _, l := range followUps {
		fmt.Println(l)
	}
	fmt.Println("\nreferences (same run):")
	ratios := []string{}
	for _, f := range formats {
		if f == "csv" {
			continue
		}
		d, rows, err := zipFloor(files[f])
		if err != nil {
			return err
		}
		fmt.Printf("- floor, %s: archive/zip inflate of the sheets + scan for </row>: %.2f s (%d rows)\n", f, d.Seconds(), rows)
		ratios = append(ratios, fmt.Sprintf("%s %.2f × its floor (goal ≤ 4)", f, took[f].Seconds()/d.Seconds()))
	}
	if pgURL != "" && files["csv"] != "" {
		d, counts, err := pgRoute(ctx, pgURL, ledgerCSV, files["csv"])
		if err != nil {
			return fmt.Errorf("postgres route: %w", err)
		}
		fmt.Printf("- PostgreSQL route (COPY both CSVs into unlogged tables + one FULL OUTER JOIN): %.2f s, counts %v\n", d.Seconds(), counts)
		for _, f := range formats {
			ratios = append(ratios, fmt.Sprintf("%s %.2f × the PostgreSQL route", f, took[f].Seconds()/d.Seconds()))
		}
	}
	if lastBatch != "" && pages > 0 {
		first, last, err := pageCost(ctx, c, lastBatch, pages)
		if err != nil {
			return err
		}
		fmt.Printf("- discrepancy list, pageSize 100, %d discrepancies: first page %.2f ms, last page %.2f ms (mean of %d)\n",
			want.Total(), ms(first), ms(last), pages)
		ratios = append(ratios, fmt.Sprintf("last page %.2f × the first (goal ≤ 1.5)", last.Seconds()/first.Seconds()))
	}
	fmt.Printf("- server peak RSS, whole run: %s (goal ≤ 384 MiB)\n", srvs.peakRSS())
	if len(ratios) > 0 {
		fmt.Printf("\nratios: %s\n", strings.Join(ratios, "; "))
	}
	return nil
}

// waitIdle waits until no job of the servers' queue is running or due.
func waitIdle(ctx context.Context, store *sqlstore.DB) error {
	for {
		busy := false
		for _, state := range []trueup.JobState{trueup.JobRunning, trueup.JobAvailable} {
			js, err := store.JobsInState(ctx, state, 100)
			if err != nil {
				return fmt.Errorf("wait for the job queue: %w", err)
			}
			for _, j := range js {
				if !j.RunAt.After(time.Now()) {
					busy = true
				}
			}
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fn(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// provision creates the carrier and loads the ledger straight into the
// server's database (not timed: the ledger is there before statements
// arrive).
func provision(ctx context.Context, db *benchDB, spec gen.Spec) (auth.Credentials, error) {
	store, err := db.open(ctx)
	if err != nil {
		return auth.Credentials{}, err
	}
	defer store.Close()
	cred, err := auth.New(store).CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Bench Mobile"})
	if err != nil {
		return cred, err
	}
	start := time.Now()
	imp, err := store.BeginOrderImport(ctx, cred.CarrierID)
	if err != nil {
		return cred, err
	}
	defer imp.Rollback()
	for i := 0; i < spec.Orders; i++ {
		if err := imp.Add(ctx, spec.Order(i)); err != nil {
			return cred, err
		}
	}
	if _, err := imp.Commit(); err != nil {
		return cred, err
	}
	fmt.Printf("ledger of %d orders stored in %s\n", spec.Orders, time.Since(start).Round(time.Millisecond))
	return cred, nil
}

func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "trueup")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/trueup/trueup/cmd/trueup")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build trueup: %w", err)
	}
	return bin, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rssWatch samples a process's resident set every 100 ms and keeps the
// largest since the last reset.
type rssWatch struct {
	mu  sync.Mutex
	max int64
}

// watchRSS starts sampling process pid until ctx ends.
func watchRSS(ctx context.Context, pid int) *rssWatch {
	w := &rssWatch{}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if v := statusKiB(pid, "VmRSS:"); v > 0 {
				w.mu.Lock()
				w.max = max(w.max, v<<10)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *rssWatch) reset() { w.mu.Lock(); w.max = 0; w.mu.Unlock() }

func (w *rssWatch) peak() int64 { w.mu.Lock(); defer w.mu.Unlock(); return w.max }

// statusKiB reads a field of /proc/pid/status in KiB (0 when it cannot).
func statusKiB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, field)), "%d", &kb)
			return kb
		}
	}
	return 0
}

// cpuTime returns the CPU time (user and system) process pid has used:
// on a machine shared with other work, the server's own cost of a
// statement, which its wall time is not.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis; utime and
	// stime are the 14th and 15th of the line, in clock ticks (100 a
	// second on Linux).
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	var u, s int64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// peakRSS reads the process's high-water resident set from /proc.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return fmt.Sprintf("%.0f MiB", float64(kb)/1024)
		}
	}
	return "n/a"
}

// zipFloor inflates the workbook's sheet XML (every worksheet) and counts
// row ends: the least any xlsx reader must do.
func zipFloor(path string) (time.Duration, int, error) {
	start := time.Now()
	zr, err := zip.OpenReader(path)
	if err != nil {
		return 0, 0, err
	}
	defer zr.Close()
	rows, sheets := 0, 0
	buf := make([]byte, 1<<20)
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, "xl/worksheets/sheet") || !strings.HasSuffix(f.Name, ".xml") {
			continue
		}
		sheets++
		r, err := f.Open()
		if err != nil {
			return 0, 0, err
		}
		carry := []byte{}
		for {
			k, err := r.Read(buf)
			chunk := append(carry, buf[:k]...)
			rows += bytes.Count(chunk, []byte("</row>"))
			if len(chunk) >= 5 {
				carry = append(carry[:0], chunk[len(chunk)-5:]...)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				r.Close()
				return 0, 0, err
			}
		}
		r.Close()
	}
	if sheets == 0 {
		return 0, 0, errors.New("no worksheet")
	}
	return time.Since(start), rows, nil
}

// pgRoute is what a team would otherwise do: load both sides into
// PostgreSQL with COPY and classify with one FULL OUTER JOIN.
func pgRoute(ctx context.Context, url, ledger, statement string) (time.Duration, map[int]int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	// Tables named after the process, so that two runs on one database
	// do not meet.
	suffix := fmt.Sprintf("_%d", os.Getpid())
	ledgerTable, stmtTable := "bench_ledger"+suffix, "bench_statement"+suffix
	stmts := []string{
		`DROP TABLE IF EXISTS ` + ledgerTable + `, ` + stmtTable,
		`CREATE UNLOGGED TABLE ` + ledgerTable + ` (carrier_order_id text, billing_cycle text, kd_order_id text, carrier_user_id text, kd_user_id text,
			sku_code text, sku_price numeric, kd_package_id text, kd_active_time timestamptz, kd_end_time timestamptz, kd_order_time timestamptz,
			kd_sale_total numeric, channel text)`,
		`CREATE UNLOGGED TABLE ` + stmtTable + ` (carrier_order_id text, carrier_user_id text, carrier_order_time timestamptz, sku_code text,
			carrier_package_id text, carrier_active_time timestamptz, carrier_end_time timestamptz, carrier_sale numeric, carrier_sale_to_kd numeric, channel text)`,
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return 0, nil, err
		}
	}
	for table, path := range map[string]string{ledgerTable: ledger, stmtTable: statement} {
		f, err := os.Open(path)
		if err != nil {
			return 0, nil, err
		}
		_, err = conn.PgConn().CopyFrom(ctx, f, "COPY "+table+" FROM STDIN WITH (FORMAT csv, HEADER true)")
		f.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("copy %s: %w", table, err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT kind, count(*) FROM (
		SELECT CASE
			WHEN s.carrier_order_id IS NULL THEN 1
			WHEN l.carrier_order_id IS NULL THEN 2
			WHEN s.carrier_package_id <> l.kd_package_id OR s.sku_code <> l.sku_code
				OR s.carrier_active_time <> l.kd_active_time OR s.carrier_end_time <> l.kd_end_time THEN 3
			WHEN abs(s.carrier_sale_to_kd - l.kd_sale_total) > 0.01 THEN 4
			END AS kind
		FROM `+ledgerTable+` l FULL OUTER JOIN `+stmtTable+` s ON s.carrier_order_id = l.carrier_order_id) k
		WHERE kind IS NOT NULL GROUP BY kind`)
	if err != nil {
		return 0, nil, err
	}
	counts := map[int]int64{}
	for rows.Next() {
		var k int
		var c int64
		if err := rows.Scan(&k, &c); err != nil {
			return 0, nil, err
		}
		counts[k] = c
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	d := time.Since(start)
	conn.Exec(ctx, `DROP TABLE IF EXISTS `+ledgerTable+`, `+stmtTable)
	return d, counts, nil
}

// pageCost walks the list to its last page, then times the first and the
// last page.
func pageCost(ctx context.Context, c *client.Client, no trueup.BatchNo, n int) (first, last time.Duration, err error) {
	cursor := ""
	var lastCursor string
	for {
		page, err := c.DiffList(ctx, client.DiffListParams{BatchNo: no, PageSize: 1000, PageCursor: cursor})
		if err != nil {
			return 0, 0, err
		}
		if page.NextPageCursor == "" {
			break
		}
		lastCursor, cursor = cursor, page.NextPageCursor
	}
	_ = lastCursor
	// The cursor of the last page of 100: walk by 100 from the last cursor
	// of 1000.
	for {
		page, err := c.DiffList(ctx, client.DiffListParams{BatchNo: no, PageSize: 100, PageCursor: cursor})
		if err != nil {
			return 0, 0, err
		}
		if page.NextPageCursor == "" {
			break
		}
		cursor = page.NextPageCursor
	}
	timeIt := func(cur string) (time.Duration, error) {
		var total time.Duration
		for i := 0; i < n; i++ {
			start := time.Now()
			if _, err := c.DiffList(ctx, client.DiffListParams{BatchNo: no, PageSize: 100, PageCursor: cur}); err != nil {
				return 0, err
			}
			total += time.Since(start)
		}
		return total / time.Duration(n), nil
	}
	if first, err = timeIt(""); err != nil {
		return 0, 0, err
	}
	if last, err = timeIt(cursor); err != nil {
		return 0, 0, err
	}
	return first, last, nil
}

var _ = http.StatusOK
