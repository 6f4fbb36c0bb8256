package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trueup/trueup/client"
)

// TestE2ERoutes checks the answers of paths and methods the API does not
// serve, and of a token request that is not a form.
func TestE2ERoutes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{})
		car := s.newCarrier(t, "Routes Mobile")
		ctx := context.Background()
		tests := []struct {
			name         string
			method, path string
			body         string
			contentType  string
			status, code int
			allow        string
			words        []string
		}{
			{"wrong method on a carrier path", http.MethodPost, "/koodrive/ose/v1/reconciliation/diff/getList", "", "", 405, 40501, "GET", []string{"GET", "POST"}},
			{"wrong method on the token path", http.MethodGet, "/koodrive/oauth2/v1/token", "", "", 405, 40501, "POST", []string{"POST"}},
			{"unknown path", http.MethodGet, "/koodrive/ose/v1/nothing", "", "", 404, 40401, "", []string{"/docs"}},
			{"token as JSON", http.MethodPost, "/koodrive/oauth2/v1/token", `{"grant_type":"client_credentials"}`, "application/json", 400, 40001, "", []string{"x-www-form-urlencoded"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(ctx, tt.method, s.base+tt.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				resp, err := car.api.Do(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if got := resp.Header.Get("Allow"); got != tt.allow {
					t.Errorf("Allow = %q, want %q", got, tt.allow)
				}
				wantAPIError(t, client.CheckResponse(resp), tt.status, tt.code, tt.words...)
			})
		}
		// A form token request still works.
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {string(car.cred.ClientID)}, "client_secret": {car.cred.ClientSecret}}
		resp, err := s.http.PostForm(s.base+"/koodrive/oauth2/v1/token", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("form token request: status %d", resp.StatusCode)
		}
	})
}
