package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/trueup/trueup"
)

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
//
// The field names (billingCycle, data), like DiffBill's JSON names, are
// the carrier API's published contract, spelled here again rather than
// shared with the server (http/carrier.go): the client imports no server
// package and no package of wire names, and because it writes them on its
// own, a name changed on one side fails the end-to-end tests instead of
// changing the contract on both sides unnoticed.
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
