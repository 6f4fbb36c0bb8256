package trueup

import (
	"errors"
	"fmt"
)

// Error kinds, mapped to HTTP statuses in one place (package http).
const (
	EINVALID      = "invalid"      // the client sent something malformed or out of range
	EUNAUTHORIZED = "unauthorized" // credentials missing, wrong or expired
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	ENOTFOUND     = "not_found"    // no such thing, or not the caller's
	ECONFLICT     = "conflict"     // the thing exists or is in a state that forbids this
	ETOOLARGE     = "too_large"    // a body or file over the configured limit
	ENOTREADY     = "not_ready"    // the thing exists but is still being made
	EMETHOD       = "method"       // the path exists, but not with this method
	ETIMEOUT      = "timeout"      // the client sent its request body too slowly
	ERATELIMIT    = "rate_limit"   // the client called too often; retry later
	EUNAVAILABLE  = "unavailable"  // the server is busy; retry later
	EINTERNAL     = "internal"     // a fault of trueup's; never shown to clients
)

// Numeric codes carried in the `code` field of carrier API error bodies.
// Success is 0. Each code is documented in the OpenAPI document.
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
	CodeConflict       = 40901
	CodeNotReady       = 42501 // the batch is still being processed
	CodeTooLarge       = 41301
	CodeBodyTimeout    = 40801 // the request body did not arrive in time
	CodeRateLimited    = 42901 // too many calls; retry after the Retry-After seconds
	CodeBusy           = 50301 // too many uploads at once; retry after the Retry-After seconds
	CodeInternal       = 50001
)

// Error is trueup's application error: a kind, a numeric code and a message
// meant for the user that says what is wrong and how to fix it. Any other
// error is internal: logged, never shown.
type Error struct {
	Kind    string
	Code    int
	Message string
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind and code with a formatted message.
func Errorf(kind string, code int, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of the first *Error in err's chain, or
// EINTERNAL when there is none. It returns "" for a nil error.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EINTERNAL
}

// ErrorCode returns the numeric code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the user-facing message of the first *Error in err's
// chain, or a generic message for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error; the request was not applied. Retry later or contact the operator with the trace id."
}

// NotFound returns an *Error of kind ENOTFOUND for the named thing.
func NotFound(format string, args ...any) *Error {
	return Errorf(ENOTFOUND, CodeNotFound, format, args...)
}

// CodeBatchFailed is the code of a discrepancy list asked of a batch that
// failed (row errors or an unreadable file).
const CodeBatchFailed = 42201
