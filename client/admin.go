package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/trueup/trueup"
)

// PathAdmin is the prefix of the admin API.
const PathAdmin = "/admin/v1/"

// AdminClient calls trueup's admin API with an admin API key, sent as
// Authorization: Bearer KEY (left out when empty). Its exported fields must
// not change while calls are in flight. It is safe for concurrent use.
type AdminClient struct {
	// BaseURL is the server's root, such as http://localhost:8080.
	BaseURL string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP *http.Client
	// Key is the admin API key from `trueup admin apikey create`.
	Key string
}

// NewAdminClient returns an AdminClient of the server at baseURL with key;
// h sends the requests (http.DefaultClient when nil).
func NewAdminClient(baseURL, key string, h *http.Client) *AdminClient {
	return &AdminClient{BaseURL: baseURL, HTTP: h, Key: key}
}

// CarrierCredentials are a carrier client's credentials, shown once by
// create, client create and rotate.
type CarrierCredentials struct {
	CarrierID    string `json:"carrierId"`
	Name         string `json:"name,omitempty"`
	UserID       string `json:"userId"`
	Whitelisted  bool   `json:"whitelisted"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// CarrierParams are the fields of a new carrier.
type CarrierParams struct {
	Name        string `json:"name"`
	Whitelisted bool   `json:"whitelisted,omitempty"`
	TimeZone    string `json:"timeZone,omitempty"`
}

// CarrierUpdate changes a carrier: the fields set are changed.
type CarrierUpdate struct {
	Whitelisted *bool   `json:"whitelisted,omitempty"`
	TimeZone    *string `json:"timeZone,omitempty"`
}

// Revoked is the answer of a revocation.
type Revoked struct {
	ID      string `json:"id"`
	Revoked bool   `json:"revoked"`
}

// BuyerCredentials are a buyer and, once after create or rotate, its
// access token.
type BuyerCredentials struct {
	BuyerID     string       `json:"buyerId"`
	Name        string       `json:"name"`
	AccessToken string       `json:"accessToken"`
	RejectCap   *json.Number `json:"rejectCap"`
	CreatedAt   *time.Time   `json:"createdAt,omitempty"`
}

// BuyerParams are the fields of a new buyer; RejectCap is a percentage
// such as "12.5", or empty for none.
type BuyerParams struct {
	Name      string
	RejectCap string
}

// AdminRiskClient is a risk API client as the admin API shows it; APISecret is
// set once, by create and rotate.
type AdminRiskClient struct {
	APIID          string     `json:"apiId"`
	Name           string     `json:"name"`
	APIs           []string   `json:"apis"`
	TimeZone       string     `json:"timeZone"`
	WindowDays     int        `json:"windowDays"`
	Quota          int64      `json:"quota"`
	QuotaUsed      int64      `json:"quotaUsed"`
	Rate           int64      `json:"rate"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
	CreatedAt      time.Time  `json:"createdAt"`
	RotatedAt      *time.Time `json:"rotatedAt,omitempty"`
	RevokedAt      *time.Time `json:"revokedAt,omitempty"`
	APISecret      string     `json:"apiSecret,omitempty"`
	State          string     `json:"state"`
	QuotaRemaining *int64     `json:"quotaRemaining,omitempty"`
}

// RiskClientParams are the fields of a new risk client, or of an update
// (nil fields kept; NoExpiry removes the expiry).
type RiskClientParams struct {
	Name       string     `json:"name,omitempty"`
	APIs       *[]string  `json:"apis,omitempty"`
	TimeZone   *string    `json:"timeZone,omitempty"`
	WindowDays *int       `json:"windowDays,omitempty"`
	Quota      *int64     `json:"quota,omitempty"`
	Rate       *int64     `json:"rate,omitempty"`
	ExpiresAt  *time.Time `json:"-"`
	NoExpiry   bool       `json:"-"`
}

// MarshalJSON writes the params with expiresAt an instant, null
// (NoExpiry) or absent.
func (p RiskClientParams) MarshalJSON() ([]byte, error) {
	type plain RiskClientParams
	b, err := json.Marshal(plain(p))
	if err != nil || (p.ExpiresAt == nil && !p.NoExpiry) {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["expiresAt"] = json.RawMessage("null")
	if p.ExpiresAt != nil {
		m["expiresAt"], _ = json.Marshal(p.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return json.Marshal(m)
}

// AdminBatchStatus is a batch with its row errors.
type AdminBatchStatus struct {
	Batch     trueup.Batch      `json:"batch"`
	RowErrors []trueup.RowError `json:"rowErrors"`
}

// Discrepancies is a page of a batch's discrepancies.
type Discrepancies struct {
	Discrepancies  []trueup.Discrepancy `json:"discrepancies"`
	Total          int64                `json:"total"`
	NextPageCursor string               `json:"nextPageCursor,omitempty"`
}

// AdminAdjustment is a buyer adjustment process; Summary is kept as sent.
type AdminAdjustment struct {
	AdjustmentID      string          `json:"adjustmentId"`
	BuyerID           string          `json:"buyerId"`
	SurveyID          int64           `json:"surveyId,omitempty"`
	Mode              string          `json:"mode"`
	DesiredStatus     int             `json:"desiredStatus"`
	IsAPIUser         bool            `json:"isApiUser"`
	Status            int             `json:"status"`
	StatusDescription string          `json:"statusDescription"`
	Surveys           []int64         `json:"surveys"`
	Items             int             `json:"items"`
	Summary           json.RawMessage `json:"summary"`
	Failure           string          `json:"failure,omitempty"`
	CreatedAt         time.Time       `json:"createdAt"`
	UpdatedAt         time.Time       `json:"updatedAt"`
	FinishedAt        *time.Time      `json:"finishedAt,omitempty"`
}

// PackageEvent is one recorded package lifecycle notice.
type PackageEvent struct {
	ID                 int64     `json:"id"`
	CarrierID          string    `json:"carrierId"`
	CarrierUserID      string    `json:"carrierUserId"`
	PackageID          string    `json:"packageId"`
	Type               int       `json:"type"`
	PreviousType       int       `json:"previousType"`
	UserStatus         string    `json:"userStatus"`
	PreviousUserStatus string    `json:"previousUserStatus"`
	TraceID            string    `json:"traceId"`
	CreatedAt          time.Time `json:"createdAt"`
}

// The states of an import.
const (
	ImportRunning   = "running"
	ImportSucceeded = "succeeded"
	ImportFailed    = "failed"
)

// Import is an import sent through the admin API and where it stands.
type Import struct {
	ImportID   string            `json:"importId"`
	Kind       string            `json:"kind"`
	Target     string            `json:"target,omitempty"`
	FileName   string            `json:"fileName"`
	State      string            `json:"state"`
	RowsRead   int64             `json:"rowsRead"`
	Imported   int64             `json:"imported"`
	ErrorCount int               `json:"errorCount"`
	RowErrors  []trueup.RowError `json:"rowErrors"`
	Reason     string            `json:"reason,omitempty"`
	KeyID      string            `json:"keyId"`
	CreatedAt  time.Time         `json:"createdAt"`
	FinishedAt *time.Time        `json:"finishedAt,omitempty"`
}

// ImportBody is an import's file: its content, the Content-Type to send
// (text/csv, application/x-ndjson, ...) and, when FileName is set, sent
// instead as the field file of a multipart form.
type ImportBody struct {
	Body        io.Reader
	ContentType string
	FileName    string
}

// do sends a request with the key and decodes a 2xx JSON answer into out
// (when not nil); any other answer is an *Error.
func (c *AdminClient) do(ctx context.Context, method, path string, q url.Values, contentType string, body io.Reader, out any) error {
	u := c.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if id, ok := ctx.Value(traceKey).(string); ok {
		req.Header.Set("x-traceid", id)
	}
	if edits, ok := ctx.Value(headerKey).([]func(http.Header)); ok {
		for _, e := range edits {
			e(req.Header)
		}
	}
	h := c.HTTP
	if h == nil {
		h = http.DefaultClient
	}
	resp, err := h.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if err := CheckResponse(resp); err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if w, ok := out.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// send is do with a JSON body (none when v is nil).
func (c *AdminClient) send(ctx context.Context, method, path string, v, out any) error {
	if v == nil {
		return c.do(ctx, method, path, nil, "", nil, out)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s %s: encode body: %w", method, path, err)
	}
	return c.do(ctx, method, path, nil, "application/json", bytes.NewReader(b), out)
}

// Carriers lists every carrier.
func (c *AdminClient) Carriers(ctx context.Context) ([]trueup.Carrier, error) {
	var out []trueup.Carrier
	return out, c.do(ctx, http.MethodGet, PathAdmin+"carriers", nil, "", nil, &out)
}

// CreateCarrier creates a carrier and its first client.
func (c *AdminClient) CreateCarrier(ctx context.Context, p CarrierParams) (CarrierCredentials, error) {
	var out CarrierCredentials
	return out, c.send(ctx, http.MethodPost, PathAdmin+"carriers", p, &out)
}

// Carrier returns a carrier.
func (c *AdminClient) Carrier(ctx context.Context, id string) (trueup.Carrier, error) {
	var out trueup.Carrier
	return out, c.do(ctx, http.MethodGet, PathAdmin+"carriers/"+url.PathEscape(id), nil, "", nil, &out)
}

// UpdateCarrier changes a carrier's whitelist flag or time zone.
func (c *AdminClient) UpdateCarrier(ctx context.Context, id string, u CarrierUpdate) (trueup.Carrier, error) {
	var out trueup.Carrier
	return out, c.send(ctx, http.MethodPatch, PathAdmin+"carriers/"+url.PathEscape(id), u, &out)
}

// Clients lists a carrier's clients.
func (c *AdminClient) Clients(ctx context.Context, carrierID string) ([]trueup.Client, error) {
	var out []trueup.Client
	return out, c.do(ctx, http.MethodGet, PathAdmin+"carriers/"+url.PathEscape(carrierID)+"/clients", nil, "", nil, &out)
}

// CreateClient adds a client to a carrier.
func (c *AdminClient) CreateClient(ctx context.Context, carrierID string) (CarrierCredentials, error) {
	var out CarrierCredentials
	return out, c.send(ctx, http.MethodPost, PathAdmin+"carriers/"+url.PathEscape(carrierID)+"/clients", nil, &out)
}

// RotateClient gives a client a new secret.
func (c *AdminClient) RotateClient(ctx context.Context, clientID string) (CarrierCredentials, error) {
	var out CarrierCredentials
	return out, c.send(ctx, http.MethodPost, PathAdmin+"clients/"+url.PathEscape(clientID)+"/rotate", nil, &out)
}

// RevokeClient revokes a client and its tokens.
func (c *AdminClient) RevokeClient(ctx context.Context, clientID string) (Revoked, error) {
	var out Revoked
	return out, c.send(ctx, http.MethodPost, PathAdmin+"clients/"+url.PathEscape(clientID)+"/revoke", nil, &out)
}

// PackageEvents lists a carrier's package lifecycle events, newest first:
// at most limit (0 for all), of one user when userID is set.
func (c *AdminClient) PackageEvents(ctx context.Context, carrierID, userID string, limit int) ([]PackageEvent, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	if userID != "" {
		q.Set("carrierUserId", userID)
	}
	var out []PackageEvent
	return out, c.do(ctx, http.MethodGet, PathAdmin+"carriers/"+url.PathEscape(carrierID)+"/events", q, "", nil, &out)
}

// buyerCap writes a rejectCap as a JSON number, or null.
func buyerCap(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	return json.RawMessage(strconv.Quote(s))
}

// Buyers lists every buyer.
func (c *AdminClient) Buyers(ctx context.Context) ([]BuyerCredentials, error) {
	var out []BuyerCredentials
	return out, c.do(ctx, http.MethodGet, PathAdmin+"buyers", nil, "", nil, &out)
}

// CreateBuyer creates a buyer and returns its access token.
func (c *AdminClient) CreateBuyer(ctx context.Context, p BuyerParams) (BuyerCredentials, error) {
	var out BuyerCredentials
	body := map[string]any{"name": p.Name, "rejectCap": buyerCap(p.RejectCap)}
	return out, c.send(ctx, http.MethodPost, PathAdmin+"buyers", body, &out)
}

// SetRejectCap sets a buyer's reject cap ("" for none).
func (c *AdminClient) SetRejectCap(ctx context.Context, buyerID, cap string) (BuyerCredentials, error) {
	var out BuyerCredentials
	return out, c.send(ctx, http.MethodPatch, PathAdmin+"buyers/"+url.PathEscape(buyerID), map[string]any{"rejectCap": buyerCap(cap)}, &out)
}

// RotateBuyer gives a buyer a new access token.
func (c *AdminClient) RotateBuyer(ctx context.Context, buyerID string) (BuyerCredentials, error) {
	var out BuyerCredentials
	return out, c.send(ctx, http.MethodPost, PathAdmin+"buyers/"+url.PathEscape(buyerID)+"/rotate", nil, &out)
}

// RiskClients lists every risk client.
func (c *AdminClient) RiskClients(ctx context.Context) ([]AdminRiskClient, error) {
	var out []AdminRiskClient
	return out, c.do(ctx, http.MethodGet, PathAdmin+"risk-clients", nil, "", nil, &out)
}

// CreateRiskClient creates a risk client and returns it with its secret.
func (c *AdminClient) CreateRiskClient(ctx context.Context, p RiskClientParams) (AdminRiskClient, error) {
	var out AdminRiskClient
	return out, c.send(ctx, http.MethodPost, PathAdmin+"risk-clients", p, &out)
}

// RiskClient returns a risk client.
func (c *AdminClient) RiskClient(ctx context.Context, apiID string) (AdminRiskClient, error) {
	var out AdminRiskClient
	return out, c.do(ctx, http.MethodGet, PathAdmin+"risk-clients/"+url.PathEscape(apiID), nil, "", nil, &out)
}

// UpdateRiskClient changes a risk client's settings.
func (c *AdminClient) UpdateRiskClient(ctx context.Context, apiID string, p RiskClientParams) (AdminRiskClient, error) {
	var out AdminRiskClient
	return out, c.send(ctx, http.MethodPatch, PathAdmin+"risk-clients/"+url.PathEscape(apiID), p, &out)
}

// RotateRiskClient gives a risk client a new secret.
func (c *AdminClient) RotateRiskClient(ctx context.Context, apiID string) (AdminRiskClient, error) {
	var out AdminRiskClient
	return out, c.send(ctx, http.MethodPost, PathAdmin+"risk-clients/"+url.PathEscape(apiID)+"/rotate", nil, &out)
}

// RevokeRiskClient revokes a risk client.
func (c *AdminClient) RevokeRiskClient(ctx context.Context, apiID string) (Revoked, error) {
	var out Revoked
	return out, c.send(ctx, http.MethodPost, PathAdmin+"risk-clients/"+url.PathEscape(apiID)+"/revoke", nil, &out)
}

// Batches lists the newest batches (at most limit, 0 for the default 100)
// of one carrier, or of every carrier when carrierID is empty.
func (c *AdminClient) Batches(ctx context.Context, carrierID string, limit int) ([]trueup.Batch, error) {
	q := url.Values{}
	if carrierID != "" {
		q.Set("carrierId", carrierID)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []trueup.Batch
	return out, c.do(ctx, http.MethodGet, PathAdmin+"batches", q, "", nil, &out)
}

// Batch returns a batch with its row errors.
func (c *AdminClient) Batch(ctx context.Context, batchNo string) (AdminBatchStatus, error) {
	var out AdminBatchStatus
	return out, c.do(ctx, http.MethodGet, PathAdmin+"batches/"+url.PathEscape(batchNo), nil, "", nil, &out)
}

// Discrepancies returns a page of a batch's discrepancies: pageSize of
// them (0 for the default 100) after cursor ("" for the first page).
func (c *AdminClient) Discrepancies(ctx context.Context, batchNo string, pageSize int, cursor string) (Discrepancies, error) {
	q := url.Values{}
	if pageSize > 0 {
		q.Set("pageSize", strconv.Itoa(pageSize))
	}
	if cursor != "" {
		q.Set("pageCursor", cursor)
	}
	var out Discrepancies
	return out, c.do(ctx, http.MethodGet, PathAdmin+"batches/"+url.PathEscape(batchNo)+"/discrepancies", q, "", nil, &out)
}

// Export returns a batch's discrepancies as an xlsx or csv file.
func (c *AdminClient) Export(ctx context.Context, batchNo string, format ExportFormat) ([]byte, error) {
	var buf bytes.Buffer
	q := url.Values{"format": {string(format)}}
	err := c.do(ctx, http.MethodGet, PathAdmin+"batches/"+url.PathEscape(batchNo)+"/export", q, "", nil, &buf)
	return buf.Bytes(), err
}

// Adjustment returns a buyer adjustment process.
func (c *AdminClient) Adjustment(ctx context.Context, id string) (AdminAdjustment, error) {
	var out AdminAdjustment
	return out, c.do(ctx, http.MethodGet, PathAdmin+"adjustments/"+url.PathEscape(id), nil, "", nil, &out)
}

// ConfirmAdjustment confirms a Pending process.
func (c *AdminClient) ConfirmAdjustment(ctx context.Context, id string) (AdminAdjustment, error) {
	var out AdminAdjustment
	return out, c.send(ctx, http.MethodPost, PathAdmin+"adjustments/"+url.PathEscape(id)+"/confirm", nil, &out)
}

// CancelAdjustment declines a Pending process.
func (c *AdminClient) CancelAdjustment(ctx context.Context, id string) (AdminAdjustment, error) {
	var out AdminAdjustment
	return out, c.send(ctx, http.MethodPost, PathAdmin+"adjustments/"+url.PathEscape(id)+"/cancel", nil, &out)
}

// importFile sends an import body to path with query q.
func (c *AdminClient) importFile(ctx context.Context, path string, q url.Values, b ImportBody) (Import, error) {
	var out Import
	if b.FileName == "" {
		return out, c.do(ctx, http.MethodPost, path, q, b.ContentType, b.Body, &out)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", b.FileName)
		if err == nil {
			_, err = io.Copy(fw, b.Body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	err := c.do(ctx, http.MethodPost, path, q, mw.FormDataContentType(), pr, &out)
	pr.Close()
	return out, err
}

// ImportOrders starts an import of a carrier's ledger orders.
func (c *AdminClient) ImportOrders(ctx context.Context, carrierID string, b ImportBody) (Import, error) {
	return c.importFile(ctx, PathAdmin+"imports/orders", url.Values{"carrierId": {carrierID}}, b)
}

// ImportTransactions starts an import of a buyer's transactions.
func (c *AdminClient) ImportTransactions(ctx context.Context, buyerID string, b ImportBody) (Import, error) {
	return c.importFile(ctx, PathAdmin+"imports/transactions", url.Values{"buyerId": {buyerID}}, b)
}

// ImportRisk starts an import of risk records; replace makes the file the
// whole new list.
func (c *AdminClient) ImportRisk(ctx context.Context, replace bool, b ImportBody) (Import, error) {
	return c.importFile(ctx, PathAdmin+"imports/risk", url.Values{"replace": {strconv.FormatBool(replace)}}, b)
}

// Import returns an import and where it stands.
func (c *AdminClient) Import(ctx context.Context, id string) (Import, error) {
	var out Import
	return out, c.do(ctx, http.MethodGet, PathAdmin+"imports/"+url.PathEscape(id), nil, "", nil, &out)
}

// Imports lists the newest imports (at most limit; 0 for 100).
func (c *AdminClient) Imports(ctx context.Context, limit int) ([]Import, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out []Import
	return out, c.do(ctx, http.MethodGet, PathAdmin+"imports", q, "", nil, &out)
}

// WaitImport reads an import every interval until it is no longer running
// or ctx ends.
func (c *AdminClient) WaitImport(ctx context.Context, id string, interval time.Duration) (Import, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		im, err := c.Import(ctx, id)
		if err != nil || im.State != ImportRunning {
			return im, err
		}
		select {
		case <-ctx.Done():
			return im, ctx.Err()
		case <-t.C:
		}
	}
}
