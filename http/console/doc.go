// Package console serves trueup's web console at /console/: server-drawn
// html/template pages over the same services as the APIs and the CLI,
// with one stylesheet and one small script embedded in the binary (no
// Node toolchain). Package http mounts it (console_mount.go); main builds
// it from the services (cmd/trueup/console.go); it constructs no service.
//
// # Sign-in, sessions and roles
//
// Operators (package operator) sign in at /console/login with their email
// and password. A session is a random 256-bit token in the cookie
// trueup_session (HttpOnly, SameSite=Lax, Path=/console/, Secure under
// TLS); the database keeps its SHA-256 only. Every page is served through
// requireRole, which finds the session, refuses a role too low with 403,
// checks the CSRF token of every request that is not GET or HEAD (403
// when missing or wrong), and puts the session (sessionOf) and the
// operator as actor (trueup.WithActor) in the request's context.
//
// Roles, from operator.Role.Allows: RoleViewer reads, RoleOperator acts
// (uploads, confirms, cancels), RoleAdmin manages partners, keys and
// operators; RoleCarrier is a carrier user. A page registered with
// RoleCarrier is open to carrier users and to every staff role: such a
// page must show a carrier user its own carrier only, with
// Session.CanSeeCarrier or visibleCarriers, and answer 404 (not 403) for
// another carrier's things, so that their existence does not leak.
//
// # Adding a page
//
// First, write templates/NAME.html defining "title" and "content". The
// page gets a view: .Data is what the handler passes, .Session the
// signed-in operator (.Session.Operator.Role, .Email), .CSRF the token.
// Every form that posts carries it: {{template "csrf" .}} at the page's
// top level, or <input type="hidden" name="csrf" value="{{$.CSRF}}">
// inside a range or with. Give every control a <label for=...> (class
// "sr-only" when a column header says it already) and put tables in a
// <div class="scroll"> so that they scroll on a phone.
//
// Then write NAME.go with a routes method and the handlers, and call the
// routes method from routes in console.go (one line):
//
//	func (h *Handler) batchRoutes() {
//		h.page("GET "+Prefix+"batches", operator.RoleViewer, h.batches)
//		h.page("POST "+Prefix+"batches/{no}/cancel", operator.RoleOperator, h.cancelBatch)
//		h.nav("Batches", Prefix+"batches", operator.RoleViewer, 20)
//	}
//
// Navigation orders in use: 0 overview, 90 operators; pick a free one
// between. Register every page with its method: a request with another
// method (a GET on a form's POST-only address) then answers 405 with an
// Allow header (notFound), where the catch-all would answer 404.
//
// In a handler, h.render(w, r, "NAME", data) draws the page (status 200)
// with the session, CSRF token, flash and navigation; h.renderError(w, r,
// "NAME", data, err) draws it again with err's message in the error area
// and err's status (a form sent back to correct); h.fail(w, r, err) draws
// an error page; h.redirect(w, r, path, "Saved.") answers 303 with a
// flash for the next page (post, redirect, get). Errors are
// trueup.Errorf values whose message says what is wrong and how to fix
// it; any other error is logged and shown as a generic message with the
// trace id.
//
// requireRole has already parsed the form of a POST (r.PostFormValue). A
// script that posts (fetch) sends the token in the X-CSRF-Token header
// instead; a large upload should, so that its body is streamed rather
// than parsed first.
//
// Last, add a browser test beside the others in cmd/trueup
// (console_browser_test.go, with the harness of console_helpers_test.go
// that every browser test shares: newBrowser, browser.signedIn for a
// signed-in tab, tab.open and tab.submit returning the status, tab.text,
// tab.screenshot, newConsoleHTTP for raw requests) and the page to
// consoleScreens in
// cmd/trueup/console_screens_test.go: TestConsolePages then checks it at
// phone width (no horizontal overflow, a label on every control), and
// TRUEUP_SCREENSHOTS=1 go test -run TestConsoleScreens ./cmd/trueup
// writes its screenshots to docs/console/.
package console
