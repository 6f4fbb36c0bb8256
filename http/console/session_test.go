package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestCookieAttributes checks the console's cookies: HttpOnly, SameSite=Lax,
// scoped to the console, and Secure under TLS or with SecureCookies.
func TestCookieAttributes(t *testing.T) {
	tests := []struct {
		name       string
		tls, force bool
		wantSecure bool
	}{
		{"plain HTTP", false, false, false},
		{"TLS", true, false, true},
		{"behind a TLS proxy", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{Services: Services{SecureCookies: tt.force}}
			r := httptest.NewRequest("GET", "/console/login", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			h.setCookie(w, r, sessionCookie, "token", 60)
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("%d cookies set, want 1", len(cs))
			}
			c := cs[0]
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != Prefix || c.Secure != tt.wantSecure || c.MaxAge != 60 {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=%s, Secure=%v, MaxAge=60", c, Prefix, tt.wantSecure)
			}
		})
	}
}
