package http

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/lifecycle"
	"github.com/trueup/trueup/risk"
	"github.com/trueup/trueup/sqlite"
)

// testServer is a server on a fresh SQLite database, listening on a free
// port, with a whitelisted carrier and a token of its.
type testServer struct {
	srv   *Server
	cred  auth.Credentials
	token string
}

func startServer(tb testing.TB, cfg Config) *testServer {
	tb.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	authSvc := auth.New(store)
	notices := store.LifecycleStore()
	risks := store.RiskStore()
	riskSvc := risk.New(risks)
	s := NewServer(cfg, store, Services{Auth: authSvc, Batches: batch.New(store, logger), Lifecycle: lifecycle.New(notices),
		Buyers: buyer.New(store.BuyerStore(), logger), Risk: riskSvc}, logger, NewMetrics())
	if err := s.Open("127.0.0.1:0"); err != nil {
		store.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Close(ctx)
		riskSvc.Close()
		risks.Close()
		notices.Close()
		store.Close()
	})
	cred, err := authSvc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Acme", Whitelisted: true})
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := authSvc.IssueToken(ctx, "client_credentials", cred.ClientID, cred.ClientSecret)
	if err != nil {
		tb.Fatal(err)
	}
	return &testServer{srv: s, cred: cred, token: tok.AccessToken}
}

// carrierHeaders are the authentication headers of a carrier call.
func (ts *testServer) carrierHeaders() string {
	return fmt.Sprintf("Authorization: Bearer %s\r\nX-Date: %s\r\nX-User-Id: %s\r\n",
		ts.token, time.Now().UTC().Format(auth.DateLayout), ts.cred.UserID)
}

// rawAnswer is a response read off a raw connection.
type rawAnswer struct {
	status int
	header http.Header
	body   ErrorBody
	closed bool          // the server closes the connection after it
	after  time.Duration // from the end of what the client sent
}

// sendRaw writes head and then each of the chunks (with pause between
// them, the client's own pace), and reads the answer, giving up after
// wait.
func sendRaw(tb testing.TB, addr, head string, chunks []string, pause, wait time.Duration) (rawAnswer, error) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head); err != nil {
		tb.Fatal(err)
	}
	for _, c := range chunks {
		if pause > 0 {
			time.Sleep(pause) // the client's pace, not a wait for the server
		}
		if _, err := io.WriteString(conn, c); err != nil {
			break // the server may already have cut the body off
		}
	}
	sent := time.Now()
	conn.SetReadDeadline(sent.Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return rawAnswer{after: time.Since(sent)}, err
	}
	defer resp.Body.Close()
	a := rawAnswer{status: resp.StatusCode, header: resp.Header, closed: resp.Close, after: time.Since(sent)}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &a.body)
	return a, nil
}
