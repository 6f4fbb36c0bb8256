package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// The paths of the buyer API (seed 002).
const (
	// PathBuyerAdjustments launches a process over several surveys (POST).
	PathBuyerAdjustments = "/buyers/v2/adjustments"
	// PathBuyerSurveys is the prefix of a survey's processes:
	// /buyers/v2/surveys/{surveyId}/adjustments[/{adjustmentId}] (GET).
	PathBuyerSurveys = "/buyers/v2/surveys"
)

// The buyer API's status codes of a process (seed 002).
const (
	AdjustmentPending     = 1
	AdjustmentDeclined    = 2
	AdjustmentInFlight    = 3
	AdjustmentProcessing  = 4
	AdjustmentError       = 5
	AdjustmentSuccess     = 6
	AdjustmentInterrupted = 7
	AdjustmentCapReached  = 8
)

// BuyerNotAuthorized is the code of seed 002's 401 body.
const BuyerNotAuthorized = 9999

// Buyer calls the buyer API of one trueup server with a buyer's access
// token, sent in the access-token header. It is safe for concurrent use;
// its fields must not change while calls are in flight.
type Buyer struct {
	// BaseURL is the server's root, such as http://localhost:8080.
	BaseURL string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
	// AccessToken is the buyer's token (trueup admin buyer create).
	AccessToken string
}

// NewBuyer returns a buyer client of the server at baseURL with token.
// A nil h means http.DefaultClient.
func NewBuyer(baseURL, token string, h *http.Client) *Buyer {
	return &Buyer{BaseURL: baseURL, HTTP: h, AccessToken: token}
}

// BuyerError is a failed buyer API call: its HTTP status and the
// {"ps_api_response_code", "ps_api_response_message"} body.
type BuyerError struct {
	Status  int
	Code    int
	Message string
	TraceID string
}

// Error returns the status, code, message and trace id.
func (e *BuyerError) Error() string {
	s := fmt.Sprintf("trueup buyer API: HTTP %d, code %d: %s", e.Status, e.Code, e.Message)
	if e.TraceID != "" {
		s += " (trace " + e.TraceID + ")"
	}
	return s
}

// CheckBuyerResponse returns nil for a 2xx answer. Otherwise it reads and
// closes resp.Body and returns a *BuyerError decoded from it.
func CheckBuyerResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &BuyerError{Status: resp.StatusCode, TraceID: resp.Header.Get("x-traceid")}
	var b struct {
		Code    int    `json:"ps_api_response_code"`
		Message string `json:"ps_api_response_message"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, e.Message = b.Code, b.Message
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	return e
}

// AdjustmentEntry is one entry of a launch's list.
type AdjustmentEntry struct {
	TransactionID string `json:"transaction_id"`
	// ChangeReason is Suspected Fraud, Respondent Quality, Ghost
	// Completes, Client Rejected or Duplicate Respondent; anything else
	// (an empty one included) is recorded as Respondent Quality.
	ChangeReason string `json:"change_reason,omitempty"`
}

// LaunchMode selects what a launch does with its list.
type LaunchMode struct {
	OperationType string
	ReconStatus   string
}

// The launch modes.
var (
	// LaunchAccept: the list is the accepted completes; the surveys'
	// unlisted completes become rejects (33).
	LaunchAccept = LaunchMode{}
	// LaunchComplete: the listed transactions become complete (21).
	LaunchComplete = LaunchMode{OperationType: "LIVE_RECONCILIATION", ReconStatus: "1"}
	// LaunchReject: the listed completes become rejects (33).
	LaunchReject = LaunchMode{OperationType: "LIVE_RECONCILIATION", ReconStatus: "2"}
)

func (m LaunchMode) query() url.Values {
	q := url.Values{}
	if m.OperationType != "" {
		q.Set("operationType", m.OperationType)
	}
	if m.ReconStatus != "" {
		q.Set("reconStatus", m.ReconStatus)
	}
	return q
}

// Adjustment is a process: the answer of a launch and of GetAdjustment.
type Adjustment struct {
	AdjustmentID      string            `json:"adjustment_id"`
	Status            int               `json:"status"`
	StatusDescription string            `json:"statusDescription"`
	Summary           AdjustmentSummary `json:"summary"`
}

// Final reports whether the process has ended (any status but Pending,
// Message In Flight and Processing).
func (a Adjustment) Final() bool {
	return a.Status != AdjustmentPending && a.Status != AdjustmentInFlight && a.Status != AdjustmentProcessing
}

// AdjustmentRef is an entry of a survey's process list.
type AdjustmentRef struct {
	AdjustmentID      string `json:"adjustment_id"`
	Status            int    `json:"status"`
	StatusDescription string `json:"statusDescription"`
}

// AdjustmentSummary is a process's summary; docs/buyer-adjustments.md
// defines every field.
type AdjustmentSummary struct {
	CurrentCompletes                  int64                     `json:"currentCompletes"`
	PreviouslyRejectedCompletes       int64                     `json:"previouslyRejectedCompletes"`
	RejectingCompletesInCurrentUpload int64                     `json:"rejectingCompletesInCurrentUpload"`
	AcceptingCompletesInCurrentUpload int64                     `json:"acceptingCompletesInCurrentUpload"`
	ResultingCompletes                int64                     `json:"resultingCompletes"`
	TotalRawCompletes                 int64                     `json:"totalRawCompletes"`
	TotalRejects                      int64                     `json:"totalRejects"`
	DesiredStatus                     int                       `json:"desiredStatus"`
	Transactions                      int64                     `json:"transactions"`
	LiveReconciled                    int64                     `json:"liveReconciled"`
	IsAPIUser                         bool                      `json:"isApiUser"`
	ValidCap                          bool                      `json:"validCap"`
	Invoiced                          int64                     `json:"invoiced"`
	RejectPercentage                  decimal.Decimal           `json:"rejectPercentage"`
	Eligible                          int64                     `json:"eligible"`
	Rejected                          int64                     `json:"rejected"`
	Test                              int64                     `json:"test"`
	TransactionsWithDesiredStatus     int64                     `json:"transactionsWithDesiredStatus"`
	NotEligible                       int64                     `json:"notEligible"`
	Unknown                           int64                     `json:"unknown"`
	Duplicates                        int64                     `json:"duplicates"`
	UnlistedInvoiced                  int64                     `json:"unlistedInvoiced"`
	AcceptingRejectsInCurrentUpload   int64                     `json:"acceptingRejectsInCurrentUpload"`
	SummaryPerSurvey                  []AdjustmentSurveySummary `json:"summaryPerSurvey"`
}

// AdjustmentSurveySummary is the summary of one survey of a process.
type AdjustmentSurveySummary struct {
	SurveyID                          int64           `json:"surveyId"`
	SurveyStatus                      int             `json:"surveyStatus"`
	CurrentCompletes                  int64           `json:"currentCompletes"`
	PreviouslyRejectedCompletes       int64           `json:"previouslyRejectedCompletes"`
	RejectingCompletesInCurrentUpload int64           `json:"rejectingCompletesInCurrentUpload"`
	AcceptingCompletesInCurrentUpload int64           `json:"acceptingCompletesInCurrentUpload"`
	ResultingCompletes                int64           `json:"resultingCompletes"`
	TotalRawCompletes                 int64           `json:"totalRawCompletes"`
	TotalRejects                      int64           `json:"totalRejects"`
	DesiredStatus                     int             `json:"desiredStatus"`
	Transactions                      int64           `json:"transactions"`
	LiveReconciled                    int64           `json:"liveReconciled"`
	IsAPIUser                         bool            `json:"isApiUser"`
	ValidCap                          bool            `json:"validCap"`
	Invoiced                          int64           `json:"invoiced"`
	RejectPercentage                  decimal.Decimal `json:"rejectPercentage"`
	Eligible                          int64           `json:"eligible"`
	Rejected                          int64           `json:"rejected"`
	Test                              int64           `json:"test"`
	TransactionsWithDesiredStatus     int64           `json:"transactionsWithDesiredStatus"`
	NotEligible                       int64           `json:"notEligible"`
	UnlistedInvoiced                  int64           `json:"unlistedInvoiced"`
	AcceptingRejectsInCurrentUpload   int64           `json:"acceptingRejectsInCurrentUpload"`
}

func (b *Buyer) httpClient() *http.Client {
	if b.HTTP != nil {
		return b.HTTP
	}
	return http.DefaultClient
}

// Do sends req with the access-token header (unless req has one, even
// empty) and the context's trace id and header editors (WithTraceID,
// WithHeader). A req.URL without a host is taken as relative to BaseURL.
// It returns the answer whatever its status; pass it to
// CheckBuyerResponse.
func (b *Buyer) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	req = req.Clone(ctx)
	if req.URL.Host == "" {
		u, err := url.Parse(strings.TrimRight(b.BaseURL, "/") + req.URL.RequestURI())
		if err != nil {
			return nil, fmt.Errorf("base url %q: %w", b.BaseURL, err)
		}
		req.URL, req.Host = u, u.Host
	}
	if _, ok := req.Header["Access-Token"]; !ok {
		req.Header.Set("access-token", b.AccessToken)
	}
	if id, _ := ctx.Value(traceKey).(string); id != "" {
		req.Header.Set("x-traceid", id)
	}
	edits, _ := ctx.Value(headerKey).([]func(http.Header))
	for _, edit := range edits {
		edit(req.Header)
	}
	resp, err := b.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// call sends a request of method to path with query q and body, and
// decodes a 2xx answer into out; another answer is a *BuyerError.
func (b *Buyer) call(ctx context.Context, method, path string, q url.Values, body io.Reader, out any) error {
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.Do(ctx, req)
	if err != nil {
		return err
	}
	if err := CheckBuyerResponse(resp); err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (b *Buyer) launch(ctx context.Context, path string, mode LaunchMode, entries []AdjustmentEntry) (Adjustment, error) {
	if entries == nil {
		entries = []AdjustmentEntry{}
	}
	var body bytes.Buffer
	if err := json.NewEncoder(&body).Encode(entries); err != nil {
		return Adjustment{}, fmt.Errorf("encode list: %w", err)
	}
	var a Adjustment
	err := b.call(ctx, http.MethodPost, path, mode.query(), &body, &a)
	return a, err
}

// LaunchSurveyAdjustment launches a process over one survey's transactions
// and returns it as accepted (202, Pending, with its summary). The server
// refuses with a *BuyerError: 401 code 9999 (token, or a survey that is not
// the buyer's), 400 (survey id, list or mode), 413 (list too large).
func (b *Buyer) LaunchSurveyAdjustment(ctx context.Context, survey int64, mode LaunchMode, entries []AdjustmentEntry) (Adjustment, error) {
	return b.launch(ctx, "/buyers/v2/adjustments/surveys/"+strconv.FormatInt(survey, 10), mode, entries)
}

// LaunchAdjustment launches a process over the surveys of the listed
// transactions, as LaunchSurveyAdjustment does for one survey.
func (b *Buyer) LaunchAdjustment(ctx context.Context, mode LaunchMode, entries []AdjustmentEntry) (Adjustment, error) {
	return b.launch(ctx, PathBuyerAdjustments, mode, entries)
}

// SurveyAdjustments returns the processes touching a survey, newest first.
func (b *Buyer) SurveyAdjustments(ctx context.Context, survey int64) ([]AdjustmentRef, error) {
	var out []AdjustmentRef
	err := b.call(ctx, http.MethodGet, fmt.Sprintf("%s/%d/adjustments", PathBuyerSurveys, survey), nil, nil, &out)
	return out, err
}

// SurveyAdjustment returns a process touching a survey, with its summary.
func (b *Buyer) SurveyAdjustment(ctx context.Context, survey int64, adjustmentID string) (Adjustment, error) {
	var a Adjustment
	err := b.call(ctx, http.MethodGet, fmt.Sprintf("%s/%d/adjustments/%s", PathBuyerSurveys, survey, url.PathEscape(adjustmentID)), nil, nil, &a)
	return a, err
}

// WaitAdjustment polls a process every interval (100 ms when not positive)
// until it has ended (Adjustment.Final), a call fails or ctx is done, and
// returns it as it last stood.
func (b *Buyer) WaitAdjustment(ctx context.Context, survey int64, adjustmentID string, interval time.Duration) (Adjustment, error) {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var last Adjustment
	for {
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("wait for adjustment %s (status %d): %w", adjustmentID, last.Status, ctx.Err())
		case <-t.C:
		}
		a, err := b.SurveyAdjustment(ctx, survey, adjustmentID)
		if err != nil {
			if ctx.Err() != nil {
				return last, fmt.Errorf("wait for adjustment %s (status %d): %w", adjustmentID, last.Status, ctx.Err())
			}
			return last, err
		}
		if last = a; a.Final() {
			return a, nil
		}
		t.Reset(interval)
	}
}
