package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/apikey"
)

// Codes of the admin API's error bodies, documented in its OpenAPI
// fragment. The numbers are the carrier API's for the same kinds.
const (
	CodeInvalidParam = 40001
	CodeUnauthorized = 40101 // the Authorization header is missing or not a Bearer key
	CodeKeyInvalid   = 40102 // the API key is unknown or revoked
	CodeForbidden    = 40302
	CodeNotFound     = 40401
	CodeMethod       = 40501
	CodeBodyTimeout  = 40801
	CodeConflict     = 40901
	CodeTooLarge     = 41301
	CodeNotReady     = 42501
	CodeRateLimited  = 42901
	CodeInternal     = 50001
	CodeUnavailable  = 50301
)

// errorTable is the admin API's one table of errors: the status and code
// of each kind, and the code of each reason the API documents apart from
// its kind's.
var errorTable = struct {
	kinds   map[string]struct{ status, code int }
	reasons map[trueup.Reason]int
}{
	kinds: map[string]struct{ status, code int }{
		trueup.EINVALID:      {http.StatusBadRequest, CodeInvalidParam},
		trueup.EUNAUTHORIZED: {http.StatusUnauthorized, CodeUnauthorized},
		trueup.EFORBIDDEN:    {http.StatusForbidden, CodeForbidden},
		trueup.ENOTFOUND:     {http.StatusNotFound, CodeNotFound},
		trueup.ECONFLICT:     {http.StatusConflict, CodeConflict},
		trueup.ETOOLARGE:     {http.StatusRequestEntityTooLarge, CodeTooLarge},
		trueup.ENOTREADY:     {http.StatusConflict, CodeNotReady},
		trueup.EMETHOD:       {http.StatusMethodNotAllowed, CodeMethod},
		trueup.ETIMEOUT:      {http.StatusRequestTimeout, CodeBodyTimeout},
		trueup.ERATELIMIT:    {http.StatusTooManyRequests, CodeRateLimited},
		trueup.EUNAVAILABLE:  {http.StatusServiceUnavailable, CodeUnavailable},
		trueup.EINTERNAL:     {http.StatusInternalServerError, CodeInternal},
	},
	reasons: map[trueup.Reason]int{
		apikey.ReasonKeyInvalid: CodeKeyInvalid,
	},
}

// errorAnswer returns the HTTP status and the admin API's code of err.
func errorAnswer(err error) (status, code int) {
	e, ok := errorTable.kinds[trueup.ErrorKind(err)]
	if !ok {
		e = errorTable.kinds[trueup.EINTERNAL]
	}
	if c, ok := errorTable.reasons[trueup.ErrorReason(err)]; ok {
		return e.status, c
	}
	return e.status, e.code
}

// ErrorBody is the admin API's error body: a code and a message that says
// what is wrong and how to fix it.
type ErrorBody struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// writeError writes err as the admin API's error body, its status and
// code from errorTable. Internal errors are logged and shown as a generic
// message.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if trueup.ErrorKind(err) == trueup.EINTERNAL && errors.As(err, &mbe) {
		err = trueup.Errorf(trueup.ETOOLARGE, "the request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
	}
	if trueup.ErrorKind(err) == trueup.EINTERNAL {
		h.Logger.Error("internal error", "trace_id", w.Header().Get("x-traceid"), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status, code := errorAnswer(err)
	writeJSON(w, status, ErrorBody{Code: code, Msg: trueup.ErrorMessage(err)})
}

// invalid returns an EINVALID error with a formatted message.
func invalid(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, format, args...)
}

// decodeBody reads r's JSON object body into v, refusing unknown fields,
// values of the wrong type, trailing data and bodies over max bytes, each
// with a message that names the field. An empty body is an empty object.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var te *trueup.Error
		if errors.As(err, &te) { // a body cut off by the server's deadline
			return te
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return trueup.Errorf(trueup.ETOOLARGE, "the request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
		}
		return invalid("the request body could not be read (%v); send it again", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return invalid("the body holds data after the JSON object; send one object")
	}
	return nil
}

// jsonError turns a decoding error into an EINVALID error naming the field.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var te2 *trueup.Error
	switch {
	case errors.As(err, &te2):
		return te2
	case errors.As(err, &se):
		return invalid("the body is not valid JSON (at byte %d: %v); send a JSON object", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return invalid("the body is a JSON %s; send a JSON object", te.Value)
		}
		return invalid("field %s is a JSON %s; send a %s", field, te.Value, jsonType(te.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("the body ends in the middle of the JSON object; send a whole object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return invalid("field %s is not known; see /docs for the fields of this call", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return invalid("the body could not be read as JSON (%v); send a JSON object", err)
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean (true or false)"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "value of the documented type"
	}
	return "number"
}
