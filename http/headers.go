package http

import (
	"crypto/tls"
	"fmt"
	"net/http"
)

// hstsMaxAge is the Strict-Transport-Security a server under TLS sends:
// one year.
const hstsMaxAge = "max-age=31536000"

// secureHeaders sets on every response the headers a server reachable from
// browsers sends: no content sniffing, no framing (X-Frame-Options for
// browsers without CSP frame-ancestors), no referrer, and under TLS,
// Strict-Transport-Security. A handler may set its own values over them.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsMaxAge)
		}
		next.ServeHTTP(w, r)
	})
}

// tlsConfig returns the TLS settings of Config.TLSCertFile and TLSKeyFile,
// nil when neither is set, or an error that says what to fix.
func (s *Server) tlsConfig() (*tls.Config, error) {
	cert, key := s.Config.TLSCertFile, s.Config.TLSKeyFile
	if cert == "" && key == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		return nil, fmt.Errorf("TLS needs both a certificate and a key: pass --tls-cert FILE and --tls-key FILE together")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", cert, key, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
