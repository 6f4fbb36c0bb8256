package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/trueup/trueup/client"
)

func TestRiskHashMobile(t *testing.T) {
	if got, want := client.HashMobile("915586685366"), "29c1ebf81909046ca6adcf8200e71189"; got != want {
		t.Errorf("HashMobile(915586685366) = %s, want %s", got, want)
	}
}

// riskFake answers check calls with a fixed status and body and records
// the last request.
func riskFake(t testing.TB, status int, body string) (*client.RiskClient, *http.Request, *[]byte) {
	t.Helper()
	var got http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = *r.Clone(context.Background())
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return client.NewRiskClient(srv.URL, "rk_1", "s3cret", nil), &got, &gotBody
}

func TestRiskCheckHit(t *testing.T) {
	c, req, body := riskFake(t, 200, `{"status":"OK","result":{"target":true,"count":2,"data":[
		{"day":"2022-10-03","source":"seat","cid":"11323","duration":"17","level":5},
		{"day":"2022-10-03","source":"sms","cid":"9","level":3}]},"request_id":"TIDebc4954bc59c4f9b8437c390d188442d"}`)
	res, err := c.CheckMultipleOrder(context.Background(), client.CheckParams{MobileNo: client.HashMobile("915586685366"), Source: "seat"})
	if err != nil {
		t.Fatal(err)
	}
	want := client.CheckResult{RequestID: "TIDebc4954bc59c4f9b8437c390d188442d", Target: true, Count: 2, Data: []client.RiskHit{
		{Day: "2022-10-03", Source: "seat", CID: "11323", Duration: "17", Level: 5},
		{Day: "2022-10-03", Source: "sms", CID: "9", Level: 3},
	}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("CheckMultipleOrder = %+v, want %+v", res, want)
	}
	if req.Method != http.MethodPost || req.URL.Path != client.PathCheckMultipleOrder {
		t.Errorf("request %s %s, want POST %s", req.Method, req.URL.Path, client.PathCheckMultipleOrder)
	}
	if req.Header.Get("X-DF-API-ID") != "rk_1" || req.Header.Get("X-DF-API-SECRET") != "s3cret" || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", req.Header)
	}
	var sent map[string]string
	if err := json.Unmarshal(*body, &sent); err != nil || !reflect.DeepEqual(sent, map[string]string{"mobile_no": "29c1ebf81909046ca6adcf8200e71189", "source": "seat"}) {
		t.Errorf("body %s (%v): want mobile_no and source only", *body, err)
	}
}

func TestRiskCheckMiss(t *testing.T) {
	c, _, _ := riskFake(t, 200, `{"status":"OK","result":{"target":false},"request_id":"TIDae6d0e0a9eb945c38964b77c1686707e"}`)
	res, err := c.CheckMultipleOrder(context.Background(), client.CheckParams{MobileNo: "x"})
	if err != nil || res.Target || res.Count != 0 || res.Data != nil || res.RequestID != "TIDae6d0e0a9eb945c38964b77c1686707e" {
		t.Errorf("CheckMultipleOrder = %+v, %v; want a miss", res, err)
	}
}

func TestRiskCheckErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   *client.RiskError // nil: a non-RiskError error
	}{
		{"invalid argument", 400, `{"status":"INVALID_ARGUMENT","reason":"argument 'mobile_no': not found","request_id":"TID0bb59f6aa6454717b870b16202ccf36f"}`,
			&client.RiskError{HTTPStatus: 400, Status: "INVALID_ARGUMENT", Reason: "argument 'mobile_no': not found", RequestID: "TID0bb59f6aa6454717b870b16202ccf36f"}},
		{"rate limit", 403, `{"status":"RATE_LIMIT_EXCEEDED","reason":"slow down","request_id":"TID1"}`,
			&client.RiskError{HTTPStatus: 403, Status: "RATE_LIMIT_EXCEEDED", Reason: "slow down", RequestID: "TID1"}},
		{"not a risk body", 502, `<html>bad gateway</html>`, nil},
		{"target as a string", 200, `{"status":"OK","result":{"target":"true"},"request_id":"TID2"}`, nil},
		{"OK without result", 200, `{"status":"OK","request_id":"TID3"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := riskFake(t, tt.status, tt.body)
			_, err := c.CheckMultipleOrder(context.Background(), client.CheckParams{MobileNo: "x"})
			var re *client.RiskError
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.want == nil && errors.As(err, &re):
				t.Errorf("got %v, want an error that is not a RiskError", err)
			case tt.want != nil && (!errors.As(err, &re) || *re != *tt.want):
				t.Errorf("got %v, want %+v", err, tt.want)
			case tt.want != nil && !strings.Contains(err.Error(), tt.want.Status):
				t.Errorf("Error() = %q lacks the status", err)
			}
		})
	}
}

// TestRiskNoKey checks that an empty API ID or secret is left out.
func TestRiskNoKey(t *testing.T) {
	c, req, _ := riskFake(t, 401, `{"status":"UNAUTHORIZED","reason":"header 'X-DF-API-ID': not found","request_id":"TID4"}`)
	c.APIID, c.APISecret = "", ""
	c.Post(context.Background(), client.PathCheckMultipleOrder, "", []byte(`{}`))
	if _, ok := req.Header["X-Df-Api-Id"]; ok {
		t.Error("X-DF-API-ID sent though empty")
	}
	if _, ok := req.Header["X-Df-Api-Secret"]; ok {
		t.Error("X-DF-API-SECRET sent though empty")
	}
}
