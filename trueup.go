// Package trueup holds the domain of the trueup partner reconciliation
// server: partners and their credentials, the platform's ledger, statement
// batches and their discrepancies, and the service interfaces that the
// storage, HTTP and job packages implement or use. It imports no database,
// HTTP or spreadsheet library.
package trueup

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ErrPendingMigrations is returned (wrapped) by a store's readiness check
// when the database answers but has not been migrated to the running
// binary's schema.
var ErrPendingMigrations = errors.New("migrations not current")

// Typed identifiers keep one kind of ID from being passed where another is due.
type (
	CarrierID string
	ClientID  string
	BatchNo   string
)

// Carrier is a partner that resells the platform's packages and settles with
// it every month.
type Carrier struct {
	ID   CarrierID `json:"carrierId"`
	Name string    `json:"name"`
	// UserID is the platform account bound to the carrier; carrier API
	// calls send it in X-User-Id.
	UserID      string    `json:"userId"`
	Whitelisted bool      `json:"whitelisted"`
	TimeZone    string    `json:"timeZone"`
	CreatedAt   time.Time `json:"createdAt"`
}

// Location returns the carrier's configured time zone, used to read Excel
// date cells that carry no zone. It returns UTC when none is configured or the
// name is unknown.
func (c Carrier) Location() *time.Location {
	if c.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Client is an OAuth2 client-credentials pair of a carrier. Only a hash of
// the secret is stored.
type Client struct {
	ID         ClientID   `json:"clientId"`
	CarrierID  CarrierID  `json:"carrierId"`
	SecretHash string     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	RotatedAt  *time.Time `json:"rotatedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

// Token is an issued bearer token. Only a hash of the token is stored.
type Token struct {
	Hash      string
	ClientID  ClientID
	CarrierID CarrierID
	IssuedAt  time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Cycle is a monthly billing cycle, written yyyy-mm.
type Cycle struct {
	Year  int
	Month time.Month
}

// ParseCycle parses a billing cycle written yyyy-mm (for example 2025-09).
// It returns an *Error of kind EINVALID naming the expected format otherwise.
func ParseCycle(s string) (Cycle, error) {
	bad := func() error {
		return Errorf(EINVALID, "billingCycle %q is not a billing cycle; use yyyy-mm, for example 2025-09", s)
	}
	if len(s) != 7 || s[4] != '-' {
		return Cycle{}, bad()
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:])
	if err1 != nil || err2 != nil || y < 1970 || m < 1 || m > 12 || strings.ContainsAny(s, "+ ") {
		return Cycle{}, bad()
	}
	return Cycle{Year: y, Month: time.Month(m)}, nil
}

// String returns the cycle as yyyy-mm.
func (c Cycle) String() string { return fmt.Sprintf("%04d-%02d", c.Year, int(c.Month)) }

// Start returns the first instant of the cycle in loc.
func (c Cycle) Start(loc *time.Location) time.Time {
	return time.Date(c.Year, c.Month, 1, 0, 0, 0, 0, loc)
}

// End returns the first instant after the cycle in loc.
func (c Cycle) End(loc *time.Location) time.Time { return c.Start(loc).AddDate(0, 1, 0) }

// CycleOf returns the cycle that contains t, in t's location.
func CycleOf(t time.Time) Cycle { return Cycle{Year: t.Year(), Month: t.Month()} }

// Prev returns the cycle before c.
func (c Cycle) Prev() Cycle {
	if c.Month == time.January {
		return Cycle{Year: c.Year - 1, Month: time.December}
	}
	return Cycle{Year: c.Year, Month: c.Month - 1}
}

// Before reports whether c is strictly before the month that contains t.
func (c Cycle) Before(t time.Time) bool {
	return c.Year < t.Year() || (c.Year == t.Year() && c.Month < t.Month())
}

// Order is one settlement order of the platform's ledger: what the platform
// recorded of a carrier's sale of a package.
type Order struct {
	CarrierID      CarrierID       `json:"carrierId"`
	CarrierOrderID string          `json:"carrierOrderId"`
	BillingCycle   string          `json:"billingCycle"`
	KdOrderID      string          `json:"kdOrderId"`
	CarrierUserID  string          `json:"carrierUserId"`
	KdUserID       string          `json:"kdUserId"`
	UserStatus     string          `json:"userStatus"`
	SkuCode        string          `json:"skuCode"`
	SkuPrice       decimal.Decimal `json:"skuPrice"`
	KdPackageID    string          `json:"kdPackageId"`
	KdActiveTime   time.Time       `json:"kdActiveTime"`
	KdEndTime      time.Time       `json:"kdEndTime"`
	KdOrderTime    time.Time       `json:"kdOrderTime"`
	KdSaleTotal    decimal.Decimal `json:"kdSaleTotal"`
	Channel        string          `json:"channel"`
}

// TimeLayout is how trueup writes instants: RFC 3339 in UTC with
// milliseconds, as the seeds' examples do (2025-10-27T11:47:46.977Z).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime returns t in UTC written with TimeLayout, or "" for the zero time.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}
