package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuditEntry is one entry of the audit chain.
type AuditEntry struct {
	Seq       int64           `json:"seq"`
	Time      time.Time       `json:"time"`
	Actor     string          `json:"actor"`
	Type      string          `json:"type"`
	CarrierID string          `json:"carrierId,omitempty"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data"`
	PrevHash  string          `json:"prevHash"`
	Hash      string          `json:"hash"`
}

// AuditPage is a page of the chain; Next, when set, is the After of the
// next page.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    *int64       `json:"next,omitempty"`
}

// AuditReport is the audit chain's verification: Intact, or Break naming
// the first entry changed, removed or inserted.
type AuditReport struct {
	Entries int64 `json:"entries"`
	Head    struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"head"`
	Intact bool `json:"intact"`
	Break  *struct {
		Seq     int64  `json:"seq"`
		Problem string `json:"problem"`
		Message string `json:"message"`
	} `json:"break,omitempty"`
}

// AuditEntries returns up to limit entries after seq after (0: from the
// start; limit 0: the server's default).
func (c *AdminClient) AuditEntries(ctx context.Context, after int64, limit int) (AuditPage, error) {
	q := url.Values{}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out AuditPage
	return out, c.do(ctx, http.MethodGet, PathAdmin+"audit", q, "", nil, &out)
}

// VerifyAudit walks the audit chain on the server and reports.
func (c *AdminClient) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var out AuditReport
	return out, c.do(ctx, http.MethodGet, PathAdmin+"audit/verify", nil, "", nil, &out)
}
