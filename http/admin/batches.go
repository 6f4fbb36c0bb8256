package admin

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/statement"
)

// intParam reads a whole-number query parameter from lo to hi, def when
// absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid("query parameter %s %q is out of range; use a whole number from %d to %d (default %d)", name, v, lo, hi, def)
	}
	return n, nil
}

func (h *Handler) listBatches(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	var carriers []trueup.CarrierID
	if id := r.URL.Query().Get("carrierId"); id != "" {
		if _, err := h.Carriers.Carrier(ctx, trueup.CarrierID(id)); err != nil {
			h.writeError(w, r, err)
			return
		}
		carriers = []trueup.CarrierID{trueup.CarrierID(id)}
	} else {
		all, err := h.Carriers.Carriers(ctx)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		for _, c := range all {
			carriers = append(carriers, c.ID)
		}
	}
	out := []trueup.Batch{}
	for _, id := range carriers {
		list, err := h.Batches.Batches(ctx, id, limit)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out = append(out, list...)
	}
	slices.SortFunc(out, func(a, b trueup.Batch) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(string(b.No), string(a.No))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	writeJSON(w, http.StatusOK, out)
}

// BatchStatus is a batch with its row errors (the first 1000).
type BatchStatus struct {
	Batch     trueup.Batch      `json:"batch"`
	RowErrors []trueup.RowError `json:"rowErrors"`
}

func (h *Handler) getBatch(w http.ResponseWriter, r *http.Request) {
	b, attempt, err := h.Batches.Batch(r.Context(), trueup.BatchNo(r.PathValue("batchNo")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	rowErrors, err := h.Batches.RowErrors(r.Context(), b.No, attempt, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rowErrors == nil {
		rowErrors = []trueup.RowError{}
	}
	writeJSON(w, http.StatusOK, BatchStatus{Batch: b, RowErrors: rowErrors})
}

// readyBatch returns a batch whose discrepancies can be read, and its
// attempt; otherwise an error that says where it stands.
func (h *Handler) readyBatch(ctx context.Context, no trueup.BatchNo) (trueup.Batch, int, error) {
	b, attempt, err := h.Batches.Batch(ctx, no)
	if err != nil {
		return b, 0, err
	}
	switch b.State {
	case trueup.BatchQueued, trueup.BatchProcessing:
		return b, 0, trueup.Errorf(trueup.ENOTREADY, "batch %s is still %s (%d%% done, %d rows read); retry in a few seconds", b.No, b.State, b.Percent, b.RowsRead)
	case trueup.BatchFailed:
		return b, 0, trueup.Errorf(trueup.ECONFLICT, "batch %s failed and has no discrepancies: %s; see GET /admin/v1/batches/%s for the row errors", b.No, b.Failure, b.No)
	}
	return b, attempt, nil
}

// Discrepancies is a page of a batch's discrepancies. NextPageCursor is
// absent on the last page.
type Discrepancies struct {
	Discrepancies  []trueup.Discrepancy `json:"discrepancies"`
	Total          int64                `json:"total"`
	NextPageCursor string               `json:"nextPageCursor,omitempty"`
}

// A cursor is base64url("attempt.seq"): the keyset of the next page, bound
// to the batch's attempt so that a page of a re-run is never mixed in.
func encodeCursor(attempt int, seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%d.%d", attempt, seq)))
}

func decodeCursor(v string, no trueup.BatchNo, attempt int) (int64, error) {
	bad := invalid("query parameter pageCursor is not a cursor of batch %s; pass the nextPageCursor of the previous page unchanged, or omit it for the first page", no)
	raw, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return 0, bad
	}
	a, s, ok := strings.Cut(string(raw), ".")
	n, err1 := strconv.Atoi(a)
	seq, err2 := strconv.ParseInt(s, 10, 64)
	if !ok || err1 != nil || err2 != nil || seq < 0 || n != attempt {
		return 0, bad
	}
	return seq, nil
}

func (h *Handler) listDiscrepancies(w http.ResponseWriter, r *http.Request) {
	size, err := intParam(r, "pageSize", 100, 1, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	b, attempt, err := h.readyBatch(r.Context(), trueup.BatchNo(r.PathValue("batchNo")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var after int64
	if v := r.URL.Query().Get("pageCursor"); v != "" {
		if after, err = decodeCursor(v, b.No, attempt); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	page, err := h.Batches.DiscrepancyPage(r.Context(), b.No, attempt, after, size+1)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := Discrepancies{Discrepancies: page, Total: b.Counts.Total()}
	if len(page) > size {
		out.Discrepancies = page[:size]
		out.NextPageCursor = encodeCursor(attempt, page[size-1].Seq)
	}
	if out.Discrepancies == nil {
		out.Discrepancies = []trueup.Discrepancy{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) exportDiscrepancies(w http.ResponseWriter, r *http.Request) {
	format := statement.Format(strings.ToLower(r.URL.Query().Get("format")))
	if format == "" {
		format = statement.XLSX
	}
	if format != statement.XLSX && format != statement.CSV {
		h.writeError(w, r, invalid("query parameter format %q is not supported; use xlsx or csv", r.URL.Query().Get("format")))
		return
	}
	b, attempt, err := h.readyBatch(r.Context(), trueup.BatchNo(r.PathValue("batchNo")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ct, cd := statement.ExportHeader(b.No, format)
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", cd)
	if err := h.Batches.Export(r.Context(), w, b.No, attempt, format); err != nil {
		// The status is sent; the client sees a cut body.
		h.Logger.Error("export", "trace_id", w.Header().Get("x-traceid"), "batch_no", b.No, "err", err)
	}
}

// AdjustmentView is a buyer adjustment process as the admin API shows it.
type AdjustmentView struct {
	AdjustmentID      buyer.AdjustmentID `json:"adjustmentId"`
	BuyerID           buyer.BuyerID      `json:"buyerId"`
	SurveyID          buyer.SurveyID     `json:"surveyId,omitempty"`
	Mode              buyer.Mode         `json:"mode"`
	DesiredStatus     buyer.TxStatus     `json:"desiredStatus"`
	IsAPI             bool               `json:"isApiUser"`
	Status            buyer.Status       `json:"status"`
	StatusDescription string             `json:"statusDescription"`
	Surveys           []buyer.SurveyID   `json:"surveys"`
	Items             int                `json:"items"`
	Summary           buyer.Summary      `json:"summary"`
	Failure           string             `json:"failure,omitempty"`
	CreatedAt         time.Time          `json:"createdAt"`
	UpdatedAt         time.Time          `json:"updatedAt"`
	FinishedAt        *time.Time         `json:"finishedAt,omitempty"`
}

func viewAdjustment(a buyer.Adjustment) AdjustmentView {
	return AdjustmentView{AdjustmentID: a.ID, BuyerID: a.BuyerID, SurveyID: a.Survey, Mode: a.Mode, DesiredStatus: a.Desired, IsAPI: a.IsAPI,
		Status: a.Status, StatusDescription: a.Status.Description(), Surveys: a.Surveys, Items: a.Items, Summary: a.Summary,
		Failure: a.Failure, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, FinishedAt: a.FinishedAt}
}

// adjustmentID reads the path's adjustment id, a UUID.
func adjustmentID(r *http.Request) (buyer.AdjustmentID, error) {
	v := r.PathValue("adjustmentId")
	if !buyer.ValidAdjustmentID(v) {
		return "", invalid("adjustment id %q is not a UUID; use the adjustment_id of the process", v)
	}
	return buyer.AdjustmentID(strings.ToLower(v)), nil
}

func (h *Handler) getAdjustment(w http.ResponseWriter, r *http.Request) {
	id, err := adjustmentID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := h.Buyers.Adjustment(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAdjustment(a))
}

func (h *Handler) confirmAdjustment(w http.ResponseWriter, r *http.Request) {
	h.actOnAdjustment(w, r, h.Buyers.Confirm)
}

func (h *Handler) cancelAdjustment(w http.ResponseWriter, r *http.Request) {
	h.actOnAdjustment(w, r, h.Buyers.Cancel)
}

func (h *Handler) actOnAdjustment(w http.ResponseWriter, r *http.Request, act func(context.Context, buyer.AdjustmentID) (buyer.Adjustment, error)) {
	id, err := adjustmentID(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := act(r.Context(), id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAdjustment(a))
}

func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 0, 100000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	c, err := h.Carriers.Carrier(r.Context(), trueup.CarrierID(r.PathValue("carrierId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.Lifecycle.Events(r.Context(), lifecycle.EventFilter{CarrierID: c.ID, CarrierUserID: r.URL.Query().Get("carrierUserId"), Limit: limit})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []lifecycle.Event{}
	}
	writeJSON(w, http.StatusOK, list)
}
