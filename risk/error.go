package risk

import "fmt"

// The status words of seed 003's answers.
const (
	StatusOK                = "OK"
	StatusInvalidArgument   = "INVALID_ARGUMENT"    // 400
	StatusUnauthorized      = "UNAUTHORIZED"        // 401
	StatusKeyExpired        = "KEY_EXPIRED"         // 401
	StatusNoPermission      = "NO_PERMISSION"       // 403
	StatusOutOfQuota        = "OUT_OF_QUOTA"        // 403
	StatusRateLimitExceeded = "RATE_LIMIT_EXCEEDED" // 403
	StatusNotFound          = "NOT_FOUND"           // 404
	StatusInternalError     = "INTERNAL_ERROR"      // 500
)

// Error is a refused check: one of seed 003's status words and a reason
// that names what is wrong (for example "argument 'mobile_no': not found").
// Any other error of a check is internal.
type Error struct {
	Status string
	Reason string
}

// Error returns the status and the reason.
func (e *Error) Error() string { return e.Status + ": " + e.Reason }

// Errorf returns an *Error of status with a formatted reason.
func Errorf(status, format string, args ...any) *Error {
	return &Error{Status: status, Reason: fmt.Sprintf(format, args...)}
}

// argError returns an INVALID_ARGUMENT error about the named argument, in
// the seed's form: argument 'NAME': WHAT.
func argError(name, format string, args ...any) *Error {
	return &Error{Status: StatusInvalidArgument, Reason: "argument '" + name + "': " + fmt.Sprintf(format, args...)}
}
