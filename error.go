package trueup

import (
	"errors"
	"fmt"
)

// Error kinds. Each API family maps them, with the reasons below, to its
// own documented codes and HTTP statuses in one table at its edge (the
// carrier, buyer and risk APIs in package http, the admin API in
// http/admin).
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

// Reason is a stable, machine-readable detail finer than a kind, such as
// "token_expired". The package that produces an error declares its
// reasons; an API's edge maps them to the API's documented codes. Most
// errors have none: their kind says enough.
type Reason string

// Error is trueup's application error: a kind, an optional reason and a
// message meant for the user that says what is wrong and how to fix it.
// Any other error is internal: logged, never shown.
type Error struct {
	Kind    string
	Reason  Reason
	Message string
}

// Error returns the user-facing message.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind string, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Reasonf returns an *Error of the given kind and reason with a formatted
// message.
func Reasonf(kind string, reason Reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
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

// ErrorReason returns the reason of the first *Error in err's chain, or ""
// when there is none or it has no reason.
func ErrorReason(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
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
	return Errorf(ENOTFOUND, format, args...)
}
