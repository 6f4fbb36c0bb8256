package operator_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/sqlstore"
	"github.com/trueup/trueup/storetest"
)

// events keeps the events recorded.
type events struct {
	mu   sync.Mutex
	list []trueup.Event
}

func (e *events) Record(_ context.Context, ev trueup.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	return nil
}

func (e *events) types() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		out = append(out, ev.Type+" "+string(ev.Actor))
	}
	return out
}

// testParams are cheap argon2id costs: the tests check the logic, not the
// cost.
var testParams = operator.Params{Memory: 64, Time: 1, Threads: 1}

func newService(tb testing.TB, db *sqlstore.DB) (*operator.Service, *clock.Settable, *events) {
	tb.Helper()
	c := clock.At(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ev := &events{}
	s := operator.New(db, &auth.Admin{Store: db})
	s.Clock, s.Events, s.Params = c, ev, testParams
	s.SlowAfter, s.MaxFailures, s.Lockout = 2, 4, 10*time.Minute
	return s, c, ev
}

// forEachEngine runs fn, in parallel, on a fresh store of each engine
// (PostgreSQL when TRUEUP_TEST_POSTGRES_URL is set).
func forEachEngine(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, e.Open(t))
		})
	}
}

func TestPasswordHash(t *testing.T) {
	h := operator.HashPassword("correct horse battery", testParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q does not record its parameters", h)
	}
	if h2 := operator.HashPassword("correct horse battery", testParams); h2 == h {
		t.Errorf("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		hash, password string
		want           bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"", "x", false},
		{"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "x", false},
		{strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery", false},
	}
	for _, tt := range tests {
		if got := operator.CheckPassword(tt.hash, tt.password); got != tt.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", tt.hash, tt.password, got, tt.want)
		}
	}
}

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		role, need operator.Role
		want       bool
	}{
		{operator.RoleViewer, operator.RoleViewer, true},
		{operator.RoleViewer, operator.RoleOperator, false},
		{operator.RoleOperator, operator.RoleViewer, true},
		{operator.RoleOperator, operator.RoleAdmin, false},
		{operator.RoleAdmin, operator.RoleAdmin, true},
		{operator.RoleAdmin, operator.RoleCarrier, true},
		{operator.RoleCarrier, operator.RoleCarrier, true},
		{operator.RoleCarrier, operator.RoleViewer, false},
		{"", operator.RoleCarrier, false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.role, tt.need, got, tt.want)
		}
	}
}

func TestCreate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := trueup.WithActor(context.Background(), trueup.ActorCLI)
		s, _, ev := newService(t, db)
		c := storetest.MustCarrier(t, db, "Create Co")
		tests := []struct {
			name string
			p    operator.CreateParams
			kind string
			want string // in the message
		}{
			{"generated", operator.CreateParams{Email: " Ana@Example.com ", Role: operator.RoleAdmin}, "", ""},
			{"chosen", operator.CreateParams{Email: "bo@example.com", Role: operator.RoleViewer, Password: "a long passphrase"}, "", ""},
			{"carrier user", operator.CreateParams{Email: "cy@example.com", Role: operator.RoleCarrier, CarrierID: c.ID}, "", ""},
			{"taken", operator.CreateParams{Email: "ana@example.com", Role: operator.RoleViewer}, trueup.ECONFLICT, "already exists"},
			{"bad email", operator.CreateParams{Email: "ana", Role: operator.RoleViewer}, trueup.EINVALID, "ana@example.com"},
			{"bad role", operator.CreateParams{Email: "x@example.com", Role: "root"}, trueup.EINVALID, "viewer, operator, admin or carrier"},
			{"carrier without id", operator.CreateParams{Email: "x@example.com", Role: operator.RoleCarrier}, trueup.EINVALID, "carrier list"},
			{"unknown carrier", operator.CreateParams{Email: "x@example.com", Role: operator.RoleCarrier, CarrierID: "car_nope"}, trueup.EINVALID, "does not exist"},
			{"staff with carrier", operator.CreateParams{Email: "x@example.com", Role: operator.RoleViewer, CarrierID: c.ID}, trueup.EINVALID, "only a carrier user"},
			{"short password", operator.CreateParams{Email: "x@example.com", Role: operator.RoleViewer, Password: "short"}, trueup.EINVALID, "12 to 128"},
		}
		for _, tt := range tests {
			got, err := s.Create(ctx, tt.p)
			if trueup.ErrorKind(err) != tt.kind || (tt.want != "" && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("%s: err = %v, want kind %q with %q", tt.name, err, tt.kind, tt.want)
				continue
			}
			if err != nil {
				continue
			}
			if got.Email != strings.ToLower(strings.TrimSpace(tt.p.Email)) || got.OperatorID == "" {
				t.Errorf("%s: created %+v", tt.name, got)
			}
			if (got.Password != "") != (tt.p.Password == "") {
				t.Errorf("%s: password %q returned, want it only when generated", tt.name, got.Password)
			}
		}
		if got := ev.types(); len(got) != 3 || got[0] != trueup.EventOperatorChanged+" cli" {
			t.Errorf("events = %v, want 3 %s by cli", got, trueup.EventOperatorChanged)
		}
	})
}

func TestSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s, clk, ev := newService(t, db)
		created, err := s.Create(ctx, operator.CreateParams{Email: "ana@example.com", Role: operator.RoleOperator})
		if err != nil {
			t.Fatal(err)
		}
		pw := created.Password
		in, err := s.SignIn(ctx, operator.SignInParams{Email: "ANA@example.com", Password: pw})
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		if len(in.Token) != 43 || in.Session.TokenHash != trueup.HashSecret(in.Token) || in.Session.CSRFToken == "" {
			t.Errorf("session %+v with token %q", in.Session, in.Token)
		}
		sess, op, err := s.Authenticate(ctx, in.Token)
		if err != nil || op.ID != created.OperatorID || sess.CSRFToken != in.Session.CSRFToken {
			t.Fatalf("Authenticate = %+v, %+v, %v", sess, op, err)
		}
		if !operator.CheckCSRF(sess, in.Session.CSRFToken) || operator.CheckCSRF(sess, "") || operator.CheckCSRF(sess, in.Session.CSRFToken+"x") {
			t.Errorf("CheckCSRF accepts the wrong tokens or refuses the right one")
		}
		if _, _, err := s.Authenticate(ctx, "forged"); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("Authenticate(forged) err = %v, want unauthorized", err)
		}

		// Idle for longer than the idle timeout: the session ends.
		clk.Advance(s.IdleTimeout + time.Minute)
		if _, _, err := s.Authenticate(ctx, in.Token); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("idle session: err = %v, want unauthorized", err)
		}

		// Used every 20 minutes, a session still ends at its TTL.
		in, err = s.SignIn(ctx, operator.SignInParams{Email: "ana@example.com", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		for elapsed := time.Duration(0); elapsed+20*time.Minute < s.SessionTTL; elapsed += 20 * time.Minute {
			clk.Advance(20 * time.Minute)
			if _, _, err := s.Authenticate(ctx, in.Token); err != nil {
				t.Fatalf("after %v: %v", elapsed+20*time.Minute, err)
			}
		}
		clk.Advance(20 * time.Minute)
		if _, _, err := s.Authenticate(ctx, in.Token); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("session past its TTL: err = %v, want unauthorized", err)
		}

		// Sign-out ends the session.
		in, _ = s.SignIn(ctx, operator.SignInParams{Email: "ana@example.com", Password: pw})
		if err := s.SignOut(ctx, in.Token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, in.Token); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("signed-out session: err = %v, want unauthorized", err)
		}

		// Disabling ends the sessions and refuses the sign-in.
		in, _ = s.SignIn(ctx, operator.SignInParams{Email: "ana@example.com", Password: pw})
		if _, err := s.SetDisabled(ctx, created.OperatorID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, in.Token); trueup.ErrorKind(err) != trueup.EUNAUTHORIZED {
			t.Errorf("session of a disabled operator: err = %v, want unauthorized", err)
		}
		if _, err := s.SignIn(ctx, operator.SignInParams{Email: "ana@example.com", Password: pw}); trueup.ErrorReason(err) != operator.ReasonDisabled {
			t.Errorf("disabled sign-in: err = %v, want %s", err, operator.ReasonDisabled)
		}
		var signIns int
		for _, e := range ev.types() {
			if e == trueup.EventSignIn+" operator:"+string(created.OperatorID) {
				signIns++
			}
		}
		if signIns != 4 {
			t.Errorf("events = %v, want 4 sign-ins by operator:%s", ev.types(), created.OperatorID)
		}
	})
}

func TestSignInSlowsThenLocks(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s, clk, ev := newService(t, db) // slow after 2, lock at 4 for 10 min
		created, err := s.Create(ctx, operator.CreateParams{Email: "ana@example.com", Role: operator.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		wrong := operator.SignInParams{Email: "ana@example.com", Password: "not the password"}
		right := operator.SignInParams{Email: "ana@example.com", Password: created.Password}
		steps := []struct {
			name    string
			advance time.Duration
			p       operator.SignInParams
			reason  trueup.Reason
		}{
			{"failure 1", 0, wrong, operator.ReasonBadCredentials},
			{"failure 2", 0, wrong, operator.ReasonBadCredentials},
			{"too soon, even the right password", 0, right, operator.ReasonSlowed},
			{"failure 3 after 1 s", time.Second, wrong, operator.ReasonBadCredentials},
			{"too soon after 1 s", time.Second, wrong, operator.ReasonSlowed},
			{"failure 4 after 2 s: locked", time.Second, wrong, operator.ReasonBadCredentials},
			{"locked, even the right password", 5 * time.Second, right, operator.ReasonLocked},
			{"still locked after 9 min", 9 * time.Minute, right, operator.ReasonLocked},
			{"unlocked after 10 min", time.Minute, right, ""},
			{"counts reset: a failure", 0, wrong, operator.ReasonBadCredentials},
			{"and the right one at once", 0, right, ""},
			{"unknown email", 0, operator.SignInParams{Email: "nobody@example.com", Password: "whatever"}, operator.ReasonBadCredentials},
		}
		for _, st := range steps {
			clk.Advance(st.advance)
			_, err := s.SignIn(ctx, st.p)
			if trueup.ErrorReason(err) != st.reason || (st.reason == "" && err != nil) {
				t.Fatalf("%s: err = %v, want reason %q", st.name, err, st.reason)
			}
			if err != nil && !strings.Contains(err.Error(), ";") {
				t.Errorf("%s: message %q does not say what to do", st.name, err)
			}
		}
		// An admin enables a locked account again.
		for range 4 {
			clk.Advance(time.Minute)
			s.SignIn(ctx, wrong)
		}
		if _, err := s.SignIn(ctx, right); trueup.ErrorReason(err) != operator.ReasonLocked {
			t.Fatalf("after 4 more failures: %v, want locked", err)
		}
		if _, err := s.SetDisabled(ctx, created.OperatorID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SignIn(ctx, right); err != nil {
			t.Errorf("after enable: %v", err)
		}
		var failed int
		for _, e := range ev.types() {
			if strings.HasPrefix(e, trueup.EventSignInFailed+" ") {
				failed++
			}
		}
		if failed != 15 {
			t.Errorf("%d %s events, want 15", failed, trueup.EventSignInFailed)
		}
	})
}
