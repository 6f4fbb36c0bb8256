package console

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/operator"
)

func (h *Handler) adjustmentRoutes() {
	h.page("GET "+Prefix+"adjustments", operator.RoleViewer, h.adjustments)
	h.page("POST "+Prefix+"adjustments", operator.RoleOperator, h.launchAdjustment)
	h.page("GET "+Prefix+"adjustments/{id}", operator.RoleViewer, h.adjustment)
	h.page("POST "+Prefix+"adjustments/{id}/confirm", operator.RoleOperator, h.decideAdjustment(true))
	h.page("POST "+Prefix+"adjustments/{id}/cancel", operator.RoleOperator, h.decideAdjustment(false))
	h.nav("Adjustments", Prefix+"adjustments", operator.RoleViewer, 60)
}

// launchModes are the launch form's choices: the value sent, the
// operation type and recon status of the API (buyer.ParseMode), a label.
var launchModes = []struct{ Value, Operation, Recon, Label string }{
	{"accept", "", "", "Accept: the list is the accepted completes; unlisted completes of its surveys are rejected (33)"},
	{"live-complete", buyer.OperationLive, "1", "Live reconciliation: complete (21) the listed transactions only"},
	{"live-reject", buyer.OperationLive, "2", "Live reconciliation: reject (33) the listed transactions only"},
}

// adjustmentRow is a process in a list, with its status's description.
type adjustmentRow struct {
	buyer.Adjustment
	Description string
}

// adjustmentsData is the adjustments page's data.
type adjustmentsData struct {
	Buyers  []buyer.Buyer
	Buyer   *buyer.Buyer
	List    []adjustmentRow
	Modes   any
	Mode    string
	Survey  string
	Columns []buyer.Column
	// RowErrors are the bad rows of a list sent back.
	RowErrors []trueup.RowError
	MoreRows  int
}

func (h *Handler) adjustmentsData(r *http.Request, id buyer.BuyerID) (adjustmentsData, error) {
	d := adjustmentsData{Modes: launchModes, Mode: "accept", Columns: buyer.ItemColumns}
	var err error
	if d.Buyers, err = h.Buyers.Buyers(r.Context()); err != nil {
		return d, err
	}
	if id == "" {
		if len(d.Buyers) == 0 {
			return d, nil
		}
		id = d.Buyers[0].ID
	}
	b, err := h.Buyers.Buyer(r.Context(), id)
	if err != nil {
		return d, err
	}
	d.Buyer = &b
	list, err := h.Buyers.BuyerAdjustments(r.Context(), id)
	if err != nil {
		return d, err
	}
	for _, a := range list {
		d.List = append(d.List, adjustmentRow{Adjustment: a, Description: a.Status.Description()})
	}
	return d, nil
}

func (h *Handler) adjustments(w http.ResponseWriter, r *http.Request) {
	d, err := h.adjustmentsData(r, buyer.BuyerID(r.URL.Query().Get("buyer")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "adjustments", d)
}

// launchAdjustment launches a Pending process from the uploaded list and
// shows its summary, where the operator confirms or cancels it.
func (h *Handler) launchAdjustment(w http.ResponseWriter, r *http.Request) {
	id := buyer.BuyerID(r.PostFormValue("buyer"))
	d, err := h.adjustmentsData(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Mode, d.Survey = r.PostFormValue("mode"), formText(r, "survey")
	if d.Buyer == nil {
		h.renderError(w, r, "adjustments", d, trueup.Errorf(trueup.EINVALID, "there is no buyer to launch a process for; an admin creates one on the Buyers page first"))
		return
	}
	adj, err := h.launch(r, *d.Buyer, d.Mode, d.Survey)
	if err != nil {
		var rows *buyer.ImportError
		if errors.As(err, &rows) {
			d.RowErrors = rows.Rows
			d.MoreRows = rows.Total - len(rows.Rows)
			err = trueup.Errorf(trueup.EINVALID, "the list has %d bad row(s), listed below; nothing was launched. Correct the file and send it again", rows.Total)
		}
		h.renderError(w, r, "adjustments", d, err)
		return
	}
	h.redirect(w, r, Prefix+"adjustments/"+string(adj.ID), "The process waits in Pending: check its summary, then confirm or cancel it.")
}

// launch reads the form's list file and launches the process.
func (h *Handler) launch(r *http.Request, b buyer.Buyer, modeValue, surveyText string) (buyer.Adjustment, error) {
	var mode buyer.Mode
	var desired buyer.TxStatus
	var err error
	found := false
	for _, m := range launchModes {
		if m.Value == modeValue {
			found = true
			if mode, desired, err = buyer.ParseMode(m.Operation, m.Recon); err != nil {
				return buyer.Adjustment{}, err
			}
		}
	}
	if !found {
		return buyer.Adjustment{}, trueup.Errorf(trueup.EINVALID, "pick a kind of process: accept, live complete or live reject")
	}
	var survey buyer.SurveyID
	if surveyText != "" {
		if survey, err = buyer.ParseSurveyID(surveyText); err != nil {
			return buyer.Adjustment{}, trueup.Errorf(trueup.EINVALID, "survey: %s; or leave it empty for every survey of the listed transactions", trueup.ErrorMessage(err))
		}
		if _, err := h.Buyers.OwnedSurvey(r.Context(), b, survey); errors.Is(err, buyer.ErrNotAuthorized) {
			return buyer.Adjustment{}, trueup.Errorf(trueup.EINVALID, "survey %d is not a survey of buyer %s; check the number, or import its transactions first", survey, b.ID)
		} else if err != nil {
			return buyer.Adjustment{}, err
		}
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return buyer.Adjustment{}, trueup.Errorf(trueup.EINVALID, "no list file was sent; choose a file (CSV, xlsx, xls, JSON Lines or a .json array) with a transaction_id column")
	}
	defer file.Close()
	if hdr.Size > h.MaxUploadBytes {
		return buyer.Adjustment{}, trueup.Errorf(trueup.ETOOLARGE, "the list file is %d bytes, over the limit of %d; split it into several processes", hdr.Size, h.MaxUploadBytes)
	}
	items, err := h.readItems(file, hdr)
	if err != nil {
		return buyer.Adjustment{}, err
	}
	return h.Buyers.Launch(r.Context(), buyer.LaunchParams{Buyer: b, Survey: survey, Mode: mode, Desired: desired, Items: items})
}

// readItems reads a list file as the CLI does: a JSON array (.json), or
// CSV, xlsx, xls or JSON Lines with ItemColumns.
func (h *Handler) readItems(file multipart.File, hdr *multipart.FileHeader) ([]buyer.Item, error) {
	ext := strings.ToLower(filepath.Ext(hdr.Filename))
	if ext == ".json" {
		return buyer.DecodeItems(file)
	}
	switch ext {
	case ".csv", ".xlsx", ".xls", ".jsonl", ".ndjson", ".txt", "":
	default:
		return nil, trueup.Errorf(trueup.EINVALID, "%s is not a list file trueup reads; send CSV, xlsx, xls, JSON Lines (.jsonl) or a JSON array (.json)", filepath.Base(hdr.Filename))
	}
	tmp, err := os.CreateTemp("", "trueup-list-*"+ext)
	if err != nil {
		return nil, fmt.Errorf("list file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if _, err := io.Copy(tmp, file); err != nil {
		return nil, fmt.Errorf("list file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("list file: %w", err)
	}
	src, err := buyer.OpenFile(tmp.Name(), buyer.ItemColumns, h.Readers)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return buyer.ReadItems(src)
}

// adjustmentData is the page of one process.
type adjustmentData struct {
	buyer.Adjustment
	Buyer       buyer.Buyer
	Description string
	// Refresh is true while the process moves on its own (In Flight,
	// Processing): the page reloads itself.
	Refresh bool
}

func (h *Handler) adjustmentPage(r *http.Request) (adjustmentData, error) {
	a, err := h.Buyers.Adjustment(r.Context(), buyer.AdjustmentID(strings.ToLower(r.PathValue("id"))))
	if err != nil {
		return adjustmentData{}, err
	}
	b, err := h.Buyers.Buyer(r.Context(), a.BuyerID)
	if err != nil {
		return adjustmentData{}, err
	}
	return adjustmentData{Adjustment: a, Buyer: b, Description: a.Status.Description(),
		Refresh: a.Status == buyer.StatusInFlight || a.Status == buyer.StatusProcessing}, nil
}

func (h *Handler) adjustment(w http.ResponseWriter, r *http.Request) {
	d, err := h.adjustmentPage(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "adjustment", d)
}

// decideAdjustment confirms (queues) or cancels (Declined) a Pending
// process.
func (h *Handler) decideAdjustment(confirm bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := buyer.AdjustmentID(strings.ToLower(r.PathValue("id")))
		act, done := h.Buyers.Confirm, "confirmed: it is queued and applies shortly"
		if !confirm {
			act, done = h.Buyers.Cancel, "cancelled: it ends Declined and changes nothing"
		}
		a, err := act(r.Context(), id)
		if err != nil {
			d, derr := h.adjustmentPage(r)
			if derr != nil {
				h.fail(w, r, derr)
				return
			}
			h.renderError(w, r, "adjustment", d, err)
			return
		}
		h.redirect(w, r, Prefix+"adjustments/"+string(a.ID), "Process "+done+".")
	}
}
