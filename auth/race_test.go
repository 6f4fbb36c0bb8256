package auth_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/auth"
	"github.com/trueup/trueup/storetest"
)

// engines open a fresh store of each engine (PostgreSQL only when
// TRUEUP_TEST_POSTGRES_URL is set).
var engines = storetest.Engines()

// TestIssueRacesRevocation issues tokens from several goroutines while the
// client is revoked or rotated, then checks that no token issued with the
// old credentials authenticates.
func TestIssueRacesRevocation(t *testing.T) {
	const rounds, issuers = 12, 6
	for _, eng := range engines {
		for _, op := range []string{"revoke", "rotate"} {
			t.Run(eng.Name+"/"+op, func(t *testing.T) {
				db := eng.Open(t)
				svc := auth.New(db)
				ctx := context.Background()
				survivors, issued := 0, 0
				for round := 0; round < rounds; round++ {
					cred, err := svc.CreateCarrier(ctx, auth.CreateCarrierParams{Name: "Race " + op + " " + string(rune('a'+round))})
					if err != nil {
						t.Fatal(err)
					}
					var (
						mu     sync.Mutex
						tokens []string
						wg     sync.WaitGroup
						count  atomic.Int64
						done   atomic.Bool
					)
					for i := 0; i < issuers; i++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							// Issue until the old secret is refused, and a few
							// times after the change is committed.
							for after := 0; after < 3; {
								if done.Load() {
									after++
								}
								tok, err := svc.IssueToken(ctx, "client_credentials", cred.ClientID, cred.ClientSecret)
								if trueup.ErrorReason(err) == auth.ReasonBadCredentials {
									return
								}
								if err != nil {
									t.Errorf("issue: %v", err)
									return
								}
								count.Add(1)
								mu.Lock()
								tokens = append(tokens, tok.AccessToken)
								mu.Unlock()
							}
						}()
					}
					for count.Load() < int64(2+round) {
						time.Sleep(time.Millisecond) // wait for the first tokens, not for time to pass
					}
					if op == "revoke" {
						err = db.RevokeClient(ctx, cred.ClientID)
					} else {
						_, err = svc.RotateClient(ctx, cred.ClientID)
					}
					if err != nil {
						t.Fatal(err)
					}
					done.Store(true)
					wg.Wait()
					for _, tok := range tokens {
						issued++
						_, err := svc.Authenticate(ctx, auth.Request{
							Authorization: "Bearer " + tok, XDate: time.Now().UTC().Format(auth.DateLayout), XUserID: cred.UserID,
						})
						if err == nil {
							survivors++
						} else if trueup.ErrorReason(err) != auth.ReasonTokenInvalid {
							t.Errorf("token after %s: %v, want %s", op, err, auth.ReasonTokenInvalid)
						}
					}
				}
				if survivors > 0 {
					t.Errorf("%d of %d tokens issued with the old credentials still authenticate after %s", survivors, issued, op)
				}
				t.Logf("%d tokens issued, %d survived", issued, survivors)
			})
		}
	}
}
