package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

// The paths of trueup's endpoints, for requests made by hand with Do.
const (
	PathToken               = "/koodrive/oauth2/v1/token"
	PathTemplate            = "/koodrive/ose/v1/reconciliation/template"
	PathVerify              = "/koodrive/ose/v1/reconciliation/data/verify"
	PathBatch               = "/koodrive/ose/v1/reconciliation/batch"
	PathDiffList            = "/koodrive/ose/v1/reconciliation/diff/getList"
	PathDiffExport          = "/koodrive/ose/v1/reconciliation/diff/export"
	PathNotifyPackageExpire = "/koodrive/ose/v1/carrier/users/notifyPackageExpire"
	PathHealthz             = "/healthz"
	PathReadyz              = "/readyz"
	PathMetrics             = "/metrics"
	PathOpenAPI             = "/openapi.json"
)

// DateLayout is the layout of the X-Date header: yyyyMMdd'T'HHmmss'Z' in
// UTC.
const DateLayout = "20060102T150405Z"

// tokenMargin is how long before its expiry a cached token is replaced.
const tokenMargin = 30 * time.Second

// maxErrorBody is how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls one trueup server. Its zero value with BaseURL set works for
// the unauthenticated endpoints; carrier calls also need ClientID and
// ClientSecret (or a token given to SetToken) and UserID. The exported fields
// must not change while calls are in flight, and a Client must not be copied
// after first use. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the server's root, such as http://localhost:8080; a path
	// prefix is kept.
	BaseURL string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
	// ClientID and ClientSecret are the OAuth2 client credentials used to
	// fetch access tokens.
	ClientID     string
	ClientSecret string
	// UserID is sent as X-User-Id: the user id bound to the credentials.
	UserID string
	// Now returns the current time, written in X-Date and used to tell
	// when the cached token expires; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time // zero when the token's lifetime is unknown
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient returns an Option that sends requests with h.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTP = h } }

// WithCredentials returns an Option that sets the OAuth2 client
// credentials.
func WithCredentials(clientID, clientSecret string) Option {
	return func(c *Client) { c.ClientID, c.ClientSecret = clientID, clientSecret }
}

// WithUserID returns an Option that sets the X-User-Id sent with carrier
// calls.
func WithUserID(userID string) Option { return func(c *Client) { c.UserID = userID } }

// WithClock returns an Option that sets the clock used for X-Date and the
// token's expiry.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.Now = now } }

// New returns a Client of the server at baseURL configured by opts.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{BaseURL: baseURL}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is a failed call: an answer that is not 2xx, or a 2xx answer whose
// body carries a non-zero code.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code is the numeric code of the {"code","msg"} body; 0 when the body
	// has none (for example a 404 of an unknown path).
	Code int
	// Msg is the body's msg: what is wrong and how to fix it. When the body
	// has no msg it is the body's reason or text, or the status text.
	Msg string
	// TraceID is the x-traceid the server answered with.
	TraceID string
}

// Error returns the status, code, message and trace id.
func (e *Error) Error() string {
	s := fmt.Sprintf("trueup: HTTP %d, code %d: %s", e.Status, e.Code, e.Msg)
	if e.TraceID != "" {
		s += " (trace " + e.TraceID + ")"
	}
	return s
}

// CheckResponse returns nil when resp has a 2xx status. Otherwise it reads
// and closes resp.Body and returns an *Error decoded from it. It is meant for
// answers to requests sent with Do.
func CheckResponse(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return newError(resp, body)
}

// newError decodes an error answer.
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, TraceID: resp.Header.Get("x-traceid")}
	var b struct {
		Code   json.RawMessage `json:"code"`
		Msg    string          `json:"msg"`
		Reason string          `json:"reason"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Code, _ = parseCode(b.Code)
		e.Msg = b.Msg
		if e.Msg == "" {
			e.Msg = b.Reason
		}
	}
	if e.Msg == "" {
		e.Msg = strings.TrimSpace(string(body))
		if len(e.Msg) > 512 {
			e.Msg = e.Msg[:512] + "..."
		}
	}
	if e.Msg == "" {
		e.Msg = http.StatusText(resp.StatusCode)
	}
	return e
}

// The carrier API's codes of an access token that is unknown or revoked,
// and of one past its expiry: the client forgets such a token.
const (
	codeTokenInvalid = 40102
	codeTokenExpired = 40103
)

// parseCode reads a code written as a JSON number or a quoted number. It
// reports false when raw is absent or neither.
func parseCode(raw json.RawMessage) (int, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return 0, false
	}
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

type ctxKey int

const (
	traceKey ctxKey = iota
	headerKey
)

// WithTraceID returns a context whose calls send id as x-traceid.
func WithTraceID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, traceKey, id)
}

// WithHeader returns a context whose calls have their headers passed to
// edit just before they are sent, after the client has set its own. Editors
// added to a context that has some run after them. Tests use it to send a
// stale X-Date, another X-User-Id or no Authorization at all.
func WithHeader(ctx context.Context, edit func(h http.Header)) context.Context {
	prev, _ := ctx.Value(headerKey).([]func(http.Header))
	edits := append(prev[:len(prev):len(prev)], edit)
	return context.WithValue(ctx, headerKey, edits)
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// url returns the address of path with query q under BaseURL.
func (c *Client) url(path string, q url.Values) string {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// Token is the answer of the token endpoint.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is the token's lifetime in seconds.
	ExpiresIn int64 `json:"expires_in"`
}

// TokenRequest are the form fields of a token request.
type TokenRequest struct {
	GrantType    string
	ClientID     string
	ClientSecret string
}

// RequestToken calls the token endpoint once with r's fields, as given, and
// returns the answer; nothing is cached. It returns an *Error when the
// server refuses (400 for a bad grant type or missing field, 401 with code
// 40105 for wrong credentials).
func (c *Client) RequestToken(ctx context.Context, r TokenRequest) (Token, error) {
	form := url.Values{"grant_type": {r.GrantType}, "client_id": {r.ClientID}, "client_secret": {r.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(PathToken, nil), strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var t Token
	if err := c.doJSON(ctx, req, false, &t); err != nil {
		return Token{}, err
	}
	if t.AccessToken == "" {
		return Token{}, errors.New("token request: the answer has no access_token")
	}
	return t, nil
}

// Token returns the cached access token, first fetching one with the
// client credentials when there is none or it expires within 30 seconds.
// It returns the errors of RequestToken, or one saying the credentials are
// not set.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.token != "" && (c.expires.IsZero() || now.Before(c.expires.Add(-tokenMargin))) {
		return c.token, nil
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return "", errors.New("client: no access token: set ClientID and ClientSecret, or call SetToken")
	}
	t, err := c.RequestToken(ctx, TokenRequest{GrantType: "client_credentials", ClientID: c.ClientID, ClientSecret: c.ClientSecret})
	if err != nil {
		return "", err
	}
	c.token, c.expires = t.AccessToken, time.Time{}
	if t.ExpiresIn > 0 {
		c.expires = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return c.token, nil
}

// forgetToken clears the cached token if it is tok.
func (c *Client) forgetToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token, c.expires = "", time.Time{}
	}
}

// authorize sets the carrier authentication headers h lacks: Authorization
// (fetching a token when needed), X-Date and X-User-Id. A header present in
// h, even empty, is left as it is.
func (c *Client) authorize(ctx context.Context, h http.Header) error {
	if _, ok := h["Authorization"]; !ok {
		tok, err := c.Token(ctx)
		if err != nil {
			return err
		}
		h.Set("Authorization", "Bearer "+tok)
	}
	if _, ok := h["X-Date"]; !ok {
		h.Set("X-Date", c.now().UTC().Format(DateLayout))
	}
	if _, ok := h["X-User-Id"]; !ok && c.UserID != "" {
		h.Set("X-User-Id", c.UserID)
	}
	return nil
}

// Do sends req, a request made by hand, with the carrier authentication
// headers it lacks (see authorize: a header already in req.Header, even
// empty, is sent as it is), the context's trace id and header editors. A
// req.URL without a host is taken as relative to BaseURL, so
// http.NewRequest("GET", client.PathBatch+"?batchNo=1", nil) works. Do
// returns the answer whatever its status; the caller closes its body and may
// pass it to CheckResponse. req is not modified.
func (c *Client) Do(ctx context.Context, req *http.Request) (*http.Response, error) {
	req = req.Clone(ctx)
	if req.URL.Host == "" {
		base, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
		if err != nil {
			return nil, fmt.Errorf("base url %q: %w", c.BaseURL, err)
		}
		rel := req.URL
		u := *base
		u.Path = base.Path + rel.Path
		u.RawPath = ""
		u.RawQuery = rel.RawQuery
		req.URL = &u
		req.Host = u.Host
	}
	return c.send(ctx, req, true)
}

// send sends req, first adding the carrier authentication headers when
// carrier is set, then the trace id, then running the context's editors.
func (c *Client) send(ctx context.Context, req *http.Request, carrier bool) (*http.Response, error) {
	if carrier {
		if err := c.authorize(ctx, req.Header); err != nil {
			return nil, err
		}
	}
	if id, _ := ctx.Value(traceKey).(string); id != "" {
		if _, ok := req.Header["X-Traceid"]; !ok {
			req.Header.Set("x-traceid", id)
		}
	}
	edits, _ := ctx.Value(headerKey).([]func(http.Header))
	for _, edit := range edits {
		edit(req.Header)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// call sends req and returns the answer when its status is 2xx, and an
// *Error otherwise. An answer refusing the cached token (401 with code 40102
// or 40103) clears it, so the next call fetches a new one.
func (c *Client) call(ctx context.Context, req *http.Request, carrier bool) (*http.Response, error) {
	resp, err := c.send(ctx, req, carrier)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	err = CheckResponse(resp)
	var e *Error
	if carrier && errors.As(err, &e) && e.Status == http.StatusUnauthorized && (e.Code == codeTokenInvalid || e.Code == codeTokenExpired) {
		if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			c.forgetToken(tok)
		}
	}
	return nil, err
}

// doJSON sends req and decodes the JSON answer into out. A 2xx answer whose
// code is present and not 0 is an *Error too.
func (c *Client) doJSON(ctx context.Context, req *http.Request, carrier bool, out any) error {
	resp, err := c.call(ctx, req, carrier)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", req.Method, req.URL.Path, err)
	}
	var head struct {
		Code json.RawMessage `json:"code"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("%s %s: the answer is not JSON: %w", req.Method, req.URL.Path, err)
	}
	if code, ok := parseCode(head.Code); len(head.Code) > 0 && (!ok || code != 0) {
		return newError(resp, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// get sends a GET of path with query q and returns the answer's body, open;
// the caller closes it.
func (c *Client) get(ctx context.Context, path string, q url.Values, carrier bool) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	resp, err := c.call(ctx, req, carrier)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// getBytes is get reading the whole body.
func (c *Client) getBytes(ctx context.Context, path string, q url.Values, carrier bool) ([]byte, error) {
	body, err := c.get(ctx, path, q, carrier)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read answer: %w", path, err)
	}
	return b, nil
}

// getJSON sends a GET of path with query q and decodes the answer into out.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, carrier bool, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(path, q), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return c.doJSON(ctx, req, carrier, out)
}

// Template returns the statement import template, an xlsx workbook.
func (c *Client) Template(ctx context.Context) ([]byte, error) {
	return c.getBytes(ctx, PathTemplate, nil, true)
}

// VerifyParams are the inputs of Verify.
type VerifyParams struct {
	// BillingCycle is the past cycle the statement covers, yyyy-mm.
	BillingCycle string
	// FileName is sent as the file name of field data. The server reads
	// names ending .xlsx, .xls or .csv whose content matches.
	FileName string
	// File is the statement's content; it is streamed, not buffered.
	File io.Reader
}

// verifyAnswer is the body of a successful statement check.
type verifyAnswer struct {
	Code    int            `json:"code"`
	Msg     string         `json:"msg"`
	BatchNo trueup.BatchNo `json:"batchNo"`
}

// Verify uploads a statement for checking and returns the number of the
// batch that will hold its discrepancies; the check runs in the
// background (see Batch and WaitBatch). The server refuses a malformed cycle
// or one not in the past (400, code 40001), a file it cannot read or whose
// header is not the template's (400, code 40003) and one over its limit
// (413, code 41301); each is returned as an *Error.
func (c *Client) Verify(ctx context.Context, p VerifyParams) (trueup.BatchNo, error) {
	pr, pw := io.Pipe()
	defer pr.Close() // ends the writer below if the request never reads the body
	mw := multipart.NewWriter(pw)
	go func() {
		pw.CloseWithError(writeVerifyForm(mw, p))
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(PathVerify, nil), pr)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", PathVerify, err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var a verifyAnswer
	if err := c.doJSON(ctx, req, true, &a); err != nil {
		return "", err
	}
	if a.BatchNo == "" {
		return "", fmt.Errorf("POST %s: the answer has no batchNo", PathVerify)
	}
	return a.BatchNo, nil
}

// writeVerifyForm writes the multipart form of Verify and closes mw.
func writeVerifyForm(mw *multipart.Writer, p VerifyParams) error {
	if err := mw.WriteField("billingCycle", p.BillingCycle); err != nil {
		return err
	}
	part, err := mw.CreateFormFile("data", p.FileName)
	if err != nil {
		return err
	}
	if p.File != nil {
		if _, err := io.Copy(part, p.File); err != nil {
			return fmt.Errorf("read statement %s: %w", p.FileName, err)
		}
	}
	return mw.Close()
}

// VerifyFile uploads the statement file at path for billingCycle, as
// Verify does, sending the file's base name. It returns the errors of
// Verify and of opening the file.
func (c *Client) VerifyFile(ctx context.Context, billingCycle, path string) (trueup.BatchNo, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open statement: %w", err)
	}
	defer f.Close()
	return c.Verify(ctx, VerifyParams{BillingCycle: billingCycle, FileName: filepath.Base(path), File: f})
}

// BatchStatus is the answer of the batch status call: the batch, where its
// check stands and, for a failed batch, up to 1000 of its row errors.
type BatchStatus struct {
	Code      int               `json:"code"`
	Msg       string            `json:"msg"`
	Batch     trueup.Batch      `json:"batch"`
	RowErrors []trueup.RowError `json:"rowErrors"`
}

// Batch returns the status of the caller's batch batchNo. Another
// carrier's batch, like an unknown one, is an *Error with status 404 and
// code 40401.
func (c *Client) Batch(ctx context.Context, batchNo trueup.BatchNo) (BatchStatus, error) {
	var s BatchStatus
	err := c.getJSON(ctx, PathBatch, url.Values{"batchNo": {string(batchNo)}}, true, &s)
	return s, err
}

// WaitBatch polls the status of batchNo every interval (one second when
// interval is not positive) until the batch has succeeded or failed, and
// returns that status. It returns the errors of Batch, or the context's
// error when ctx ends first.
func (c *Client) WaitBatch(ctx context.Context, batchNo trueup.BatchNo, interval time.Duration) (BatchStatus, error) {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return BatchStatus{}, fmt.Errorf("wait for batch %s: %w", batchNo, ctx.Err())
		case <-t.C:
		}
		s, err := c.Batch(ctx, batchNo)
		if err != nil {
			return s, err
		}
		if s.Batch.State == trueup.BatchSucceeded || s.Batch.State == trueup.BatchFailed {
			return s, nil
		}
		t.Reset(interval)
	}
}

// DiffBill is one discrepancy, with seed 004's field names (the typos
// thisMouthBilling and nextMouthBilling included). SkuPrice and KdSaleTotal
// are JSON numbers decoded exactly.
type DiffBill struct {
	CarrierOrderID    string          `json:"carrierOrderId"`
	KdOrderID         string          `json:"kdOrderId"`
	CarrierUserID     string          `json:"carrierUserId"`
	CarrierOrderTime  string          `json:"carrierOrderTime"`
	KdUserID          string          `json:"kdUserId"`
	UserStatus        string          `json:"userStatus"`
	DiffType          string          `json:"diffType"`
	DiffReason        string          `json:"diffReason"`
	SkuCode           string          `json:"skuCode"`
	SkuPrice          decimal.Decimal `json:"skuPrice"`
	BillingCycle      string          `json:"billingCycle"`
	CarrierSale       string          `json:"carrierSale"`
	CarrierSaleToKd   string          `json:"carrierSaleToKd"`
	ThisMouthBilling  string          `json:"thisMouthBilling"`
	NextMouthBilling  string          `json:"nextMouthBilling"`
	Channel           string          `json:"channel"`
	CarrierActiveTime string          `json:"carrierActiveTime"`
	CarrierEndTime    string          `json:"carrierEndTime"`
	CarrierPackageID  string          `json:"carrierPackageId"`
	KdActiveTime      string          `json:"kdActiveTime"`
	KdEndTime         string          `json:"kdEndTime"`
	KdOrderTime       string          `json:"kdOrderTime"`
	KdPackageID       string          `json:"kdPackageId"`
	KdSaleTotal       decimal.Decimal `json:"kdSaleTotal"`
}

// Type returns the bill's diffType as a trueup.DiffType, or 0 when it is
// not a number.
func (b DiffBill) Type() trueup.DiffType {
	n, err := strconv.Atoi(b.DiffType)
	if err != nil {
		return 0
	}
	return trueup.DiffType(n)
}

// DiffList is one page of a batch's discrepancies. Total counts the whole
// batch; NextPageCursor is empty on the last page.
type DiffList struct {
	DiffList       []DiffBill `json:"diffList"`
	Total          int64      `json:"total"`
	NextPageCursor string     `json:"nextPageCursor"`
	Code           int        `json:"code"`
	Msg            string     `json:"msg"`
}

// DiffListParams are the inputs of DiffList.
type DiffListParams struct {
	BatchNo trueup.BatchNo
	// PageSize is the page's length, 1 to 1000. Zero leaves it out (the
	// server's default is 100); any other value is sent as it is, so the
	// server's range check can be exercised.
	PageSize int
	// PageCursor is the previous page's NextPageCursor, unchanged; empty
	// for the first page.
	PageCursor string
}

// DiffList returns one page of the discrepancies of the caller's batch. The
// server answers a pageSize out of range or a cursor that is not the batch's
// with 400 (code 40001), a batch still being checked with 409 (code 42501), a
// failed batch with 409 (code 42201), and another carrier's batch with 404
// (code 40401); each is returned as an *Error.
func (c *Client) DiffList(ctx context.Context, p DiffListParams) (DiffList, error) {
	q := url.Values{"batchNo": {string(p.BatchNo)}}
	if p.PageSize != 0 {
		q.Set("pageSize", strconv.Itoa(p.PageSize))
	}
	if p.PageCursor != "" {
		q.Set("pageCursor", p.PageCursor)
	}
	var l DiffList
	err := c.getJSON(ctx, PathDiffList, q, true, &l)
	return l, err
}

// DiffBills returns an iterator over every discrepancy of batchNo, fetching
// pages of pageSize (0 for the server's default). It yields the first error
// of DiffList with a zero DiffBill and stops, and yields an error too when
// the server hands back a cursor it handed back before.
func (c *Client) DiffBills(ctx context.Context, batchNo trueup.BatchNo, pageSize int) iter.Seq2[DiffBill, error] {
	return func(yield func(DiffBill, error) bool) {
		seen := map[string]bool{}
		cursor := ""
		for {
			page, err := c.DiffList(ctx, DiffListParams{BatchNo: batchNo, PageSize: pageSize, PageCursor: cursor})
			if err != nil {
				yield(DiffBill{}, err)
				return
			}
			for _, b := range page.DiffList {
				if !yield(b, nil) {
					return
				}
			}
			cursor = page.NextPageCursor
			if cursor == "" {
				return
			}
			if seen[cursor] {
				yield(DiffBill{}, fmt.Errorf("discrepancy list of batch %s: the server returned cursor %q twice", batchNo, cursor))
				return
			}
			seen[cursor] = true
		}
	}
}

// ListAll returns every discrepancy of batchNo, walking all pages of
// pageSize (0 for the server's default). It returns the errors of DiffList.
func (c *Client) ListAll(ctx context.Context, batchNo trueup.BatchNo, pageSize int) ([]DiffBill, error) {
	var all []DiffBill
	for b, err := range c.DiffBills(ctx, batchNo, pageSize) {
		if err != nil {
			return all, err
		}
		all = append(all, b)
	}
	return all, nil
}

// ExportFormat is the format of a discrepancy export.
type ExportFormat string

// The export formats; an empty ExportFormat leaves the choice to the
// server, which writes xlsx.
const (
	ExportXLSX ExportFormat = "xlsx"
	ExportCSV  ExportFormat = "csv"
)

// Export returns a stream of every discrepancy of the caller's batch as an
// xlsx workbook or CSV text; the caller closes it. It returns the same
// errors as DiffList, and a 400 (code 40001) for an unknown format. An
// export that fails once started shows as a cut stream: a read error or a
// workbook that does not open.
func (c *Client) Export(ctx context.Context, batchNo trueup.BatchNo, format ExportFormat) (io.ReadCloser, error) {
	q := url.Values{"batchNo": {string(batchNo)}}
	if format != "" {
		q.Set("format", string(format))
	}
	return c.get(ctx, PathDiffExport, q, true)
}

// ExportBytes is Export reading the whole export.
func (c *Client) ExportBytes(ctx context.Context, batchNo trueup.BatchNo, format ExportFormat) ([]byte, error) {
	rc, err := c.Export(ctx, batchNo, format)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, fmt.Errorf("GET %s: read export: %w", PathDiffExport, err)
	}
	return buf.Bytes(), nil
}

// The types of a package notice, seed 001's field type.
const (
	// PackageExpired says the user's package expired (the seed's example).
	PackageExpired = 1
	// PackageReservation says the package entered the reservation period
	// (the seed's range).
	PackageReservation = 2
)

// NotifyPackageExpireParams are the body of a package notice.
type NotifyPackageExpireParams struct {
	CarrierUserID string `json:"carrierUserId"`
	// Type is PackageExpired or PackageReservation.
	Type      int    `json:"type"`
	PackageID string `json:"packageId"`
}

// Result is the body of a call that answers only a code and a message.
type Result struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// NotifyPackageExpire tells the server that a user's package expired or
// entered the reservation period, and returns its {code,msg} answer. A
// carrier that is not whitelisted gets a 403 (code 40302), a malformed
// body a 400 (code 40001), an unknown user or package a 404 (code 40401)
// and a body over the limit a 413 (code 41301), returned as an *Error.
func (c *Client) NotifyPackageExpire(ctx context.Context, p NotifyPackageExpireParams) (Result, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return Result{}, fmt.Errorf("encode notice: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(PathNotifyPackageExpire, nil), bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("POST %s: %w", PathNotifyPackageExpire, err)
	}
	req.Header.Set("Content-Type", "application/json")
	var r Result
	err = c.doJSON(ctx, req, true, &r)
	return r, err
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	// Status is "ok" (healthz), "ready" or "unavailable" (readyz).
	Status string `json:"status"`
	// Database names the storage dialect of a ready server.
	Database string `json:"database,omitempty"`
	// Reason says why a server is not ready.
	Reason string `json:"reason,omitempty"`
}

// Healthz reports whether the server process answers.
func (c *Client) Healthz(ctx context.Context) (Health, error) {
	var h Health
	err := c.getJSON(ctx, PathHealthz, nil, false, &h)
	return h, err
}

// Readyz reports whether the server can serve: its database answers. A
// server that is not ready is an *Error with status 503 whose Msg is the
// reason.
func (c *Client) Readyz(ctx context.Context) (Health, error) {
	var h Health
	err := c.getJSON(ctx, PathReadyz, nil, false, &h)
	return h, err
}

// Metrics returns the server's Prometheus metrics in the text exposition
// format.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.getBytes(ctx, PathMetrics, nil, false)
}

// OpenAPI returns the server's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	return c.getBytes(ctx, PathOpenAPI, nil, false)
}
