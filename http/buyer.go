package http

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
)

// maxAdjustmentBody limits a launch's body: about 900,000 entries of the
// seed's shape, more than buyer.MaxItems.
const maxAdjustmentBody = 64 << 20

// BuyerErrorBody is the buyer API's error body, as seed 002 shows it.
type BuyerErrorBody struct {
	Code    int    `json:"ps_api_response_code"`
	Message string `json:"ps_api_response_message"`
}

// BuyerAdjustment is a process as the buyer API shows it: the answer of a
// launch (202) and of the process information (200).
type BuyerAdjustment struct {
	AdjustmentID      buyer.AdjustmentID `json:"adjustment_id"`
	Status            buyer.Status       `json:"status"`
	StatusDescription string             `json:"statusDescription"`
	Summary           buyer.Summary      `json:"summary"`
}

// BuyerAdjustmentRef is an entry of a survey's process list.
type BuyerAdjustmentRef struct {
	AdjustmentID      buyer.AdjustmentID `json:"adjustment_id"`
	Status            buyer.Status       `json:"status"`
	StatusDescription string             `json:"statusDescription"`
}

// buyerRoutes registers the buyer adjustments API (seed 002).
func (s *Server) buyerRoutes() {
	s.handleUpload("POST /buyers/v2/adjustments/surveys/{surveyId}", s.handleLaunchSurveyAdjustment)
	s.handleUpload("POST /buyers/v2/adjustments", s.handleLaunchAdjustment)
	s.handle("GET /buyers/v2/surveys/{surveyId}/adjustments", s.handleSurveyAdjustments)
	s.handle("GET /buyers/v2/surveys/{surveyId}/adjustments/{adjustmentId}", s.handleSurveyAdjustment)
}

// Codes of the buyer API's error bodies
// ({"ps_api_response_code", "ps_api_response_message"}). 9999 and its
// message are seed 002's; the others are trueup's, documented in the
// OpenAPI document and docs/buyer-adjustments.md.
const (
	// BuyerCodeNotAuthorized (401): the access-token is missing or
	// unknown, or the survey is not the buyer's (or does not exist).
	BuyerCodeNotAuthorized = 9999
	// BuyerCodeInvalidSurveyID (400): the survey id is not a positive
	// integer.
	BuyerCodeInvalidSurveyID = 1001
	// BuyerCodeInvalidBody (400): the body is not a JSON array of
	// {transaction_id, change_reason} objects.
	BuyerCodeInvalidBody = 1002
	// BuyerCodeEmptyList (400): the list has no entry.
	BuyerCodeEmptyList = 1003
	// BuyerCodeInvalidParam (400): operationType or reconStatus is wrong.
	BuyerCodeInvalidParam = 1004
	// BuyerCodeTooLarge (413): the body or list is over the limit.
	BuyerCodeTooLarge = 1005
	// BuyerCodeNotFound (404): no such process on the survey.
	BuyerCodeNotFound = 1006
	// BuyerCodeNothingKnown (400): a launch over several surveys names no
	// transaction of the buyer.
	BuyerCodeNothingKnown = 1007
	// BuyerCodeConflict (409): the process is not in a state that allows
	// the operation (confirm or cancel a process that is not Pending).
	BuyerCodeConflict = 1009
	// BuyerCodeInternal (500): trueup's own fault; the x-traceid finds it
	// in the logs.
	BuyerCodeInternal = 1500
)

// buyerCodes is the buyer API's one table of error codes: a reason's code
// where the API documents one finer than the kind, else the kind's.
// Authentication and ownership failures (EUNAUTHORIZED, EFORBIDDEN) are
// all seed 002's 9999; a kind not listed answers 1500.
var buyerCodes = struct {
	reasons map[trueup.Reason]int
	kinds   map[string]int
}{
	reasons: map[trueup.Reason]int{
		buyer.ReasonSurveyID:     BuyerCodeInvalidSurveyID,
		buyer.ReasonEmptyList:    BuyerCodeEmptyList,
		buyer.ReasonInvalidParam: BuyerCodeInvalidParam,
		buyer.ReasonNothingKnown: BuyerCodeNothingKnown,
	},
	kinds: map[string]int{
		trueup.EINVALID:      BuyerCodeInvalidBody,
		trueup.ETIMEOUT:      BuyerCodeInvalidBody,
		trueup.ETOOLARGE:     BuyerCodeTooLarge,
		trueup.ENOTFOUND:     BuyerCodeNotFound,
		trueup.ECONFLICT:     BuyerCodeConflict,
		trueup.EUNAUTHORIZED: BuyerCodeNotAuthorized,
		trueup.EFORBIDDEN:    BuyerCodeNotAuthorized,
	},
}

// buyerError returns the HTTP status, the buyer API's code and the message
// of err. Every authentication or ownership failure is seed 002's 401 with
// code 9999 and its message.
func buyerError(err error) (status, code int, msg string) {
	kind := trueup.ErrorKind(err)
	if kind == trueup.EUNAUTHORIZED || kind == trueup.EFORBIDDEN {
		return http.StatusUnauthorized, BuyerCodeNotAuthorized, buyer.NotAuthorizedMessage
	}
	status, ok := errorStatus[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	code, ok = buyerCodes.reasons[trueup.ErrorReason(err)]
	if !ok {
		code, ok = buyerCodes.kinds[kind]
	}
	if !ok || kind == trueup.EINTERNAL {
		code = BuyerCodeInternal
	}
	return status, code, trueup.ErrorMessage(err)
}

// writeBuyerError writes err as the buyer API's error body (buyerError).
// Internal errors are logged with the trace id and shown as a generic
// message.
func (s *Server) writeBuyerError(w http.ResponseWriter, r *http.Request, err error) {
	if trueup.ErrorKind(err) == trueup.EINTERNAL {
		s.Logger.Error("internal error", "trace_id", TraceID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status, code, msg := buyerError(err)
	writeJSON(w, status, BuyerErrorBody{Code: code, Message: msg})
}

// authBuyer returns the buyer of the request's access-token header.
func (s *Server) authBuyer(r *http.Request) (buyer.Buyer, error) {
	return s.Buyers.Authenticate(r.Context(), r.Header.Get("access-token"))
}

// surveyRequest authenticates the request and parses its {surveyId}. The
// token is checked first, so that a caller without one learns nothing.
func (s *Server) surveyRequest(r *http.Request) (buyer.Buyer, buyer.SurveyID, error) {
	b, err := s.authBuyer(r)
	if err != nil {
		return b, 0, err
	}
	id, err := buyer.ParseSurveyID(r.PathValue("surveyId"))
	return b, id, err
}

func (s *Server) handleLaunchSurveyAdjustment(w http.ResponseWriter, r *http.Request) {
	b, survey, err := s.surveyRequest(r)
	if err == nil {
		_, err = s.Buyers.OwnedSurvey(r.Context(), b, survey)
	}
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	s.launch(w, r, b, survey)
}

func (s *Server) handleLaunchAdjustment(w http.ResponseWriter, r *http.Request) {
	b, err := s.authBuyer(r)
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	s.launch(w, r, b, 0)
}

// launch reads the mode and the list and launches the process.
func (s *Server) launch(w http.ResponseWriter, r *http.Request, b buyer.Buyer, survey buyer.SurveyID) {
	q := r.URL.Query()
	mode, desired, err := buyer.ParseMode(q.Get("operationType"), q.Get("reconStatus"))
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAdjustmentBody)
	items, err := buyer.DecodeItems(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = trueup.Errorf(trueup.ETOOLARGE, "the body is over the limit of %d bytes; split the list into several processes", mbe.Limit)
		} else if trueup.ErrorKind(err) == trueup.EINTERNAL {
			err = trueup.Errorf(trueup.EINVALID, "the body could not be read (%v); send it again", err)
		}
		s.writeBuyerError(w, r, err)
		return
	}
	adj, err := s.Buyers.Launch(r.Context(), buyer.LaunchParams{Buyer: b, Survey: survey, Mode: mode, Desired: desired, IsAPI: true, Items: items})
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/buyers/v2/surveys/%d/adjustments/%s", adj.Surveys[0], adj.ID))
	writeJSON(w, http.StatusAccepted, buyerAdjustment(adj))
}

func buyerAdjustment(a buyer.Adjustment) BuyerAdjustment {
	if a.Summary.SummaryPerSurvey == nil {
		a.Summary.SummaryPerSurvey = []buyer.SurveySummary{}
	}
	return BuyerAdjustment{AdjustmentID: a.ID, Status: a.Status, StatusDescription: a.Status.Description(), Summary: a.Summary}
}

func (s *Server) handleSurveyAdjustments(w http.ResponseWriter, r *http.Request) {
	b, survey, err := s.surveyRequest(r)
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	body, err := s.Buyers.RenderSurveyAdjustments(r.Context(), b, survey, func(refs []buyer.AdjustmentRef) []byte {
		return appendAdjustmentRefs(make([]byte, 0, 96*len(refs)+3), refs)
	})
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// appendAdjustmentRefs appends refs to b as the JSON array of
// BuyerAdjustmentRef that writeJSON would write (trailing newline
// included), several times faster: a survey's list may hold ten thousand
// processes.
func appendAdjustmentRefs(b []byte, refs []buyer.AdjustmentRef) []byte {
	b = append(b, '[')
	for i, r := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"adjustment_id":`...)
		b = strconv.AppendQuote(b, string(r.ID))
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		b = append(b, `,"statusDescription":`...)
		b = strconv.AppendQuote(b, r.Status.Description())
		b = append(b, '}')
	}
	return append(b, ']', '\n')
}

func (s *Server) handleSurveyAdjustment(w http.ResponseWriter, r *http.Request) {
	b, survey, err := s.surveyRequest(r)
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	adj, err := s.Buyers.SurveyAdjustment(r.Context(), b, survey, r.PathValue("adjustmentId"))
	if err != nil {
		s.writeBuyerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, buyerAdjustment(adj))
}
