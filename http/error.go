package http

import (
	"errors"
	"net/http"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/lifecycle"
)

// Numeric codes carried in the `code` field of the carrier API's error
// bodies (seeds 000, 001, 004 and the token endpoint). Success is 0. Each
// code is documented in the OpenAPI document.
const (
	CodeOK             = 0
	CodeInvalidParam   = 40001 // a parameter or field is missing or malformed
	CodeInvalidDate    = 40002 // X-Date is missing or not yyyyMMdd'T'HHmmss'Z'
	CodeInvalidFile    = 40003 // the uploaded file is not a readable statement
	CodeUnauthorized   = 40101 // Authorization missing or not a Bearer token
	CodeTokenInvalid   = 40102 // token unknown or revoked
	CodeTokenExpired   = 40103 // token past its expiry
	CodeDateWindow     = 40104 // X-Date more than 15 minutes old or in the future
	CodeBadCredentials = 40105 // client_id/client_secret wrong, or the client revoked
	CodeUserMissing    = 40106 // X-User-Id missing
	CodeUserMismatch   = 40301 // X-User-Id is not the account bound to the token
	CodeNotWhitelisted = 40302 // the carrier is not whitelisted for this API
	CodeNotFound       = 40401
	CodeMethod         = 40501 // the path is served, not with this method
	CodeBodyTimeout    = 40801 // the request body did not arrive in time
	CodeConflict       = 40901
	CodeTooLarge       = 41301
	CodeBatchFailed    = 42201 // discrepancies asked of a batch that failed
	CodeNotReady       = 42501 // the batch is still being processed
	CodeRateLimited    = 42901 // too many calls; retry after the Retry-After seconds
	CodeInternal       = 50001
	CodeBusy           = 50301 // too many uploads at once; retry after the Retry-After seconds
)

// errorStatus maps an error kind to its HTTP status in the carrier and
// buyer APIs.
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

// carrierCodes is the carrier API's one table of error codes: a reason's
// code where the API documents one finer than the kind, else the kind's.
var carrierCodes = struct {
	reasons map[trueup.Reason]int
	kinds   map[string]int
}{
	reasons: map[trueup.Reason]int{
		auth.ReasonDateFormat:          CodeInvalidDate,
		batch.ReasonBadFile:            CodeInvalidFile,
		auth.ReasonTokenInvalid:        CodeTokenInvalid,
		auth.ReasonTokenExpired:        CodeTokenExpired,
		auth.ReasonDateWindow:          CodeDateWindow,
		auth.ReasonBadCredentials:      CodeBadCredentials,
		auth.ReasonUserMissing:         CodeUserMissing,
		auth.ReasonUserMismatch:        CodeUserMismatch,
		lifecycle.ReasonNotWhitelisted: CodeNotWhitelisted,
		batch.ReasonFailed:             CodeBatchFailed,
		batch.ReasonCycleClosed:        CodeConflict,
	},
	kinds: map[string]int{
		trueup.EINVALID:      CodeInvalidParam,
		trueup.EUNAUTHORIZED: CodeUnauthorized,
		trueup.EFORBIDDEN:    CodeUserMismatch,
		trueup.ENOTFOUND:     CodeNotFound,
		trueup.ECONFLICT:     CodeConflict,
		trueup.ETOOLARGE:     CodeTooLarge,
		trueup.ENOTREADY:     CodeNotReady,
		trueup.EMETHOD:       CodeMethod,
		trueup.ETIMEOUT:      CodeBodyTimeout,
		trueup.ERATELIMIT:    CodeRateLimited,
		trueup.EUNAVAILABLE:  CodeBusy,
		trueup.EINTERNAL:     CodeInternal,
	},
}

// carrierError returns the HTTP status and the carrier API's code of err:
// the status by its kind, the code by its reason when the table has one,
// else by its kind.
func carrierError(err error) (status, code int) {
	kind := trueup.ErrorKind(err)
	status, ok := errorStatus[kind]
	if !ok {
		return http.StatusInternalServerError, CodeInternal
	}
	if code, ok := carrierCodes.reasons[trueup.ErrorReason(err)]; ok {
		return status, code
	}
	if code, ok := carrierCodes.kinds[kind]; ok {
		return status, code
	}
	return status, CodeInternal
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
	status, code := carrierError(err)
	writeJSON(w, status, ErrorBody{Code: code, Msg: trueup.ErrorMessage(err)})
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
		return trueup.Errorf(trueup.ETOOLARGE, "request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
	}
	return trueup.Errorf(trueup.EINVALID, "request body could not be read (%v); %s", err, hint)
}
