// Package client is a typed Go client of trueup's HTTP API: the carrier
// API of seeds 000, 001 and 004 (token, template, statement check, batch
// status, discrepancy list and export, package expiry notice) and the
// operations endpoints (/healthz, /readyz, /metrics, /openapi.json).
//
// A Client fetches an OAuth2 access token with its client credentials the
// first time a carrier call needs one, caches it until shortly before it
// expires, and sends it with the other headers the carrier API requires:
//
//	Authorization: Bearer <access_token>
//	X-Date:        the client's Now in UTC as yyyyMMdd'T'HHmmss'Z'
//	X-User-Id:     the user id bound to the credentials
//	x-traceid:     when the context carries one (WithTraceID)
//
// A typical session:
//
//	c := client.New("http://localhost:8080",
//		client.WithCredentials(clientID, clientSecret),
//		client.WithUserID(userID))
//	no, err := c.VerifyFile(ctx, "2025-09", "statement.xlsx")
//	if err != nil {
//		return err
//	}
//	// Poll c.Batch(ctx, no) until the batch has succeeded, then:
//	bills, err := c.ListAll(ctx, no, 1000)
//
// Every answer that is not a success is returned as an *Error holding the
// HTTP status, the numeric code and message of the {"code","msg"} body, and
// the trace id the server answered with.
//
// Tests that must send malformed or missing headers use WithHeader, which
// edits the headers of every call made with a context, or Do, which sends a
// hand-made request and only adds the authentication headers it lacks.
//
// The package depends on the standard library and on the root trueup
// package for plain domain types; it never imports the server.
package client
