package console

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/buyer"
	"github.com/trueup/trueup/imports"
	"github.com/trueup/trueup/internal/sheet"
	"github.com/trueup/trueup/ledger"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/risk"
)

// recentImports is how many imports the imports page lists.
const recentImports = 30

// importExts are the file types an import reads (JSON Lines by name).
var importExts = []string{".csv", ".jsonl", ".ndjson", ".xlsx", ".xls"}

func (h *Handler) importRoutes() {
	h.page("GET "+Prefix+"imports", operator.RoleViewer, h.importList)
	h.page("POST "+Prefix+"imports/{kind}", operator.RoleOperator, h.startImport)
	h.page("GET "+Prefix+"imports/{id}", operator.RoleViewer, h.importPage)
	h.page("GET "+Prefix+"imports/{id}/progress", operator.RoleViewer, h.importProgress)
	h.nav("Imports", Prefix+"imports", operator.RoleViewer, 30)
}

// importsData is the imports page: the three forms and the latest imports.
type importsData struct {
	Carriers []trueup.Carrier
	Buyers   []buyer.Buyer
	Imports  []imports.Import
	MaxBytes int64
	CanAct   bool
	Form     string // the form sent back with an error
}

func (h *Handler) importsData(r *http.Request) (importsData, error) {
	d := importsData{MaxBytes: h.maxUpload(), CanAct: sessionOf(r).Can(operator.RoleOperator)}
	var err error
	if d.Carriers, err = h.Carriers.Carriers(r.Context()); err != nil {
		return d, err
	}
	if d.Buyers, err = h.Buyers.Buyers(r.Context()); err != nil {
		return d, err
	}
	d.Imports, err = h.Imports.List(r.Context(), recentImports)
	return d, err
}

func (h *Handler) importList(w http.ResponseWriter, r *http.Request) {
	d, err := h.importsData(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "imports", d)
}

func (h *Handler) startImport(w http.ResponseWriter, r *http.Request) {
	im, err := h.beginImport(w, r)
	if scripted(r) {
		h.answerScript(w, r, Prefix+"imports/"+string(im.ID), err)
		return
	}
	if err != nil {
		d, derr := h.importsData(r)
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		d.Form = r.PathValue("kind")
		h.renderError(w, r, "imports", d, err)
		return
	}
	h.redirect(w, r, Prefix+"imports/"+string(im.ID), "Import "+string(im.ID)+" started.")
}

// beginImport receives an import's file and starts it in the background.
func (h *Handler) beginImport(w http.ResponseWriter, r *http.Request) (imports.Import, error) {
	kind := imports.Kind(r.PathValue("kind"))
	switch kind {
	case imports.KindOrders, imports.KindTransactions, imports.KindRisk:
	default:
		return imports.Import{}, trueup.Errorf(trueup.ENOTFOUND, "there is no import of %q; import orders, transactions or risk records from %simports", kind, Prefix)
	}
	u, err := h.receive(w, r, "file", importExts)
	if err != nil {
		u.remove()
		return imports.Import{}, err
	}
	// The import reads the file by name, in the background: the file
	// is closed here and removed when the import ends.
	u.File.Close()
	path := u.File.Name()
	p := imports.StartParams{Kind: kind, FileName: u.Name, KeyID: string(sessionOf(r).Operator.Actor())}
	var closeSource func() error
	switch kind {
	case imports.KindOrders:
		c, err := h.Carriers.Carrier(r.Context(), trueup.CarrierID(u.Fields["carrier"]))
		if err != nil {
			u.remove()
			if trueup.ErrorKind(err) == trueup.ENOTFOUND {
				err = trueup.Errorf(trueup.EINVALID, "choose the carrier whose ledger orders these are")
			}
			return imports.Import{}, err
		}
		src, err := ledger.OpenFile(path, h.Readers)
		if err != nil {
			u.remove()
			return imports.Import{}, importOpenError(err)
		}
		p.Target, closeSource = string(c.ID), src.Close
		p.Run = func(ctx context.Context, progress func(float64, int64)) (int64, error) {
			return h.Ledger.Import(ctx, ledger.ImportParams{Carrier: c.ID, Source: src, Location: c.Location(), Progress: progress})
		}
	case imports.KindTransactions:
		id := buyer.BuyerID(u.Fields["buyer"])
		if _, err := h.Buyers.Buyer(r.Context(), id); err != nil {
			u.remove()
			if trueup.ErrorKind(err) == trueup.ENOTFOUND {
				err = trueup.Errorf(trueup.EINVALID, "choose the buyer whose transactions these are")
			}
			return imports.Import{}, err
		}
		src, err := buyer.OpenFile(path, buyer.TransactionColumns, h.Readers)
		if err != nil {
			u.remove()
			return imports.Import{}, importOpenError(err)
		}
		p.Target, closeSource = string(id), src.Close
		p.Run = func(ctx context.Context, progress func(float64, int64)) (int64, error) {
			return h.Buyers.Import(ctx, buyer.ImportParams{Buyer: id, Source: src, Progress: progress})
		}
	case imports.KindRisk:
		replace := u.Fields["replace"] == "on" || u.Fields["replace"] == "true"
		in, size, err := risk.OpenFile(path, h.Readers)
		if err != nil {
			u.remove()
			return imports.Import{}, importOpenError(err)
		}
		expected := size / 64 // bytes of a typical CSV or JSON Lines record
		if ext := filepath.Ext(path); ext == ".xlsx" || ext == ".xls" {
			expected = size / 16
		}
		closeSource = in.Close
		p.Run = func(ctx context.Context, progress func(float64, int64)) (int64, error) {
			res, err := h.Risk.Import(ctx, risk.ImportParams{Input: in, Replace: replace, ExpectedRows: expected, Progress: progress})
			return res.Imported, err
		}
	}
	run := p.Run
	p.Run = func(ctx context.Context, progress func(float64, int64)) (int64, error) {
		n, err := run(ctx, progress)
		var pe *sheet.ParseError
		if errors.As(err, &pe) {
			err = trueup.Errorf(trueup.EINVALID, "%s", pe.Error())
		}
		return n, err
	}
	p.Done = func() {
		closeSource()
		u.remove()
	}
	im, err := h.Imports.Start(r.Context(), p)
	if err != nil {
		p.Done()
	}
	return im, err
}

// importOpenError turns an error opening an import file into a client
// error.
func importOpenError(err error) error {
	if errors.Is(err, sheet.ErrWrongFormat) {
		return trueup.Errorf(trueup.EINVALID, "the file is not CSV, JSON Lines, xlsx or xls; save it in one of these formats and send it again")
	}
	var pe *sheet.ParseError
	if errors.As(err, &pe) {
		return trueup.Errorf(trueup.EINVALID, "%s", pe.Error())
	}
	return err
}

func (h *Handler) importPage(w http.ResponseWriter, r *http.Request) {
	im, err := h.Imports.Get(r.Context(), imports.ID(r.PathValue("id")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, "import", struct {
		Import imports.Import
		Stream string
	}{im, func() string {
		if im.State == imports.Running {
			return Prefix + "imports/" + string(im.ID) + "/progress"
		}
		return ""
	}()})
}

// importEvent is an import's state as its progress stream sends it.
type importEvent struct {
	State      imports.State `json:"state"`
	RowsRead   int64         `json:"rowsRead"`
	Imported   int64         `json:"imported"`
	ErrorCount int           `json:"errorCount"`
	Final      bool          `json:"final"`
}

// importProgress streams an import's progress as server-sent events, as
// batchProgress does for batches, within the same bound of streams.
func (h *Handler) importProgress(w http.ResponseWriter, r *http.Request) {
	id := imports.ID(r.PathValue("id"))
	if _, err := h.Imports.Get(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	var last *importEvent
	h.streamProgress(w, r, func(ctx context.Context) ([]any, bool, error) {
		im, err := h.Imports.Get(ctx, id)
		if err != nil {
			return nil, false, err
		}
		e := importEvent{State: im.State, RowsRead: im.RowsRead, Imported: im.Imported, ErrorCount: im.ErrorCount, Final: im.State != imports.Running}
		if last != nil && *last == e {
			return nil, e.Final, nil
		}
		last = &e
		return []any{e}, e.Final, nil
	})
}
