package buyer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
)

// TestBuyerServiceGiveUpApply gives up the apply job of a process at each
// stage: a process not yet final ends Error In Processing with the cause,
// changing no status; a final one is left as it is.
func TestBuyerServiceGiveUpApply(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, svc *buyer.Service, id buyer.AdjustmentID, job trueup.Job) // nil: still Message In Flight
		want   buyer.Status
	}{
		{"in flight", nil, buyer.StatusError},
		{"processing", func(t *testing.T, svc *buyer.Service, id buyer.AdjustmentID, _ trueup.Job) {
			if _, err := svc.Store.StartAdjustment(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}, buyer.StatusError},
		{"already applied", func(t *testing.T, svc *buyer.Service, _ buyer.AdjustmentID, job trueup.Job) {
			if err := svc.Apply(context.Background(), job); err != nil {
				t.Fatal(err)
			}
		}, buyer.StatusSuccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, db := newService(t)
			ctx := context.Background()
			b := buyerOf(t, svc, "Given Up", nil)
			importCSV(t, svc, b.ID, "transaction_id,survey_id,status\na,9,21\nc,9,18\n")
			adj, err := svc.Launch(ctx, buyer.LaunchParams{Buyer: b, Survey: 9, Mode: buyer.ModeAccept, Desired: 21, IsAPI: true,
				Items: []buyer.Item{{TransactionID: "c"}}})
			if err != nil {
				t.Fatal(err)
			}
			job, ok, err := db.ClaimJob(ctx, "test", []string{buyer.JobApply}, time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v, %v", ok, err)
			}
			if tt.before != nil {
				tt.before(t, svc, adj.ID, job)
			}
			cause := &trueup.JobLostError{Times: 10}
			for range 2 { // a give-up may run more than once
				if err := svc.GiveUpApply(ctx, job, cause); err != nil {
					t.Fatalf("GiveUpApply: %v", err)
				}
			}
			got, err := svc.Store.Adjustment(ctx, adj.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Fatalf("status %s, want %s", got.Status.Description(), tt.want.Description())
			}
			if tt.want == buyer.StatusError {
				if !strings.Contains(got.Failure, "worker lost 10 times") {
					t.Errorf("failure %q does not give the cause", got.Failure)
				}
				if now := statusesOf(t, svc.Store, b.ID, []string{"c"}); now["c"].Status != 18 {
					t.Errorf("a given-up process changed a status: %+v", now)
				}
			}
		})
	}
}
