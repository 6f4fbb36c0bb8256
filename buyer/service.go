package buyer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trueup/trueup"
)

// Job kinds of the service's background work.
const (
	// JobApply applies a process in Message In Flight.
	JobApply = "buyer.adjustment.apply"
	// JobExpire runs PendingTimeout after a launch and turns every process
	// Pending for longer into Upload Interrupted.
	JobExpire = "buyer.adjustment.expire"
)

// PendingTimeout is how long a process may stay Pending before it is
// Upload Interrupted.
const PendingTimeout = 30 * time.Minute

// MaxItems is the most entries a process's list may have.
const MaxItems = 500_000

// applyAttempts is how many times a worker takes up an apply job whose
// earlier worker died or lost it.
const applyAttempts = 5

// FailFunc, set with SetFailApply, runs inside an apply's transaction after
// the statuses were changed and before the commit; an error makes the apply
// fail (Error In Processing) and roll back.
type FailFunc func(ctx context.Context, id AdjustmentID) error

// Service runs buyer adjustments.
type Service struct {
	Store  Store
	Logger *slog.Logger
	// Clock tells the time; tests set their own.
	Clock trueup.Clock
	// Notify, when set, wakes a worker after a process is queued.
	Notify func()
	// Events, when set, records buyers' changes and processes' statuses.
	Events trueup.Recorder

	failApply atomic.Pointer[FailFunc]
	lists     listCache
}

// listCache keeps survey process lists read at a list version: a list is
// served from memory while the survey's stored version is unchanged, and
// brought up to date from the entries changed since when it is not, so a
// survey with ten thousand processes answers without reading them again.
// Every replica checks the version in the database, so none serves a list
// older than the data.
type listCache struct {
	mu      sync.Mutex
	m       map[SurveyID]cachedList
	entries int
}

type cachedList struct {
	version  int64
	refs     []AdjustmentRef // newest first; shared, never modified
	rendered []byte          // the HTTP layer's encoding of refs, once asked for
}

// maxCachedEntries bounds the entries the cache holds (about 150 bytes
// each with their encoding); past it the cache starts over.
const maxCachedEntries = 1_000_000

func (c *listCache) get(s SurveyID) (cachedList, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[s]
	return l, ok
}

func (c *listCache) put(s SurveyID, l cachedList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[s]
	if ok && cur.version > l.version {
		return // a newer list is kept already
	}
	if c.m == nil || c.entries-len(cur.refs)+len(l.refs) > maxCachedEntries {
		c.m, c.entries, cur = map[SurveyID]cachedList{}, 0, cachedList{}
	}
	c.entries += len(l.refs) - len(cur.refs)
	c.m[s] = l
}

// mergeRefs returns list (newest first) with the changed entries applied:
// an entry of a known process replaces it, a new one is placed by its Seq.
// list is not modified.
func mergeRefs(list, changed []AdjustmentRef) []AdjustmentRef {
	out := slices.Clone(list)
	var added []AdjustmentRef
	for _, c := range changed {
		// out is sorted by Seq, descending.
		i, found := slices.BinarySearchFunc(out, c.Seq, func(r AdjustmentRef, seq int64) int { return cmpDesc(r.Seq, seq) })
		if found {
			out[i] = c
		} else {
			added = append(added, c)
		}
	}
	if len(added) > 0 {
		out = append(out, added...)
		slices.SortFunc(out, func(a, b AdjustmentRef) int { return cmpDesc(a.Seq, b.Seq) })
	}
	return out
}

func cmpDesc(a, b int64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// New returns a Service over store; a nil logger discards.
func New(store Store, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{Store: store, Logger: logger, Clock: trueup.SystemClock{}}
}

// SetFailApply installs fn (nil removes it) as the failure injected into
// every apply. Only tests use it; it is safe to call while the service
// runs.
func (s *Service) SetFailApply(fn FailFunc) {
	if fn == nil {
		s.failApply.Store(nil)
		return
	}
	s.failApply.Store(&fn)
}

// Credentials are a buyer's id and access token; the token is shown once.
type Credentials struct {
	BuyerID     BuyerID  `json:"buyerId"`
	Name        string   `json:"name"`
	AccessToken string   `json:"accessToken"`
	RejectCap   *Percent `json:"rejectCap"`
}

// CreateBuyerParams are the inputs of CreateBuyer.
type CreateBuyerParams struct {
	Name string
	// RejectCap is the reject cap; nil for none.
	RejectCap *Percent
}

// CreateBuyer provisions a buyer with a fresh access token and returns its
// credentials. A blank or over-long name is an EINVALID error; a name taken
// is an ECONFLICT one.
func (s *Service) CreateBuyer(ctx context.Context, p CreateBuyerParams) (Credentials, error) {
	name := strings.TrimSpace(p.Name)
	if name == "" || len(name) > 128 {
		return Credentials{}, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam, "buyer name %q must be 1 to 128 characters; pass --name", p.Name)
	}
	token := trueup.NewSecret()
	b := Buyer{ID: BuyerID(trueup.NewID("buy_")), Name: name, TokenHash: trueup.HashSecret(token), RejectCap: p.RejectCap,
		CreatedAt: s.Clock.Now().UTC().Truncate(time.Millisecond)}
	if err := s.Store.CreateBuyer(ctx, b); err != nil {
		return Credentials{}, err
	}
	s.partnerChanged(ctx, trueup.EventPartnerChanged, b.ID, map[string]any{"action": "buyer.created", "name": b.Name, "rejectCap": b.RejectCap})
	return Credentials{BuyerID: b.ID, Name: b.Name, AccessToken: token, RejectCap: b.RejectCap}, nil
}

// RotateToken gives a buyer a fresh access token, which replaces the old
// one at once, and returns it.
func (s *Service) RotateToken(ctx context.Context, id BuyerID) (Credentials, error) {
	b, err := s.Store.Buyer(ctx, id)
	if err != nil {
		return Credentials{}, err
	}
	token := trueup.NewSecret()
	if err := s.Store.SetBuyerToken(ctx, id, trueup.HashSecret(token)); err != nil {
		return Credentials{}, err
	}
	s.partnerChanged(ctx, trueup.EventCredentialIssued, id, map[string]any{"action": "buyer.token_rotated"})
	return Credentials{BuyerID: b.ID, Name: b.Name, AccessToken: token, RejectCap: b.RejectCap}, nil
}

// Authenticate returns the buyer whose access token is token, or
// ErrNotAuthorized.
func (s *Service) Authenticate(ctx context.Context, token string) (Buyer, error) {
	if token == "" {
		return Buyer{}, ErrNotAuthorized
	}
	b, err := s.Store.BuyerByTokenHash(ctx, trueup.HashSecret(token))
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return Buyer{}, ErrNotAuthorized
	}
	return b, err
}

// OwnedSurvey returns the survey when it is b's, and ErrNotAuthorized when
// it is another buyer's or does not exist.
func (s *Service) OwnedSurvey(ctx context.Context, b Buyer, id SurveyID) (Survey, error) {
	sv, err := s.Store.Survey(ctx, id)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND || err == nil && sv.BuyerID != b.ID {
		return Survey{}, ErrNotAuthorized
	}
	return sv, err
}

// LaunchParams are the inputs of Launch.
type LaunchParams struct {
	Buyer Buyer
	// Survey is the survey of a single-survey launch (the caller checked
	// it is the buyer's), or 0 for a launch over the buyer's surveys.
	Survey  SurveyID
	Mode    Mode
	Desired TxStatus
	// IsAPI is true for a launch through the API, which is queued at once;
	// an operator's launch waits for Confirm or Cancel.
	IsAPI bool
	Items []Item
}

// Launch checks a list, stores a Pending process with its summary as the
// data stands now, and, for an API launch, queues it (Message In Flight).
// It returns the process as created (Pending). An empty list, an entry
// with an empty or over-long transaction id, and a launch over several
// surveys naming no transaction of the buyer are EINVALID errors; a list
// over MaxItems is ETOOLARGE.
func (s *Service) Launch(ctx context.Context, p LaunchParams) (Adjustment, error) {
	if len(p.Items) == 0 {
		return Adjustment{}, trueup.Reasonf(trueup.EINVALID, ReasonEmptyList,
			`the list is empty; send a JSON array of {"transaction_id": "...", "change_reason": "..."} with at least one entry`)
	}
	if len(p.Items) > MaxItems {
		return Adjustment{}, trueup.Errorf(trueup.ETOOLARGE, "the list has %d entries; at most %d fit in one process: split it", len(p.Items), MaxItems)
	}
	if p.Desired != TxComplete && p.Desired != TxReconciliationReject {
		return Adjustment{}, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam, "desired status %d is not 21 or 33", p.Desired)
	}
	if p.Mode == ModeAccept && p.Desired != TxComplete {
		return Adjustment{}, trueup.Reasonf(trueup.EINVALID, ReasonInvalidParam, "an accepting process wants status 21, not %d", p.Desired)
	}
	items := make([]Item, len(p.Items))
	for i, it := range p.Items {
		if it.TransactionID == "" {
			return Adjustment{}, trueup.Errorf(trueup.EINVALID, "entry %d: transaction_id is empty; give the transaction's id", i+1)
		}
		if len(it.TransactionID) > MaxTransactionIDLen {
			return Adjustment{}, trueup.Errorf(trueup.EINVALID, "entry %d: transaction_id is longer than %d characters", i+1, MaxTransactionIDLen)
		}
		items[i] = Item{TransactionID: it.TransactionID, Reason: NormalizeReason(string(it.Reason))}
	}
	adj := Adjustment{ID: NewAdjustmentID(), BuyerID: p.Buyer.ID, Survey: p.Survey, Mode: p.Mode, Desired: p.Desired, IsAPI: p.IsAPI,
		Status: StatusPending, Items: len(items)}
	ev, err := gather(ctx, s.Store, adj, p.Buyer.RejectCap, items)
	if err != nil {
		return Adjustment{}, err
	}
	if len(ev.surveys) == 0 {
		return Adjustment{}, trueup.Reasonf(trueup.EINVALID, ReasonNothingKnown,
			"none of the %d listed transaction ids is a transaction of yours; check the ids (nothing was launched)", len(items))
	}
	adj.Surveys = ev.surveys
	adj.Summary, _ = evaluate(ev)
	args, _ := json.Marshal(jobArgs{ID: adj.ID})
	adj, err = s.Store.CreateAdjustment(ctx, CreateAdjustmentParams{Adjustment: adj, Items: items,
		ExpireKind: JobExpire, ExpireArgs: string(args), ExpireAfter: PendingTimeout})
	if err != nil {
		return Adjustment{}, err
	}
	s.Logger.Info("adjustment launched", "adjustment_id", adj.ID, "buyer_id", adj.BuyerID, "items", adj.Items, "api", adj.IsAPI)
	s.statusChanged(ctx, adj.ID, adj.Status)
	if p.IsAPI {
		// The process is stored: a failure to queue it leaves it Pending,
		// and the expiry job makes it Upload Interrupted, as the seed
		// describes a file that was never processed.
		if err := s.dispatch(ctx, adj.ID); err != nil {
			s.Logger.Error("queue adjustment", "adjustment_id", adj.ID, "err", err)
		}
	}
	return adj, nil
}

type jobArgs struct {
	ID AdjustmentID `json:"adjustmentId"`
}

func (s *Service) dispatch(ctx context.Context, id AdjustmentID) error {
	args, _ := json.Marshal(jobArgs{ID: id})
	if err := s.Store.DispatchAdjustment(ctx, DispatchParams{ID: id, JobKind: JobApply, JobArgs: string(args), MaxAttempts: applyAttempts}); err != nil {
		return err
	}
	s.statusChanged(ctx, id, StatusInFlight)
	if s.Notify != nil {
		s.Notify()
	}
	return nil
}

// Confirm queues a Pending process (an operator's launch) and returns it.
// A process that is not Pending is an ECONFLICT error.
func (s *Service) Confirm(ctx context.Context, id AdjustmentID) (Adjustment, error) {
	if err := s.dispatch(ctx, id); err != nil {
		return Adjustment{}, err
	}
	return s.Store.Adjustment(ctx, id)
}

// Cancel declines a Pending process and returns it. A process that is not
// Pending is an ECONFLICT error.
func (s *Service) Cancel(ctx context.Context, id AdjustmentID) (Adjustment, error) {
	if err := s.Store.CancelAdjustment(ctx, id); err != nil {
		return Adjustment{}, err
	}
	s.statusChanged(ctx, id, StatusDeclined)
	return s.Store.Adjustment(ctx, id)
}

// SurveyAdjustments returns the processes touching survey, newest first,
// or ErrNotAuthorized when the survey is not b's. The slice may be shared
// with other callers: it must not be modified.
func (s *Service) SurveyAdjustments(ctx context.Context, b Buyer, survey SurveyID) ([]AdjustmentRef, error) {
	l, err := s.surveyList(ctx, b, survey)
	return l.refs, err
}

// RenderSurveyAdjustments returns render(the survey's processes, newest
// first), or ErrNotAuthorized when the survey is not b's. The result is
// kept with the list, and returned again while the list is unchanged, so
// render must depend on its argument only; the bytes must not be modified.
func (s *Service) RenderSurveyAdjustments(ctx context.Context, b Buyer, survey SurveyID, render func([]AdjustmentRef) []byte) ([]byte, error) {
	l, err := s.surveyList(ctx, b, survey)
	if err != nil {
		return nil, err
	}
	if l.rendered == nil {
		l.rendered = render(l.refs)
		s.lists.put(survey, l)
	}
	return l.rendered, nil
}

// surveyList returns the survey's list: from the cache when its version
// holds, brought up to date from the changed entries when the cache has an
// older version, read whole otherwise.
func (s *Service) surveyList(ctx context.Context, b Buyer, survey SurveyID) (cachedList, error) {
	sv, err := s.OwnedSurvey(ctx, b, survey)
	if err != nil {
		return cachedList{}, err
	}
	cached, ok := s.lists.get(survey)
	if ok && cached.version == sv.ListVersion {
		return cached, nil
	}
	// The entries are read after the version: the list is at least as new
	// as the version it is kept under.
	var refs []AdjustmentRef
	if ok && cached.version < sv.ListVersion {
		changed, err := s.Store.SurveyAdjustmentsSince(ctx, survey, cached.version)
		if err != nil {
			return cachedList{}, err
		}
		refs = mergeRefs(cached.refs, changed)
	} else if refs, err = s.Store.SurveyAdjustments(ctx, survey); err != nil {
		return cachedList{}, err
	}
	l := cachedList{version: sv.ListVersion, refs: refs}
	s.lists.put(survey, l)
	return l, nil
}

// SurveyAdjustment returns a process touching survey. It returns
// ErrNotAuthorized when the survey is not b's and an ENOTFOUND error when
// no such process touches it.
func (s *Service) SurveyAdjustment(ctx context.Context, b Buyer, survey SurveyID, id string) (Adjustment, error) {
	if _, err := s.OwnedSurvey(ctx, b, survey); err != nil {
		return Adjustment{}, err
	}
	notFound := trueup.Errorf(trueup.ENOTFOUND,
		"no reconciliation process %q on survey %d; list the survey's processes with GET /buyers/v2/surveys/%d/adjustments", id, survey, survey)
	if !ValidAdjustmentID(id) {
		return Adjustment{}, notFound
	}
	adj, err := s.Store.Adjustment(ctx, AdjustmentID(strings.ToLower(id)))
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		return Adjustment{}, notFound
	}
	if err != nil {
		return Adjustment{}, err
	}
	if adj.BuyerID != b.ID || !slices.Contains(adj.Surveys, survey) {
		return Adjustment{}, notFound
	}
	return adj, nil
}

// Apply is the handler of JobApply. It moves the process to Processing,
// then in one database transaction reads the data again, checks the cap,
// changes the statuses and ends the process Success (or Recon Cap Reached,
// changing nothing) together with the job. When the apply fails the
// transaction rolls back, leaving every status as it was, and the process
// ends Error In Processing. It is safe to run again after a crash.
func (s *Service) Apply(ctx context.Context, job trueup.Job) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		return fmt.Errorf("job args: %w", err)
	}
	adj, err := s.Store.StartAdjustment(ctx, a.ID)
	if trueup.ErrorKind(err) == trueup.ENOTFOUND {
		s.Logger.Warn("adjustment job for a missing process", "adjustment_id", a.ID)
		return nil
	}
	if err != nil {
		return err
	}
	if adj.Status != StatusProcessing {
		return nil // decided by an earlier attempt
	}
	start := time.Now()
	status, err := s.apply(ctx, a.ID, job)
	switch {
	case err == nil:
		s.Logger.Info("adjustment applied", "adjustment_id", a.ID, "status", status, "ms", time.Since(start).Milliseconds())
		s.statusChanged(ctx, a.ID, status)
		return nil
	case ctx.Err() != nil, errors.Is(err, ErrJobLost):
		// Shutting down, or another worker holds the job: the process
		// stays Processing for the attempt that holds the job.
		return err
	case trueup.ErrorKind(err) == trueup.ECONFLICT:
		return nil // no longer Processing: another attempt decided it
	}
	s.Logger.Error("adjustment failed", "adjustment_id", a.ID, "err", err)
	open := s.open(ctx, a.ID)
	if ferr := s.Store.FailAdjustment(ctx, a.ID, err.Error()); ferr != nil {
		return fmt.Errorf("record failure of %s: %w (apply: %w)", a.ID, ferr, err)
	}
	if open {
		s.statusChanged(ctx, a.ID, StatusError)
	}
	return nil
}

// apply runs the apply transaction and returns the status it ended with.
func (s *Service) apply(ctx context.Context, id AdjustmentID, job trueup.Job) (Status, error) {
	tx, err := s.Store.BeginAdjustmentApply(ctx, id)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	ev, err := gather(ctx, tx, tx.Adjustment(), tx.RejectCap(), tx.Items())
	if err != nil {
		return 0, err
	}
	sum, changes := evaluate(ev)
	status := StatusSuccess
	if sum.ValidCap {
		if err := tx.SetStatuses(ctx, changes); err != nil {
			return 0, err
		}
		sum.markApplied()
	} else {
		status = StatusCapReached
	}
	if fn := s.failApply.Load(); fn != nil {
		if err := (*fn)(ctx, id); err != nil {
			return 0, fmt.Errorf("injected failure: %w", err)
		}
	}
	if err := tx.Finish(ctx, FinishParams{Status: status, Summary: sum, Surveys: ev.surveys, Job: job}); err != nil {
		return 0, err
	}
	return status, nil
}

// GiveUpApply is the give-up function of JobApply: when the runner gives up
// an apply job, the process ends Error In Processing with the cause (shown
// to operators only), having changed nothing. A process already final is
// left as it is.
func (s *Service) GiveUpApply(ctx context.Context, job trueup.Job, cause error) error {
	var a jobArgs
	if err := json.Unmarshal([]byte(job.Args), &a); err != nil {
		s.Logger.Error("give up adjustment job with unreadable args", "job_id", job.ID, "err", err)
		return nil // no process to finalise
	}
	s.Logger.Error("adjustment given up", "adjustment_id", a.ID, "cause", cause)
	open := s.open(ctx, a.ID)
	if err := s.Store.FailAdjustment(ctx, a.ID, "given up: "+cause.Error()); err != nil {
		return fmt.Errorf("give up %s: %w", a.ID, err)
	}
	if open {
		s.statusChanged(ctx, a.ID, StatusError)
	}
	return nil
}

// GiveUpExpire is the give-up function of JobExpire. An expiry sweep owns
// no process: the processes it would have interrupted are swept by the
// next one (each launch queues its own), so there is nothing to finalise.
func (s *Service) GiveUpExpire(ctx context.Context, job trueup.Job, cause error) error {
	s.Logger.Error("adjustment expiry sweep given up", "job_id", job.ID, "cause", cause)
	return nil
}

// Expire is the handler of JobExpire: it turns every process Pending for
// more than PendingTimeout into Upload Interrupted.
func (s *Service) Expire(ctx context.Context, job trueup.Job) error {
	n, err := s.Store.ExpireAdjustments(ctx, PendingTimeout)
	if err != nil {
		return err
	}
	if n > 0 {
		s.Logger.Info("adjustments interrupted", "count", n)
	}
	return nil
}
