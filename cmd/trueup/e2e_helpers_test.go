package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/client"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// The end-to-end tests go through the real HTTP server, started in-process
// by Main on a fresh database, and the typed client; carriers are
// provisioned through the CLI, as an operator would. Every scenario runs on
// each engine of e2eEngines.

// e2eEngine is a storage engine the end-to-end scenarios run on.
type e2eEngine struct {
	name string
	// open returns a fresh, migrated store and the command-line flags that
	// reach the same database.
	open func(tb testing.TB) (*sqlstore.DB, []string)
}

// e2eEngines are SQLite, always, and PostgreSQL when
// TRUEUP_TEST_POSTGRES_URL is set (pgtest skips otherwise).
var e2eEngines = []e2eEngine{
	{name: "sqlite", open: func(tb testing.TB) (*sqlstore.DB, []string) {
		tb.Helper()
		dir := tb.TempDir()
		store, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			tb.Fatalf("open sqlite: %v", err)
		}
		return store, []string{"--data", dir}
	}},
	{name: "postgres", open: func(tb testing.TB) (*sqlstore.DB, []string) {
		tb.Helper()
		url := pgtest.URL(tb)
		store, err := postgres.Open(context.Background(), url)
		if err != nil {
			tb.Fatalf("open postgres: %v", err)
		}
		return store, []string{"--database-url", url}
	}},
}

// forEachEngine runs fn as a subtest per engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, eng e2eEngine)) {
	t.Helper()
	for _, eng := range e2eEngines {
		t.Run(eng.name, func(t *testing.T) { fn(t, eng) })
	}
}

// e2eServer is a trueup server running in-process on a fresh database.
type e2eServer struct {
	store  *sqlstore.DB
	dbArgs []string // the CLI flags that reach the server's database
	main   *Main
	base   string
	http   *http.Client
}

// e2eLogger discards the server's logs.
func e2eLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// startE2E opens a fresh database of eng and serves it on a free port with
// cfg (Addr and JobLease defaulted), until the test ends.
func startE2E(tb testing.TB, eng e2eEngine, cfg ServeConfig) *e2eServer {
	tb.Helper()
	store, dbArgs := eng.open(tb)
	return serveStore(tb, store, dbArgs, cfg)
}

// serveStore starts Main on store; Main closes store when the test ends.
func serveStore(tb testing.TB, store *sqlstore.DB, dbArgs []string, cfg ServeConfig) *e2eServer {
	tb.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.JobLease == 0 {
		cfg.JobLease = 5 * time.Second
	}
	m := &Main{Logger: e2eLogger()}
	if err := m.Open(context.Background(), store, cfg); err != nil {
		store.Close()
		tb.Fatalf("open server: %v", err)
	}
	hc := e2eHTTPClient()
	tb.Cleanup(func() {
		// A connection the client opened but never used would hold up the
		// server's graceful shutdown for 5 s.
		hc.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return &e2eServer{store: store, dbArgs: dbArgs, main: m, base: "http://" + m.Server.Addr(), http: hc}
}

// e2eHTTPClient returns an HTTP client with its own connections.
func e2eHTTPClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// cli runs a trueup command on the server's database and returns its
// stdout; a non-zero exit fails the test.
func (s *e2eServer) cli(tb testing.TB, args ...string) string {
	tb.Helper()
	return runCLI(tb, append(args, s.dbArgs...)...)
}

// cliJSON runs a command with --json on the server's database and decodes
// its output into v.
func (s *e2eServer) cliJSON(tb testing.TB, v any, args ...string) {
	tb.Helper()
	runCLIJSON(tb, v, append(args, s.dbArgs...)...)
}

// cliResult runs a command on the server's database and returns its exit
// status and outputs, whatever the status.
func (s *e2eServer) cliResult(args ...string) (code int, stdout, stderr string) {
	return runCLIResult(append(args, s.dbArgs...)...)
}

// runCLIResult runs a trueup command in-process and returns its exit status
// and outputs.
func runCLIResult(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	return code, out.String(), errb.String()
}

// e2eCarrier is a carrier provisioned with `admin carrier create` and a
// client holding its credentials.
type e2eCarrier struct {
	cred auth.Credentials
	api  *client.Client
}

// newCarrier provisions a carrier through the CLI scripting contract and
// returns it with a client of the server.
func (s *e2eServer) newCarrier(tb testing.TB, name string) *e2eCarrier {
	tb.Helper()
	var cred auth.Credentials
	s.cliJSON(tb, &cred, "admin", "carrier", "create", "--name", name)
	if cred.CarrierID == "" || cred.UserID == "" || cred.ClientID == "" || cred.ClientSecret == "" {
		tb.Fatalf("admin carrier create --json gave incomplete credentials: %+v", cred)
	}
	return &e2eCarrier{cred: cred, api: s.client(cred)}
}

// client returns a client of the server with cred.
func (s *e2eServer) client(cred auth.Credentials) *client.Client {
	return client.New(s.base, client.WithHTTPClient(s.http),
		client.WithCredentials(string(cred.ClientID), cred.ClientSecret), client.WithUserID(cred.UserID))
}

// seedLedgerOrders stores orders in the carrier's ledger.
func seedLedgerOrders(tb testing.TB, store *sqlstore.DB, carrier trueup.CarrierID, orders ...trueup.Order) {
	tb.Helper()
	ctx := context.Background()
	imp, err := store.BeginOrderImport(ctx, carrier)
	if err != nil {
		tb.Fatal(err)
	}
	defer imp.Rollback()
	for _, o := range orders {
		if err := imp.Add(ctx, o); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := imp.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// verifyUpload checks a statement through the API and returns its batch number.
func verifyUpload(tb testing.TB, c *client.Client, cycle, name string, data []byte) trueup.BatchNo {
	tb.Helper()
	no, err := c.Verify(context.Background(), client.VerifyParams{BillingCycle: cycle, FileName: name, File: bytes.NewReader(data)})
	if err != nil {
		tb.Fatalf("verify %s for %s: %v", name, cycle, err)
	}
	if no == "" {
		tb.Fatalf("verify %s: empty batchNo", name)
	}
	return no
}

// waitBatchDone waits until the batch has succeeded or failed.
func waitBatchDone(tb testing.TB, c *client.Client, no trueup.BatchNo) client.BatchStatus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := c.WaitBatch(ctx, no, 25*time.Millisecond)
	if err != nil {
		tb.Fatalf("wait for batch %s: %v", no, err)
	}
	return st
}

// waitSucceeded waits for the batch and fails the test unless it succeeded.
func waitSucceeded(tb testing.TB, c *client.Client, no trueup.BatchNo) client.BatchStatus {
	tb.Helper()
	st := waitBatchDone(tb, c, no)
	if st.Batch.State != trueup.BatchSucceeded {
		tb.Fatalf("batch %s ended %s: %s; row errors %+v", no, st.Batch.State, st.Batch.Failure, st.RowErrors)
	}
	return st
}

// wantAPIError fails the test unless err is a *client.Error with the status
// and code, a trace id, and a msg holding each of words (case-insensitive).
func wantAPIError(tb testing.TB, err error, status, code int, words ...string) *client.Error {
	tb.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got %v, want HTTP %d code %d", err, status, code)
	}
	if e.Status != status || e.Code != code {
		tb.Errorf("got HTTP %d code %d (%s), want HTTP %d code %d", e.Status, e.Code, e.Msg, status, code)
	}
	if strings.TrimSpace(e.Msg) == "" {
		tb.Errorf("HTTP %d code %d: empty msg", e.Status, e.Code)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(e.Msg), strings.ToLower(w)) {
			tb.Errorf("msg %q does not mention %q", e.Msg, w)
		}
	}
	if e.TraceID == "" {
		tb.Errorf("HTTP %d code %d: no x-traceid in the answer", e.Status, e.Code)
	}
	return e
}

// rawCarrierGet sends a GET of pathQuery (path and raw query) with c's
// authentication headers and returns the error of the answer, or nil and
// the body for a 2xx.
func rawCarrierGet(tb testing.TB, c *client.Client, pathQuery string) ([]byte, error) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, pathQuery, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		tb.Fatalf("GET %s: %v", pathQuery, err)
	}
	if err := client.CheckResponse(resp); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: read: %v", pathQuery, err)
	}
	return b, nil
}

// walkPages reads every page of the batch's discrepancies with pageSize,
// checking each page: total is want on every page, every page but the last
// is full and has a cursor, the last is not empty (unless want is 0) and has
// none. It returns the bills in page order.
func walkPages(tb testing.TB, c *client.Client, no trueup.BatchNo, pageSize int, want int64) []client.DiffBill {
	tb.Helper()
	ctx := context.Background()
	var all []client.DiffBill
	cursor := ""
	maxPages := int(want)/pageSize + 2
	for page := 1; ; page++ {
		if page > maxPages {
			tb.Fatalf("pageSize %d: more than %d pages for %d discrepancies", pageSize, maxPages-1, want)
		}
		l, err := c.DiffList(ctx, client.DiffListParams{BatchNo: no, PageSize: pageSize, PageCursor: cursor})
		if err != nil {
			tb.Fatalf("pageSize %d page %d: %v", pageSize, page, err)
		}
		if l.Code != 0 {
			tb.Errorf("pageSize %d page %d: code %d, want 0", pageSize, page, l.Code)
		}
		if l.Total != want {
			tb.Errorf("pageSize %d page %d: total %d, want %d", pageSize, page, l.Total, want)
		}
		if len(l.DiffList) > pageSize {
			tb.Fatalf("pageSize %d page %d: %d bills", pageSize, page, len(l.DiffList))
		}
		all = append(all, l.DiffList...)
		if l.NextPageCursor == "" {
			if len(l.DiffList) == 0 && want > 0 {
				tb.Errorf("pageSize %d: last page %d is empty", pageSize, page)
			}
			return all
		}
		if len(l.DiffList) != pageSize {
			tb.Errorf("pageSize %d page %d: %d bills and a next cursor; a page before the last must be full", pageSize, page, len(l.DiffList))
		}
		if l.NextPageCursor == cursor {
			tb.Fatalf("pageSize %d page %d: the same cursor again", pageSize, page)
		}
		cursor = l.NextPageCursor
	}
}

// splitWant returns the thisMouthBilling of an order of a carrier in loc,
// computed independently of the engine: total × the share of
// [active, end) before the cycle's end in loc, rounded half away from zero
// to max(2, places of total) places. loc must keep one offset over the
// period (UTC, Asia/Shanghai): then the calendar days of the rule are
// elapsed time.
func splitWant(total decimal.Decimal, active, end time.Time, cycle trueup.Cycle, loc *time.Location) decimal.Decimal {
	places := max(2, -total.Exponent())
	cut := cycle.End(loc).UnixMilli()
	start, stop := active.UnixMilli(), end.UnixMilli()
	switch {
	case active.IsZero() || end.IsZero() || stop <= start || stop <= cut:
		return total.Round(places)
	case start >= cut:
		return decimal.New(0, -places)
	}
	r := new(big.Rat).Mul(total.Rat(), big.NewRat(cut-start, stop-start))
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)))
	// Round half away from zero.
	neg := r.Sign() < 0
	r.Abs(r)
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if neg {
		q.Neg(q)
	}
	return decimal.NewFromBigInt(q, -places)
}

// decimalPlaces returns how many decimal places s, a decimal written without
// exponent, has.
func decimalPlaces(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// decimalOf parses s or fails the test.
func decimalOf(tb testing.TB, what, s string) decimal.Decimal {
	tb.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		tb.Fatalf("%s %q is not a decimal: %v", what, s, err)
	}
	return d
}
