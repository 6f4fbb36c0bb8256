package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/lifecycle"
)

// lifecycleRoutes registers the package lifecycle API (seed 001).
func (s *Server) lifecycleRoutes() {
	svc := s.Lifecycle
	s.handle("POST /koodrive/ose/v1/carrier/users/notifyPackageExpire", s.carrier(func(w http.ResponseWriter, r *http.Request, c trueup.Carrier) {
		s.handleNotifyPackageExpire(w, r, c, svc)
	}))
}

// handleNotifyPackageExpire records that a user's package expired or
// entered the reservation period. The checks run in this order: carrier
// authentication, the whitelist, the body, the ledger.
func (s *Server) handleNotifyPackageExpire(w http.ResponseWriter, r *http.Request, c trueup.Carrier, svc *lifecycle.Service) {
	if err := lifecycle.CheckWhitelisted(c); err != nil {
		s.writeError(w, r, err)
		return
	}
	n, err := decodeNotice(r.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	trace := TraceID(r.Context())
	out, err := svc.Notify(r.Context(), lifecycle.NotifyParams{
		Carrier: c, CarrierUserID: n.CarrierUserID, Type: n.Type, PackageID: n.PackageID, TraceID: trace,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The event, with the trace id, is the record; the access log has the
	// call. The check spares building the arguments on this hot path when
	// debug logging is off.
	if out.Changed && s.Logger.Enabled(r.Context(), slog.LevelDebug) {
		s.Logger.Debug("package notice", "trace_id", trace, "carrier_id", c.ID, "carrier_user_id", n.CarrierUserID,
			"package_id", n.PackageID, "type", int(n.Type), "previous_type", int(out.Event.PreviousType), "event_id", out.Event.ID)
	}
	writeJSON(w, http.StatusOK, success{Code: CodeOK, Msg: "Success."})
}

// notice is a decoded notifyPackageExpire body.
type notice struct {
	CarrierUserID string
	Type          lifecycle.Type
	PackageID     string
}

// noticeFields are the body's fields in seed order.
var noticeFields = []string{"carrierUserId", "type", "packageId"}

const noticeExample = `{"carrierUserId": "189642158555241211", "type": 1, "packageId": "14"}`

func invalidNotice(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, format, args...)
}

// decodeNotice reads a notifyPackageExpire body: one JSON object holding
// exactly the fields carrierUserId (string), type (integer) and packageId
// (string), each once. Field names match exactly, case included (unlike
// encoding/json's struct decoding, which would take "CarrierUserID" for
// carrierUserId and keep the last of duplicate fields). It returns an
// EINVALID error naming the first field at fault, or ETOOLARGE for a body
// over the limit. The values are checked by lifecycle.Validate.
func decodeNotice(body io.Reader) (notice, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return notice{}, invalidNotice("the request body is empty; send a JSON object such as %s", noticeExample)
	}
	if err != nil {
		return notice{}, jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return notice{}, invalidNotice("the request body is a JSON %s, not an object; send a JSON object such as %s", tokenKind(tok), noticeExample)
	}
	raw := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notice{}, jsonError(err)
		}
		key := tok.(string) // object keys are strings
		if !slices.Contains(noticeFields, key) {
			for _, f := range noticeFields {
				if strings.EqualFold(key, f) {
					return notice{}, invalidNotice("field %q is not known; field names are case-sensitive: send %q", key, f)
				}
			}
			return notice{}, invalidNotice("field %q is not known; send only carrierUserId, type and packageId", key)
		}
		if _, dup := raw[key]; dup {
			return notice{}, invalidNotice("field %s appears twice; send it once", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return notice{}, jsonError(err)
		}
		raw[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return notice{}, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return notice{}, jsonError(err)
		}
		return notice{}, invalidNotice("the request body has more after the JSON object; send one object such as %s", noticeExample)
	}

	var n notice
	if n.CarrierUserID, err = stringField(raw, "carrierUserId"); err != nil {
		return notice{}, err
	}
	if n.Type, err = typeField(raw); err != nil {
		return notice{}, err
	}
	if n.PackageID, err = stringField(raw, "packageId"); err != nil {
		return notice{}, err
	}
	return n, nil
}

// jsonError turns a decoding error into a client error: too large, or
// malformed JSON with where it is.
func jsonError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyError(err, "")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return invalidNotice("the request body is not valid JSON (at byte %d: %s); send a JSON object such as %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "), noticeExample)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return invalidNotice("the request body ends inside the JSON object; send a whole object such as %s", noticeExample)
	}
	return bodyError(err, "send a JSON object such as "+noticeExample)
}

// tokenKind names the kind of a JSON token.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// rawKind names the kind of a raw JSON value and quotes a short form of it.
func rawKind(v json.RawMessage) string {
	s := string(v)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	switch v[0] {
	case '"':
		return "a string (" + s + ")"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean (" + s + ")"
	case 'n':
		return "null"
	}
	return "a number (" + s + ")"
}

func missingField(name string) error {
	return invalidNotice("field %s is missing; send a JSON object with carrierUserId, type and packageId, such as %s", name, noticeExample)
}

// stringField returns the string value of field name.
func stringField(raw map[string]json.RawMessage, name string) (string, error) {
	v, ok := raw[name]
	if !ok {
		return "", missingField(name)
	}
	if v[0] != '"' {
		hint := ""
		if v[0] == '-' || (v[0] >= '0' && v[0] <= '9') {
			hint = fmt.Sprintf(` in quotes ("%s")`, v)
		}
		return "", invalidNotice("field %s must be a string, got %s; send it%s as a JSON string", name, rawKind(v), hint)
	}
	// encoding/json replaces bytes that are not UTF-8, and escapes of lone
	// surrogates, with U+FFFD: the value would then be looked up as
	// another id.
	bad := invalidNotice("field %s is not valid UTF-8; send it as UTF-8 text", name)
	if !utf8.Valid(v) {
		return "", bad
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", invalidNotice("field %s is not a valid JSON string: %v", name, err)
	}
	if strings.ContainsRune(s, utf8.RuneError) && strings.Count(s, string(utf8.RuneError)) > strings.Count(string(v), string(utf8.RuneError))+strings.Count(strings.ToLower(string(v)), `\ufffd`) {
		return "", bad
	}
	return s, nil
}

// typeField returns the value of field type, an integer written without a
// fraction or exponent. Its range is checked by lifecycle.Validate.
func typeField(raw map[string]json.RawMessage) (lifecycle.Type, error) {
	const allowed = "use 1 (package expired) or 2 (entered the reservation period)"
	v, ok := raw["type"]
	if !ok {
		return 0, missingField("type")
	}
	if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, invalidNotice("field type must be an integer, got %s; %s, without quotes", rawKind(v), allowed)
	}
	n, err := strconv.ParseInt(string(v), 10, 32)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, invalidNotice("field type is %s, which is not a notice type; %s", v, allowed)
		}
		return 0, invalidNotice("field type must be an integer, got %s; %s", rawKind(v), allowed)
	}
	return lifecycle.Type(n), nil
}
