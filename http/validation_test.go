package http

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trueup/trueup/auth"
)

func TestEchoedHeadersBounded(t *testing.T) {
	ts := startServer(t, Config{})
	tests := []struct {
		name     string
		userID   string
		status   int
		maxBody  int
		wantText string
	}{
		{"short wrong X-User-Id is quoted whole", "123", http.StatusForbidden, 1024, "123"},
		{"32 KiB X-User-Id is cut", strings.Repeat("7", 32<<10), http.StatusForbidden, 1024, "..."},
		{"500 KB X-User-Id is over the header limit", strings.Repeat("7", 500_000), http.StatusRequestHeaderFieldsTooLarge, 1024, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+ts.srv.Addr()+"/koodrive/ose/v1/reconciliation/template", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+ts.token)
			req.Header.Set("X-Date", time.Now().UTC().Format(auth.DateLayout))
			req.Header.Set("X-User-Id", tt.userID)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%d-byte body)", resp.StatusCode, tt.status, len(body))
			}
			if len(body) > tt.maxBody {
				t.Errorf("body is %d bytes, want at most %d", len(body), tt.maxBody)
			}
			if !strings.Contains(string(body), tt.wantText) {
				t.Errorf("body %.200q does not contain %q", body, tt.wantText)
			}
		})
	}
}

func TestNotifyInvalidUTF8(t *testing.T) {
	ts := startServer(t, Config{})
	tests := []struct {
		name   string
		field  string // named in the 400's message; "" for a 404
		body   string
		status int
	}{
		{"bytes not UTF-8", "carrierUserId", "{\"carrierUserId\": \"\xff\xfe\", \"type\": 1, \"packageId\": \"14\"}", http.StatusBadRequest},
		{"cut sequence", "packageId", "{\"carrierUserId\": \"u1\", \"type\": 1, \"packageId\": \"1\xc3\"}", http.StatusBadRequest},
		{"lone surrogate escape", "carrierUserId", `{"carrierUserId": "u\ud800", "type": 1, "packageId": "14"}`, http.StatusBadRequest},
		{"U+FFFD itself is text", "", `{"carrierUserId": "u\ufffd�", "type": 1, "packageId": "14"}`, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, "http://"+ts.srv.Addr()+"/koodrive/ose/v1/carrier/users/notifyPackageExpire", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ts.token)
			req.Header.Set("X-Date", time.Now().UTC().Format(auth.DateLayout))
			req.Header.Set("X-User-Id", ts.cred.UserID)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("answer %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.field != "" && (!strings.Contains(string(body), fmt.Sprintf(`"code":%d`, CodeInvalidParam)) || !strings.Contains(string(body), tt.field+" is not valid UTF-8")) {
				t.Errorf("answer %s, want code %d naming %s as not UTF-8", body, CodeInvalidParam, tt.field)
			}
		})
	}
}
