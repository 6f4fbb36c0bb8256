// Package operator holds the people who use the web console: operators
// with a role, their argon2id password hashes, and their sessions. A
// session is a random 256-bit token kept by the browser in a cookie; only
// its SHA-256 is stored. Repeated failed sign-ins slow an account down,
// then lock it for a while.
package operator

import (
	"context"
	"time"

	"github.com/trueup/trueup"
)

// ID names an operator; it is not secret.
type ID string

// Role is what an operator may do in the console.
type Role string

// The roles. A viewer reads, an operator also acts (uploads, confirms,
// cancels), an admin also manages partners, keys and operators. A carrier
// user reads and uploads for its own carrier only.
const (
	RoleViewer   Role = "viewer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
	RoleCarrier  Role = "carrier"
)

// Roles are the valid roles, in the order the console offers them.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin, RoleCarrier}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	switch r {
	case RoleViewer, RoleOperator, RoleAdmin, RoleCarrier:
		return true
	}
	return false
}

// rank orders the staff roles; a carrier user ranks with no staff role.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether an operator of role r may do what needs role
// need. Staff roles are ordered viewer < operator < admin; a carrier user
// is allowed only what needs RoleCarrier, and every staff role is allowed
// that too (staff see every carrier).
func (r Role) Allows(need Role) bool {
	if need == RoleCarrier {
		return r == RoleCarrier || r.rank() > 0
	}
	return r.rank() > 0 && r.rank() >= need.rank()
}

// Operator is a person who signs in to the console.
type Operator struct {
	ID    ID     `json:"operatorId"`
	Email string `json:"email"`
	Role  Role   `json:"role"`
	// CarrierID is the carrier of a carrier user; empty for staff.
	CarrierID    trueup.CarrierID `json:"carrierId,omitempty"`
	PasswordHash string           `json:"-"`
	CreatedAt    time.Time        `json:"createdAt"`
	DisabledAt   *time.Time       `json:"disabledAt,omitempty"`
	// FailedSignIns counts the failed sign-ins since the last good one;
	// LastFailedAt is the latest of them and LockedUntil, when set, the
	// end of a lockout.
	FailedSignIns int        `json:"failedSignIns"`
	LastFailedAt  *time.Time `json:"lastFailedAt,omitempty"`
	LockedUntil   *time.Time `json:"lockedUntil,omitempty"`
}

// Actor returns the operator as the actor of events: "operator:ID".
func (o Operator) Actor() trueup.Actor { return trueup.Actor("operator:" + string(o.ID)) }

// Session is a signed-in browser: the SHA-256 of its cookie's token, its
// operator, and the secret that its forms carry (the CSRF token).
type Session struct {
	TokenHash  string
	OperatorID ID
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	// Flash is a message to show on the next page, then forget.
	Flash string
}

// Store is the storage the service needs. Not-found answers are ENOTFOUND
// *trueup.Errors.
type Store interface {
	// CreateOperator stores a new operator; an email already taken is
	// ECONFLICT.
	CreateOperator(ctx context.Context, o Operator) error
	// Operator returns the operator with the given id.
	Operator(ctx context.Context, id ID) (Operator, error)
	// OperatorByEmail returns the operator with the given (lower-case)
	// email.
	OperatorByEmail(ctx context.Context, email string) (Operator, error)
	// Operators returns every operator, oldest first.
	Operators(ctx context.Context) ([]Operator, error)
	// UpdateOperator applies p to an operator and returns it.
	UpdateOperator(ctx context.Context, p UpdateParams) (Operator, error)
	// RecordSignInFailure adds one failed sign-in to an operator at p.At,
	// and locks it until p.LockUntil when the count reaches p.LockAt, in
	// one statement; it returns the operator after the change.
	RecordSignInFailure(ctx context.Context, p FailureParams) (Operator, error)

	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// SessionByHash returns the session whose token hash is hash, with its
	// operator.
	SessionByHash(ctx context.Context, hash string) (Session, Operator, error)
	// TouchSession sets a session's LastSeenAt.
	TouchSession(ctx context.Context, hash string, at time.Time) error
	// SetSessionFlash sets (or, with "", clears) a session's flash.
	SetSessionFlash(ctx context.Context, hash, flash string) error
	// DeleteSession deletes a session; deleting a missing one is no error.
	DeleteSession(ctx context.Context, hash string) error
	// DeleteOperatorSessions deletes every session of an operator.
	DeleteOperatorSessions(ctx context.Context, id ID) error
	// DeleteExpiredSessions deletes the sessions that expired before t or
	// were last seen before idle, and returns how many.
	DeleteExpiredSessions(ctx context.Context, p ExpireParams) (int64, error)
}

// UpdateParams are the inputs of Store.UpdateOperator: each non-nil field
// is set. ResetFailures clears the failed sign-ins and the lockout.
type UpdateParams struct {
	ID            ID
	Role          *Role
	CarrierID     *trueup.CarrierID
	PasswordHash  *string
	Disabled      *bool
	At            time.Time // the time a disable is recorded at
	ResetFailures bool
}

// FailureParams are the inputs of Store.RecordSignInFailure.
type FailureParams struct {
	ID ID
	At time.Time
	// LockAt is the count of failures from which the account is locked
	// until LockUntil; 0 never locks.
	LockAt    int
	LockUntil time.Time
}

// ExpireParams are the inputs of Store.DeleteExpiredSessions: sessions
// expiring before Now, or last seen before IdleSince, go.
type ExpireParams struct {
	Now       time.Time
	IdleSince time.Time
}
