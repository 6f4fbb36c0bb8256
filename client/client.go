package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
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
