package auth

import "github.com/trueup/trueup"

// Reasons of the errors this package returns, finer than their kinds. The
// carrier API's edge maps each to its documented code.
const (
	// ReasonDateFormat (EINVALID): X-Date is missing or not
	// yyyyMMdd'T'HHmmss'Z'.
	ReasonDateFormat trueup.Reason = "x_date_format"
	// ReasonDateWindow (EUNAUTHORIZED): X-Date is more than 15 minutes old
	// or in the future.
	ReasonDateWindow trueup.Reason = "x_date_window"
	// ReasonTokenInvalid (EUNAUTHORIZED): the access token is unknown or
	// revoked.
	ReasonTokenInvalid trueup.Reason = "token_invalid"
	// ReasonTokenExpired (EUNAUTHORIZED): the access token is past its
	// expiry.
	ReasonTokenExpired trueup.Reason = "token_expired"
	// ReasonBadCredentials (EUNAUTHORIZED): client_id or client_secret is
	// wrong, or the client was revoked.
	ReasonBadCredentials trueup.Reason = "bad_credentials"
	// ReasonUserMissing (EUNAUTHORIZED): the X-User-Id header is missing.
	ReasonUserMissing trueup.Reason = "user_missing"
	// ReasonUserMismatch (EFORBIDDEN): X-User-Id is not the user bound to
	// the token.
	ReasonUserMismatch trueup.Reason = "user_mismatch"
)
