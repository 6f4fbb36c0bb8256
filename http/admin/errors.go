package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
)

// errorTable is the admin API's one map of error kinds to the status and
// the code of its error body. The codes are the carrier API's numbers for
// the same kinds, so one table of codes documents both.
var errorTable = map[string]struct{ status, code int }{
	trueup.EINVALID:      {http.StatusBadRequest, trueup.CodeInvalidParam},
	trueup.EUNAUTHORIZED: {http.StatusUnauthorized, trueup.CodeUnauthorized},
	trueup.EFORBIDDEN:    {http.StatusForbidden, trueup.CodeNotWhitelisted},
	trueup.ENOTFOUND:     {http.StatusNotFound, trueup.CodeNotFound},
	trueup.ECONFLICT:     {http.StatusConflict, trueup.CodeConflict},
	trueup.ETOOLARGE:     {http.StatusRequestEntityTooLarge, trueup.CodeTooLarge},
	trueup.ENOTREADY:     {http.StatusConflict, trueup.CodeNotReady},
	trueup.EMETHOD:       {http.StatusMethodNotAllowed, trueup.CodeMethod},
	trueup.ETIMEOUT:      {http.StatusRequestTimeout, trueup.CodeBodyTimeout},
	trueup.ERATELIMIT:    {http.StatusTooManyRequests, trueup.CodeRateLimited},
	trueup.EUNAVAILABLE:  {http.StatusServiceUnavailable, trueup.CodeBusy},
	trueup.EINTERNAL:     {http.StatusInternalServerError, trueup.CodeInternal},
}

// riskKinds maps the risk service's status words to error kinds.
var riskKinds = map[string]string{
	risk.StatusInvalidArgument:   trueup.EINVALID,
	risk.StatusUnauthorized:      trueup.EUNAUTHORIZED,
	risk.StatusKeyExpired:        trueup.EUNAUTHORIZED,
	risk.StatusNoPermission:      trueup.EFORBIDDEN,
	risk.StatusOutOfQuota:        trueup.EFORBIDDEN,
	risk.StatusRateLimitExceeded: trueup.EFORBIDDEN,
	risk.StatusNotFound:          trueup.ENOTFOUND,
}

// ErrorBody is the admin API's error body: a code and a message that says
// what is wrong and how to fix it.
type ErrorBody struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// writeError writes err as the error body of its kind. An invalid or
// revoked key keeps its own code (40102); every other error takes its
// kind's code. Internal errors are logged and shown as a generic message.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind, msg := trueup.ErrorKind(err), trueup.ErrorMessage(err)
	var re *risk.Error
	if kind == trueup.EINTERNAL && errors.As(err, &re) {
		if k, ok := riskKinds[re.Status]; ok {
			kind, msg = k, re.Reason
		}
	}
	var mbe *http.MaxBytesError
	if kind == trueup.EINTERNAL && errors.As(err, &mbe) {
		kind, msg = trueup.ETOOLARGE, fmt.Sprintf("the request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
	}
	if kind == trueup.EINTERNAL {
		h.Logger.Error("internal error", "trace_id", w.Header().Get("x-traceid"), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	e := errorTable[kind]
	if e.status == 0 {
		e = errorTable[trueup.EINTERNAL]
	}
	code := e.code
	if kind == trueup.EUNAUTHORIZED && trueup.ErrorCode(err) == trueup.CodeTokenInvalid {
		code = trueup.CodeTokenInvalid
	}
	writeJSON(w, e.status, ErrorBody{Code: code, Msg: msg})
}

// invalid returns an EINVALID error with a formatted message.
func invalid(format string, args ...any) error {
	return trueup.Errorf(trueup.EINVALID, trueup.CodeInvalidParam, format, args...)
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
			return trueup.Errorf(trueup.ETOOLARGE, trueup.CodeTooLarge, "the request body is over the limit of %d bytes; send a smaller body", mbe.Limit)
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
