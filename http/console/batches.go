package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trueup/trueup"
	"github.com/trueup/trueup/batch"
	"github.com/trueup/trueup/operator"
	"github.com/trueup/trueup/statement"
)

const (
	// batchListLimit is how many batches the list shows per carrier.
	batchListLimit = 50
	// discrepancyPageSize is how many discrepancies a browser page shows.
	discrepancyPageSize = 50
	// maxStreamedBatches bounds the batches one progress stream follows.
	maxStreamedBatches = batchListLimit
	// progressPoll is how often a progress stream reads the batches.
	progressPoll = 500 * time.Millisecond
	// progressKeepAlive is how often an unchanged stream sends a comment,
	// so that proxies keep the connection.
	progressKeepAlive = 15 * time.Second
	// progressMaxAge ends a stream; the browser reconnects by itself.
	progressMaxAge = 30 * time.Minute
)

// DefaultMaxProgressStreams bounds the progress streams served at once
// when Services.MaxProgressStreams is 0.
const DefaultMaxProgressStreams = 64

func (h *Handler) batchRoutes() {
	n := h.MaxProgressStreams
	if n <= 0 {
		n = DefaultMaxProgressStreams
	}
	h.streams = make(chan struct{}, n)
	h.page("GET "+Prefix+"batches", operator.RoleCarrier, h.batchList)
	h.page("GET "+Prefix+"batches/progress", operator.RoleCarrier, h.batchProgress)
	h.page("GET "+Prefix+"batches/{no}", operator.RoleCarrier, h.batchPage)
	h.page("GET "+Prefix+"batches/{no}/export", operator.RoleCarrier, h.batchExport)
	h.nav("Batches", Prefix+"batches", operator.RoleCarrier, 20)
}

// batchFinal reports whether a batch has reached a final state.
func batchFinal(b trueup.Batch) bool {
	return b.State == trueup.BatchSucceeded || b.State == trueup.BatchFailed
}

// visibleBatch returns a batch the session may see and its attempt; a
// batch of another carrier is not found, as one that does not exist.
func (h *Handler) visibleBatch(r *http.Request, no trueup.BatchNo) (trueup.Batch, int, error) {
	b, attempt, err := h.Batches.Batch(r.Context(), no)
	if err == nil && !sessionOf(r).CanSeeCarrier(b.CarrierID) {
		err = trueup.NotFound("batch %s does not exist", no)
	}
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return b, 0, trueup.Errorf(trueup.ENOTFOUND, "there is no batch %s; check the number or pick the batch from the list at %sbatches", no, Prefix)
	}
	return b, attempt, err
}

func init() {
	funcs["progressURL"] = progressURL
	funcs["add"] = func(a, b int) int { return a + b }
	funcs["cell"] = func(v string, differs bool) cellView { return cellView{Value: v, Differs: differs} }
}

// cellView is one side's value of a field in the discrepancy table.
type cellView struct {
	Value   string
	Differs bool
}

// batchRow is a batch in the list.
type batchRow struct {
	trueup.Batch
	Final bool
}

// carrierBatches is a carrier and its latest batches.
type carrierBatches struct {
	Carrier trueup.Carrier
	Batches []batchRow
}

func (h *Handler) batchList(w http.ResponseWriter, r *http.Request) {
	carriers, err := h.visibleCarriers(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var data struct {
		Carriers []carrierBatches
		Live     []string // batches not final, followed by the page's stream
		Selected trueup.CarrierID
		All      []trueup.Carrier
	}
	data.All = carriers
	data.Selected = trueup.CarrierID(r.URL.Query().Get("carrier"))
	for _, c := range carriers {
		if data.Selected != "" && c.ID != data.Selected {
			continue
		}
		list, err := h.Batches.Batches(r.Context(), c.ID, batchListLimit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		cb := carrierBatches{Carrier: c}
		for _, b := range list {
			cb.Batches = append(cb.Batches, batchRow{Batch: b, Final: batchFinal(b)})
			if !batchFinal(b) {
				data.Live = append(data.Live, string(b.No))
			}
		}
		data.Carriers = append(data.Carriers, cb)
	}
	if data.Selected != "" && len(data.Carriers) == 0 {
		h.fail(w, r, trueup.Errorf(trueup.ENOTFOUND, "there is no carrier %s; pick one from the list at %sbatches", data.Selected, Prefix))
		return
	}
	h.render(w, r, "batches", data)
}

// progressURL returns the stream of the given batches' progress.
func progressURL(nos []string) string {
	var b strings.Builder
	b.WriteString(Prefix + "batches/progress")
	for i, no := range nos {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString("no=" + no)
	}
	return b.String()
}

// kindBar is one kind's bar of the counts chart.
type kindBar struct {
	trueup.Kind
	Count int64
	// Y is the bar's top, Width its length in the chart's units.
	Y, Width int
}

// Chart geometry, in the SVG's user units.
const (
	chartWidth  = 640
	chartLabel  = 280 // the labels' column
	chartNumber = 80  // the counts' column
	chartRow    = 34
)

// kindBars lays out the chart of counts.
func kindBars(c trueup.DiffCounts) []kindBar {
	var top int64
	for _, k := range trueup.Kinds {
		top = max(top, c[k.Type])
	}
	span := chartWidth - chartLabel - chartNumber
	bars := make([]kindBar, 0, len(trueup.Kinds))
	for i, k := range trueup.Kinds {
		b := kindBar{Kind: k, Count: c[k.Type], Y: i*chartRow + 6}
		if top > 0 {
			b.Width = int(c[k.Type] * int64(span) / top)
			if c[k.Type] > 0 && b.Width == 0 {
				b.Width = 1
			}
		}
		bars = append(bars, b)
	}
	return bars
}

// pair is one field of a discrepancy on both sides.
type pair struct {
	Carrier, Platform string
	// Differs marks a field both sides have, with different values.
	Differs bool
}

func pairOf(carrier, platform string) pair {
	return pair{Carrier: carrier, Platform: platform, Differs: carrier != "" && platform != "" && carrier != platform}
}

// discrepancyRow is a discrepancy as the browser shows it.
type discrepancyRow struct {
	trueup.Discrepancy
	Kind                                    trueup.Kind
	Order, User                             pair
	OrderTime, Package, Active, End, Amount pair
	Diff                                    string
	NoCarrier, NoPlatform                   bool
}

func rowOf(d trueup.Discrepancy) discrepancyRow {
	k, _ := trueup.KindOf(d.DiffType)
	row := discrepancyRow{Discrepancy: d, Kind: k,
		NoCarrier: d.DiffType == trueup.DiffMissingOnCarrier, NoPlatform: d.DiffType == trueup.DiffMissingOnPlatform,
		Order: pair{Carrier: d.CarrierOrderID, Platform: d.KdOrderID}, User: pair{Carrier: d.CarrierUserID, Platform: d.KdUserID},
		OrderTime: pairOf(d.CarrierOrderTime, d.KdOrderTime), Package: pairOf(d.CarrierPackageID, d.KdPackageID),
		Active: pairOf(d.CarrierActiveTime, d.KdActiveTime), End: pairOf(d.CarrierEndTime, d.KdEndTime),
	}
	platformAmount := ""
	if !row.NoPlatform {
		platformAmount = d.KdSaleTotal.String()
	}
	row.Amount = pair{Carrier: d.CarrierSaleToKd, Platform: platformAmount}
	diff := batch.AmountDiff(d)
	row.Amount.Differs = d.DiffType == trueup.DiffAmount || (!row.NoCarrier && !row.NoPlatform && !diff.IsZero())
	row.Diff = diff.String()
	if diff.IsPositive() {
		row.Diff = "+" + row.Diff
	}
	return row
}

// browser is the discrepancy browser's state, from the page's query.
type browser struct {
	Kind   trueup.DiffType
	Search string
	Sort   batch.Order
	After  batch.Cursor
}

// browserOf reads the browser's query parameters.
func browserOf(r *http.Request) (browser, error) {
	v := r.URL.Query()
	var b browser
	if k := v.Get("kind"); k != "" && k != "all" {
		n, err := strconv.Atoi(k)
		if _, ok := trueup.KindOf(trueup.DiffType(n)); err != nil || !ok {
			return b, trueup.Errorf(trueup.EINVALID, "kind %q is not a discrepancy kind; choose one of 1 to %d or all kinds", k, len(trueup.Kinds))
		}
		b.Kind = trueup.DiffType(n)
	}
	b.Search = strings.TrimSpace(v.Get("q"))
	var err error
	if b.Sort, err = batch.ParseOrder(v.Get("sort")); err != nil {
		return b, err
	}
	if b.After, err = batch.ParseCursor(v.Get("after")); err != nil {
		return b, err
	}
	return b, nil
}

func (b browser) query(no trueup.BatchNo, attempt int) batch.Query {
	return batch.Query{No: no, Attempt: attempt, Kind: b.Kind, Search: b.Search, Order: b.Sort, After: b.After, Limit: discrepancyPageSize + 1}
}

// link returns the batch page's URL for b's filters, with after when set.
func (b browser) link(no trueup.BatchNo, path string, after batch.Cursor) string {
	v := urlValues{}
	if b.Kind != 0 {
		v.add("kind", strconv.Itoa(int(b.Kind)))
	}
	v.add("q", b.Search)
	v.add("sort", string(b.Sort))
	if !after.IsZero() {
		v.add("after", after.String())
	}
	return Prefix + "batches/" + string(no) + path + v.encode()
}

// urlValues is a query string that keeps its order and skips empty values.
type urlValues []string

func (v *urlValues) add(k, val string) {
	if val != "" {
		*v = append(*v, k+"="+url.QueryEscape(val))
	}
}

func (v urlValues) encode() string {
	if len(v) == 0 {
		return ""
	}
	return "?" + strings.Join(v, "&")
}

// batchPageData is what the batch page shows.
type batchPageData struct {
	Batch     trueup.Batch
	Attempt   int
	Carrier   trueup.Carrier
	Final     bool
	Stream    string
	Bars      []kindBar
	ChartH    int
	ChartX    int // where the bars start
	RowErrors []trueup.RowError
	// RowErrorsCut says only the first row errors are kept.
	RowErrorsCut bool
	Browser      browser
	Kinds        []trueup.Kind
	Rows         []discrepancyRow
	First        string // the first page's link, when this is not it
	Next         string
	ExportCSV    string
	ExportXLS    string
	Filtered     bool
}

func (h *Handler) batchPage(w http.ResponseWriter, r *http.Request) {
	no := trueup.BatchNo(r.PathValue("no"))
	b, attempt, err := h.visibleBatch(r, no)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c, err := h.Carriers.Carrier(r.Context(), b.CarrierID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := batchPageData{Batch: b, Attempt: attempt, Carrier: c, Final: batchFinal(b), Bars: kindBars(b.Counts),
		ChartH: len(trueup.Kinds)*chartRow + 8, ChartX: chartLabel, Kinds: trueup.Kinds[:]}
	if !d.Final {
		d.Stream = progressURL([]string{string(no)})
	}
	if b.RowErrors > 0 {
		if d.RowErrors, err = h.Batches.RowErrors(r.Context(), no, attempt, batch.MaxStoredRowErrors); err != nil {
			h.fail(w, r, err)
			return
		}
		d.RowErrorsCut = int64(len(d.RowErrors)) < b.RowErrors
	}
	d.Browser, err = browserOf(r)
	if err != nil {
		h.renderError(w, r, "batch", d, err)
		return
	}
	d.Filtered = d.Browser.Kind != 0 || d.Browser.Search != ""
	d.ExportCSV = d.Browser.link(no, "/export", batch.Cursor{}) + sep(d.Browser.link(no, "/export", batch.Cursor{})) + "format=csv"
	d.ExportXLS = d.Browser.link(no, "/export", batch.Cursor{}) + sep(d.Browser.link(no, "/export", batch.Cursor{})) + "format=xlsx"
	if b.State == trueup.BatchSucceeded {
		list, err := h.Batches.QueryDiscrepancies(r.Context(), d.Browser.query(no, attempt))
		if err != nil {
			h.renderError(w, r, "batch", d, err)
			return
		}
		if len(list) > discrepancyPageSize {
			list = list[:discrepancyPageSize]
			d.Next = d.Browser.link(no, "", batch.CursorOf(list[len(list)-1], d.Browser.Sort))
		}
		if !d.Browser.After.IsZero() {
			d.First = d.Browser.link(no, "", batch.Cursor{})
		}
		for _, x := range list {
			d.Rows = append(d.Rows, rowOf(x))
		}
	}
	h.render(w, r, "batch", d)
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func (h *Handler) batchExport(w http.ResponseWriter, r *http.Request) {
	no := trueup.BatchNo(r.PathValue("no"))
	b, attempt, err := h.visibleBatch(r, no)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if b.State != trueup.BatchSucceeded {
		h.fail(w, r, trueup.Errorf(trueup.ENOTREADY, "batch %s is %s and has no discrepancies to export; wait until it has succeeded, on its page %sbatches/%s", no, b.State, Prefix, no))
		return
	}
	br, err := browserOf(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var format statement.Format
	switch f := r.URL.Query().Get("format"); f {
	case "", "csv":
		format = statement.CSV
	case "xlsx":
		format = statement.XLSX
	default:
		h.fail(w, r, trueup.Errorf(trueup.EINVALID, "format %q is not an export format; choose csv or xlsx", f))
		return
	}
	q := br.query(no, attempt)
	if err := q.Check(); err != nil {
		h.fail(w, r, err)
		return
	}
	name := string(no)
	if br.Kind != 0 {
		name += "-kind" + strconv.Itoa(int(br.Kind))
	}
	if br.Search != "" {
		name += "-search"
	}
	ct := "text/csv; charset=utf-8"
	if format == statement.XLSX {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, format))
	if err := h.Batches.ExportQuery(r.Context(), w, q, format); err != nil {
		// The status is sent: the file is cut short, which the browser
		// reports as a failed download.
		h.Logger.Error("console: export", "batch_no", no, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// progressEvent is a batch's state as a progress stream sends it.
type progressEvent struct {
	No        trueup.BatchNo    `json:"batchNo"`
	State     trueup.BatchState `json:"state"`
	Percent   int               `json:"percent"`
	RowsRead  int64             `json:"rowsRead"`
	RowErrors int64             `json:"rowErrorCount"`
	Total     int64             `json:"discrepancies"`
	Final     bool              `json:"final"`
}

// batchProgress streams the progress of the batches named by the query's
// "no" parameters as server-sent events: one "progress" event per batch
// at the start and at each change (read every progressPoll), then "done"
// once every batch is final. At most MaxProgressStreams are served at
// once; over it the answer is 503 and the page shows the state as loaded
// (a refresh updates it).
func (h *Handler) batchProgress(w http.ResponseWriter, r *http.Request) {
	nos := r.URL.Query()["no"]
	if len(nos) == 0 || len(nos) > maxStreamedBatches {
		h.fail(w, r, trueup.Errorf(trueup.EINVALID, "send 1 to %d batch numbers as no=BATCH to follow; %d were sent", maxStreamedBatches, len(nos)))
		return
	}
	for _, no := range nos {
		if _, _, err := h.visibleBatch(r, trueup.BatchNo(no)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	last := map[string]progressEvent{}
	h.streamProgress(w, r, func(ctx context.Context) ([]any, bool, error) {
		var events []any
		done := true
		for _, no := range nos {
			if e, ok := last[no]; ok && e.Final {
				continue
			}
			b, _, err := h.Batches.Batch(ctx, trueup.BatchNo(no))
			if err != nil {
				if ctx.Err() == nil {
					h.Logger.Warn("console: progress", "batch_no", no, "err", err)
				}
				return nil, false, err
			}
			e := progressEvent{No: b.No, State: b.State, Percent: b.Percent, RowsRead: b.RowsRead, RowErrors: b.RowErrors,
				Total: b.Counts.Total(), Final: batchFinal(b)}
			done = done && e.Final
			if prev, ok := last[no]; ok && prev == e {
				continue
			}
			last[no] = e
			events = append(events, e)
		}
		return events, done, nil
	})
}

// streamProgress serves server-sent events, at most cap(h.streams) streams
// at once (503 past it; the page shows the state as loaded). Every
// progressPoll it calls poll, sends each event it returns as "progress"
// and, once poll says done, "done" and ends; a comment keeps a quiet
// stream alive. It ends on poll's error, the client leaving, or
// progressMaxAge.
func (h *Handler) streamProgress(w http.ResponseWriter, r *http.Request, poll func(ctx context.Context) (events []any, done bool, err error)) {
	select {
	case h.streams <- struct{}{}:
		defer func() { <-h.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, trueup.Errorf(trueup.EUNAVAILABLE, "the server follows %d progress streams already, its limit; refresh the page to see the latest state", cap(h.streams)))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	ctx, cancel := context.WithTimeout(r.Context(), progressMaxAge)
	defer cancel()
	tick := time.NewTicker(progressPoll)
	defer tick.Stop()
	quiet := 0 // polls since the last thing sent
	for {
		events, done, err := poll(ctx)
		if err != nil {
			return
		}
		for _, e := range events {
			data, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: progress\ndata: %s\n\n", data)
			quiet = 0
		}
		if done {
			fmt.Fprint(w, "event: done\ndata: {}\n\n")
			rc.Flush()
			return
		}
		if quiet++; time.Duration(quiet)*progressPoll >= progressKeepAlive {
			fmt.Fprint(w, ": waiting\n\n")
			quiet = 0
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
