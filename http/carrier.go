package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/statement"
)

type carrierHandler func(w http.ResponseWriter, r *http.Request, c trueup.Carrier)

// carrier authenticates a carrier API call before h runs.
func (s *Server) carrier(h carrierHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, client, err := s.Auth.AuthenticateClient(r.Context(), auth.Request{
			Authorization: r.Header.Get("Authorization"), XDate: r.Header.Get("X-Date"), XUserID: r.Header.Get("X-User-Id"),
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, r.WithContext(trueup.WithActor(r.Context(), trueup.Actor("client:"+string(client)))), c)
	}
}

func (s *Server) carrierRoutes() {
	s.handle("GET /koodrive/ose/v1/reconciliation/template", s.carrier(s.handleTemplate))
	s.handleUpload("POST /koodrive/ose/v1/reconciliation/data/verify", s.carrier(s.uploadSlot(s.handleVerify)))
	s.handle("GET /koodrive/ose/v1/reconciliation/batch", s.carrier(s.handleBatchStatus))
	s.handle("GET /koodrive/ose/v1/reconciliation/diff/getList", s.carrier(s.handleDiffList))
	s.handle("GET /koodrive/ose/v1/reconciliation/diff/export", s.carrier(s.handleDiffExport))
}

func (s *Server) handleTemplate(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="reconciliation-template.xlsx"`)
	if err := statement.WriteTemplate(w); err != nil {
		s.Logger.Error("write template", "trace_id", TraceID(r.Context()), "err", err)
	}
}

// success is the body of a successful call without other fields.
type success struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
	mr, err := r.MultipartReader()
	if err != nil {
		s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "the request is not multipart/form-data (%v); send the statement in field data and the cycle in field billingCycle", err))
		return
	}
	var cycle string
	var haveCycle bool
	var upload *os.File
	var size int64
	var name string
	defer func() {
		if upload != nil {
			upload.Close()
			os.Remove(upload.Name())
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.writeError(w, r, bodyError(err, "send multipart/form-data with fields data and billingCycle"))
			return
		}
		switch part.FormName() {
		case "billingCycle":
			b, err := io.ReadAll(io.LimitReader(part, 65))
			if err != nil {
				s.writeError(w, r, bodyError(err, "send billingCycle as yyyy-mm"))
				return
			}
			if len(b) > 64 {
				s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "billingCycle is too long; send the past cycle as yyyy-mm, for example 2025-09"))
				return
			}
			cycle, haveCycle = strings.TrimSpace(string(b)), true
		case "data":
			if upload != nil {
				s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "field data appears twice; send one statement file per call"))
				return
			}
			name = filepath.Base(part.FileName())
			if part.FileName() == "" {
				name = "upload"
			}
			upload, size, err = s.spool(part)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		part.Close()
	}
	if upload == nil {
		s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "field data is missing; attach the statement file (.xlsx, .xls or .csv) as multipart field data"))
		return
	}
	if !haveCycle {
		s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "field billingCycle is missing; send the past cycle as yyyy-mm, for example 2025-09"))
		return
	}
	no, err := s.Batches.Submit(r.Context(), batch.SubmitParams{Carrier: c, Cycle: cycle, FileName: name, File: upload, Size: size, TraceID: TraceID(r.Context())})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.Logger.Info("batch queued", "trace_id", TraceID(r.Context()), "batch_no", no, "carrier_id", c.ID, "bytes", size)
	writeJSON(w, http.StatusOK, struct {
		Code    int            `json:"code"`
		Msg     string         `json:"msg"`
		BatchNo trueup.BatchNo `json:"batchNo"`
	}{0, "Success.", no})
}

// spool copies an uploaded file to a temporary file, refusing one over the
// upload limit.
func (s *Server) spool(part *multipart.Part) (*os.File, int64, error) {
	f, err := os.CreateTemp(s.Store.UploadTempDir(), "trueup-upload-*")
	if err != nil {
		return nil, 0, fmt.Errorf("temp file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(part, s.Config.MaxUploadBytes+1))
	if err == nil && n > s.Config.MaxUploadBytes {
		err = trueup.Errorf(trueup.ETOOLARGE, "the file is larger than the limit of %d bytes; split the statement or ask the operator to raise the limit", s.Config.MaxUploadBytes)
	} else if err != nil {
		err = bodyError(err, "upload the file again")
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// ownBatch returns the caller's batch; another carrier's is not found.
func (s *Server) ownBatch(ctx context.Context, no string, c trueup.Carrier) (trueup.Batch, int, error) {
	if strings.TrimSpace(no) == "" {
		return trueup.Batch{}, 0, trueup.Errorf(trueup.EINVALID, "batchNo is required; use the batchNo returned by the data check API")
	}
	b, attempt, err := s.Batches.Batch(ctx, trueup.BatchNo(no))
	if err == nil && b.CarrierID != c.ID {
		err = trueup.NotFound("batch %s not found; use the batchNo returned by the data check API", no)
	}
	return b, attempt, err
}

func (s *Server) handleBatchStatus(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
	b, attempt, err := s.ownBatch(r.Context(), r.URL.Query().Get("batchNo"), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rowErrors, err := s.Batches.RowErrors(r.Context(), b.No, attempt, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, BatchStatus{Code: 0, Msg: "Success.", Batch: b, RowErrors: rowErrors})
}

// BatchStatus is the body of the batch status call.
type BatchStatus struct {
	Code      int               `json:"code"`
	Msg       string            `json:"msg"`
	Batch     trueup.Batch      `json:"batch"`
	RowErrors []trueup.RowError `json:"rowErrors"`
}

// readyBatch returns the caller's batch when its discrepancies can be read,
// and otherwise an error that says where it stands.
func (s *Server) readyBatch(ctx context.Context, no string, c trueup.Carrier) (trueup.Batch, int, error) {
	b, attempt, err := s.ownBatch(ctx, no, c)
	if err != nil {
		return b, 0, err
	}
	switch b.State {
	case trueup.BatchQueued, trueup.BatchProcessing:
		return b, 0, trueup.Errorf(trueup.ENOTREADY, "batch %s is still %s (%d%% done, %d rows read); retry in a few seconds", b.No, b.State, b.Percent, b.RowsRead)
	case trueup.BatchFailed:
		return b, 0, trueup.Reasonf(trueup.ECONFLICT, batch.ReasonFailed, "batch %s failed and has no discrepancies: %s; see GET /koodrive/ose/v1/reconciliation/batch?batchNo=%s for the row errors, fix the file and upload it again", b.No, b.Failure, b.No)
	}
	return b, attempt, nil
}

// DiffBill is one discrepancy as seed 004 writes it.
type DiffBill struct {
	CarrierOrderID    string  `json:"carrierOrderId"`
	KdOrderID         string  `json:"kdOrderId"`
	CarrierUserID     string  `json:"carrierUserId"`
	CarrierOrderTime  string  `json:"carrierOrderTime"`
	KdUserID          string  `json:"kdUserId"`
	UserStatus        string  `json:"userStatus"`
	DiffType          string  `json:"diffType"`
	DiffReason        string  `json:"diffReason"`
	SkuCode           string  `json:"skuCode"`
	SkuPrice          Decimal `json:"skuPrice"`
	BillingCycle      string  `json:"billingCycle"`
	CarrierSale       string  `json:"carrierSale"`
	CarrierSaleToKd   string  `json:"carrierSaleToKd"`
	ThisMouthBilling  string  `json:"thisMouthBilling"`
	NextMouthBilling  string  `json:"nextMouthBilling"`
	Channel           string  `json:"channel"`
	CarrierActiveTime string  `json:"carrierActiveTime"`
	CarrierEndTime    string  `json:"carrierEndTime"`
	CarrierPackageID  string  `json:"carrierPackageId"`
	KdActiveTime      string  `json:"kdActiveTime"`
	KdEndTime         string  `json:"kdEndTime"`
	KdOrderTime       string  `json:"kdOrderTime"`
	KdPackageID       string  `json:"kdPackageId"`
	KdSaleTotal       Decimal `json:"kdSaleTotal"`
}

// Decimal is a decimal written as a JSON number, exactly.
type Decimal string

// MarshalJSON writes the decimal as a number.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d == "" {
		return []byte("0"), nil
	}
	return []byte(d), nil
}

func toDiffBill(d trueup.Discrepancy) DiffBill {
	return DiffBill{
		CarrierOrderID: d.CarrierOrderID, KdOrderID: d.KdOrderID, CarrierUserID: d.CarrierUserID, CarrierOrderTime: d.CarrierOrderTime,
		KdUserID: d.KdUserID, UserStatus: d.UserStatus, DiffType: strconv.Itoa(int(d.DiffType)), DiffReason: d.DiffReason,
		SkuCode: d.SkuCode, SkuPrice: Decimal(d.SkuPrice.String()), BillingCycle: d.BillingCycle, CarrierSale: d.CarrierSale,
		CarrierSaleToKd: d.CarrierSaleToKd, ThisMouthBilling: d.ThisMonthBilling, NextMouthBilling: d.NextMonthBilling,
		Channel: d.Channel, CarrierActiveTime: d.CarrierActiveTime, CarrierEndTime: d.CarrierEndTime, CarrierPackageID: d.CarrierPackageID,
		KdActiveTime: d.KdActiveTime, KdEndTime: d.KdEndTime, KdOrderTime: d.KdOrderTime, KdPackageID: d.KdPackageID,
		KdSaleTotal: Decimal(d.KdSaleTotal.String()),
	}
}

// DiffList is the body of the discrepancy list, in seed 004's field order.
type DiffList struct {
	DiffList       []DiffBill `json:"diffList"`
	Total          int64      `json:"total"`
	NextPageCursor string     `json:"nextPageCursor,omitempty"`
	Code           int        `json:"code"`
	Msg            string     `json:"msg"`
}

func (s *Server) handleDiffList(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
	q := r.URL.Query()
	size := 100
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "pageSize %q is out of range; use a whole number from 1 to 1000 (default 100)", v))
			return
		}
		size = n
	}
	b, attempt, err := s.readyBatch(r.Context(), q.Get("batchNo"), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	key, err := s.cursorKey(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var after int64
	if v := q.Get("pageCursor"); v != "" {
		if after, err = decodeCursor(key, b.No, attempt, v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	page, err := s.Batches.DiscrepancyPage(r.Context(), b.No, attempt, after, size+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := DiffList{DiffList: make([]DiffBill, 0, size), Total: b.Counts.Total(), Code: 0, Msg: "Success."}
	for i, d := range page {
		if i == size {
			out.NextPageCursor = encodeCursor(key, b.No, attempt, page[size-1].Seq)
			break
		}
		out.DiffList = append(out.DiffList, toDiffBill(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// cursorKey returns the key that signs cursors: stored once in the
// database for every replica, read once per server.
func (s *Server) cursorKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		v, err := s.Store.Setting(ctx, "cursor_key", trueup.NewSecret)
		if err != nil {
			return nil, err
		}
		s.key = []byte(v)
	}
	return s.key, nil
}

// A cursor is base64url(seq as 8 bytes || first 12 bytes of
// HMAC-SHA256(key, batchNo, attempt, seq)): opaque, bound to its batch, and
// any change to it is detected.
func cursorMAC(key []byte, no trueup.BatchNo, attempt int, seq int64) []byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\x00%d\x00%d", no, attempt, seq)
	return m.Sum(nil)[:12]
}

func encodeCursor(key []byte, no trueup.BatchNo, attempt int, seq int64) string {
	b := binary.BigEndian.AppendUint64(nil, uint64(seq))
	return base64.RawURLEncoding.EncodeToString(append(b, cursorMAC(key, no, attempt, seq)...))
}

func decodeCursor(key []byte, no trueup.BatchNo, attempt int, v string) (int64, error) {
	bad := trueup.Errorf(trueup.EINVALID, "pageCursor is not a cursor of batch %s; pass the nextPageCursor of the previous page unchanged, or omit it for the first page", no)
	raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil || len(raw) != 20 {
		return 0, bad
	}
	seq := int64(binary.BigEndian.Uint64(raw[:8]))
	if seq < 0 || !hmac.Equal(raw[8:], cursorMAC(key, no, attempt, seq)) {
		return 0, bad
	}
	return seq, nil
}

func (s *Server) handleDiffExport(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
	q := r.URL.Query()
	format := statement.Format(strings.ToLower(q.Get("format")))
	if format == "" {
		format = statement.XLSX
	}
	if format != statement.XLSX && format != statement.CSV {
		s.writeError(w, r, trueup.Errorf(trueup.EINVALID, "format %q is not supported; use xlsx or csv", q.Get("format")))
		return
	}
	b, attempt, err := s.readyBatch(r.Context(), q.Get("batchNo"), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ct, cd := statement.ExportHeader(b.No, format)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", cd)
	if err := s.Batches.Export(r.Context(), w, b.No, attempt, format); err != nil {
		// The status is sent; the client sees a cut body.
		s.Logger.Error("export", "trace_id", TraceID(r.Context()), "batch_no", b.No, "err", err)
	}
}
