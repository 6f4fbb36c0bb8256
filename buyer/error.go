package buyer

import (
	"errors"

	"github.com/trueup/trueup"
)

// Reasons of buyer errors, finer than their kinds. The buyer API's edge
// maps each to its documented code; an error without one takes its
// kind's code there.
const (
	// ReasonSurveyID (EINVALID): the survey id is not a positive integer.
	ReasonSurveyID trueup.Reason = "survey_id"
	// ReasonEmptyList (EINVALID): the list has no entry.
	ReasonEmptyList trueup.Reason = "empty_list"
	// ReasonInvalidParam (EINVALID): operationType, reconStatus or another
	// parameter is wrong.
	ReasonInvalidParam trueup.Reason = "invalid_param"
	// ReasonNothingKnown (EINVALID): a launch over several surveys names no
	// transaction of the buyer.
	ReasonNothingKnown trueup.Reason = "nothing_known"
)

// NotAuthorizedMessage is seed 002's message for a missing or unknown
// access token and a survey that is not the buyer's.
const NotAuthorizedMessage = "Not authorized to access survey id"

// ErrNotAuthorized is the answer to a missing or unknown access token and
// to a survey that is not the buyer's: nothing tells them apart.
var ErrNotAuthorized = &trueup.Error{Kind: trueup.EUNAUTHORIZED, Message: NotAuthorizedMessage}

// ErrJobLost is wrapped by the error a Store returns when the worker
// applying a process no longer holds its job: another worker has it and
// decides the outcome.
var ErrJobLost = errors.New("adjustment job lost to another worker")
