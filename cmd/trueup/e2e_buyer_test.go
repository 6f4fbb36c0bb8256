package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/client"
	trueuphttp "github.com/trueup/trueup/http"
	"github.com/trueup/trueup/postgres"
	"github.com/trueup/trueup/postgres/pgtest"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

// The buyer end-to-end test provisions buyers and loads transactions
// through the CLI, as an operator would, then drives the buyer API of seed
// 002 through the real server (Main) and the typed client, on SQLite and,
// when TRUEUP_TEST_POSTGRES_URL is set, on PostgreSQL.

// buyerEngine opens a fresh store and returns the CLI flags reaching it.
type buyerEngine struct {
	name string
	open func(tb testing.TB) (*sqlstore.DB, []string)
}

var buyerEngines = []buyerEngine{
	{"sqlite", func(tb testing.TB) (*sqlstore.DB, []string) {
		dir := tb.TempDir()
		db, err := sqlite.Open(context.Background(), dir)
		if err != nil {
			tb.Fatal(err)
		}
		return db, []string{"--data", dir}
	}},
	{"postgres", func(tb testing.TB) (*sqlstore.DB, []string) {
		url := pgtest.URL(tb)
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			tb.Fatal(err)
		}
		return db, []string{"--database-url", url}
	}},
}

// offsetClock is real time plus an offset tests move forward.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// buyerWorld is a server with its database, clock and CLI access.
type buyerWorld struct {
	store  *sqlstore.DB
	dbArgs []string
	clock  *offsetClock
	main   *Main
	base   string
	http   *http.Client
}

func (w *buyerWorld) cli(tb testing.TB, args ...string) string {
	tb.Helper()
	return runCLI(tb, append(args, w.dbArgs...)...)
}

func (w *buyerWorld) cliJSON(tb testing.TB, v any, args ...string) {
	tb.Helper()
	runCLIJSON(tb, v, append(args, w.dbArgs...)...)
}

// serve starts Main on the world's store with the world's clock.
func (w *buyerWorld) serve(tb testing.TB) {
	tb.Helper()
	w.store.Clock = w.clock // before the workers start
	m := &Main{Logger: e2eBuyerLogger()}
	if err := m.Open(context.Background(), w.store, ServeConfig{Addr: "127.0.0.1:0", Workers: 2, JobLease: 5 * time.Second}); err != nil {
		w.store.Close()
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	w.main, w.base = m, "http://"+m.Server.Addr()
}

func (w *buyerWorld) buyer(token string) *client.Buyer { return client.NewBuyer(w.base, token, w.http) }

func e2eBuyerLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// cliAdjustment is what `adjustments ... --json` prints.
type cliAdjustment struct {
	ID                string           `json:"adjustment_id"`
	Status            int              `json:"status"`
	StatusDescription string           `json:"statusDescription"`
	IsAPI             bool             `json:"isApiUser"`
	Summary           buyer.Summary    `json:"summary"`
	Surveys           []buyer.SurveyID `json:"surveys"`
	Mode              buyer.Mode       `json:"mode"`
}

const (
	surveyA  = 1108416 // buyer A's main survey
	surveyA2 = 2002    // buyer A's second survey
	surveyB  = 3003    // buyer B's survey
)

// seed401 is seed 002's 401 body, exactly.
const seed401 = `{"ps_api_response_code":9999,"ps_api_response_message":"Not authorized to access survey id"}`

func TestBuyerE2E(t *testing.T) {
	for _, eng := range buyerEngines {
		t.Run(eng.name, func(t *testing.T) { testBuyerE2E(t, eng) })
	}
}

func testBuyerE2E(t *testing.T, eng buyerEngine) {
	store, dbArgs := eng.open(t)
	w := &buyerWorld{store: store, dbArgs: dbArgs, clock: &offsetClock{}, http: &http.Client{Timeout: 60 * time.Second}}
	dir := t.TempDir()
	ctx := context.Background()

	// Operators provision two buyers and load their transactions.
	var a, b buyer.Credentials
	w.cliJSON(t, &a, "admin", "buyer", "create", "--name", "Acme Research", "--reject-cap", "70")
	w.cliJSON(t, &b, "admin", "buyer", "create", "--name", "Beta Panels")
	if a.BuyerID == "" || len(a.AccessToken) < 40 || a.RejectCap == nil || *a.RejectCap != 7000 || b.RejectCap != nil {
		t.Fatalf("admin buyer create --json = %+v, %+v", a, b)
	}
	csvPath := filepath.Join(dir, "a.csv")
	writeFile(t, csvPath, "transaction_id,survey_id,status,test,invoiced,started_at,finished_at\n"+
		"t1,1108416,21,false,false,2026-03-01T10:00:00Z,2026-03-01T10:12:00Z\n"+
		"t2,1108416,21,,,,\n"+
		"t3,1108416,21,,,,\n"+
		"t4,1108416,18,,,,\n"+
		"t5,1108416,21,true,,,\n"+
		"t6,1108416,21,,true,,\n"+
		"t7,1108416,21,,,,\n"+
		"u1,2002,21,,,,\n"+
		"u2,2002,33,,,,\n"+
		"u3,2002,20,,,,\n")
	var imported struct{ Imported int64 }
	w.cliJSON(t, &imported, "import", "transactions", "--buyer", string(a.BuyerID), csvPath)
	if imported.Imported != 10 {
		t.Fatalf("imported %d transactions, want 10", imported.Imported)
	}
	w.cliJSON(t, &imported, "import", "transactions", "--buyer", string(b.BuyerID), xlsxTransactions(t, dir))
	if imported.Imported != 2 {
		t.Fatalf("imported %d transactions from xlsx, want 2", imported.Imported)
	}
	// A file with bad rows stores nothing and names each row.
	badPath := filepath.Join(dir, "bad.jsonl")
	writeFile(t, badPath, `{"transaction_id":"z1","survey_id":1108416,"status":21}`+"\n"+`{"transaction_id":"z2","survey_id":"x","status":21}`+"\n"+`{"transaction_id":"z3","survey_id":3003,"status":21}`+"\n")
	code, out, _ := runCLIResult(append([]string{"import", "transactions", "--buyer", string(a.BuyerID), badPath, "--json"}, w.dbArgs...)...)
	var refused struct {
		ErrorCount int
		Errors     []struct {
			Row    int64
			Column string
		}
	}
	if err := json.Unmarshal([]byte(out), &refused); code != 1 || err != nil || refused.ErrorCount != 2 || refused.Errors[0].Row != 2 ||
		refused.Errors[0].Column != "survey_id" || refused.Errors[1].Row != 3 {
		t.Fatalf("import of bad rows: exit %d, %+v (%v)\n%s", code, refused, err, out)
	}

	// An operator's launch waits in Pending; confirmed before any server
	// runs, it waits in Message In Flight for a worker.
	listPath := filepath.Join(dir, "list.csv")
	writeFile(t, listPath, "transaction_id,change_reason\nt7,Ghost Completes\n")
	queued := launchCLI(t, w, listPath, "2")
	if queued.Status != 1 || queued.StatusDescription != "Pending" || queued.IsAPI || queued.Summary.Eligible != 1 {
		t.Fatalf("adjustments launch = %+v", queued)
	}
	var confirmed cliAdjustment
	w.cliJSON(t, &confirmed, "adjustments", "confirm", queued.ID)
	if confirmed.Status != 3 || confirmed.StatusDescription != "Message In Flight" {
		t.Fatalf("adjustments confirm = %+v, want Message In Flight", confirmed)
	}

	w.serve(t)
	api := w.buyer(a.AccessToken)
	other := w.buyer(b.AccessToken)
	// The queued process is applied once a server runs.
	got := waitFinal(t, api, surveyA, queued.ID)
	if got.Status != client.AdjustmentSuccess || got.Summary.IsAPIUser || got.Summary.LiveReconciled != 1 {
		t.Fatalf("the operator's confirmed process ended %+v", got)
	}

	t.Run("NotAuthorized", func(t *testing.T) {
		paths := []string{"/buyers/v2/surveys/1108416/adjustments", "/buyers/v2/surveys/1108416/adjustments/" + queued.ID, "/buyers/v2/surveys/999/adjustments"}
		for _, p := range paths {
			for name, token := range map[string]string{"no token": "", "wrong token": "not-a-token", "another buyer": b.AccessToken} {
				if p == paths[2] && name != "another buyer" {
					continue
				}
				wantBody(t, rawCall(t, w, http.MethodGet, p, token, ""), 401, seed401)
			}
		}
		wantBody(t, rawCall(t, w, http.MethodGet, "/buyers/v2/surveys/999/adjustments", a.AccessToken, ""), 401, seed401)
		wantBody(t, rawCall(t, w, http.MethodPost, "/buyers/v2/adjustments/surveys/1108416", b.AccessToken, `[{"transaction_id":"t1"}]`), 401, seed401)
		wantBody(t, rawCall(t, w, http.MethodPost, "/buyers/v2/adjustments", "", `[{"transaction_id":"t1"}]`), 401, seed401)
		// The token is checked before the survey id.
		wantBody(t, rawCall(t, w, http.MethodGet, "/buyers/v2/surveys/abc/adjustments", "", ""), 401, seed401)
		// Another buyer's transaction ids are unknown to B: nothing leaks.
		_, err := other.LaunchAdjustment(ctx, client.LaunchReject, []client.AdjustmentEntry{{TransactionID: "t2"}})
		wantBuyerError(t, err, 400, trueuphttp.BuyerCodeNothingKnown)
	})

	t.Run("BadRequests", func(t *testing.T) {
		for _, s := range []string{"abc", "0", "-5", "1.5", "1e3", "99999999999999999999"} {
			resp := rawCall(t, w, http.MethodGet, "/buyers/v2/surveys/"+s+"/adjustments", a.AccessToken, "")
			wantCode(t, resp, 400, trueuphttp.BuyerCodeInvalidSurveyID)
			resp = rawCall(t, w, http.MethodPost, "/buyers/v2/adjustments/surveys/"+s, a.AccessToken, `[{"transaction_id":"t1"}]`)
			wantCode(t, resp, 400, trueuphttp.BuyerCodeInvalidSurveyID)
		}
		launch := "/buyers/v2/adjustments/surveys/1108416"
		for body, code := range map[string]int{`[]`: trueuphttp.BuyerCodeEmptyList, `[{`: trueuphttp.BuyerCodeInvalidBody, `{"transaction_id":"t1"}`: trueuphttp.BuyerCodeInvalidBody,
			`[{"transaction_id":7}]`: trueuphttp.BuyerCodeInvalidBody, `[{"transaction_id":""}]`: trueuphttp.BuyerCodeInvalidBody, ``: trueuphttp.BuyerCodeInvalidBody} {
			wantCode(t, rawCall(t, w, http.MethodPost, launch, a.AccessToken, body), 400, code)
		}
		for _, q := range []string{"?operationType=LIVE", "?reconStatus=2", "?operationType=LIVE_RECONCILIATION", "?operationType=LIVE_RECONCILIATION&reconStatus=9"} {
			wantCode(t, rawCall(t, w, http.MethodPost, launch+q, a.AccessToken, `[{"transaction_id":"t1"}]`), 400, trueuphttp.BuyerCodeInvalidParam)
		}
		_, err := api.SurveyAdjustment(ctx, surveyA, "9967eed2-d06d-4197-8e53-eae2d8c0cc65")
		wantBuyerError(t, err, 404, trueuphttp.BuyerCodeNotFound)
		_, err = api.SurveyAdjustment(ctx, surveyA, "not-a-uuid")
		wantBuyerError(t, err, 404, trueuphttp.BuyerCodeNotFound)
		// A process is found only through a survey it touches.
		_, err = api.SurveyAdjustment(ctx, surveyA2, queued.ID)
		wantBuyerError(t, err, 404, trueuphttp.BuyerCodeNotFound)
		if refs, err := api.SurveyAdjustments(ctx, surveyA2); err != nil || len(refs) != 0 {
			t.Errorf("survey without processes: %+v, %v; want []", refs, err)
		}
	})

	// Reject mode: every kind of entry is counted, never dropped.
	var observed atomic.Int32
	var hookErr error
	var hookMu sync.Mutex
	w.main.Server.Buyers.SetFailApply(func(ctx context.Context, id buyer.AdjustmentID) error {
		// Inside the apply's transaction the process shows Processing.
		a, err := api.SurveyAdjustment(ctx, surveyA, string(id))
		hookMu.Lock()
		defer hookMu.Unlock()
		if err != nil {
			hookErr = err
		}
		observed.Store(int32(a.Status))
		return nil
	})
	rejected := launchAPI(t, api, surveyA, client.LaunchReject, "t1:Suspected Fraud", "t4", "t5", "t6", "nope", "t1", "t7")
	w.main.Server.Buyers.SetFailApply(nil)
	s := rejected.Summary
	if s.Transactions != 7 || s.Eligible != 1 || s.Rejected != 1 || s.Test != 1 || s.Invoiced != 1 || s.Unknown != 1 || s.Duplicates != 1 ||
		s.NotEligible != 1 || s.TransactionsWithDesiredStatus != 1 || s.LiveReconciled != 1 || s.CurrentCompletes != 4 || s.PreviouslyRejectedCompletes != 1 ||
		s.TotalRejects != 2 || s.TotalRawCompletes != 5 || s.RejectPercentage.String() != "40" || !s.ValidCap || s.DesiredStatus != 33 || !s.IsAPIUser {
		t.Errorf("reject summary = %+v", s)
	}
	hookMu.Lock()
	if observed.Load() != client.AdjustmentProcessing || hookErr != nil {
		t.Errorf("during the apply the process showed status %d (%v), want 4", observed.Load(), hookErr)
	}
	hookMu.Unlock()
	wantStatuses(t, w, a.BuyerID, map[string]int{"t1": 33, "t4": 18, "t5": 21, "t6": 21, "t7": 33})

	// Over the cap (70%): t2 and t3 would make 4 rejects of 5.
	capped := launchAPI(t, api, surveyA, client.LaunchReject, "t2", "t3")
	if capped.Status != client.AdjustmentCapReached || capped.StatusDescription != "Recon Cap Reached" || capped.Summary.ValidCap ||
		capped.Summary.SummaryPerSurvey[0].ValidCap || capped.Summary.LiveReconciled != 0 || capped.Summary.RejectPercentage.String() != "80" {
		t.Errorf("capped process = %+v", capped)
	}
	wantStatuses(t, w, a.BuyerID, map[string]int{"t2": 21, "t3": 21})

	// An injected failure leaves everything as it was and ends 5.
	w.main.Server.Buyers.SetFailApply(func(context.Context, buyer.AdjustmentID) error { return errors.New("injected") })
	failed := launchAPI(t, api, surveyA, client.LaunchReject, "t2")
	w.main.Server.Buyers.SetFailApply(nil)
	if failed.Status != client.AdjustmentError || failed.StatusDescription != "Error In Processing" || failed.Summary.LiveReconciled != 0 {
		t.Errorf("failed process = %+v", failed)
	}
	wantStatuses(t, w, a.BuyerID, map[string]int{"t2": 21})

	// Accept mode: u3 (Buyer Quality Termination) is accepted, the
	// unlisted complete u1 rejected; u2 (already rejected) stays.
	accepted := launchAPI(t, api, surveyA2, client.LaunchAccept, "u3:Client Rejected")
	as := accepted.Summary
	if accepted.Status != client.AdjustmentSuccess || as.DesiredStatus != 21 || as.AcceptingCompletesInCurrentUpload != 1 || as.RejectingCompletesInCurrentUpload != 1 ||
		as.Rejected != 1 || as.Eligible != 1 || as.ResultingCompletes != 1 || as.TotalRejects != 2 || as.RejectPercentage.String() != "66.67" {
		t.Errorf("accept process = %+v", accepted)
	}
	wantStatuses(t, w, a.BuyerID, map[string]int{"u1": 33, "u2": 33, "u3": 21})

	// A live completing process over several surveys; B's transaction is
	// unknown to A.
	multi, err := api.LaunchAdjustment(ctx, client.LaunchComplete, []client.AdjustmentEntry{{TransactionID: "t4"}, {TransactionID: "u1"}, {TransactionID: "v1"}})
	if err != nil || multi.Status != client.AdjustmentPending {
		t.Fatalf("bulk launch = %+v, %v", multi, err)
	}
	done := waitFinal(t, api, surveyA2, multi.AdjustmentID)
	ms := done.Summary
	if done.Status != client.AdjustmentSuccess || ms.Unknown != 1 || ms.Eligible != 2 || ms.AcceptingRejectsInCurrentUpload != 1 || len(ms.SummaryPerSurvey) != 2 ||
		ms.SummaryPerSurvey[0].SurveyID != surveyA2 || ms.SummaryPerSurvey[1].SurveyID != surveyA || ms.SummaryPerSurvey[1].SurveyStatus != 22 {
		t.Errorf("bulk process = %+v", done)
	}
	if viaA, err := api.SurveyAdjustment(ctx, surveyA, multi.AdjustmentID); err != nil || !reflect.DeepEqual(viaA, done) {
		t.Errorf("the bulk process through its other survey = %+v, %v", viaA, err)
	}
	wantStatuses(t, w, a.BuyerID, map[string]int{"t4": 21, "u1": 21})
	wantStatuses(t, w, b.BuyerID, map[string]int{"v1": 33})

	// Operators: a process cancelled is Declined; one left Pending for
	// 30 minutes is Upload Interrupted.
	cancelled := launchCLI(t, w, listPath, "2")
	var c cliAdjustment
	w.cliJSON(t, &c, "adjustments", "cancel", cancelled.ID)
	if c.Status != 2 || c.StatusDescription != "Declined (User terminated)" {
		t.Errorf("adjustments cancel = %+v", c)
	}
	if code, _, errOut := runCLIResult(append([]string{"adjustments", "confirm", cancelled.ID}, w.dbArgs...)...); code != 1 || !strings.Contains(errOut, "Declined") {
		t.Errorf("confirm a declined process: exit %d: %s", code, errOut)
	}
	forgotten := launchCLI(t, w, listPath, "2")
	w.clock.Advance(buyer.PendingTimeout + time.Minute)
	if got := waitFinal(t, api, surveyA, forgotten.ID); got.Status != client.AdjustmentInterrupted || got.StatusDescription != "Upload Interrupted" {
		t.Errorf("forgotten process = %+v", got)
	}

	// The survey's list, newest first, shows every status reached.
	refs, err := api.SurveyAdjustments(ctx, surveyA)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var statuses []int
	for _, r := range refs {
		ids = append(ids, r.AdjustmentID)
		statuses = append(statuses, r.Status)
		if r.StatusDescription != buyer.Status(r.Status).Description() {
			t.Errorf("list entry %+v", r)
		}
	}
	wantIDs := []string{forgotten.ID, cancelled.ID, multi.AdjustmentID, failed.AdjustmentID, capped.AdjustmentID, rejected.AdjustmentID, queued.ID}
	if !slices.Equal(ids, wantIDs) || !slices.Equal(statuses, []int{7, 2, 6, 5, 8, 6, 6}) {
		t.Errorf("survey list = %v %v, want %v [7 2 6 5 8 6 6]", ids, statuses, wantIDs)
	}
	// The list is the JSON encoding/json would write.
	rawList := rawCall(t, w, http.MethodGet, "/buyers/v2/surveys/1108416/adjustments", a.AccessToken, "")
	var decoded []trueuphttp.BuyerAdjustmentRef
	if err := json.Unmarshal(rawList.body, &decoded); err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(decoded); string(rawList.body) != string(want)+"\n" {
		t.Errorf("list body\n%s\nwant\n%s", rawList.body, want)
	}
	var listed []cliAdjustment
	w.cliJSON(t, &listed, "adjustments", "list", "--buyer", string(a.BuyerID), "--survey", "1108416")
	if len(listed) != len(wantIDs) || listed[0].ID != forgotten.ID || listed[2].Summary.LiveReconciled != 2 {
		t.Errorf("adjustments list --json = %d processes: %+v", len(listed), listed)
	}
	if text := w.cli(t, "adjustments", "show", rejected.AdjustmentID); !strings.Contains(text, "Success") || !strings.Contains(text, "1108416") {
		t.Errorf("adjustments show:\n%s", text)
	}

	// Every summary the server answers keeps the documented invariants,
	// and the client knows every field the server sends.
	for _, r := range refs {
		var raw struct{ Summary buyer.Summary }
		body := rawCall(t, w, http.MethodGet, "/buyers/v2/surveys/1108416/adjustments/"+r.AdjustmentID, a.AccessToken, "")
		if err := json.Unmarshal(body.body, &raw); err != nil {
			t.Fatal(err)
		}
		mode := buyer.ModeLive
		if r.AdjustmentID == accepted.AdjustmentID {
			mode = buyer.ModeAccept
		}
		if err := raw.Summary.CheckInvariants(buyer.Status(r.Status), mode); err != nil {
			t.Errorf("process %s: %v", r.AdjustmentID, err)
		}
	}
	if got, want := jsonNames(client.AdjustmentSummary{}), jsonNames(buyer.Summary{}); !slices.Equal(got, want) {
		t.Errorf("client.AdjustmentSummary fields %v, server's %v", got, want)
	}
	if got, want := jsonNames(client.AdjustmentSurveySummary{}), jsonNames(buyer.SurveySummary{}); !slices.Equal(got, want) {
		t.Errorf("client.AdjustmentSurveySummary fields %v, server's %v", got, want)
	}
}

// launchAPI launches a process on survey over entries written "id" or
// "id:reason" and waits until it ends.
func launchAPI(t *testing.T, api *client.Buyer, survey int64, mode client.LaunchMode, entries ...string) client.Adjustment {
	t.Helper()
	var list []client.AdjustmentEntry
	for _, e := range entries {
		id, reason, _ := strings.Cut(e, ":")
		list = append(list, client.AdjustmentEntry{TransactionID: id, ChangeReason: reason})
	}
	a, err := api.LaunchSurveyAdjustment(context.Background(), survey, mode, list)
	if err != nil {
		t.Fatalf("launch %v: %v", entries, err)
	}
	if a.Status != client.AdjustmentPending || a.StatusDescription != "Pending" || !buyer.ValidAdjustmentID(a.AdjustmentID) || a.Summary.Transactions != int64(len(entries)) {
		t.Fatalf("launch answer %+v", a)
	}
	return waitFinal(t, api, survey, a.AdjustmentID)
}

func waitFinal(t *testing.T, api *client.Buyer, survey int64, id string) client.Adjustment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := api.WaitAdjustment(ctx, survey, id, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("wait for %s: %v", id, err)
	}
	return a
}

// launchCLI launches an operator's live process on survey A from the list
// file, recon status 1 or 2.
func launchCLI(t *testing.T, w *buyerWorld, list, recon string) cliAdjustment {
	t.Helper()
	var buyers []buyer.Buyer
	w.cliJSON(t, &buyers, "admin", "buyer", "list")
	// Buyer A by name: two buyers made in the same instant list in either
	// order.
	i := slices.IndexFunc(buyers, func(b buyer.Buyer) bool { return b.Name == "Acme Research" })
	if i < 0 {
		t.Fatalf("admin buyer list has no Acme Research: %+v", buyers)
	}
	var a cliAdjustment
	w.cliJSON(t, &a, "adjustments", "launch", "--buyer", string(buyers[i].ID), "--survey", "1108416",
		"--operation-type", "LIVE_RECONCILIATION", "--recon-status", recon, list)
	if a.Status != 1 || a.IsAPI {
		t.Fatalf("adjustments launch = %+v", a)
	}
	return a
}

func wantStatuses(t *testing.T, w *buyerWorld, b buyer.BuyerID, want map[string]int) {
	t.Helper()
	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	txs, err := w.store.BuyerStore().TransactionsByID(context.Background(), b, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range txs {
		if int(tx.Status) != want[tx.ID] {
			t.Errorf("transaction %s: status %d, want %d", tx.ID, tx.Status, want[tx.ID])
		}
	}
	if len(txs) != len(want) {
		t.Errorf("found %d of %d transactions", len(txs), len(want))
	}
}

type rawAnswer struct {
	status int
	trace  string
	body   []byte
}

// rawCall sends a request with the token (none when empty).
func rawCall(t *testing.T, w *buyerWorld, method, path, token, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, w.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("access-token", token)
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, trace: resp.Header.Get("x-traceid"), body: b}
}

func wantBody(t *testing.T, got rawAnswer, status int, body string) {
	t.Helper()
	if got.status != status || string(bytes.TrimSpace(got.body)) != body {
		t.Errorf("got HTTP %d %s, want %d %s", got.status, got.body, status, body)
	}
}

func wantCode(t *testing.T, got rawAnswer, status, code int) {
	t.Helper()
	var b struct {
		Code    *int    `json:"ps_api_response_code"`
		Message *string `json:"ps_api_response_message"`
	}
	if err := json.Unmarshal(got.body, &b); err != nil || b.Code == nil || b.Message == nil || *b.Message == "" {
		t.Errorf("HTTP %d body %s is not the buyer error body (%v)", got.status, got.body, err)
		return
	}
	if got.status != status || *b.Code != code || got.trace == "" {
		t.Errorf("got HTTP %d code %d (%s), want HTTP %d code %d", got.status, *b.Code, *b.Message, status, code)
	}
}

func wantBuyerError(t *testing.T, err error, status, code int) {
	t.Helper()
	var be *client.BuyerError
	if !errors.As(err, &be) || be.Status != status || be.Code != code || be.Message == "" {
		t.Errorf("err = %v, want HTTP %d code %d", err, status, code)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// xlsxTransactions writes buyer B's transactions as an xlsx workbook with
// numeric cells and returns its path.
func xlsxTransactions(t *testing.T, dir string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{{"Transaction ID", "Survey ID", "Status", "Test"}, {"v1", 3003, 33, false}, {"v2", 3003, 21, true}}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "b.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonNames returns the JSON names of v's fields, sorted.
func jsonNames(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
