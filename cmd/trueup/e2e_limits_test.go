package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trueup/trueup/client"
	trueuphttp "github.com/trueup/trueup/http"
)

// TestServeTLSFlags checks that --tls-cert and --tls-key reach the server:
// one without the other, or files that are not a certificate and key, stop
// `serve` with a message that says what to fix.
func TestServeTLSFlags(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"certificate without key", []string{"--tls-cert", notPEM}, "--tls-key"},
		{"key without certificate", []string{"--tls-key", notPEM}, "--tls-cert"},
		{"not PEM", []string{"--tls-cert", notPEM, "--tls-key", notPEM}, "load TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, tt.args...)
			code, _, stderr := runCLIResult(args...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want a failure mentioning %q", code, stderr, tt.want)
			}
		})
	}
}

// TestE2ETokenRateLimit checks that ServeConfig.Limits reach the server: a
// client over its token burst gets 429 with code 42901 through the typed
// client.
func TestE2ETokenRateLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng e2eEngine) {
		s := startE2E(t, eng, ServeConfig{Limits: trueuphttp.Limits{TokenBurst: 2, TokenRate: 0.001}})
		c := s.newCarrier(t, "Eager Mobile")
		req := client.TokenRequest{GrantType: "client_credentials", ClientID: string(c.cred.ClientID), ClientSecret: c.cred.ClientSecret}
		ctx := context.Background()
		for i := 0; i < 2; i++ {
			if _, err := c.api.RequestToken(ctx, req); err != nil {
				t.Fatalf("token %d of the burst: %v", i+1, err)
			}
		}
		_, err := c.api.RequestToken(ctx, req)
		wantAPIError(t, err, 429, trueuphttp.CodeRateLimited, "too many token requests", "retry in")
	})
}
