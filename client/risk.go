package client

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// PathCheckMultipleOrder is the multiple-order check of seed 003.
const PathCheckMultipleOrder = "/check/multiple_order/o1"

// RiskClient calls trueup's risk API (seed 003) with an API key, sent as
// X-DF-API-ID and X-DF-API-SECRET (each left out when empty). Its exported
// fields must not change while calls are in flight. It is safe for
// concurrent use.
type RiskClient struct {
	// BaseURL is the server's root, such as http://localhost:8080.
	BaseURL string
	// HTTP sends the requests; http.DefaultClient when nil.
	HTTP      *http.Client
	APIID     string
	APISecret string
}

// NewRiskClient returns a RiskClient of the server at baseURL with an API
// key; h sends the requests (http.DefaultClient when nil).
func NewRiskClient(baseURL, apiID, apiSecret string, h *http.Client) *RiskClient {
	return &RiskClient{BaseURL: baseURL, HTTP: h, APIID: apiID, APISecret: apiSecret}
}

// HashMobile returns what a check sends as mobile_no: the MD5 of the mobile
// number with country code as 32 lowercase hexadecimal digits, such as
// HashMobile("915586685366") for seed 003's md5(915586685366).
func HashMobile(number string) string {
	h := md5.Sum([]byte(number))
	return hex.EncodeToString(h[:])
}

// CheckParams are the arguments of a multiple-order check; empty ones are
// left out of the body.
type CheckParams struct {
	// MobileNo is the MD5 of the mobile number (see HashMobile).
	MobileNo string `json:"mobile_no,omitempty"`
	// Source is seat, voice or sms; every source when empty.
	Source string `json:"source,omitempty"`
	// Date is the day the look-back starts from, YYYY-MM-DD; today in the
	// key's time zone when empty.
	Date string `json:"date,omitempty"`
}

// CheckResult is a check's answer: whether the number is on the list and,
// when it is, its records, newest first.
type CheckResult struct {
	RequestID string
	Target    bool
	Count     int
	Data      []RiskHit
}

// RiskHit is one record of a hit.
type RiskHit struct {
	Day    string `json:"day"`
	Source string `json:"source"`
	CID    string `json:"cid"`
	// Duration is answered for seat records only.
	Duration string `json:"duration,omitempty"`
	Level    int    `json:"level"`
}

// RiskAnswer is the body of every risk API answer, as sent.
type RiskAnswer struct {
	Status string `json:"status"`
	Result *struct {
		Target bool      `json:"target"`
		Count  int       `json:"count"`
		Data   []RiskHit `json:"data"`
	} `json:"result,omitempty"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"request_id"`
}

// RiskError is a refused check: the HTTP status, seed 003's status word
// (INVALID_ARGUMENT, UNAUTHORIZED, KEY_EXPIRED, NO_PERMISSION, OUT_OF_QUOTA,
// RATE_LIMIT_EXCEEDED, NOT_FOUND, INTERNAL_ERROR), the reason and the
// request id.
type RiskError struct {
	HTTPStatus int
	Status     string
	Reason     string
	RequestID  string
}

// Error returns the status and reason.
func (e *RiskError) Error() string {
	return fmt.Sprintf("trueup risk: HTTP %d %s: %s (request %s)", e.HTTPStatus, e.Status, e.Reason, e.RequestID)
}

// CheckMultipleOrder asks whether the number p.MobileNo hashes is on the
// multiple-order list. It returns a *RiskError when the server refuses, and
// another error when the call fails or the answer is not seed 003's shape.
func (c *RiskClient) CheckMultipleOrder(ctx context.Context, p CheckParams) (CheckResult, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return CheckResult{}, fmt.Errorf("encode check: %w", err)
	}
	ans, err := c.Post(ctx, PathCheckMultipleOrder, "application/json", body)
	if err != nil {
		return CheckResult{}, err
	}
	if ans.Result == nil {
		return CheckResult{}, fmt.Errorf("check answer has status OK and no result (request %s)", ans.RequestID)
	}
	return CheckResult{RequestID: ans.RequestID, Target: ans.Result.Target, Count: ans.Result.Count, Data: ans.Result.Data}, nil
}

// Post sends body as is to path (under BaseURL) with the key's headers and
// returns the decoded answer. An answer whose status is not OK is returned
// as a *RiskError, with the answer. Tests use it to send malformed bodies.
func (c *RiskClient) Post(ctx context.Context, path, contentType string, body []byte) (RiskAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return RiskAnswer{}, fmt.Errorf("check request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// Do sends req with the key's headers (unless req sets them) and returns
// the decoded answer, or a *RiskError with it when its status is not OK.
func (c *RiskClient) Do(req *http.Request) (RiskAnswer, error) {
	if c.APIID != "" && req.Header.Get("X-DF-API-ID") == "" {
		req.Header.Set("X-DF-API-ID", c.APIID)
	}
	if c.APISecret != "" && req.Header.Get("X-DF-API-SECRET") == "" {
		req.Header.Set("X-DF-API-SECRET", c.APISecret)
	}
	h := c.HTTP
	if h == nil {
		h = http.DefaultClient
	}
	resp, err := h.Do(req)
	if err != nil {
		return RiskAnswer{}, fmt.Errorf("check: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return RiskAnswer{}, fmt.Errorf("read check answer: %w", err)
	}
	var ans RiskAnswer
	if err := json.Unmarshal(b, &ans); err != nil || ans.Status == "" {
		return RiskAnswer{}, fmt.Errorf("check answer (HTTP %d) is not a risk API body: %q", resp.StatusCode, clipBody(b))
	}
	if ans.Status != "OK" || resp.StatusCode != http.StatusOK {
		return ans, &RiskError{HTTPStatus: resp.StatusCode, Status: ans.Status, Reason: ans.Reason, RequestID: ans.RequestID}
	}
	return ans, nil
}

func clipBody(b []byte) string {
	if len(b) > 256 {
		return string(b[:256]) + "..."
	}
	return string(b)
}
