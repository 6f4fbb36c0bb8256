package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/sqlstore"
)

// runLifecycle runs the package lifecycle storage tests.
func runLifecycle(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *sqlstore.DB)
	}{
		{"LifecycleTransitions", testLifecycleTransitions},
		{"LifecycleNotFound", testLifecycleNotFound},
		{"LifecyclePackagesOfOneUser", testLifecyclePackagesOfOneUser},
		{"LifecycleEventsFilter", testLifecycleEventsFilter},
		{"LifecycleReimportKeepsStatus", testLifecycleReimportKeepsStatus},
		{"LifecycleConcurrent", testLifecycleConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// lifecycleLedger stores orders 1 and 2 (users u1 and u2, package p1) and
// order 3 (user u1, package p2) for a new carrier named name.
func lifecycleLedger(tb testing.TB, db *sqlstore.DB, name string) trueup.Carrier {
	tb.Helper()
	c := MustCarrier(tb, db, name)
	o3 := Order("3", "2025-09")
	o3.CarrierUserID, o3.KdUserID, o3.KdPackageID = "u1", "ku1", "p2"
	importOrders(tb, db, c.ID, Order("1", "2025-09"), Order("2", "2025-09"), o3)
	return c
}

// userStatus returns the status the ledger's order reads (EachOrder, and
// OrdersByID, which the statement check uses) report for the user's
// orders, failing when they disagree.
func userStatus(tb testing.TB, db *sqlstore.DB, c trueup.CarrierID, user string) string {
	tb.Helper()
	status := ""
	var ids []string
	for _, o := range collect(tb, db, c, "2025-09") {
		if o.CarrierUserID != user {
			continue
		}
		if status != "" && o.UserStatus != status {
			tb.Fatalf("orders of user %s report statuses %q and %q", user, status, o.UserStatus)
		}
		status = o.UserStatus
		ids = append(ids, o.CarrierOrderID)
	}
	if status == "" {
		tb.Fatalf("no order of user %s", user)
	}
	err := db.OrdersByID(context.Background(), c, "2025-09", ids, func(o trueup.Order) error {
		if o.UserStatus != status {
			tb.Errorf("OrdersByID reports status %q for order %s, EachOrder %q", o.UserStatus, o.CarrierOrderID, status)
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("OrdersByID: %v", err)
	}
	return status
}

// notices returns db's notice writer, closed when the test ends.
func notices(tb testing.TB, db *sqlstore.DB) *sqlstore.LifecycleStore {
	tb.Helper()
	n := db.LifecycleStore()
	tb.Cleanup(func() { n.Close() })
	return n
}

func apply(tb testing.TB, db *sqlstore.DB, n lifecycle.Notice) lifecycle.Outcome {
	tb.Helper()
	out, err := notices(tb, db).ApplyPackageNotice(context.Background(), n)
	if err != nil {
		tb.Fatalf("ApplyPackageNotice(%+v): %v", n, err)
	}
	return out
}

func events(tb testing.TB, db *sqlstore.DB, f lifecycle.EventFilter) []lifecycle.Event {
	tb.Helper()
	list, err := db.PackageEvents(context.Background(), f)
	if err != nil {
		tb.Fatalf("PackageEvents: %v", err)
	}
	return list
}

func testLifecycleTransitions(t *testing.T, db *sqlstore.DB) {
	c := lifecycleLedger(t, db, "Lifecycle One")
	t0 := time.Date(2025, 10, 2, 8, 0, 0, 0, time.UTC)
	notice := func(typ lifecycle.Type, trace string, at time.Time) lifecycle.Notice {
		return lifecycle.Notice{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p1", Type: typ, TraceID: trace, At: at}
	}
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusActive {
		t.Fatalf("status before any notice = %q, want %q", got, lifecycle.StatusActive)
	}
	steps := []struct {
		typ         lifecycle.Type
		changed     bool
		prev        lifecycle.Type
		status      string
		prevStatus  string
		eventsAfter int
	}{
		{lifecycle.Reservation, true, 0, lifecycle.StatusReservation, lifecycle.StatusActive, 1},
		{lifecycle.Reservation, false, 0, lifecycle.StatusReservation, "", 1}, // a repeat is a no-op
		{lifecycle.Expired, true, lifecycle.Reservation, lifecycle.StatusExpired, lifecycle.StatusReservation, 2},
		{lifecycle.Expired, false, 0, lifecycle.StatusExpired, "", 2},
		{lifecycle.Reservation, true, lifecycle.Expired, lifecycle.StatusReservation, lifecycle.StatusExpired, 3}, // backwards is recorded
	}
	w := notices(t, db)
	for i, s := range steps {
		if i == 2 {
			w.Close() // the statements are prepared again
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		trace := fmt.Sprintf("trace-%d", i)
		out, err := w.ApplyPackageNotice(context.Background(), notice(s.typ, trace, at))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if out.Changed != s.changed {
			t.Fatalf("step %d (%s): Changed = %v, want %v", i, s.typ, out.Changed, s.changed)
		}
		if s.changed {
			e := out.Event
			if e.ID == 0 || e.Type != s.typ || e.PreviousType != s.prev || e.UserStatus != s.status || e.PreviousUserStatus != s.prevStatus ||
				e.TraceID != trace || !e.CreatedAt.Equal(at) || e.CarrierID != c.ID || e.CarrierUserID != "u1" || e.PackageID != "p1" {
				t.Errorf("step %d: event = %+v", i, e)
			}
		} else if out.Event != (lifecycle.Event{}) {
			t.Errorf("step %d: a no-op returned event %+v", i, out.Event)
		}
		if got := userStatus(t, db, c.ID, "u1"); got != s.status {
			t.Errorf("step %d: user status = %q, want %q", i, got, s.status)
		}
		if got := events(t, db, lifecycle.EventFilter{CarrierID: c.ID}); len(got) != s.eventsAfter {
			t.Errorf("step %d: %d events, want %d", i, len(got), s.eventsAfter)
		}
	}
	list := events(t, db, lifecycle.EventFilter{CarrierID: c.ID})
	wantTypes := []lifecycle.Type{lifecycle.Reservation, lifecycle.Expired, lifecycle.Reservation} // newest first
	for i, e := range list {
		if e.Type != wantTypes[i] {
			t.Errorf("event %d type = %v, want %v (newest first)", i, e.Type, wantTypes[i])
		}
		if i > 0 && e.ID >= list[i-1].ID {
			t.Errorf("event ids not descending: %d then %d", list[i-1].ID, e.ID)
		}
		if i+1 < len(list) && e.PreviousType != list[i+1].Type {
			t.Errorf("event %d previousType = %v, want the older event's type %v", i, e.PreviousType, list[i+1].Type)
		}
	}
	if list[0].TraceID != "trace-4" || !list[0].CreatedAt.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("newest event = %+v, want trace-4 at %s", list[0], t0.Add(4*time.Minute))
	}
	states, err := db.PackageStates(context.Background(), c.ID, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].PackageID != "p1" || states[0].Type != lifecycle.Reservation || states[0].EventID != list[0].ID ||
		!states[0].ChangedAt.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("PackageStates = %+v, want p1 in reservation set by event %d", states, list[0].ID)
	}
	// The other user of the same package is untouched.
	if got := userStatus(t, db, c.ID, "u2"); got != lifecycle.StatusActive {
		t.Errorf("user u2 status = %q, want untouched %q", got, lifecycle.StatusActive)
	}
}

func testLifecycleNotFound(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := lifecycleLedger(t, db, "Lifecycle Two")
	other := lifecycleLedger(t, db, "Lifecycle Other")
	importOrders(t, db, other.ID, func() trueup.Order { o := Order("9", "2025-09"); o.CarrierUserID = "only-other"; return o }())
	tests := []struct {
		name          string
		carrier       trueup.CarrierID
		user, pkg     string
		wantInMessage string
	}{
		{"unknown user", c.ID, "nobody", "p1", `carrier user "nobody" is not in your ledger`},
		{"another carrier's user", c.ID, "only-other", "p1", `carrier user "only-other" is not in your ledger`},
		{"package of another user", c.ID, "u2", "p2", `carrier user "u2" has no order with package "p2"`},
		{"unknown package", c.ID, "u1", "p9", `carrier user "u1" has no order with package "p9"`},
		{"package id is a kd order id", c.ID, "u1", "kd1", `has no order with package "kd1"`},
		{"unknown carrier", "car_missing", "u1", "p1", `carrier user "u1" is not in your ledger`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := notices(t, db).ApplyPackageNotice(ctx, lifecycle.Notice{CarrierID: tt.carrier, CarrierUserID: tt.user, PackageID: tt.pkg, Type: lifecycle.Expired})
			if trueup.ErrorKind(err) != trueup.ENOTFOUND {
				t.Fatalf("err = %v (kind %s), want not found", err, trueup.ErrorKind(err))
			}
			if msg := trueup.ErrorMessage(err); !strings.Contains(msg, tt.wantInMessage) {
				t.Errorf("message %q does not contain %q", msg, tt.wantInMessage)
			}
		})
	}
	if got := events(t, db, lifecycle.EventFilter{CarrierID: c.ID}); len(got) != 0 {
		t.Errorf("failed notices recorded %d events", len(got))
	}
	if got := userStatus(t, db, other.ID, "only-other"); got != lifecycle.StatusActive {
		t.Errorf("another carrier's user status = %q after a notice naming it, want %q", got, lifecycle.StatusActive)
	}
}

// testLifecyclePackagesOfOneUser checks that the user's status follows the
// latest change of any of the user's packages, and that each package keeps
// its own state for idempotency.
func testLifecyclePackagesOfOneUser(t *testing.T, db *sqlstore.DB) {
	c := lifecycleLedger(t, db, "Lifecycle Three")
	n := func(pkg string, typ lifecycle.Type) lifecycle.Notice {
		return lifecycle.Notice{CarrierID: c.ID, CarrierUserID: "u1", PackageID: pkg, Type: typ}
	}
	apply(t, db, n("p1", lifecycle.Expired))
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusExpired {
		t.Fatalf("status = %q, want expired", got)
	}
	out := apply(t, db, n("p2", lifecycle.Reservation))
	if !out.Changed || out.Event.PreviousType != 0 || out.Event.PreviousUserStatus != lifecycle.StatusExpired {
		t.Errorf("first notice of p2 = %+v, want a change from no state, user status from expired", out)
	}
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusReservation {
		t.Errorf("status = %q, want reservation (latest change)", got)
	}
	// p1 is still expired: repeating it is a no-op and leaves the user's
	// status to the latest change.
	if out := apply(t, db, n("p1", lifecycle.Expired)); out.Changed {
		t.Errorf("repeat of p1's state changed it: %+v", out)
	}
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusReservation {
		t.Errorf("status after a no-op = %q, want reservation", got)
	}
	states, err := db.PackageStates(context.Background(), c.ID, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].PackageID != "p1" || states[0].Type != lifecycle.Expired || states[1].PackageID != "p2" || states[1].Type != lifecycle.Reservation {
		t.Errorf("PackageStates = %+v, want p1 expired and p2 reservation", states)
	}
	if none, err := db.PackageStates(context.Background(), c.ID, "u2"); err != nil || len(none) != 0 {
		t.Errorf("PackageStates(u2) = %+v, %v; want none", none, err)
	}
}

func testLifecycleEventsFilter(t *testing.T, db *sqlstore.DB) {
	c := lifecycleLedger(t, db, "Lifecycle Four")
	other := lifecycleLedger(t, db, "Lifecycle Four Other")
	for _, n := range []lifecycle.Notice{
		{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p1", Type: lifecycle.Reservation},
		{CarrierID: c.ID, CarrierUserID: "u2", PackageID: "p1", Type: lifecycle.Expired},
		{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p2", Type: lifecycle.Expired},
		{CarrierID: other.ID, CarrierUserID: "u1", PackageID: "p1", Type: lifecycle.Expired},
	} {
		apply(t, db, n)
	}
	all := events(t, db, lifecycle.EventFilter{CarrierID: c.ID})
	if len(all) != 3 || all[0].PackageID != "p2" || all[1].CarrierUserID != "u2" || all[2].PackageID != "p1" {
		t.Errorf("events = %+v, want 3 of the carrier, newest first", all)
	}
	u1 := events(t, db, lifecycle.EventFilter{CarrierID: c.ID, CarrierUserID: "u1"})
	if len(u1) != 2 || u1[0].PackageID != "p2" || u1[1].PackageID != "p1" {
		t.Errorf("events of u1 = %+v, want p2 then p1", u1)
	}
	if got := events(t, db, lifecycle.EventFilter{CarrierID: c.ID, Limit: 1}); len(got) != 1 || got[0].ID != all[0].ID {
		t.Errorf("Limit 1 = %+v, want the newest event", got)
	}
	if got := events(t, db, lifecycle.EventFilter{CarrierID: other.ID}); len(got) != 1 || got[0].CarrierID != other.ID {
		t.Errorf("other carrier's events = %+v", got)
	}
	if got := events(t, db, lifecycle.EventFilter{CarrierID: "car_missing"}); got == nil || len(got) != 0 {
		t.Errorf("events of a missing carrier = %#v, want an empty list", got)
	}
}

// testLifecycleReimportKeepsStatus checks that re-importing the ledger
// without userStatus keeps a notified status, and with one replaces it.
func testLifecycleReimportKeepsStatus(t *testing.T, db *sqlstore.DB) {
	c := lifecycleLedger(t, db, "Lifecycle Five")
	apply(t, db, lifecycle.Notice{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p1", Type: lifecycle.Expired})
	importOrders(t, db, c.ID, Order("1", "2025-09"))
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusExpired {
		t.Errorf("after a re-import without userStatus, status = %q, want expired", got)
	}
	o := Order("1", "2025-09")
	o.UserStatus = lifecycle.StatusActive
	importOrders(t, db, c.ID, o)
	if got := userStatus(t, db, c.ID, "u1"); got != lifecycle.StatusActive {
		t.Errorf("after a re-import with userStatus 1, status = %q, want 1", got)
	}
	// The package's state is the notices', so the same notice is a no-op
	// even though the import reset the user's status.
	if out := apply(t, db, lifecycle.Notice{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p1", Type: lifecycle.Expired}); out.Changed {
		t.Errorf("repeat after re-import changed: %+v", out)
	}
}

// testLifecycleConcurrent sends the same notices from many goroutines at
// once: each distinct change is recorded once and the events of the package
// form one chain.
func testLifecycleConcurrent(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	c := lifecycleLedger(t, db, "Lifecycle Six")
	w := notices(t, db)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			typ := lifecycle.Expired
			if i >= 8 {
				typ = lifecycle.Reservation
			}
			for range 2 {
				if _, err := w.ApplyPackageNotice(ctx, lifecycle.Notice{CarrierID: c.ID, CarrierUserID: "u1", PackageID: "p1", Type: typ}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent notice: %v", err)
	}
	list := events(t, db, lifecycle.EventFilter{CarrierID: c.ID})
	if len(list) == 0 || len(list) > 32 {
		t.Fatalf("%d events, want 1 to 32", len(list))
	}
	for i := range list {
		older := lifecycle.Type(0)
		if i+1 < len(list) {
			older = list[i+1].Type
		}
		if list[i].PreviousType != older || list[i].Type == older {
			t.Errorf("event %d: %v -> %v, but the older event left %v", list[i].ID, list[i].PreviousType, list[i].Type, older)
		}
	}
	if got, want := userStatus(t, db, c.ID, "u1"), list[0].Type.UserStatus(); got != want {
		t.Errorf("user status = %q, want the latest event's %q", got, want)
	}
	states, err := db.PackageStates(ctx, c.ID, "u1")
	if err != nil {
		t.Fatalf("PackageStates: %v", err)
	}
	if len(states) != 1 || states[0].Type != list[0].Type || states[0].EventID != list[0].ID {
		t.Errorf("state = %+v, want the latest event %+v", states, list[0])
	}
}
