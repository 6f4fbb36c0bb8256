// Package risk is trueup's multiple-order check (seed 003): the risk list
// of hashed mobile numbers that operators import, the API clients that may
// query it, and the check itself (argument rules, the look-back window, the
// client's quota and rate limit). Storage comes in through the Store
// interface; the HTTP handler and the CLI call the Service.
package risk

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Source is where a risk record comes from.
type Source uint8

// The sources of seed 003.
const (
	SourceSeat  Source = 1 // a call with a service agent; records carry a duration
	SourceVoice Source = 2
	SourceSMS   Source = 3
)

// String returns the source as the API writes it: seat, voice or sms.
func (s Source) String() string {
	switch s {
	case SourceSeat:
		return "seat"
	case SourceVoice:
		return "voice"
	case SourceSMS:
		return "sms"
	}
	return "source(" + strconv.Itoa(int(s)) + ")"
}

// ParseSource returns the source named s (seat, voice or sms, exactly as
// written) and whether s names one.
func ParseSource(s string) (Source, bool) {
	switch s {
	case "seat":
		return SourceSeat, true
	case "voice":
		return SourceVoice, true
	case "sms":
		return SourceSMS, true
	}
	return 0, false
}

// Day is a calendar day counted from 1970-01-01 (day 0). Stored as an
// integer, it makes the look-back window a plain range.
type Day int32

// DateLayout is how days are written: YYYY-MM-DD.
const DateLayout = "2006-01-02"

// DayOf returns the calendar day of t in t's location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDay parses a day written YYYY-MM-DD (exactly ten characters, a real
// calendar date from 1970-01-01 to 9999-12-31). It returns ok false
// otherwise.
func ParseDay(s string) (day Day, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	for i := 0; i < 10; i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			return 0, false
		}
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[5]-'0')*10 + int(s[6]-'0')
	d := int(s[8]-'0')*10 + int(s[9]-'0')
	if y < 1970 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return Day(time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// String returns the day written YYYY-MM-DD.
func (d Day) String() string {
	return string(d.AppendText(make([]byte, 0, 10)))
}

// AppendText appends the day written YYYY-MM-DD to b and returns the
// extended slice.
func (d Day) AppendText(b []byte) []byte {
	return time.Unix(int64(d)*86400, 0).UTC().AppendFormat(b, DateLayout)
}

// MD5 is the MD5 digest of a mobile number with its country code, the key
// of the risk list.
type MD5 [16]byte

// HashMobile returns the MD5 of number exactly as written: seed 003's
// md5(915586685366) is HashMobile("915586685366").
func HashMobile(number string) MD5 { return md5.Sum([]byte(number)) }

// ParseMD5 parses 32 hexadecimal digits, in either case. It returns ok
// false for anything else.
func ParseMD5(s string) (m MD5, ok bool) {
	if len(s) != 32 {
		return m, false
	}
	for i := 0; i < 16; i++ {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return MD5{}, false
		}
		m[i] = hi<<4 | lo
	}
	return m, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String returns the digest as 32 lowercase hexadecimal digits.
func (m MD5) String() string { return hex.EncodeToString(m[:]) }

// Level is a record's risk level, 1 to 5.
type Level uint8

// The levels of seed 003.
const (
	LevelWhitelist          Level = 1
	LevelSecondaryWhitelist Level = 2
	LevelNormal             Level = 3
	LevelGreylist           Level = 4
	LevelBlacklist          Level = 5
)

// Record is one entry of the risk list.
type Record struct {
	Mobile MD5
	Day    Day
	Source Source
	// CID is the customer id, as imported.
	CID string
	// Duration is the connection time to the service agent in whole
	// seconds, meaningful when HasDuration is true. The check answers it
	// for seat records only.
	Duration    int64
	HasDuration bool
	Level       Level
}

// API names a check API a client may be allowed to call.
type API string

// APIMultipleOrder is the multiple-order check of seed 003.
const APIMultipleOrder API = "multiple_order"

// APIs lists every API a client may be granted.
var APIs = []API{APIMultipleOrder}

// ClientID is an API client's id, sent as X-DF-API-ID.
type ClientID string

// Client is an API client of the risk check. Only a hash of its secret is
// stored.
type Client struct {
	ID         ClientID `json:"apiId"`
	Name       string   `json:"name"`
	SecretHash string   `json:"-"`
	APIs       []API    `json:"apis"`
	// TimeZone is the IANA zone whose current date is the default date of
	// the client's checks.
	TimeZone string `json:"timeZone"`
	// WindowDays is the look-back window: a check of date D sees the
	// records of days D-WindowDays+1 through D.
	WindowDays int `json:"windowDays"`
	// Quota is how many checks the client may make in all; 0 is unlimited.
	Quota int64 `json:"quota"`
	// QuotaUsed is how many checks have been granted so far (including
	// those a running server has taken in advance and not yet served).
	QuotaUsed int64 `json:"quotaUsed"`
	// Rate is how many checks the client may make per second; 0 is
	// unlimited.
	Rate      int64      `json:"rate"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	RotatedAt *time.Time `json:"rotatedAt,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// Allows reports whether the client may call api.
func (c Client) Allows(api API) bool {
	for _, a := range c.APIs {
		if a == api {
			return true
		}
	}
	return false
}

// Location returns the client's time zone, or UTC when it is unknown.
func (c Client) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return time.UTC
	}
	return loc
}

// Query selects the records of one mobile number between two days, both
// included, optionally of one source (0 for any).
type Query struct {
	Mobile   MD5
	From, To Day
	Source   Source
}

// String describes the query for logs.
func (q Query) String() string {
	return fmt.Sprintf("%s %s..%s source %d", q.Mobile, q.From, q.To, q.Source)
}

// ClientView is a client as operators see it (CLI and admin API): its
// state at a time, the quota left when it has one and, once after create or
// rotate, its secret.
type ClientView struct {
	Client
	APISecret      string `json:"apiSecret,omitempty"`
	State          string `json:"state"`
	QuotaRemaining *int64 `json:"quotaRemaining,omitempty"`
}

// NewClientView returns c's view at now: state revoked, expired or active,
// with secret when one is given.
func NewClientView(c Client, secret string, now time.Time) ClientView {
	v := ClientView{Client: c, APISecret: secret, State: "active"}
	switch {
	case c.RevokedAt != nil:
		v.State = "revoked"
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		v.State = "expired"
	}
	if c.Quota > 0 {
		left := max(0, c.Quota-c.QuotaUsed)
		v.QuotaRemaining = &left
	}
	return v
}
