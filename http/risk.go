package http

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/risk"
)

// The status words of seed 003's answers.
const (
	RiskStatusOK                = "OK"
	RiskStatusInvalidArgument   = "INVALID_ARGUMENT"    // 400
	RiskStatusUnauthorized      = "UNAUTHORIZED"        // 401
	RiskStatusKeyExpired        = "KEY_EXPIRED"         // 401
	RiskStatusNoPermission      = "NO_PERMISSION"       // 403
	RiskStatusOutOfQuota        = "OUT_OF_QUOTA"        // 403
	RiskStatusRateLimitExceeded = "RATE_LIMIT_EXCEEDED" // 403
	RiskStatusNotFound          = "NOT_FOUND"           // 404
	RiskStatusInternalError     = "INTERNAL_ERROR"      // 500
)

// riskAnswer is a status word and its HTTP status.
type riskAnswer struct {
	word   string
	status int
}

// riskErrors is the risk API's one table of errors (seed 003's): the
// status word and HTTP status of a reason the API tells apart from its
// kind, else of the kind. Any other error is INTERNAL_ERROR.
var riskErrors = struct {
	reasons map[trueup.Reason]riskAnswer
	kinds   map[string]riskAnswer
}{
	reasons: map[trueup.Reason]riskAnswer{
		risk.ReasonKeyExpired: {RiskStatusKeyExpired, http.StatusUnauthorized},
		risk.ReasonOutOfQuota: {RiskStatusOutOfQuota, http.StatusForbidden},
	},
	kinds: map[string]riskAnswer{
		trueup.EINVALID:      {RiskStatusInvalidArgument, http.StatusBadRequest},
		trueup.EUNAUTHORIZED: {RiskStatusUnauthorized, http.StatusUnauthorized},
		trueup.EFORBIDDEN:    {RiskStatusNoPermission, http.StatusForbidden},
		trueup.ERATELIMIT:    {RiskStatusRateLimitExceeded, http.StatusForbidden},
		trueup.ENOTFOUND:     {RiskStatusNotFound, http.StatusNotFound},
	},
}

// riskError returns the risk API's answer to err, and false when err is
// trueup's own fault (INTERNAL_ERROR).
func riskError(err error) (riskAnswer, bool) {
	if a, ok := riskErrors.reasons[trueup.ErrorReason(err)]; ok {
		return a, true
	}
	a, ok := riskErrors.kinds[trueup.ErrorKind(err)]
	if !ok {
		return riskAnswer{RiskStatusInternalError, http.StatusInternalServerError}, false
	}
	return a, true
}

// maxRiskBody is the largest check body read; a check's body is a few
// dozen bytes.
const maxRiskBody = 64 << 10

// riskAPI serves the multiple-order check (seed 003).
type riskAPI struct {
	s   *Server
	svc *risk.Service
}

// riskRoutes registers the multiple-order check API (seed 003) and answers
// every other path under /check/ with the API's own 404 body.
func (s *Server) riskRoutes() {
	api := &riskAPI{s: s, svc: s.Risk}
	s.handle("POST /check/multiple_order/o1", api.handleCheck)
	s.handle("/check/", api.handleNotFound)
	s.handle("/check", api.handleNotFound)
}

// RiskAnswer is the body of every risk API answer: status OK with a result,
// or an error status with its reason; request_id is unique to the call.
type RiskAnswer struct {
	Status    string      `json:"status"`
	Result    *RiskResult `json:"result,omitempty"`
	Reason    string      `json:"reason,omitempty"`
	RequestID string      `json:"request_id"`
}

// RiskResult is a check's result: target true with the count and the
// records, newest first, or target false alone.
type RiskResult struct {
	Target bool      `json:"target"`
	Count  int       `json:"count,omitempty"`
	Data   []RiskHit `json:"data,omitempty"`
}

// RiskHit is one record of a hit. Duration is present for seat records
// only.
type RiskHit struct {
	Day      string `json:"day"`
	Source   string `json:"source"`
	CID      string `json:"cid"`
	Duration string `json:"duration,omitempty"`
	Level    int    `json:"level"`
}

// NewRequestID returns a fresh request id: TID and 32 hexadecimal digits
// (128 random bits; ids only need to be unique, so the runtime's fast
// generator serves).
func NewRequestID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	var out [3 + 32]byte
	copy(out[:], "TID")
	hex.Encode(out[3:], b[:])
	return string(out[:])
}

func (a *riskAPI) handleCheck(w http.ResponseWriter, r *http.Request) {
	id := NewRequestID()
	defer func() {
		if p := recover(); p != nil {
			a.writeError(w, r, id, fmt.Errorf("panic: %v", p))
		}
	}()
	req := risk.CheckRequest{APIID: r.Header.Get("X-DF-API-ID"), APISecret: r.Header.Get("X-DF-API-SECRET")}
	readCheckBody(r, &req)
	res, err := a.svc.Check(r.Context(), req)
	if err != nil {
		a.writeError(w, r, id, err)
		return
	}
	writeRiskBody(w, http.StatusOK, appendCheckAnswer(make([]byte, 0, 256), res, id))
}

// appendCheckAnswer appends the JSON answer of a check (a RiskAnswer with
// status OK), written by hand: it is the hot path.
func appendCheckAnswer(b []byte, res risk.CheckResult, requestID string) []byte {
	if !res.Target() {
		b = append(b, `{"status":"OK","result":{"target":false},"request_id":"`...)
		b = append(b, requestID...)
		return append(b, "\"}\n"...)
	}
	b = append(b, `{"status":"OK","result":{"target":true,"count":`...)
	b = strconv.AppendInt(b, int64(len(res.Records)), 10)
	b = append(b, `,"data":[`...)
	for i, rec := range res.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"day":"`...)
		b = rec.Day.AppendText(b)
		b = append(b, `","source":"`...)
		b = append(b, rec.Source.String()...)
		b = append(b, `","cid":`...)
		b = appendJSONString(b, rec.CID)
		if rec.Source == risk.SourceSeat && rec.HasDuration {
			b = append(b, `,"duration":"`...)
			b = strconv.AppendInt(b, rec.Duration, 10)
			b = append(b, '"')
		}
		b = append(b, `,"level":`...)
		b = strconv.AppendInt(b, int64(rec.Level), 10)
		b = append(b, '}')
	}
	b = append(b, `]},"request_id":"`...)
	b = append(b, requestID...)
	return append(b, "\"}\n"...)
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// readCheckBody reads the check's arguments from a JSON object or, when
// the body is not one and the content type says so, a URL-encoded form. A body that cannot be read
// is recorded in req.Malformed.
func readCheckBody(r *http.Request, req *risk.CheckRequest) {
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	body, err := readAtMost(r.Body, (*bp)[:0], maxRiskBody+1)
	*bp = body[:0]
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(body) > maxRiskBody:
		req.Malformed = fmt.Sprintf("request body: longer than %d bytes; send a JSON object with mobile_no, source and date", maxRiskBody)
		return
	case err != nil:
		req.Malformed = "request body: could not be read; send a JSON object with mobile_no, source and date"
		return
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return // every argument absent
	}
	// A body that is not a JSON object is read as a form when the content
	// type says so (curl -d sends JSON as a form too: the body decides).
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); trimmed[0] != '{' && ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			req.Malformed = "request body: not a valid form; send mobile_no, source and date URL-encoded, or a JSON object"
			return
		}
		formArg := func(name string) risk.Arg {
			if v, ok := form[name]; ok && len(v) > 0 {
				return risk.Text(v[0])
			}
			return risk.Arg{}
		}
		req.MobileNo, req.Source, req.Date = formArg("mobile_no"), formArg("source"), formArg("date")
		return
	}
	if parseFlatArgs(trimmed, req) {
		return
	}
	var args struct {
		MobileNo json.RawMessage `json:"mobile_no"`
		Source   json.RawMessage `json:"source"`
		Date     json.RawMessage `json:"date"`
	}
	if err := json.Unmarshal(body, &args); err != nil {
		req.Malformed = `request body: not a JSON object; send {"mobile_no": "<md5>", "source": "seat", "date": "YYYY-MM-DD"} (source and date optional)`
		return
	}
	req.MobileNo, req.Source, req.Date = jsonArg(args.MobileNo), jsonArg(args.Source), jsonArg(args.Date)
}

// parseFlatArgs reads the common body quickly: a JSON object whose keys
// are exactly mobile_no, source and date and whose values are strings
// without escapes, or null. It reports false, having changed nothing, for
// anything else, which encoding/json then reads.
func parseFlatArgs(b []byte, req *risk.CheckRequest) bool {
	var args [3]risk.Arg
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	str := func() (string, bool) { // a string without escapes or controls
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		for j := i + 1; j < len(b); j++ {
			switch c := b[j]; {
			case c == '"':
				s := string(b[i+1 : j])
				i = j + 1
				return s, true
			case c == '\\' || c < 0x20:
				return "", false
			}
		}
		return "", false
	}
	ws()
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	ws()
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			ws()
			key, ok := str()
			if !ok {
				return false
			}
			var k int
			switch key {
			case "mobile_no":
				k = 0
			case "source":
				k = 1
			case "date":
				k = 2
			default:
				return false
			}
			ws()
			if i >= len(b) || b[i] != ':' {
				return false
			}
			i++
			ws()
			if i+4 <= len(b) && string(b[i:i+4]) == "null" {
				i += 4
				args[k] = risk.Arg{}
			} else if v, ok := str(); ok {
				args[k] = risk.Text(v)
			} else {
				return false
			}
			ws()
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return false
		}
	}
	ws()
	if i != len(b) {
		return false
	}
	req.MobileNo, req.Source, req.Date = args[0], args[1], args[2]
	return true
}

// bodyBuffers recycles the buffers check bodies are read into (the
// arguments are copied out of them).
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// readAtMost appends what r holds to buf, up to limit bytes, and returns
// it; io.EOF is not an error.
func readAtMost(r io.Reader, buf []byte, limit int) ([]byte, error) {
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// jsonArg reads one JSON argument: absent or null, a string, or another
// JSON value (not text).
func jsonArg(raw json.RawMessage) risk.Arg {
	if len(raw) == 0 || string(raw) == "null" {
		return risk.Arg{}
	}
	if raw[0] != '"' {
		return risk.Arg{Present: true, NotText: true}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return risk.Arg{Present: true, NotText: true}
	}
	return risk.Text(s)
}

func (a *riskAPI) handleNotFound(w http.ResponseWriter, r *http.Request) {
	a.writeError(w, r, NewRequestID(), trueup.NotFound("no API %s %s; the check is POST /check/multiple_order/o1", r.Method, r.URL.Path))
}

// writeError writes err as the risk API's error body. A refused check
// answers its status word (riskErrors) and its message as the reason;
// anything else is trueup's fault: logged with the request id, answered
// INTERNAL_ERROR with no detail.
func (a *riskAPI) writeError(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	ans, ok := riskError(err)
	reason := trueup.ErrorMessage(err)
	if !ok {
		a.s.Logger.Error("internal error", "trace_id", TraceID(r.Context()), "request_id", requestID, "method", r.Method, "path", r.URL.Path, "err", err)
		reason = "internal error; the request was not counted against your quota. Retry later or give the operator the request_id"
	}
	writeRisk(w, ans.status, RiskAnswer{Status: ans.word, Reason: reason, RequestID: requestID})
}

// writeRisk writes a risk answer with status.
func writeRisk(w http.ResponseWriter, status int, ans RiskAnswer) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ans); err != nil {
		buf.Reset()
		buf.WriteString(`{"status":"INTERNAL_ERROR","reason":"internal error","request_id":"` + ans.RequestID + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	writeRiskBody(w, status, buf.Bytes())
}

// writeRiskBody writes a JSON body with status.
func writeRiskBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json; charset=utf-8"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
