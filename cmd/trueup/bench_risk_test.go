package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlite"
)

// TestRiskBenchmark measures the multiple-order check on SQLite: the import
// of a generated risk list, then the check's throughput and latency through
// the real server on loopback, against a bare net/http handler returning a
// fixed body measured in the same run on the same machine. It runs only
// when TRUEUP_BENCH_RISK=1 (it takes minutes and gigabytes):
//
//	TRUEUP_BENCH_RISK=1 go test -run TestRiskBenchmark -timeout 0 -v ./cmd/trueup/
//
// Settings (environment):
//
//	TRUEUP_BENCH_RISK_ROWS     records to generate and import (default 10000000)
//	TRUEUP_BENCH_RISK_DIR      keep the file and database there (default a temporary directory)
//	TRUEUP_BENCH_RISK_SECONDS  seconds of load per measurement (default 10)
//	TRUEUP_BENCH_RISK_CONNS    connections kept open by the load generator, a list (default 16,4)
//	TRUEUP_BENCH_RISK_ROUNDS   bare/check pairs of runs per connection count (default 3)
//	TRUEUP_BENCH_RISK_ONLIST   request mixes: percent of checked numbers on the list, a list (default 50,10)
//	TRUEUP_BENCH_RISK_LOAD     wrk or go: the load generator (default wrk when installed)
//	TRUEUP_BENCH_RISK_CPUPROFILE     write the server's CPU profile of the check's run there
//	TRUEUP_BENCH_RISK_IMPORTPROFILE  write the import's CPU profile there
//	TRUEUP_BENCH_RISK_REUSE          1: keep the list already imported in TRUEUP_BENCH_RISK_DIR
//	TRUEUP_BENCH_RISK_WRK_CPUS       pin wrk to these CPUs (taskset -c); run the test itself
//	                                 under taskset on the others, with GOMAXPROCS to match
//
// The server runs as `trueup serve` does, logging every request as a JSON
// line (to a file). The risk key has a quota and a rate limit, large enough
// never to refuse, so that both are counted as in production.
func TestRiskBenchmark(t *testing.T) {
	if os.Getenv("TRUEUP_BENCH_RISK") != "1" {
		t.Skip("set TRUEUP_BENCH_RISK=1 to run the risk benchmark (minutes; not for CI)")
	}
	rows := benchEnvInt(t, "TRUEUP_BENCH_RISK_ROWS", 10_000_000)
	seconds := benchEnvInt(t, "TRUEUP_BENCH_RISK_SECONDS", 10)
	rounds := benchEnvInt(t, "TRUEUP_BENCH_RISK_ROUNDS", 3)
	var connList []int
	for _, f := range strings.Split(cmp.Or(os.Getenv("TRUEUP_BENCH_RISK_CONNS"), "16,4"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("TRUEUP_BENCH_RISK_CONNS=%q: want positive integers separated by commas", os.Getenv("TRUEUP_BENCH_RISK_CONNS"))
		}
		connList = append(connList, n)
	}
	dir := os.Getenv("TRUEUP_BENCH_RISK_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	load := os.Getenv("TRUEUP_BENCH_RISK_LOAD")
	if load == "" {
		load = "go"
		if _, err := exec.LookPath("wrk"); err == nil {
			load = "wrk"
		}
	}
	ctx := context.Background()
	today := risk.DayOf(time.Now().UTC())

	// The list: rows records of rows/3 numbers, over the last 365 days.
	numbers := max(1, rows/3)
	dataDir := filepath.Join(dir, "data")
	var imported struct {
		risk.ImportResult
		Seconds    float64 `json:"seconds"`
		RowsPerSec float64 `json:"rowsPerSecond"`
	}
	var importWall, importCPU time.Duration
	if os.Getenv("TRUEUP_BENCH_RISK_REUSE") == "1" {
		t.Logf("reusing the list in %s", dataDir)
	} else {
		file := filepath.Join(dir, fmt.Sprintf("risk-%d.csv", rows))
		start := time.Now()
		if err := writeRiskFile(file, rows, numbers, today); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(file)
		t.Logf("generated %s (%d records, %.0f MB) in %s", file, rows, float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond))
		os.RemoveAll(dataDir)
		if prof := os.Getenv("TRUEUP_BENCH_RISK_IMPORTPROFILE"); prof != "" {
			f, err := os.Create(prof)
			if err != nil {
				t.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
		start = time.Now()
		cpu0 := processCPU()
		runCLIJSON(t, &imported, "import", "risk", "--data", dataDir, file)
		importWall = time.Since(start)
		importCPU = processCPU() - cpu0
		pprof.StopCPUProfile()
		t.Logf("import: %d records in %.1fs = %.0f rows/s (index rebuilt: %v)", imported.Imported, imported.Seconds, imported.RowsPerSec, imported.IndexRebuilt)
	}

	var cred riskClientView
	runCLIJSON(t, &cred, "admin", "riskclient", "create", "--data", dataDir, "--name", trueup.NewID("bench-"), "--quota", "1000000000000", "--rate", "1000000")

	store, err := sqlite.Open(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	m := &Main{Logger: slog.New(slog.NewJSONHandler(logFile, nil))}
	if err := m.Open(ctx, store, ServeConfig{Addr: "127.0.0.1:0", Workers: 1}); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())

	bare := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(bareBody)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go bare.Serve(ln)
	defer bare.Close()

	riskURL := "http://" + m.Server.Addr() + "/check/multiple_order/o1"
	bareURL := "http://" + ln.Addr().String() + "/check/multiple_order/o1"
	var mixes []int
	for _, f := range strings.Split(cmp.Or(os.Getenv("TRUEUP_BENCH_RISK_ONLIST"), "50,10"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 100 {
			t.Fatalf("TRUEUP_BENCH_RISK_ONLIST=%q: want percentages separated by commas", os.Getenv("TRUEUP_BENCH_RISK_ONLIST"))
		}
		mixes = append(mixes, n)
	}
	bodies := riskBenchBodies(numbers, 1000, mixes[0])

	run := func(url string, conns int, d time.Duration) loadResult {
		t.Helper()
		var r loadResult
		var err error
		cpu0 := processCPU()
		if load == "wrk" {
			r, err = runWrk(dir, url, cred, bodies, conns, d)
		} else {
			r, err = runGoLoad(url, cred, bodies, conns, d)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.requests > 0 {
			r.cpuPerReq = (processCPU() - cpu0) / time.Duration(r.requests)
		}
		if r.errors > 0 {
			t.Errorf("%s: %d non-2xx answers or errors", url, r.errors)
		}
		return r
	}
	d := time.Duration(seconds) * time.Second
	run(riskURL, connList[0], 3*time.Second) // warm the page cache and the connection pools
	run(bareURL, connList[0], 2*time.Second)
	if prof := os.Getenv("TRUEUP_BENCH_RISK_CPUPROFILE"); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
		run(riskURL, connList[0], d)
		pprof.StopCPUProfile()
	}

	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`model name\s*:\s*(.*)`).FindSubmatch(b); m != nil {
			cpu = string(m[1])
		}
	}
	load1 := func() string {
		b, _ := os.ReadFile("/proc/loadavg")
		return strings.Join(strings.Fields(string(b))[:1], "")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "machine: %d CPUs (%s), %s %s/%s, GOMAXPROCS %d; load generator %s (one thread, CPUs %q), %ds per run, %d rounds; load average before: %s\n",
		runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), load, cmp.Or(os.Getenv("TRUEUP_BENCH_RISK_WRK_CPUS"), "any"), seconds, rounds, load1())
	if importWall > 0 {
		fmt.Fprintf(&b, "import: %d records in %.1fs (%.0f rows/s; %.1fs with the CLI's start and stop), index rebuilt: %v; CPU time %.1fs (%.0f rows per CPU second)\n",
			imported.Imported, imported.Seconds, imported.RowsPerSec, importWall.Seconds(), imported.IndexRebuilt, importCPU.Seconds(), float64(imported.Imported)/importCPU.Seconds())
	}
	fmt.Fprintf(&b, "request mixes: 1000 bodies each, cycled; a quarter filtered by source; no date (today, 90-day window)\n\n")
	fmt.Fprintf(&b, "| on the list | hits | connections | round | bare req/s | bare p50 | bare p99 | bare CPU/req | check req/s | check p50 | check p99 | check CPU/req | check/bare |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, mix := range mixes {
		bodies = riskBenchBodies(numbers, 1000, mix)
		hits := checkBenchAnswers(t, riskURL, cred, bodies)
		for _, conns := range connList {
			var ratios []float64
			for round := 1; round <= rounds; round++ {
				bare := run(bareURL, conns, d)
				check := run(riskURL, conns, d)
				ratio := check.rps / bare.rps
				ratios = append(ratios, ratio)
				fmt.Fprintf(&b, "| %d%% | %d/1000 | %d | %d | %.0f | %s | %s | %s | %.0f | %s | %s | %s | %.2f |\n", mix, hits, conns, round,
					bare.rps, bare.p50.Round(time.Microsecond), bare.p99.Round(time.Microsecond), bare.cpuPerReq.Round(100*time.Nanosecond),
					check.rps, check.p50.Round(time.Microsecond), check.p99.Round(time.Microsecond), check.cpuPerReq.Round(100*time.Nanosecond), ratio)
			}
			slices.Sort(ratios)
			fmt.Fprintf(&b, "| %d%% | | %d | median | | | | | | | | | %.2f |\n", mix, conns, ratios[len(ratios)/2])
		}
	}
	t.Log("\n" + b.String())
	if out := os.Getenv("TRUEUP_BENCH_RISK_OUT"); out != "" {
		os.WriteFile(out, []byte(b.String()), 0o644)
	}
}

// bareBody is what the bare handler answers: a typical hit of the check.
var bareBody = []byte(`{"status":"OK","result":{"target":true,"count":1,"data":[{"day":"2025-10-03","source":"seat","cid":"11323","duration":"17","level":5}]},"request_id":"TIDebc4954bc59c4f9b8437c390d188442d"}` + "\n")

func benchEnvInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// benchNumber returns the k-th mobile number of the generated list.
func benchNumber(k int) string { return strconv.Itoa(910000000000 + k) }

// writeRiskFile writes a CSV risk list of rows records spread over numbers
// numbers and the 365 days up to today.
func writeRiskFile(path string, rows, numbers int, today risk.Day) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("mobile_no,day,source,cid,duration,level\n")
	rng := rand.New(rand.NewPCG(1, 2))
	sources := []string{"seat", "voice", "sms"}
	var line []byte
	for i := 0; i < rows; i++ {
		k := i % numbers
		line = append(line[:0], benchNumber(k)...)
		line = append(line, ',')
		line = (today - risk.Day(rng.IntN(365))).AppendText(line)
		src := rng.IntN(3)
		line = append(line, ',')
		line = append(line, sources[src]...)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(1+rng.IntN(99999)), 10)
		line = append(line, ',')
		if src == 0 {
			line = strconv.AppendInt(line, int64(rng.IntN(600)), 10)
		}
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(1+rng.IntN(5)), 10)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// riskBenchBodies returns n check bodies, onList percent of them of
// numbers on the list (not all with a record in the window); a quarter
// filtered by source; all for today with the default window.
func riskBenchBodies(numbers, n, onList int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	bodies := make([]string, n)
	for i := range bodies {
		k := rng.IntN(numbers)
		if rng.IntN(100) >= onList {
			k += numbers // not on the list
		}
		m := risk.HashMobile(benchNumber(k)).String()
		if i%4 == 0 {
			bodies[i] = `{"mobile_no":"` + m + `","source":"seat"}`
		} else {
			bodies[i] = `{"mobile_no":"` + m + `"}`
		}
	}
	return bodies
}

// checkBenchAnswers sends every body once, fails on an answer that is not
// OK, and returns how many hit.
func checkBenchAnswers(tb testing.TB, url string, cred riskClientView, bodies []string) int {
	tb.Helper()
	hits := 0
	for _, body := range bodies {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-DF-API-ID", string(cred.ID))
		req.Header.Set("X-DF-API-SECRET", cred.APISecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		var ans struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
			Result struct {
				Target bool `json:"target"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || ans.Status != "OK" {
			tb.Fatalf("check %s: HTTP %d %s %s (%v)", body, resp.StatusCode, ans.Status, ans.Reason, err)
		}
		if ans.Result.Target {
			hits++
		}
	}
	return hits
}

// loadResult is one load run's outcome.
type loadResult struct {
	rps       float64
	requests  int64
	p50, p99  time.Duration
	errors    int64
	cpuPerReq time.Duration // CPU time of this process (the servers) per request
}

// processCPU returns the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runWrk loads url with wrk (one thread, conns connections) for d, cycling
// through the bodies.
func runWrk(dir, url string, cred riskClientView, bodies []string, conns int, d time.Duration) (loadResult, error) {
	var lua strings.Builder
	lua.WriteString("local bodies = {\n")
	for _, b := range bodies {
		fmt.Fprintf(&lua, "  %q,\n", b)
	}
	fmt.Fprintf(&lua, `}
local headers = {["X-DF-API-ID"] = %q, ["X-DF-API-SECRET"] = %q, ["Content-Type"] = "application/json"}
local reqs = {}
local i = 0
init = function(args)
  for j, b in ipairs(bodies) do reqs[j] = wrk.format("POST", nil, headers, b) end
end
request = function()
  i = i %% #reqs + 1
  return reqs[i]
end
`, string(cred.ID), cred.APISecret)
	script := filepath.Join(dir, "risk-bench.lua")
	if err := os.WriteFile(script, []byte(lua.String()), 0o644); err != nil {
		return loadResult{}, err
	}
	args := []string{"wrk", "-t1", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--latency", "-s", script, url}
	if cpus := os.Getenv("TRUEUP_BENCH_RISK_WRK_CPUS"); cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	var r loadResult
	if m := regexp.MustCompile(`Requests/sec:\s*([0-9.]+)`).FindSubmatch(out); m != nil {
		r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	} else {
		return r, fmt.Errorf("wrk: no Requests/sec in\n%s", out)
	}
	for _, p := range []struct {
		pct string
		to  *time.Duration
	}{{"50", &r.p50}, {"99", &r.p99}} {
		if m := regexp.MustCompile(`\s` + p.pct + `%\s+([0-9.]+)(us|ms|s)`).FindSubmatch(out); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[string(m[2])]
			*p.to = time.Duration(v * float64(unit))
		}
	}
	if m := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses:\s*(\d+)`).FindSubmatch(out); m != nil {
		r.errors, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := regexp.MustCompile(`Socket errors:.*`).Find(out); m != nil {
		r.errors++
	}
	return r, nil
}

// runGoLoad loads url from conns goroutines over kept-alive connections for
// d, cycling through the bodies.
func runGoLoad(url string, cred riskClientView, bodies []string, conns int, d time.Duration) (loadResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var all []time.Duration
	var errs int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			var bad int64
			for i := w; time.Now().Before(deadline); i++ {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("X-DF-API-ID", string(cred.ID))
				req.Header.Set("X-DF-API-SECRET", cred.APISecret)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					bad++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != http.StatusOK {
					bad++
				}
			}
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(all) == 0 {
		return loadResult{}, fmt.Errorf("no request completed")
	}
	slices.Sort(all)
	return loadResult{
		rps: float64(len(all)) / elapsed.Seconds(), requests: int64(len(all)),
		p50: all[len(all)/2], p99: all[len(all)*99/100], errors: errs,
	}, nil
}
