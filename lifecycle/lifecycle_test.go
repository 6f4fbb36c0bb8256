package lifecycle_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/clock"
	"github.com/trueup/trueup/lifecycle"
)

func TestTypes(t *testing.T) {
	tests := []struct {
		typ    lifecycle.Type
		valid  bool
		status string
		name   string
	}{
		{0, false, "", "none"},
		{lifecycle.Expired, true, lifecycle.StatusExpired, "expired"},
		{lifecycle.Reservation, true, lifecycle.StatusReservation, "reservation period"},
		{3, false, "", "type 3"},
	}
	for _, tt := range tests {
		if got := tt.typ.Valid(); got != tt.valid {
			t.Errorf("Type(%d).Valid() = %v, want %v", tt.typ, got, tt.valid)
		}
		if got := tt.typ.UserStatus(); got != tt.status {
			t.Errorf("Type(%d).UserStatus() = %q, want %q", tt.typ, got, tt.status)
		}
		if got := tt.typ.String(); got != tt.name {
			t.Errorf("Type(%d).String() = %q, want %q", tt.typ, got, tt.name)
		}
	}
	if lifecycle.StatusActive != "1" || lifecycle.StatusReservation != "2" || lifecycle.StatusExpired != "3" {
		t.Error("the documented user statuses changed; update docs/package-lifecycle.md and the OpenAPI document")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		user, pkg string
		typ       lifecycle.Type
		want      string // "" for valid
	}{
		{"189642158555241211", "14", lifecycle.Expired, ""},
		{"u", "p", lifecycle.Reservation, ""},
		{"", "14", lifecycle.Expired, "field carrierUserId is empty"},
		{" \t", "14", lifecycle.Expired, "field carrierUserId is blank"},
		{"a\nb", "14", lifecycle.Expired, "field carrierUserId contains a control character"},
		{"\xff", "14", lifecycle.Expired, "field carrierUserId is not valid UTF-8"},
		{strings.Repeat("x", 129), "14", lifecycle.Expired, "field carrierUserId is 129 bytes long, over the limit of 128"},
		{strings.Repeat("x", 128), "14", lifecycle.Expired, ""},
		{"u", "14", 0, "field type is 0, which is not a notice type; use 1 (package expired) or 2 (entered the reservation period)"},
		{"u", "14", 3, "field type is 3"},
		{"u", "", lifecycle.Expired, "field packageId is empty"},
		{"", "", 9, "field carrierUserId"}, // the first bad field in seed order
	}
	for _, tt := range tests {
		err := lifecycle.Validate(tt.user, tt.typ, tt.pkg)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Validate(%q, %d, %q) = %v, want nil", tt.user, tt.typ, tt.pkg, err)
			}
			continue
		}
		if trueup.ErrorKind(err) != trueup.EINVALID || !strings.HasPrefix(trueup.ErrorMessage(err), tt.want) {
			t.Errorf("Validate(%q, %d, %q) = %v, want an invalid-parameter error starting %q", tt.user, tt.typ, tt.pkg, err, tt.want)
		}
	}
}

// fakeStore records the notices it is given.
type fakeStore struct{ got []lifecycle.Notice }

func (f *fakeStore) ApplyPackageNotice(ctx context.Context, n lifecycle.Notice) (lifecycle.Outcome, error) {
	f.got = append(f.got, n)
	return lifecycle.Outcome{Changed: true, Event: lifecycle.Event{ID: 1}}, nil
}

func TestNotify(t *testing.T) {
	store := &fakeStore{}
	now := time.Date(2025, 11, 3, 7, 1, 40, 0, time.FixedZone("X", 3600))
	svc := &lifecycle.Service{Store: store, Clock: clock.At(now)}
	ctx := context.Background()
	carrier := trueup.Carrier{ID: "car_1"}

	// A carrier off the whitelist is refused before its fields are read.
	_, err := svc.Notify(ctx, lifecycle.NotifyParams{Carrier: carrier, Type: 9})
	if trueup.ErrorKind(err) != trueup.EFORBIDDEN || trueup.ErrorReason(err) != lifecycle.ReasonNotWhitelisted ||
		!strings.Contains(trueup.ErrorMessage(err), "not whitelisted for the package notice API") {
		t.Errorf("not whitelisted: err = %v, want forbidden with reason %s", err, lifecycle.ReasonNotWhitelisted)
	}
	carrier.Whitelisted = true
	if _, err := svc.Notify(ctx, lifecycle.NotifyParams{Carrier: carrier, CarrierUserID: "u", Type: 9, PackageID: "p"}); trueup.ErrorKind(err) != trueup.EINVALID {
		t.Errorf("bad type: err = %v, want invalid", err)
	}
	if len(store.got) != 0 {
		t.Fatalf("refused notices reached the store: %+v", store.got)
	}
	out, err := svc.Notify(ctx, lifecycle.NotifyParams{Carrier: carrier, CarrierUserID: "u", Type: lifecycle.Reservation, PackageID: "p", TraceID: "tr"})
	if err != nil || !out.Changed {
		t.Fatalf("Notify = %+v, %v", out, err)
	}
	want := lifecycle.Notice{CarrierID: "car_1", CarrierUserID: "u", PackageID: "p", Type: lifecycle.Reservation, TraceID: "tr", At: now.UTC()}
	if len(store.got) != 1 || store.got[0] != want || store.got[0].At.Location() != time.UTC {
		t.Errorf("store got %+v, want %+v in UTC", store.got, want)
	}
}
