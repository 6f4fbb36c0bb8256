package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trueup/trueup/client"
)

// buyerFake answers the buyer API from a handler, after checking the token.
func buyerFake(t *testing.T, h http.HandlerFunc) *client.Buyer {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("access-token") != "tok" {
			w.Header().Set("x-traceid", "trace1")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"ps_api_response_code": 9999, "ps_api_response_message": "Not authorized to access survey id"}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return client.NewBuyer(srv.URL+"/", "tok", nil)
}

const adjustmentJSON = `{"adjustment_id":"9967eed2-d06d-4197-8e53-eae2d8c0cc65","status":6,"statusDescription":"Success",
	"summary":{"currentCompletes":1,"transactions":1,"desiredStatus":33,"validCap":true,"rejectPercentage":33.33,"totalRejects":1,"eligible":1,"rejected":1,
	"summaryPerSurvey":[{"surveyId":1108416,"surveyStatus":22,"currentCompletes":1,"transactions":1,"desiredStatus":33,"validCap":true,"rejectPercentage":100,"totalRejects":1,"eligible":1,"rejected":1}]}}`

func TestBuyerLaunch(t *testing.T) {
	for _, tt := range []struct {
		name  string
		mode  client.LaunchMode
		query string
	}{
		{"accept", client.LaunchAccept, ""},
		{"complete", client.LaunchComplete, "operationType=LIVE_RECONCILIATION&reconStatus=1"},
		{"reject", client.LaunchReject, "operationType=LIVE_RECONCILIATION&reconStatus=2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := buyerFake(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/buyers/v2/adjustments/surveys/1108416" || r.URL.RawQuery != tt.query {
					t.Errorf("request %s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
				}
				var got []map[string]any
				if err := json.NewDecoder(r.Body).Decode(&got); err != nil || len(got) != 2 || got[0]["transaction_id"] != "a" ||
					got[0]["change_reason"] != "Ghost Completes" || got[1]["transaction_id"] != "b" {
					t.Errorf("body = %v, %v", got, err)
				}
				if _, ok := got[1]["change_reason"]; ok {
					t.Errorf("an empty change_reason is sent")
				}
				w.WriteHeader(http.StatusAccepted)
				io.WriteString(w, `{"adjustment_id":"46e10177-c3a3-4246-a33a-0c8306f3a9a6","status":1,"statusDescription":"Pending","summary":{"transactions":2}}`)
			})
			a, err := b.LaunchSurveyAdjustment(context.Background(), 1108416, tt.mode,
				[]client.AdjustmentEntry{{TransactionID: "a", ChangeReason: "Ghost Completes"}, {TransactionID: "b"}})
			if err != nil || a.AdjustmentID != "46e10177-c3a3-4246-a33a-0c8306f3a9a6" || a.Status != client.AdjustmentPending || a.Final() || a.Summary.Transactions != 2 {
				t.Errorf("launch = %+v, %v", a, err)
			}
		})
	}
}

func TestBuyerReads(t *testing.T) {
	b := buyerFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/buyers/v2/surveys/1108416/adjustments":
			io.WriteString(w, `[{"adjustment_id":"x","status":6,"statusDescription":"Success"},{"adjustment_id":"y","status":2,"statusDescription":"Declined (User terminated)"}]`)
		case "/buyers/v2/surveys/1108416/adjustments/9967eed2-d06d-4197-8e53-eae2d8c0cc65":
			io.WriteString(w, adjustmentJSON)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"ps_api_response_code":1006,"ps_api_response_message":"no such process"}`)
		}
	})
	ctx := context.Background()
	refs, err := b.SurveyAdjustments(ctx, 1108416)
	if err != nil || len(refs) != 2 || refs[1].StatusDescription != "Declined (User terminated)" {
		t.Errorf("SurveyAdjustments = %+v, %v", refs, err)
	}
	a, err := b.SurveyAdjustment(ctx, 1108416, "9967eed2-d06d-4197-8e53-eae2d8c0cc65")
	if err != nil || !a.Final() || a.Summary.RejectPercentage.String() != "33.33" || len(a.Summary.SummaryPerSurvey) != 1 ||
		a.Summary.SummaryPerSurvey[0].SurveyID != 1108416 || a.Summary.SummaryPerSurvey[0].RejectPercentage.String() != "100" {
		t.Errorf("SurveyAdjustment = %+v, %v", a, err)
	}
	_, err = b.SurveyAdjustment(ctx, 1108416, "nope")
	var be *client.BuyerError
	if !errors.As(err, &be) || be.Status != 404 || be.Code != 1006 || be.Message != "no such process" {
		t.Errorf("missing process: err = %v", err)
	}
	b.AccessToken = "wrong"
	_, err = b.SurveyAdjustments(ctx, 1108416)
	if !errors.As(err, &be) || be.Status != 401 || be.Code != client.BuyerNotAuthorized || be.Message != "Not authorized to access survey id" || be.TraceID != "trace1" {
		t.Errorf("wrong token: err = %v", err)
	}
}

func TestBuyerWaitAdjustment(t *testing.T) {
	var calls atomic.Int32
	b := buyerFake(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			io.WriteString(w, `{"adjustment_id":"x","status":3,"statusDescription":"Message In Flight","summary":{}}`)
			return
		}
		io.WriteString(w, adjustmentJSON)
	})
	a, err := b.WaitAdjustment(context.Background(), 1108416, "x", time.Millisecond)
	if err != nil || a.Status != client.AdjustmentSuccess || calls.Load() != 3 {
		t.Errorf("WaitAdjustment = %+v, %v after %d calls", a, err, calls.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	b = buyerFake(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"adjustment_id":"x","status":1,"statusDescription":"Pending","summary":{}}`)
	})
	if a, err := b.WaitAdjustment(ctx, 1, "x", time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || a.Status != client.AdjustmentPending {
		t.Errorf("waiting on a Pending process: %+v, %v", a, err)
	}
}

func TestBuyerDo(t *testing.T) {
	b := buyerFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/buyers/v2/surveys/abc/adjustments" || r.Header.Get("x-traceid") != "t-1" {
			t.Errorf("request %s, trace %q", r.URL.Path, r.Header.Get("x-traceid"))
		}
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"ps_api_response_code":1001,"ps_api_response_message":"survey id \"abc\" is not a positive integer"}`)
	})
	req, _ := http.NewRequest(http.MethodGet, "/buyers/v2/surveys/abc/adjustments", nil)
	resp, err := b.Do(client.WithTraceID(context.Background(), "t-1"), req)
	if err != nil {
		t.Fatal(err)
	}
	var be *client.BuyerError
	if err := client.CheckBuyerResponse(resp); !errors.As(err, &be) || be.Code != 1001 || be.Status != 400 {
		t.Errorf("CheckBuyerResponse = %v", err)
	}
	// A header set on the request, even empty, is sent as it is.
	req.Header.Set("access-token", "")
	resp, err = b.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CheckBuyerResponse(resp); !errors.As(err, &be) || be.Code != 9999 {
		t.Errorf("empty token: %v", err)
	}
}
