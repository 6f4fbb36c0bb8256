package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/operator"
)

// DefaultMaxUploadBytes limits an upload when Services.MaxUploadBytes is 0.
const DefaultMaxUploadBytes = 256 << 20

// maxFieldBytes limits a form field sent beside an upload's file.
const maxFieldBytes = 256

func (h *Handler) uploadRoutes() {
	h.page("GET "+Prefix+"upload", operator.RoleCarrier, h.uploadForm)
	h.page("POST "+Prefix+"upload", operator.RoleCarrier, h.upload)
	h.nav("Upload", Prefix+"upload", operator.RoleCarrier, 25)
}

// maxUpload returns the upload limit.
func (h *Handler) maxUpload() int64 {
	if h.MaxUploadBytes > 0 {
		return h.MaxUploadBytes
	}
	return DefaultMaxUploadBytes
}

// received is an upload's file, copied to a temporary file, and the
// form's other fields.
type received struct {
	File   *os.File
	Name   string
	Size   int64
	Fields map[string]string
}

// remove closes and deletes the temporary file.
func (u received) remove() {
	if u.File != nil {
		u.File.Close()
		os.Remove(u.File.Name())
	}
}

// receive reads a multipart upload: the file in field fileField, copied
// to a temporary file with an extension among exts (the first when the
// name has none of them), and the short fields. A script sends the CSRF
// token in its header, so the body is read here as a stream; a form
// without a script has had its body parsed by the CSRF check.
func (h *Handler) receive(w http.ResponseWriter, r *http.Request, fileField string, exts []string) (received, error) {
	u := received{Fields: map[string]string{}}
	missing := trueup.Errorf(trueup.EINVALID, "no file was sent; choose the file (or drop it on the box) and send the form again")
	if r.MultipartForm != nil {
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				u.Fields[k] = v[0]
			}
		}
		fhs := r.MultipartForm.File[fileField]
		if len(fhs) == 0 {
			return u, missing
		}
		f, err := fhs[0].Open()
		if err != nil {
			return u, fmt.Errorf("open upload: %w", err)
		}
		defer f.Close()
		err = h.spoolUpload(&u, f, fhs[0].Filename, exts)
		return u, err
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "multipart/form-data" {
		return u, trueup.Errorf(trueup.EINVALID, "the form was not sent as multipart/form-data; reload the page and send it again")
	}
	r.Body = http.MaxBytesReader(w, r.Body, h.maxUpload()+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		return u, trueup.Errorf(trueup.EINVALID, "the form could not be read (%v); reload the page and send it again", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			u.remove()
			return received{}, h.bodyError(err)
		}
		if part.FormName() == fileField && part.FileName() != "" {
			if u.File != nil {
				u.remove()
				return received{}, trueup.Errorf(trueup.EINVALID, "two files were sent; send one file at a time")
			}
			if err := h.spoolUpload(&u, part, part.FileName(), exts); err != nil {
				u.remove()
				return received{}, err
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			u.remove()
			return received{}, h.bodyError(err)
		}
		if len(b) > maxFieldBytes {
			u.remove()
			return received{}, trueup.Errorf(trueup.EINVALID, "the field %s is longer than %d bytes; shorten it", part.FormName(), maxFieldBytes)
		}
		u.Fields[part.FormName()] = strings.TrimSpace(string(b))
	}
	if u.File == nil {
		return u, missing
	}
	return u, nil
}

// spoolUpload copies an uploaded file to a temporary file within the
// upload limit.
func (h *Handler) spoolUpload(u *received, src io.Reader, name string, exts []string) error {
	u.Name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	ext := strings.ToLower(filepath.Ext(u.Name))
	keep := exts[0]
	for _, e := range exts {
		if e == ext {
			keep = e
		}
	}
	f, err := os.CreateTemp(h.TempDir, "trueup-console-*"+keep)
	if err != nil {
		return fmt.Errorf("temp file: %w", err)
	}
	u.File = f
	limit := h.maxUpload()
	u.Size, err = io.Copy(f, io.LimitReader(src, limit+1))
	if err != nil {
		return h.bodyError(err)
	}
	if u.Size > limit {
		return trueup.Errorf(trueup.ETOOLARGE, "the file is larger than the limit of %d bytes; split it into smaller files", limit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind upload: %w", err)
	}
	return nil
}

// bodyError turns an error reading a request body into a client error.
func (h *Handler) bodyError(err error) error {
	var te *trueup.Error
	if errors.As(err, &te) {
		return te
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return trueup.Errorf(trueup.ETOOLARGE, "the upload is larger than the limit of %d bytes; split the file into smaller files", h.maxUpload())
	}
	return trueup.Errorf(trueup.EINVALID, "the upload was cut off (%v); send it again", err)
}

// scripted reports whether a script sent the request (it then reads a
// JSON answer rather than following a redirect).
func scripted(r *http.Request) bool { return r.Header.Get(csrfHeader) != "" }

// answerScript answers a script: {"location": path} or {"error": message}
// with the error's status.
func (h *Handler) answerScript(w http.ResponseWriter, r *http.Request, location string, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(h.statusOf(r, err))
		json.NewEncoder(w).Encode(map[string]string{"error": h.message(r, w, err)})
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"location": location})
}

func init() {
	funcs["dropzone"] = func(id, accept, hint string, maxBytes int64) dropzoneView {
		return dropzoneView{ID: id, Accept: accept, Hint: hint, MaxBytes: maxBytes}
	}
}

// dropzoneView is a file field with its drop area and progress bar.
type dropzoneView struct {
	ID, Accept, Hint string
	MaxBytes         int64
}

// uploadData is the statement upload form.
type uploadData struct {
	Carriers []trueup.Carrier
	Carrier  trueup.CarrierID
	Cycle    string
	MaxBytes int64
	CanAct   bool
}

// canUpload reports whether the session may upload: an operator or a
// carrier user (for its own carrier), not a viewer.
func canUpload(s *Session) bool {
	return s.Operator.Role == operator.RoleCarrier || s.Can(operator.RoleOperator)
}

func (h *Handler) uploadData(r *http.Request) (uploadData, error) {
	carriers, err := h.visibleCarriers(r)
	d := uploadData{Carriers: carriers, MaxBytes: h.maxUpload(), CanAct: canUpload(sessionOf(r)),
		Cycle: trueup.CycleOf(h.Clock.Now().UTC()).Prev().String(), Carrier: trueup.CarrierID(r.URL.Query().Get("carrier"))}
	return d, err
}

func (h *Handler) uploadForm(w http.ResponseWriter, r *http.Request) {
	d, err := h.uploadData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "upload", d)
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	d, err := h.uploadData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	no, err := h.submitStatement(w, r, &d)
	if scripted(r) {
		h.answerScript(w, r, Prefix+"batches/"+string(no), err)
		return
	}
	if err != nil {
		h.renderError(w, r, "upload", d, err)
		return
	}
	h.redirect(w, r, Prefix+"batches/"+string(no), "Statement received as batch "+string(no)+"; its check runs now.")
}

// submitStatement receives a statement upload and submits it as a batch.
func (h *Handler) submitStatement(w http.ResponseWriter, r *http.Request, d *uploadData) (trueup.BatchNo, error) {
	s := sessionOf(r)
	if !canUpload(s) {
		return "", trueup.Errorf(trueup.EFORBIDDEN, "your role (%s) cannot upload statements; it needs the operator role. Ask an admin to change your role if you need it", s.Operator.Role)
	}
	u, err := h.receive(w, r, "file", []string{".csv", ".xlsx", ".xls"})
	defer u.remove()
	d.Carrier, d.Cycle = trueup.CarrierID(u.Fields["carrier"]), u.Fields["cycle"]
	if err != nil {
		return "", err
	}
	if d.Carrier == "" {
		return "", trueup.Errorf(trueup.EINVALID, "no carrier was chosen; choose the carrier whose statement this is")
	}
	if !s.CanSeeCarrier(d.Carrier) {
		return "", trueup.Errorf(trueup.ENOTFOUND, "there is no carrier %s; choose one from the list", d.Carrier)
	}
	c, err := h.Carriers.Carrier(r.Context(), d.Carrier)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return "", trueup.Errorf(trueup.ENOTFOUND, "there is no carrier %s; choose one from the list", d.Carrier)
	} else if err != nil {
		return "", err
	}
	return h.Batches.Submit(r.Context(), batch.SubmitParams{Carrier: c, Cycle: d.Cycle, FileName: u.Name, File: u.File, Size: u.Size,
		TraceID: w.Header().Get("x-traceid")})
}
