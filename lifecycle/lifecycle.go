// Package lifecycle records carriers' package notices (seed 001): a user's
// package expired or entered the reservation period. It checks that the
// carrier is whitelisted, validates the notice and hands it to a Store that
// applies it at most once: each distinct change of a package's state is one
// event, the package's state is the latest notice, and a notice that repeats
// the current state changes nothing. The user's status, which the next
// reconciliation reports as userStatus, follows the latest change.
//
// See docs/package-lifecycle.md for the rules and the status values.
package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trueup/trueup"
)

// Type is the kind of a package notice, seed 001's field type.
type Type int

// The notice types. Seed 001's example sends 1 and its range names 2; both
// are accepted.
const (
	// Expired says the user's package expired.
	Expired Type = 1
	// Reservation says the user's package entered the reservation period.
	Reservation Type = 2
)

// Valid reports whether t is Expired or Reservation.
func (t Type) Valid() bool { return t == Expired || t == Reservation }

// String returns the type's meaning: "expired", "reservation period", or
// "none" for 0 (no earlier notice).
func (t Type) String() string {
	switch t {
	case 0:
		return "none"
	case Expired:
		return "expired"
	case Reservation:
		return "reservation period"
	}
	return fmt.Sprintf("type %d", int(t))
}

// The user statuses trueup keeps in the ledger (carrier_users.status) and
// reports as userStatus in discrepancy lists.
const (
	// StatusActive is the status of a user no notice has changed: the
	// default of an imported user.
	StatusActive = "1"
	// StatusReservation is the status after a Reservation notice.
	StatusReservation = "2"
	// StatusExpired is the status after an Expired notice.
	StatusExpired = "3"
)

// UserStatus returns the user status a notice of type t sets: StatusExpired
// for Expired, StatusReservation for Reservation, and "" otherwise.
func (t Type) UserStatus() string {
	switch t {
	case Expired:
		return StatusExpired
	case Reservation:
		return StatusReservation
	}
	return ""
}

// MaxIDLength is the longest carrierUserId or packageId accepted, in bytes.
const MaxIDLength = 128

// Notice is one package notice as the store applies it.
type Notice struct {
	CarrierID     trueup.CarrierID
	CarrierUserID string
	PackageID     string
	Type          Type
	// TraceID is the x-traceid of the call, kept with the event.
	TraceID string
	// At is when the notice was received, in UTC.
	At time.Time
}

// Event is one recorded change of a package's state.
type Event struct {
	// ID orders the events: a later change has a larger ID.
	ID            int64            `json:"id"`
	CarrierID     trueup.CarrierID `json:"carrierId"`
	CarrierUserID string           `json:"carrierUserId"`
	PackageID     string           `json:"packageId"`
	// Type is the notice's type, the package's state from this event on.
	Type Type `json:"type"`
	// PreviousType is the package's state before, 0 for its first notice.
	PreviousType Type `json:"previousType"`
	// UserStatus is the user's status set by the event;
	// PreviousUserStatus the one it replaced.
	UserStatus         string    `json:"userStatus"`
	PreviousUserStatus string    `json:"previousUserStatus"`
	TraceID            string    `json:"traceId"`
	CreatedAt          time.Time `json:"createdAt"`
}

// PackageState is the current state of one notified package.
type PackageState struct {
	CarrierID     trueup.CarrierID `json:"carrierId"`
	CarrierUserID string           `json:"carrierUserId"`
	PackageID     string           `json:"packageId"`
	Type          Type             `json:"type"`
	// EventID is the event that set the state.
	EventID   int64     `json:"eventId"`
	ChangedAt time.Time `json:"changedAt"`
}

// Outcome is what applying a notice did.
type Outcome struct {
	// Changed is false when the notice repeated the package's current
	// state: nothing was recorded.
	Changed bool
	// Event is the recorded event when Changed is true.
	Event Event
}

// EventFilter selects events of a carrier.
type EventFilter struct {
	CarrierID trueup.CarrierID
	// CarrierUserID, when set, keeps the events of that user only.
	CarrierUserID string
	// Limit is the most events returned; 0 or less returns all.
	Limit int
}

// Store is the storage the service needs.
type Store interface {
	// ApplyPackageNotice applies n in one transaction and returns what it
	// did. A user or package that the carrier's ledger does not hold is an
	// ENOTFOUND error.
	ApplyPackageNotice(ctx context.Context, n Notice) (Outcome, error)
}

// EventLog reads the package events recorded; sqlstore.DB implements it.
type EventLog interface {
	// PackageEvents returns the events f selects, newest first.
	PackageEvents(ctx context.Context, f EventFilter) ([]Event, error)
}

// Service checks and records package notices.
type Service struct {
	Store Store
	// Log reads the events recorded, for Events.
	Log EventLog
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
}

// Events returns the package events f selects, newest first.
func (s *Service) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	if s.Log == nil {
		return nil, fmt.Errorf("lifecycle: no event log")
	}
	return s.Log.PackageEvents(ctx, f)
}

// New returns a Service over store with the real clock.
func New(store Store) *Service { return &Service{Store: store, Clock: trueup.SystemClock{}} }

// NotifyParams are the inputs of Notify.
type NotifyParams struct {
	// Carrier is the authenticated caller.
	Carrier       trueup.Carrier
	CarrierUserID string
	Type          Type
	PackageID     string
	TraceID       string
}

// CheckWhitelisted returns nil when the carrier may send package notices,
// and an EFORBIDDEN error with ReasonNotWhitelisted otherwise.
func CheckWhitelisted(c trueup.Carrier) error {
	if c.Whitelisted {
		return nil
	}
	return trueup.Reasonf(trueup.EFORBIDDEN, ReasonNotWhitelisted,
		"this carrier is not whitelisted for the package notice API (notifyPackageExpire); ask the platform's operator to add it to the whitelist")
}

// Validate checks a notice's fields in seed order (carrierUserId, type,
// packageId) and returns an EINVALID error naming the first bad one.
func Validate(carrierUserID string, t Type, packageID string) error {
	if err := checkID("carrierUserId", carrierUserID, "the carrier's user id of the subscriber, as in the ledger's orders"); err != nil {
		return err
	}
	if !t.Valid() {
		return trueup.Errorf(trueup.EINVALID,
			"field type is %d, which is not a notice type; use 1 (package expired) or 2 (entered the reservation period)", int(t))
	}
	return checkID("packageId", packageID, "the package id of one of the user's orders (the ledger's kdPackageId)")
}

func checkID(field, v, hint string) error {
	problem := ""
	switch {
	case v == "":
		problem = "is empty"
	case len(v) > MaxIDLength:
		problem = fmt.Sprintf("is %d bytes long, over the limit of %d", len(v), MaxIDLength)
	case !utf8.ValidString(v):
		problem = "is not valid UTF-8"
	case strings.TrimSpace(v) == "":
		problem = "is blank"
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		problem = "contains a control character"
	default:
		return nil
	}
	return trueup.Errorf(trueup.EINVALID, "field %s %s; send %s", field, problem, hint)
}

// Notify checks that the carrier is whitelisted and the notice is valid,
// then applies it. It returns the store's outcome; an EFORBIDDEN error
// (ReasonNotWhitelisted) for a carrier not on the whitelist, an EINVALID error
// naming a bad field, and an ENOTFOUND error when the
// carrier's ledger has no such user or package (another carrier's user is
// not found too).
func (s *Service) Notify(ctx context.Context, p NotifyParams) (Outcome, error) {
	if err := CheckWhitelisted(p.Carrier); err != nil {
		return Outcome{}, err
	}
	if err := Validate(p.CarrierUserID, p.Type, p.PackageID); err != nil {
		return Outcome{}, err
	}
	var clock trueup.Clock = trueup.SystemClock{}
	if s.Clock != nil {
		clock = s.Clock
	}
	out, err := s.Store.ApplyPackageNotice(ctx, Notice{
		CarrierID: p.Carrier.ID, CarrierUserID: p.CarrierUserID, PackageID: p.PackageID, Type: p.Type,
		TraceID: p.TraceID, At: clock.Now().UTC(),
	})
	if err != nil {
		return Outcome{}, fmt.Errorf("apply package notice: %w", err)
	}
	return out, nil
}

// ReasonNotWhitelisted is the reason of the EFORBIDDEN error for a carrier
// that is not whitelisted for package notices.
const ReasonNotWhitelisted trueup.Reason = "not_whitelisted"
