package risk

import (
	"fmt"

	"github.com/trueup/trueup"
)

// Reasons of refused checks, finer than their kinds. The risk API's edge
// maps kinds and reasons to seed 003's status words. A refused check is an
// *trueup.Error whose message names what is wrong (for example "argument
// 'mobile_no': not found"); any other error of a check is internal.
//
// The kinds are EUNAUTHORIZED (a missing or unknown key, or with
// ReasonKeyExpired an expired one), EFORBIDDEN (the key may not use the
// API, or with ReasonOutOfQuota has used its quota), ERATELIMIT (over the
// key's calls per second) and EINVALID (a bad argument).
const (
	// ReasonKeyExpired (EUNAUTHORIZED): the API key is past its expiry.
	ReasonKeyExpired trueup.Reason = "key_expired"
	// ReasonOutOfQuota (EFORBIDDEN): the API key has used its quota.
	ReasonOutOfQuota trueup.Reason = "out_of_quota"
)

// argError returns an EINVALID error about the named argument, in the
// seed's form: argument 'NAME': WHAT.
func argError(name, format string, args ...any) *trueup.Error {
	return trueup.Errorf(trueup.EINVALID, "%s", "argument '"+name+"': "+fmt.Sprintf(format, args...))
}
