package http

import (
	"errors"
	"net/http"

	"github.com/trueup/trueup"
)

// errorStatus maps an error kind to its HTTP status.
var errorStatus = map[string]int{
	trueup.EINVALID:      http.StatusBadRequest,
	trueup.EUNAUTHORIZED: http.StatusUnauthorized,
	trueup.EFORBIDDEN:    http.StatusForbidden,
	trueup.ENOTFOUND:     http.StatusNotFound,
	trueup.ECONFLICT:     http.StatusConflict,
	trueup.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	trueup.ENOTREADY:     http.StatusConflict,
	trueup.EMETHOD:       http.StatusMethodNotAllowed,
	trueup.ETIMEOUT:      http.StatusRequestTimeout,
	trueup.ERATELIMIT:    http.StatusTooManyRequests,
	trueup.EUNAVAILABLE:  http.StatusServiceUnavailable,
	trueup.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorBody is the carrier API's error body: a non-zero numeric code and a
// message that says what is wrong and how to fix it.
type ErrorBody struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// writeError writes err as the carrier API's error body. Internal errors
// are logged with the trace id and shown as a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := trueup.ErrorKind(err)
	if kind == trueup.EINTERNAL {
		s.Logger.Error("internal error", "trace_id", TraceID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if b, ok := r.Body.(*deadlineBody); ok && !b.done {
		// The rest of the body is not worth waiting for (limits.go).
		w.Header().Set("Connection", "close")
	}
	status, ok := errorStatus[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, ErrorBody{Code: trueup.ErrorCode(err), Msg: trueup.ErrorMessage(err)})
}

// bodyError turns a body-reading error into a client error: too large, too
// slow, or malformed with hint.
func bodyError(err error, hint string) error {
	var te *trueup.Error
	if errors.As(err, &te) { // a body cut off by its deadline (limits.go)
		return te
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return trueup.Errorf(trueup.ETOOLARGE, trueup.CodeTooLarge, "request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
	}
	return trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidParam, "request body could not be read (%v); %s", err, hint)
}
