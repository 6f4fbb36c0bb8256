// Package buyer runs the buyer adjustments of seed 002 (product flow 3): a
// survey buyer reconciles its survey transactions, accepting the completes
// it pays for and rejecting the others. The package holds the domain (buyers,
// surveys, transactions, adjustment processes and their summaries), the
// rules (which transaction a process changes, the reject cap, the
// lifecycle), and the service that launches, applies and expires processes
// through the Store interface that package sqlstore implements.
//
// The buyer types live here rather than in the root package so that the
// whole surface of flow 3 reads in one place; the root package's Error type
// carries every failure.
package buyer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
)

// Typed identifiers keep one kind of ID from being passed where another is
// due.
type (
	// BuyerID identifies a buyer ("buy_" and 20 hex digits).
	BuyerID string
	// SurveyID is a survey's positive integer id, given by the buyer's
	// transaction files.
	SurveyID int64
	// AdjustmentID is a reconciliation process's id, a random (version 4)
	// UUID in its canonical lowercase form.
	AdjustmentID string
)

// Buyer is a partner that buys survey completes and reconciles them.
type Buyer struct {
	ID   BuyerID `json:"buyerId"`
	Name string  `json:"name"`
	// TokenHash is the SHA-256 of the buyer's access token
	// (trueup.HashSecret); the token itself is shown once and never stored.
	TokenHash string `json:"-"`
	// RejectCap is the largest reject percentage a process may leave on
	// any survey it rejects completes of; nil means no cap.
	RejectCap *Percent  `json:"rejectCap"`
	CreatedAt time.Time `json:"createdAt"`
}

// SurveyStatus is the state of a survey, with the buyer platform's codes.
type SurveyStatus int

// Survey statuses. A survey created by a transaction import is Live unless
// the file says otherwise.
const (
	SurveyDraft  SurveyStatus = 11
	SurveyLive   SurveyStatus = 22
	SurveyPaused SurveyStatus = 33
	SurveyClosed SurveyStatus = 44
)

// Valid reports whether s is one of the four survey statuses.
func (s SurveyStatus) Valid() bool {
	return s == SurveyDraft || s == SurveyLive || s == SurveyPaused || s == SurveyClosed
}

// Survey is a buyer's survey. It belongs to the buyer whose transaction
// file first named it.
type Survey struct {
	ID        SurveyID     `json:"surveyId"`
	BuyerID   BuyerID      `json:"buyerId"`
	Status    SurveyStatus `json:"surveyStatus"`
	CreatedAt time.Time    `json:"createdAt"`
	// ListVersion grows with every change of the survey's process list;
	// a list read at a version is current while the version holds.
	ListVersion int64 `json:"-"`
}

// ParseSurveyID parses a survey id written as a positive decimal integer
// (digits only, no sign, at most 18 digits). It returns an *trueup.Error of
// kind EINVALID with ReasonSurveyID otherwise.
func ParseSurveyID(s string) (SurveyID, error) {
	bad := trueup.Reasonf(trueup.EINVALID, ReasonSurveyID,
		"survey id %q is not a positive integer; write the survey's numeric id, for example 1108416", s)
	if s == "" || len(s) > 18 {
		return 0, bad
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, bad
	}
	return SurveyID(n), nil
}

// TxStatus is a transaction's status code (seed 002's desiredStatus uses
// 21 and 33).
type TxStatus int

// The statuses adjustments move transactions between.
const (
	TxComplete             TxStatus = 21 // the respondent completed the survey; the buyer pays for it
	TxReconciliationReject TxStatus = 33 // a complete the buyer rejected in a reconciliation
)

// txStatusNames names the known status codes. Codes 11-15 and 22-29, 32 are
// the platform's own outcomes; 16-20, 30, 31 and 33 are the buyer side's
// ("Buyer_*").
var txStatusNames = map[TxStatus]string{
	11: "PS Drop",
	12: "PS Quota Full",
	13: "PS Termination",
	14: "PS Side In Progress",
	15: "PS Quality",
	16: "Buyer Side In Progress",
	17: "Buyer Quota Full",
	18: "Buyer Termination",
	19: "Buyer Drop",
	20: "Buyer Quality Termination",
	21: "Complete",
	22: "PS Survey Closed Termination",
	23: "PS Survey Paused Termination",
	24: "PS Unopened Quota Termination",
	25: "PS Supplier Allocation Full",
	26: "PS Past Participation Fail",
	27: "PS Supplier Quota Allocation Full",
	28: "PS Invalid Survey",
	29: "PS LOI Threshold Failure",
	30: "Buyer Security (De-Dupe)",
	31: "Buyer Hash Failure",
	32: "PS Grouping Termination",
	33: "Buyer Reconciliation Reject",
}

// Name returns the status's name, or "Unknown" for a code trueup does not
// know (such codes are stored and shown as given).
func (s TxStatus) Name() string {
	if n, ok := txStatusNames[s]; ok {
		return n
	}
	return "Unknown"
}

// BuyerSide reports whether s is one of the buyer side's outcomes
// (Buyer_*: 16-20, 30, 31, 33), the statuses an accepting process may turn
// into Complete.
func (s TxStatus) BuyerSide() bool {
	switch s {
	case 16, 17, 18, 19, 20, 30, 31, 33:
		return true
	}
	return false
}

// KnownTxStatuses returns the known status codes in ascending order.
func KnownTxStatuses() []TxStatus {
	out := make([]TxStatus, 0, len(txStatusNames))
	for s := TxStatus(0); s < 100; s++ {
		if _, ok := txStatusNames[s]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Transaction is one respondent's pass through a buyer's survey.
type Transaction struct {
	BuyerID  BuyerID  `json:"buyerId"`
	ID       string   `json:"transaction_id"`
	SurveyID SurveyID `json:"survey_id"`
	Status   TxStatus `json:"status"`
	// Test marks a transaction made while testing the survey; no process
	// ever changes it and it counts in no survey total.
	Test bool `json:"test"`
	// Invoiced marks a transaction already invoiced; no process changes it.
	Invoiced   bool       `json:"invoiced"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// ChangeReason and AdjustmentID name the last process that changed
	// the transaction's status, and why; empty when none did.
	ChangeReason ChangeReason `json:"change_reason,omitempty"`
	AdjustmentID AdjustmentID `json:"adjustment_id,omitempty"`
}

// MaxTransactionIDLen is the longest transaction id trueup accepts.
const MaxTransactionIDLen = 128

// ChangeReason is why a process changes a transaction.
type ChangeReason string

// The change reasons a buyer may give. Anything else is recorded as
// Respondent Quality.
const (
	ReasonSuspectedFraud      ChangeReason = "Suspected Fraud"
	ReasonRespondentQuality   ChangeReason = "Respondent Quality"
	ReasonGhostCompletes      ChangeReason = "Ghost Completes"
	ReasonClientRejected      ChangeReason = "Client Rejected"
	ReasonDuplicateRespondent ChangeReason = "Duplicate Respondent"
)

var reasons = []ChangeReason{ReasonSuspectedFraud, ReasonRespondentQuality, ReasonGhostCompletes, ReasonClientRejected, ReasonDuplicateRespondent}

// NormalizeReason returns the change reason s names, compared without
// regard to case or surrounding spaces; anything else (an empty s included)
// is Respondent Quality.
func NormalizeReason(s string) ChangeReason {
	s = strings.TrimSpace(s)
	for _, r := range reasons {
		if strings.EqualFold(s, string(r)) {
			return r
		}
	}
	return ReasonRespondentQuality
}

// Item is one entry of a process's list: a transaction id and the reason
// given for it.
type Item struct {
	TransactionID string       `json:"transaction_id"`
	Reason        ChangeReason `json:"change_reason"`
}

// Status is where a reconciliation process stands, numbered as seed 002
// numbers them.
type Status int

// The eight statuses of seed 002.
const (
	StatusPending     Status = 1 // stored, waiting (an operator launch waits for Confirm or Cancel)
	StatusDeclined    Status = 2 // cancelled by the operator before it ran
	StatusInFlight    Status = 3 // queued for a worker
	StatusProcessing  Status = 4 // a worker is applying it
	StatusError       Status = 5 // the apply failed and changed nothing; launch again
	StatusSuccess     Status = 6 // applied
	StatusInterrupted Status = 7 // Pending for more than 30 minutes; launch again
	StatusCapReached  Status = 8 // refused: it would push a survey over the buyer's reject cap
)

// statusDescriptions are seed 002's statusDescription strings.
var statusDescriptions = map[Status]string{
	StatusPending:     "Pending",
	StatusDeclined:    "Declined (User terminated)",
	StatusInFlight:    "Message In Flight",
	StatusProcessing:  "Processing",
	StatusError:       "Error In Processing",
	StatusSuccess:     "Success",
	StatusInterrupted: "Upload Interrupted",
	StatusCapReached:  "Recon Cap Reached",
}

// Description returns seed 002's statusDescription of s.
func (s Status) Description() string {
	if d, ok := statusDescriptions[s]; ok {
		return d
	}
	return "Unknown"
}

// Final reports whether s is an end state: Declined, Error In Processing,
// Success, Upload Interrupted or Recon Cap Reached.
func (s Status) Final() bool {
	switch s {
	case StatusDeclined, StatusError, StatusSuccess, StatusInterrupted, StatusCapReached:
		return true
	}
	return false
}

// Mode is how a process reads its list.
type Mode string

// The two modes.
const (
	// ModeAccept (the default launch): the list is the buyer's accepted
	// completes. Listed transactions become Complete where eligible; the
	// current completes of the process's surveys that are not listed
	// become Buyer Reconciliation Reject.
	ModeAccept Mode = "accept"
	// ModeLive (operationType=LIVE_RECONCILIATION): only the listed
	// transactions change, to the desired status (reconStatus 1 → 21,
	// 2 → 33).
	ModeLive Mode = "live"
)

// OperationLive is the operationType that selects ModeLive.
const OperationLive = "LIVE_RECONCILIATION"

// ParseMode reads a launch's operationType and reconStatus query
// parameters. Without operationType the process is ModeAccept (desired
// status 21) and reconStatus must be absent; with
// operationType=LIVE_RECONCILIATION (any case), reconStatus 1 wants 21 and
// 2 wants 33. Anything else is an EINVALID *trueup.Error with
// ReasonInvalidParam.
func ParseMode(operationType, reconStatus string) (Mode, TxStatus, error) {
	operationType, reconStatus = strings.TrimSpace(operationType), strings.TrimSpace(reconStatus)
	if operationType == "" {
		if reconStatus != "" {
			return "", 0, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam,
				"reconStatus %q needs operationType=%s; send both, or neither to launch an accepting process", reconStatus, OperationLive)
		}
		return ModeAccept, TxComplete, nil
	}
	if !strings.EqualFold(operationType, OperationLive) {
		return "", 0, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam,
			"operationType %q is unknown; use %s with reconStatus 1 (complete) or 2 (reject), or leave it out", operationType, OperationLive)
	}
	switch reconStatus {
	case "1":
		return ModeLive, TxComplete, nil
	case "2":
		return ModeLive, TxReconciliationReject, nil
	}
	return "", 0, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam,
		"reconStatus %q is not 1 (complete the listed transactions) or 2 (reject them); operationType=%s needs one of them", reconStatus, OperationLive)
}

// Adjustment is a reconciliation process.
type Adjustment struct {
	ID      AdjustmentID `json:"adjustment_id"`
	BuyerID BuyerID      `json:"buyerId"`
	// Survey is the survey of a single-survey launch, 0 for a launch over
	// several surveys.
	Survey  SurveyID `json:"surveyId,omitempty"`
	Mode    Mode     `json:"mode"`
	Desired TxStatus `json:"desiredStatus"`
	IsAPI   bool     `json:"isApiUser"`
	Status  Status   `json:"status"`
	// Surveys are the surveys the process touches, ascending.
	Surveys []SurveyID `json:"surveys"`
	Summary Summary    `json:"summary"`
	// Items is how many entries the list has.
	Items int `json:"items"`
	// Failure says why a process ended in Error In Processing; it is
	// shown to operators, never to buyers.
	Failure    string     `json:"failure,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
}

// AdjustmentRef is an entry of a survey's process list.
type AdjustmentRef struct {
	ID     AdjustmentID `json:"adjustment_id"`
	Status Status       `json:"status"`
	// Seq orders processes: a later launch has a greater Seq.
	Seq int64 `json:"-"`
}

// NewAdjustmentID returns a fresh random (version 4) UUID.
func NewAdjustmentID() AdjustmentID {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // rand.Read never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return AdjustmentID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

// ValidAdjustmentID reports whether s is written as a UUID (8-4-4-4-12 hex
// digits, any case).
func ValidAdjustmentID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
