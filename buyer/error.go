package buyer

import (
	"errors"

	"github.com/trueup/trueup"
)

// Codes of the buyer API's error bodies
// ({"ps_api_response_code", "ps_api_response_message"}). 9999 and its
// message are seed 002's; the others are trueup's, documented in the
// OpenAPI document and docs/buyer-adjustments.md.
const (
	// CodeNotAuthorized (401): the access-token is missing or unknown, or
	// the survey is not the buyer's (or does not exist).
	CodeNotAuthorized = 9999
	// CodeInvalidSurveyID (400): the survey id is not a positive integer.
	CodeInvalidSurveyID = 1001
	// CodeInvalidBody (400): the body is not a JSON array of
	// {transaction_id, change_reason} objects.
	CodeInvalidBody = 1002
	// CodeEmptyList (400): the list has no entry.
	CodeEmptyList = 1003
	// CodeInvalidParam (400): operationType or reconStatus is wrong.
	CodeInvalidParam = 1004
	// CodeTooLarge (413): the body or list is over the limit.
	CodeTooLarge = 1005
	// CodeNotFound (404): no such process on the survey.
	CodeNotFound = 1006
	// CodeNothingKnown (400): a launch over several surveys names no
	// transaction of the buyer.
	CodeNothingKnown = 1007
	// CodeConflict (409): the process is not in a state that allows the
	// operation (confirm or cancel a process that is not Pending).
	CodeConflict = 1009
	// CodeInternal (500): trueup's own fault; the x-traceid finds it in
	// the logs.
	CodeInternal = 1500
)

// NotAuthorizedMessage is seed 002's message of code 9999.
const NotAuthorizedMessage = "Not authorized to access survey id"

// ErrNotAuthorized is the answer to a missing or unknown access token and
// to a survey that is not the buyer's: nothing tells them apart.
var ErrNotAuthorized = &trueup.Error{Kind: trueup.EUNAUTHORIZED, Code: CodeNotAuthorized, Message: NotAuthorizedMessage}

// ErrJobLost is wrapped by the error a Store returns when the worker
// applying a process no longer holds its job: another worker has it and
// decides the outcome.
var ErrJobLost = errors.New("adjustment job lost to another worker")
