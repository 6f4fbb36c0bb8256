package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	testclock "github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/sqlite"
	"github.com/trueup/trueup/sqlstore"
)

func TestCheckDate(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 30, 0, 400e6, time.UTC)
	tests := []struct {
		name  string
		value string
		code  string // "": accepted
	}{
		{"now", "20261123T103000Z", ""},
		{"one second old", "20261123T102959Z", ""},
		{"exactly 15 minutes old", "20261123T101500Z", ""},
		{"15 minutes and 1 second old", "20261123T101459Z", wantDateWindow},
		{"one second in the future", "20261123T103001Z", wantDateWindow},
		{"a day old", "20261122T103000Z", wantDateWindow},
		{"missing", "", wantInvalidDate},
		{"no Z", "20261123T103000", wantInvalidDate},
		{"ISO with dashes", "2026-11-23T10:30:00Z", wantInvalidDate},
		{"month 13", "20261323T103000Z", wantInvalidDate},
		{"lower-case z", "20261123T103000z", wantInvalidDate},
		{"trailing space", "20261123T103000Z ", wantInvalidDate},
		{"offset", "20261123T183000+0800", wantInvalidDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.CheckDate(tt.value, now)
			if got := codeOf(err); got != tt.code {
				t.Errorf("CheckDate(%q) code = %q (%v), want %q", tt.value, got, err, tt.code)
			}
		})
	}
}

// codeOf returns err's kind and reason as "kind/reason", or "" for nil.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return trueup.ErrorKind(err) + "/" + string(trueup.ErrorReason(err))
}

// The kinds and reasons the tests expect, as codeOf writes them.
var (
	wantDateWindow     = trueup.EUNAUTHORIZED + "/" + string(auth.ReasonDateWindow)
	wantInvalidDate    = trueup.EINVALID + "/" + string(auth.ReasonDateFormat)
	wantUnauthorized   = trueup.EUNAUTHORIZED + "/"
	wantTokenInvalid   = trueup.EUNAUTHORIZED + "/" + string(auth.ReasonTokenInvalid)
	wantUserMissing    = trueup.EUNAUTHORIZED + "/" + string(auth.ReasonUserMissing)
	wantUserMismatch   = trueup.EFORBIDDEN + "/" + string(auth.ReasonUserMismatch)
	wantTokenExpired   = trueup.EUNAUTHORIZED + "/" + string(auth.ReasonTokenExpired)
	wantBadCredentials = trueup.EUNAUTHORIZED + "/" + string(auth.ReasonBadCredentials)
)

// fixture is a carrier with credentials on a real SQLite store.
type fixture struct {
	svc   *auth.Service
	clock *testclock.Settable
	cred  auth.Credentials
	token string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := testclock.At(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	db.Clock = clock
	svc := auth.New(db)
	svc.Clock = clock
	cred, err := svc.CreateCarrier(context.Background(), auth.CreateCarrierParams{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.IssueToken(context.Background(), "client_credentials", cred.ClientID, cred.ClientSecret)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || tok.AccessToken == "" {
		t.Fatalf("IssueToken = %+v", tok)
	}
	return &fixture{svc: svc, clock: clock, cred: cred, token: tok.AccessToken}
}

func TestIssueToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name          string
		grant, secret string
		id            trueup.ClientID
		kind          string
	}{
		{"valid", "client_credentials", f.cred.ClientSecret, f.cred.ClientID, ""},
		{"wrong secret", "client_credentials", "nope", f.cred.ClientID, trueup.EUNAUTHORIZED},
		{"unknown client", "client_credentials", f.cred.ClientSecret, "cli_unknown", trueup.EUNAUTHORIZED},
		{"other grant", "password", f.cred.ClientSecret, f.cred.ClientID, trueup.EINVALID},
		{"missing secret", "client_credentials", "", f.cred.ClientID, trueup.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.IssueToken(ctx, tt.grant, tt.id, tt.secret)
			if got := trueup.ErrorKind(err); got != tt.kind {
				t.Errorf("kind = %q (%v), want %q", got, err, tt.kind)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other, err := f.svc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	xdate := func(d time.Duration) string { return f.clock.Now().Add(d).UTC().Format(auth.DateLayout) }
	tests := []struct {
		name    string
		req     auth.Request
		advance time.Duration // clock moves before the call
		code    string
	}{
		{"valid", auth.Request{"Bearer " + f.token, xdate(0), f.cred.UserID}, 0, ""},
		{"scheme lower case", auth.Request{"bearer " + f.token, xdate(0), f.cred.UserID}, 0, ""},
		{"scheme upper case", auth.Request{"BEARER " + f.token, xdate(0), f.cred.UserID}, 0, ""},
		{"missing authorization", auth.Request{"", xdate(0), f.cred.UserID}, 0, wantUnauthorized},
		{"basic scheme", auth.Request{"Basic " + f.token, xdate(0), f.cred.UserID}, 0, wantUnauthorized},
		{"bearer without token", auth.Request{"Bearer ", xdate(0), f.cred.UserID}, 0, wantUnauthorized},
		{"unknown token", auth.Request{"Bearer abc", xdate(0), f.cred.UserID}, 0, wantTokenInvalid},
		{"X-Date exactly 15 minutes old", auth.Request{"Bearer " + f.token, xdate(-15 * time.Minute), f.cred.UserID}, 0, ""},
		{"X-Date 15m1s old", auth.Request{"Bearer " + f.token, xdate(-15*time.Minute - time.Second), f.cred.UserID}, 0, wantDateWindow},
		{"X-Date one second in the future", auth.Request{"Bearer " + f.token, xdate(time.Second), f.cred.UserID}, 0, wantDateWindow},
		{"X-Date malformed", auth.Request{"Bearer " + f.token, "2026-11-23 10:00:00", f.cred.UserID}, 0, wantInvalidDate},
		{"X-Date missing", auth.Request{"Bearer " + f.token, "", f.cred.UserID}, 0, wantInvalidDate},
		{"X-User-Id missing", auth.Request{"Bearer " + f.token, xdate(0), ""}, 0, wantUserMissing},
		{"X-User-Id of another carrier", auth.Request{"Bearer " + f.token, xdate(0), other.UserID}, 0, wantUserMismatch},
		{"token one second before expiry", auth.Request{"Bearer " + f.token, xdate(time.Hour - time.Second), f.cred.UserID}, time.Hour - time.Second, ""},
		{"token at expiry", auth.Request{"Bearer " + f.token, xdate(time.Hour), f.cred.UserID}, time.Hour, wantTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := f.clock.Now()
			f.clock.Set(start.Add(tt.advance))
			defer func() { f.clock.Set(start) }()
			c, err := f.svc.Authenticate(ctx, tt.req)
			if got := codeOf(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			if err == nil && c.ID != f.cred.CarrierID {
				t.Errorf("carrier = %s, want %s", c.ID, f.cred.CarrierID)
			}
			if err != nil && trueup.ErrorMessage(err) == "" {
				t.Errorf("error without a message")
			}
		})
	}
}

func TestRevokedAndRotatedTokens(t *testing.T) {
	ctx := context.Background()
	for _, op := range []string{"revoke", "rotate"} {
		t.Run(op, func(t *testing.T) {
			f := newFixture(t)
			req := auth.Request{"Bearer " + f.token, f.clock.Now().Format(auth.DateLayout), f.cred.UserID}
			if _, err := f.svc.Authenticate(ctx, req); err != nil {
				t.Fatalf("before %s: %v", op, err)
			}
			var newSecret string
			if op == "revoke" {
				if err := f.svc.Store.(interface {
					RevokeClient(context.Context, trueup.ClientID) error
				}).RevokeClient(ctx, f.cred.ClientID); err != nil {
					t.Fatal(err)
				}
			} else {
				c, err := f.svc.RotateClient(ctx, f.cred.ClientID)
				if err != nil {
					t.Fatal(err)
				}
				newSecret = c.ClientSecret
			}
			if _, err := f.svc.Authenticate(ctx, req); codeOf(err) != wantTokenInvalid {
				t.Errorf("token after %s: err = %v, want %q", op, err, wantTokenInvalid)
			}
			if _, err := f.svc.IssueToken(ctx, "client_credentials", f.cred.ClientID, f.cred.ClientSecret); codeOf(err) != wantBadCredentials {
				t.Errorf("old secret after %s: err = %v", op, err)
			}
			if op == "rotate" {
				if _, err := f.svc.IssueToken(ctx, "client_credentials", f.cred.ClientID, newSecret); err != nil {
					t.Errorf("new secret after rotate: %v", err)
				}
			}
		})
	}
}

func TestExpiredTokensDeleted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	db := f.svc.Store.(*sqlstore.DB)
	count := func() int {
		t.Helper()
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	other, err := f.svc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	issue := func(cred auth.Credentials) {
		t.Helper()
		if _, err := f.svc.IssueToken(ctx, "client_credentials", cred.ClientID, cred.ClientSecret); err != nil {
			t.Fatal(err)
		}
	}
	issue(f.cred)
	if got := count(); got != 2 {
		t.Fatalf("tokens = %d, want 2", got)
	}
	// Just expired: kept, so that a call with it is told it expired.
	f.clock.Advance(time.Hour + auth.DefaultSweepEvery)
	issue(other)
	if got := count(); got != 3 {
		t.Errorf("tokens just expired: %d rows, want 3 (kept for auth.KeepExpired)", got)
	}
	req := auth.Request{"Bearer " + f.token, f.clock.Now().Format(auth.DateLayout), f.cred.UserID}
	if _, err := f.svc.Authenticate(ctx, req); codeOf(err) != wantTokenExpired {
		t.Errorf("a token just expired: %v, want %q", err, wantTokenExpired)
	}
	// Expired for over KeepExpired: gone at the next sweep, whoever asks.
	f.clock.Advance(auth.KeepExpired + time.Second)
	issue(other)
	if got := count(); got != 2 {
		t.Errorf("after a sweep: tokens = %d, want 2 (other's: one expired a second ago, one new)", got)
	}
}
