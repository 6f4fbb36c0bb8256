package http

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedCert writes a certificate for 127.0.0.1 and its key as PEM
// files in a temporary folder and returns their paths and a pool that
// trusts the certificate.
func selfSignedCert(tb testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trueup test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	ts := startServer(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	for _, path := range []string{"/healthz", "/no/such/path"} {
		resp, err := hc.Get("https://" + ts.srv.Addr() + path)
		if err != nil {
			t.Fatalf("GET %s over TLS: %v", path, err)
		}
		resp.Body.Close()
		if resp.TLS == nil {
			t.Errorf("GET %s: answered without TLS", path)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("GET %s: Strict-Transport-Security = %q under TLS, want max-age=...", path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q, want nosniff", path, got)
		}
	}
	// A plain HTTP request to the TLS port is refused, not served.
	if resp, err := http.Get("http://" + ts.srv.Addr() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to the TLS port answered 200")
		}
	}
}

func TestTLSConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSignedCert(t)
	tests := []struct {
		name       string
		cert, key  string
		wantInText string
	}{
		{"certificate without key", certFile, "", "--tls-key"},
		{"key without certificate", "", keyFile, "--tls-cert"},
		{"missing file", filepath.Join(t.TempDir(), "none.pem"), keyFile, "none.pem"},
		{"key and certificate swapped", keyFile, certFile, "load TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{Config: Config{TLSCertFile: tt.cert, TLSKeyFile: tt.key}}
			if err := s.Open("127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), tt.wantInText) {
				t.Errorf("Open = %v, want an error mentioning %q", err, tt.wantInText)
			}
		})
	}
}

// TestStalledBodyOverHTTP2 checks that the body deadlines hold for HTTP/2
// streams too, which TLS offers.
func TestStalledBodyOverHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	ts := startServer(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile, Limits: Limits{BodyTimeout: 300 * time.Millisecond}})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer hc.CloseIdleConnections()
	body, w := io.Pipe()
	defer w.Close()
	go w.Write([]byte("grant_type=client")) // then nothing more
	req, err := http.NewRequest(http.MethodPost, "https://"+ts.srv.Addr()+"/koodrive/oauth2/v1/token", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 100
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	done := make(chan struct{})
	var resp *http.Response
	go func() {
		defer close(done)
		resp, err = hc.Do(req)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no answer 5 s after the body stalled")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb ErrorBody
	json.NewDecoder(resp.Body).Decode(&eb)
	if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusRequestTimeout || eb.Code != CodeBodyTimeout {
		t.Errorf("answer %s %d %+v, want HTTP/2 408 with code %d", resp.Proto, resp.StatusCode, eb, CodeBodyTimeout)
	}
}
