package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/risk"
)

// bodyTypes maps the Content-Types of an import body to the extension the
// file readers tell formats by.
var bodyTypes = map[string]string{
	"text/csv":                 ".csv",
	"application/csv":          ".csv",
	"application/x-ndjson":     ".jsonl",
	"application/jsonl":        ".jsonl",
	"application/x-jsonlines":  ".jsonl",
	"application/jsonlines":    ".jsonl",
	"application/vnd.ms-excel": ".xls",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}

// spooled is an import body copied to a temporary file.
type spooled struct {
	path string
	name string // the file name the caller gave, or body.EXT
	size int64
}

func (s spooled) remove() { os.Remove(s.path) }

// spool copies an import body (a CSV, JSON Lines or spreadsheet body, or
// the field file of a multipart form) to a temporary file whose extension
// names its format. Bodies over MaxImportBytes are ETOOLARGE.
func (h *Handler) spool(r *http.Request) (spooled, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return spooled{}, invalid("Content-Type %q is not a media type; send text/csv, application/x-ndjson or multipart/form-data with the field file", ct)
	}
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return spooled{}, invalid("the multipart body could not be read (%v); send the file in the field file", err)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return spooled{}, invalid("field file is missing; attach the CSV, JSON Lines, xlsx or xls file as multipart field file")
			}
			if err != nil {
				return spooled{}, h.readError(err)
			}
			if part.FormName() != "file" {
				part.Close()
				continue
			}
			name := filepath.Base(part.FileName())
			if part.FileName() == "" {
				name = "upload.csv"
			}
			ext := strings.ToLower(filepath.Ext(name))
			if ext != ".csv" && ext != ".jsonl" && ext != ".ndjson" && ext != ".xlsx" && ext != ".xls" {
				ext = ".csv" // the content tells xlsx and xls apart from CSV
			}
			return h.copyBody(part, name, ext)
		}
	}
	ext, ok := bodyTypes[mt]
	if !ok {
		return spooled{}, invalid("Content-Type %q is not an import format; send text/csv, application/x-ndjson (JSON Lines), an xlsx or xls type, or multipart/form-data with the field file", ct)
	}
	return h.copyBody(r.Body, "body"+ext, ext)
}

func (h *Handler) copyBody(r io.Reader, name, ext string) (spooled, error) {
	f, err := os.CreateTemp(h.TempDir, "trueup-import-*"+ext)
	if err != nil {
		return spooled{}, fmt.Errorf("temp file: %w", err)
	}
	s := spooled{path: f.Name(), name: name}
	s.size, err = io.Copy(f, io.LimitReader(r, h.MaxImportBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && s.size > h.MaxImportBytes {
		err = trueup.Errorf(trueup.ETOOLARGE, "the import body is larger than the limit of %d bytes; split the file", h.MaxImportBytes)
	} else if err != nil {
		err = h.readError(err)
	}
	if err != nil {
		s.remove()
		return spooled{}, err
	}
	return s, nil
}

// readError turns a body-reading error into a client error.
func (h *Handler) readError(err error) error {
	var te *trueup.Error
	if errors.As(err, &te) { // a body cut off by the server's deadline
		return te
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return trueup.Errorf(trueup.ETOOLARGE, "the import body is larger than the limit of %d bytes; split the file", mbe.Limit)
	}
	return invalid("the request body could not be read (%v); send it again", err)
}

// openError turns an error opening a spooled file into a client error.
func openError(err error) error {
	if errors.Is(err, sheet.ErrWrongFormat) {
		return invalid("the body is not CSV, JSON Lines, xlsx or xls as its Content-Type or file name says; send the file in one of these formats")
	}
	return err
}

// fileError returns err, an error of the file past a reader's limit or
// unreadable, as an EINVALID error with the reader's message
// (which names the row and the limit); other errors as they are.
func fileError(err error) error {
	var pe *sheet.ParseError
	if errors.As(err, &pe) {
		return invalid("%s", pe.Error())
	}
	return err
}

// start runs an import of a spooled body with run, answering 202 with the
// import. The spooled file is removed once the import ends.
func (h *Handler) start(w http.ResponseWriter, r *http.Request, p imports.StartParams, s spooled, closeSource func() error) {
	p.FileName, p.KeyID = s.name, string(callerKey(r).ID)
	run := p.Run
	p.Run = func(ctx context.Context, progress func(float64, int64)) (int64, error) {
		n, err := run(ctx, progress)
		return n, fileError(err)
	}
	p.Done = func() {
		closeSource()
		s.remove()
	}
	im, err := h.Imports.Start(r.Context(), p)
	if err != nil {
		p.Done()
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", Prefix+"imports/"+string(im.ID))
	writeJSON(w, http.StatusAccepted, im)
}

func (h *Handler) importOrders(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("carrierId")
	if id == "" {
		h.writeError(w, r, invalid("query parameter carrierId is missing; send the carrier whose ledger the orders belong to"))
		return
	}
	c, err := h.Carriers.Carrier(r.Context(), trueup.CarrierID(id))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	s, err := h.spool(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	src, err := ledger.OpenFile(s.path, h.Readers)
	if err != nil {
		s.remove()
		h.writeError(w, r, openError(err))
		return
	}
	run := func(ctx context.Context, progress func(float64, int64)) (int64, error) {
		return h.Ledger.Import(ctx, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location(), Progress: progress})
	}
	h.start(w, r, imports.StartParams{Kind: imports.KindOrders, Target: string(c.ID), Run: run}, s, src.Close)
}

func (h *Handler) importTransactions(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("buyerId")
	if id == "" {
		h.writeError(w, r, invalid("query parameter buyerId is missing; send the buyer whose transactions these are"))
		return
	}
	if _, err := h.Buyers.Buyer(r.Context(), buyer.BuyerID(id)); err != nil {
		h.writeError(w, r, err)
		return
	}
	s, err := h.spool(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	src, err := buyer.OpenFile(s.path, buyer.TransactionColumns, h.Readers)
	if err != nil {
		s.remove()
		h.writeError(w, r, openError(err))
		return
	}
	run := func(ctx context.Context, progress func(float64, int64)) (int64, error) {
		return h.Buyers.Import(ctx, buyer.ImportParams{Buyer: buyer.BuyerID(id), Source: src, Progress: progress})
	}
	h.start(w, r, imports.StartParams{Kind: imports.KindTransactions, Target: id, Run: run}, s, src.Close)
}

func (h *Handler) importRisk(w http.ResponseWriter, r *http.Request) {
	var replace bool
	switch v := r.URL.Query().Get("replace"); v {
	case "", "false":
	case "true":
		replace = true
	default:
		h.writeError(w, r, invalid("query parameter replace %q is not true or false; send replace=true to make the file the whole new list", v))
		return
	}
	s, err := h.spool(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	in, size, err := risk.OpenFile(s.path, h.Readers)
	if err != nil {
		s.remove()
		h.writeError(w, r, openError(err))
		return
	}
	expected := size / 64 // bytes of a typical CSV or JSON Lines record
	if ext := filepath.Ext(s.path); ext == ".xlsx" || ext == ".xls" {
		expected = size / 16
	}
	run := func(ctx context.Context, progress func(float64, int64)) (int64, error) {
		res, err := h.Risk.Import(ctx, risk.ImportParams{Input: in, Replace: replace, ExpectedRows: expected, Progress: progress})
		return res.Imported, err
	}
	h.start(w, r, imports.StartParams{Kind: imports.KindRisk, Run: run}, s, in.Close)
}

func (h *Handler) listImports(w http.ResponseWriter, r *http.Request) {
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	list, err := h.Imports.List(r.Context(), limit)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (h *Handler) getImport(w http.ResponseWriter, r *http.Request) {
	im, err := h.Imports.Get(r.Context(), imports.ID(r.PathValue("importId")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, im)
}
