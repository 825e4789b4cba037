package web

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"paydesk/payments"
	"paydesk/store"
)

// Inbound gateway callbacks (/notify/pay, /notify/trans).
//
// A request is read and verified in its own goroutine, then handed to one
// writer goroutine (notifier) that commits whatever requests are queued
// together (group commit). Each of its transactions stores the newly
// queued requests raw and applies the requests stored by the transaction
// before (order updates, alerts, outcomes), so every request is stored raw
// in a commit of its own before the commit that applies it, and is
// answered only after both: `success` always means "stored and applied".
// A crash between the two commits leaves rows pending; the notifier sweeps
// pending rows at start and every sweepEvery, through the same code, so
// each is applied once (the conditional order updates make a repeat
// harmless anyway).

const (
	// maxNotifyBody bounds what is read of a callback's body and query;
	// the gateway's callbacks are well under 2 KB.
	maxNotifyBody = 64 << 10
	// headerKeep and addrKeep bound what is stored of each kept header and
	// of the client address (which a trusted proxy's header gives).
	headerKeep = 256
	addrKeep   = 64
	// reasonKeep bounds a rejection's reason as stored and answered.
	reasonKeep = 300
	// maxNotifyBatch bounds how many queued callbacks share a commit.
	maxNotifyBatch = 512
	// sweepEvery is how often pending rows are looked for.
	sweepEvery = time.Minute
)

// notifyJob is one callback on its way through the notifier.
type notifyJob struct {
	raw      store.RawNotification
	id       int64 // set for rows already stored (sweep)
	n        *payments.Notification
	parseErr error
	lookErr  error // the account lookup failed: leave the row pending
	accounts []acctKey
	acct     *store.GatewayAccount    // the preferred account whose key verified the signature
	verified []*store.GatewayAccount  // every account whose key verified it, acct first
	verBuf   [2]*store.GatewayAccount // verified's first elements, saving an allocation
	// signed: the key of an account of the merchant id verifies it, whether
	// or not that account takes callbacks from the client address.
	signed bool
	// forbidden: no account of the merchant id takes callbacks from the
	// client address (see store.GatewayAccount.NotifySources).
	forbidden bool
	// rejectKey is the alert key of a rejected request by its address
	// (rejectBudget.take); counted marks one beyond the budget, which is
	// not stored, only counted.
	rejectKey string
	counted   bool
	reply     chan notifyReply // nil for sweeps
}

type notifyReply struct {
	code int
	body string
}

// replyUnavailable answers a callback that could not be recorded or
// applied now: the gateway sends it again.
func replyUnavailable() notifyReply {
	return notifyReply{http.StatusServiceUnavailable, "fail: not recorded, send again"}
}

func (s *Server) notifyPay(w http.ResponseWriter, r *http.Request) error {
	return s.notify(w, r, payments.NotifyPay)
}

func (s *Server) notifyTrans(w http.ResponseWriter, r *http.Request) error {
	return s.notify(w, r, payments.NotifyTrans)
}

func (s *Server) notify(w http.ResponseWriter, r *http.Request, kind payments.NotifyKind) error {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxNotifyBody+1))
	bodyLen := len(body)
	truncated := bodyLen > maxNotifyBody
	if truncated {
		// Counted to the console's request limit, for the record.
		rest, err := io.Copy(io.Discard, r.Body)
		bodyLen += int(rest)
		if err != nil {
			readErr = err
		}
		body = body[:maxNotifyBody]
	}
	var hb strings.Builder
	// The request headers kept with a callback, each cut to headerKeep.
	for _, h := range [...]string{"Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For", "X-Real-Ip", "Forwarded"} {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&hb, "%s: %s\n", h, clip(v, headerKeep))
		}
	}
	job := &notifyJob{
		raw: store.RawNotification{
			ReceivedAt: s.now(),
			Kind:       string(kind),
			Method:     r.Method,
			ClientAddr: clip(s.clientAddr(r), addrKeep),
			Headers:    hb.String(),
			RawQuery:   r.URL.RawQuery,
			RawBody:    body,
			QueryLen:   len(r.URL.RawQuery),
			BodyLen:    bodyLen,
		},
		reply: make(chan notifyReply, 1),
	}
	if len(job.raw.RawQuery) > maxNotifyBody {
		job.raw.RawQuery = job.raw.RawQuery[:maxNotifyBody]
		job.parseErr = fmt.Errorf("the query string is longer than %d bytes", maxNotifyBody)
	}
	switch {
	case job.parseErr != nil:
	case truncated:
		job.parseErr = fmt.Errorf("the body is larger than %d bytes", maxNotifyBody)
	case readErr != nil:
		job.parseErr = fmt.Errorf("the body could not be read: %.80v", readErr)
	}
	s.prepareNotify(r.Context(), job)
	if _, rejected := job.rejection(); rejected && !job.signed {
		// Anyone can send this: keep its start, within the budget.
		var keep bool
		keep, job.rejectKey = s.rejects.take(rejectKey(job.raw.ClientAddr), job.raw.ReceivedAt)
		if keep {
			job.raw = cutRejected(job.raw)
		} else {
			job.counted = true
			job.raw.RawQuery, job.raw.RawBody = "", nil
		}
		if job.n != nil {
			// What the rejection names, without the fields read, which may
			// hold most of the request while the job waits for the writer.
			job.n = &payments.Notification{Kind: job.n.Kind, MchID: strings.Clone(clip(job.n.MchID, rejectedFieldKeep))}
		}
	}
	rep := s.notifier.submit(r.Context(), job)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.code)
	_, err := io.WriteString(w, rep.body)
	return err
}

// cutRejected is what is stored of a request that failed verification or
// parsing: the start of its query and body (copied, so that the rest can
// be freed) and of the values read from it. QueryLen and BodyLen keep the
// lengths received.
func cutRejected(r store.RawNotification) store.RawNotification {
	if len(r.RawQuery) > rejectedKeep {
		r.RawQuery = strings.Clone(r.RawQuery[:rejectedKeep])
	}
	if len(r.RawBody) > rejectedKeep {
		r.RawBody = bytes.Clone(r.RawBody[:rejectedKeep])
	}
	r.MchID, r.OrderNo, r.MchOrderNo = clip(r.MchID, rejectedFieldKeep), clip(r.OrderNo, rejectedFieldKeep), clip(r.MchOrderNo, rejectedFieldKeep)
	return r
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// headerValue reads one header back from a stored header block.
func headerValue(headers, name string) string {
	for line := range strings.Lines(headers) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// prepareNotify parses a callback, checks its client address against the
// gateway source addresses of the accounts with its merchant id, and its
// signature against their keys. It does not touch the database but for the
// (cached) account lookup.
func (s *Server) prepareNotify(ctx context.Context, j *notifyJob) {
	if j.parseErr != nil {
		return
	}
	n, err := payments.ParseNotification(payments.NotifyKind(j.raw.Kind), j.raw.Method, j.raw.RawQuery, headerValue(j.raw.Headers, "Content-Type"), j.raw.RawBody)
	if err != nil {
		j.parseErr = err
		return
	}
	j.n = n
	st, amount := n.Status, n.Amount
	j.raw.MchID, j.raw.OrderNo, j.raw.MchOrderNo, j.raw.Status, j.raw.Amount = n.MchID, n.OrderID, n.MchOrderNo, &st, &amount
	if n.MchID == "" {
		return
	}
	accounts, err := s.keys.lookup(ctx, n.MchID)
	if err != nil {
		j.lookErr = err
		return
	}
	j.accounts = accounts
	var from netip.Addr // parsed when an account lists its sources
	allows := func(a *acctKey) bool {
		if len(a.sources) == 0 {
			return true
		}
		if !from.IsValid() {
			if from, err = netip.ParseAddr(j.raw.ClientAddr); err != nil {
				return false
			}
			from = from.Unmap().WithZone("")
		}
		return slices.ContainsFunc(a.sources, func(p netip.Prefix) bool { return p.Contains(from) })
	}
	j.forbidden = true
	for i := range accounts {
		if allows(&accounts[i]) {
			j.forbidden = false
			break
		}
	}
	// Every account whose key verifies and that takes callbacks from this
	// address, the one whose appId the callback names first: accounts on
	// one merchant id may share a key, and the callback may apply only to
	// an order of one of them.
	type checked struct {
		key string
		ok  bool
	}
	var done [4]checked // keys verified already: one MD5 per distinct key
	ndone := 0
	verifies := func(key string) bool {
		for _, c := range done[:ndone] {
			if c.key == key {
				return c.ok
			}
		}
		ok := n.Verify(key)
		if ndone < len(done) {
			done[ndone] = checked{key, ok}
			ndone++
		}
		return ok
	}
	j.verified = j.verBuf[:0]
	for pass := range 2 {
		for i := range accounts {
			a := &accounts[i]
			if (pass == 0) != (n.AppID != "" && a.acct.AppID == n.AppID) {
				continue
			}
			if verifies(a.key) {
				j.signed = true
				if allows(a) {
					j.verified = append(j.verified, &a.acct)
				}
			}
		}
	}
	if len(j.verified) > 0 {
		j.acct = j.verified[0]
	}
}

// rejection says why a prepared callback is refused before it is matched
// with an order, if it is. It depends on the request and the accounts
// only, so the request's goroutine knows it before anything is stored.
func (j *notifyJob) rejection() (rejection, bool) {
	r, ok := j.rejectionReason()
	r.reason = clip(r.reason, reasonKeep)
	return r, ok
}

func (j *notifyJob) rejectionReason() (rejection, bool) {
	addr := j.raw.ClientAddr
	switch {
	case errors.Is(j.parseErr, payments.ErrWrongKind):
		return rejection{http.StatusBadRequest, store.AlertWrongEndpoint, "wrong endpoint: " + strings.TrimPrefix(j.parseErr.Error(), "notification: ")}, true
	case j.parseErr != nil:
		return rejection{http.StatusBadRequest, store.AlertUnreadable, "unreadable: " + j.parseErr.Error()}, true
	case j.lookErr != nil, j.acct != nil:
		return rejection{}, false
	case j.n.MchID == "":
		return rejection{http.StatusForbidden, store.AlertUnknownMerchant, "the callback names no merchant id (mchId)"}, true
	case len(j.accounts) == 0:
		return rejection{http.StatusForbidden, store.AlertUnknownMerchant, "no enabled gateway account has merchant id " + quoteClip(j.n.MchID)}, true
	case j.signed:
		return rejection{http.StatusForbidden, store.AlertForbiddenSource, "correctly signed, but " + addr + " is not among the gateway source addresses of merchant id " +
			j.n.MchID + "; if the gateway sends from a new address, add it to the gateway account"}, true
	case j.forbidden:
		return rejection{http.StatusForbidden, store.AlertForbiddenSource, addr + " is not among the gateway source addresses of merchant id " + j.n.MchID}, true
	}
	return rejection{http.StatusForbidden, store.AlertBadSignature, "the signature does not verify with the merchant key of " + j.n.MchID}, true
}

// rejection is a callback refused before it is matched with an order.
type rejection struct {
	code   int
	alert  string // alert kind
	reason string
}

// reply is what the sender of a rejected callback gets.
func (r rejection) reply() notifyReply {
	return notifyReply{r.code, "fail: " + r.reason}
}

// alertKey is the dedupe key of the alert a rejected callback counts on:
// the merchant id, where it is an account's (a bounded set), else the
// client address as the budget names it (see rejectBudget.take).
func (j *notifyJob) alertKey(r rejection) string {
	if (r.alert == store.AlertBadSignature || r.alert == store.AlertForbiddenSource) && len(j.accounts) > 0 {
		return j.n.MchID
	}
	if j.rejectKey == "" {
		return rejectKey(j.raw.ClientAddr)
	}
	return j.rejectKey
}

// alertSummary is the sentence of the alert a rejected callback counts on.
func (j *notifyJob) alertSummary(r rejection) string {
	if j.counted {
		return clip(fmt.Sprintf("Rejected %s callback from %s: %s. More rejected callbacks came than are stored: they are counted here, not stored.",
			j.raw.Kind, j.raw.ClientAddr, r.reason), reasonKeep+200)
	}
	return clip(fmt.Sprintf("Rejected %s callback from %s: %s", j.raw.Kind, j.raw.ClientAddr, r.reason), reasonKeep+100)
}

// quoteClip quotes a value read from an unverified request, cut short.
func quoteClip(v string) string {
	if len(v) > 40 {
		return strconv.Quote(clip(v, 40)) + "…"
	}
	return strconv.Quote(v)
}

// notifier is the single writer of inbound callbacks.
type notifier struct {
	s     *Server
	jobs  chan *notifyJob
	sweep chan chan error
	stop  chan struct{}
	done  chan struct{}
}

func newNotifier(s *Server) *notifier {
	return &notifier{
		s:     s,
		jobs:  make(chan *notifyJob, 4*maxNotifyBatch),
		sweep: make(chan chan error),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// submit queues a job and waits for its answer.
func (nf *notifier) submit(ctx context.Context, j *notifyJob) notifyReply {
	select {
	case nf.jobs <- j:
	case <-nf.stop:
		return replyUnavailable()
	case <-ctx.Done():
		return replyUnavailable()
	}
	select {
	case rep := <-j.reply:
		return rep
	case <-nf.done:
		select {
		case rep := <-j.reply:
			return rep
		default:
			return replyUnavailable()
		}
	}
}

// close stops the writer after it has handled what is queued.
func (nf *notifier) close() {
	select {
	case <-nf.stop:
	default:
		close(nf.stop)
	}
	<-nf.done
}

// sweepNow runs a sweep of pending rows in the writer and waits for it.
func (nf *notifier) sweepNow(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case nf.sweep <- ch:
	case <-nf.done:
		return errors.New("the notification writer has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (nf *notifier) run() {
	defer close(nf.done)
	ctx := context.Background()
	if err := nf.sweepPending(ctx); err != nil {
		nf.s.log.Error("sweep pending notifications", "err", err)
	}
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	// stored holds the jobs whose raw rows are committed and whose outcome
	// is not: the next transaction applies them and stores the jobs queued
	// meanwhile, so that each cycle costs one commit while every request
	// is still stored raw in a commit before the one that applies it.
	var stored []*notifyJob
	sweep := func(ch chan error) {
		stored = nf.cycle(ctx, stored, nil)
		err := nf.sweepPending(ctx)
		if ch != nil {
			ch <- err
		} else if err != nil {
			nf.s.log.Error("sweep pending notifications", "err", err)
		}
	}
	for {
		if len(stored) > 0 {
			select {
			case <-tick.C:
				sweep(nil)
				continue
			case ch := <-nf.sweep:
				sweep(ch)
				continue
			default:
			}
			stored = nf.cycle(ctx, stored, nf.fill(nil))
			continue
		}
		select {
		case j := <-nf.jobs:
			stored = nf.cycle(ctx, nil, nf.fill([]*notifyJob{j}))
		case ch := <-nf.sweep:
			sweep(ch)
		case <-tick.C:
			sweep(nil)
		case <-nf.stop:
			for {
				batch := nf.fill(nil)
				if len(batch) == 0 {
					return
				}
				nf.cycle(ctx, nf.cycle(ctx, nil, batch), nil)
			}
		}
	}
}

// fill adds whatever jobs are queued to batch, up to maxNotifyBatch.
func (nf *notifier) fill(batch []*notifyJob) []*notifyJob {
	for len(batch) < maxNotifyBatch {
		select {
		case j := <-nf.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// cycle applies the stored jobs and stores the incoming ones raw, in one
// transaction; it answers the stored jobs and returns the incoming ones,
// now stored (nil when storing them failed: they are answered "not
// recorded"). Incoming rejected jobs beyond the budget are not stored but
// counted on their alerts in the same transaction, and answered after it.
// When the transaction fails, the two halves are retried apart so that one
// bad row cannot hold back the others.
func (nf *notifier) cycle(ctx context.Context, stored, incoming []*notifyJob) []*notifyJob {
	incoming, counted := splitCounted(incoming)
	if len(stored) == 0 && len(incoming) == 0 && len(counted) == 0 {
		return nil
	}
	s := nf.s
	replies := make([]notifyReply, len(stored))
	var ids []int64
	storeAndCount := func(tx *sql.Tx) error {
		var err error
		if ids, err = nf.storeRaw(ctx, tx, incoming); err != nil {
			return err
		}
		return nf.count(ctx, tx, counted)
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := nf.apply(ctx, tx, stored, replies); err != nil {
			return err
		}
		return storeAndCount(tx)
	})
	if err != nil {
		s.log.Warn("notification commit failed; retrying its parts apart", "stored", len(stored), "incoming", len(incoming), "err", err)
		replies = nf.process(ctx, stored)
		ids = nil
		if len(incoming) > 0 || len(counted) > 0 {
			if err = s.db.InTx(ctx, storeAndCount); err != nil {
				ids = nil
				s.log.Error("store notifications", "count", len(incoming), "uncounted_rejected", len(counted), "err", err)
			}
		}
	}
	for i, j := range stored {
		if j.reply != nil {
			j.reply <- replies[i]
		}
	}
	for _, j := range counted {
		rej, _ := j.rejection()
		j.reply <- rej.reply()
	}
	if ids == nil {
		for _, j := range incoming {
			if j.reply != nil {
				j.reply <- replyUnavailable()
			}
		}
		return nil
	}
	for i, j := range incoming {
		j.id = ids[i]
	}
	return incoming
}

// splitCounted separates the jobs to be counted only; it allocates only
// when there are any.
func splitCounted(jobs []*notifyJob) (rest, counted []*notifyJob) {
	for i, j := range jobs {
		if !j.counted {
			continue
		}
		rest = append(make([]*notifyJob, 0, len(jobs)), jobs[:i]...)
		for _, j := range jobs[i:] {
			if j.counted {
				counted = append(counted, j)
			} else {
				rest = append(rest, j)
			}
		}
		return rest, counted
	}
	return jobs, nil
}

// count adds rejected callbacks that are not stored to the counts of their
// alerts, one update per alert.
func (nf *notifier) count(ctx context.Context, tx *sql.Tx, jobs []*notifyJob) error {
	type tally struct {
		alert store.Alert
		n     int
	}
	var tallies []*tally
	byKey := map[[2]string]*tally{}
	for _, j := range jobs {
		rej, _ := j.rejection()
		a := store.Alert{Kind: rej.alert, DedupeKey: j.alertKey(rej), Summary: j.alertSummary(rej)}
		t := byKey[[2]string{a.Kind, a.DedupeKey}]
		if t == nil {
			t = &tally{}
			byKey[[2]string{a.Kind, a.DedupeKey}] = t
			tallies = append(tallies, t)
		}
		t.alert = a
		t.n++
	}
	for _, t := range tallies {
		if _, err := nf.s.db.RepeatAlertTx(ctx, tx, t.alert, t.n); err != nil {
			return err
		}
	}
	return nil
}

func (nf *notifier) storeRaw(ctx context.Context, tx *sql.Tx, jobs []*notifyJob) ([]int64, error) {
	if len(jobs) == 0 {
		return []int64{}, nil
	}
	raws := make([]store.RawNotification, len(jobs))
	for i, j := range jobs {
		raws[i] = j.raw
	}
	return nf.s.db.InsertRawNotificationsTx(ctx, tx, raws)
}

// apply decides and records the outcome of stored jobs inside tx, filling
// replies. Jobs whose account lookup failed stay pending for the sweep.
func (nf *notifier) apply(ctx context.Context, tx *sql.Tx, jobs []*notifyJob, replies []notifyReply) error {
	if len(jobs) == 0 {
		return nil
	}
	s := nf.s
	outs := make([]store.NotificationOutcome, 0, len(jobs))
	for i, j := range jobs {
		if j.lookErr != nil {
			replies[i] = replyUnavailable()
			continue
		}
		out, err := s.handleNotification(ctx, tx, j)
		if err != nil {
			return fmt.Errorf("notification %d: %w", j.id, err)
		}
		replies[i] = notifyReply{out.ReplyCode, out.ReplyBody}
		outs = append(outs, out)
	}
	stale, err := s.db.FinishNotificationsTx(ctx, tx, outs)
	if stale > 0 {
		s.log.Warn("notifications processed twice; the second outcome was dropped", "count", stale)
	}
	return err
}

// process applies stored jobs in one transaction, falling back to one
// transaction per job when the batch fails. A job whose transaction fails
// stays pending.
func (nf *notifier) process(ctx context.Context, batch []*notifyJob) []notifyReply {
	s := nf.s
	replies := make([]notifyReply, len(batch))
	run := func(jobs []*notifyJob, reps []notifyReply) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error { return nf.apply(ctx, tx, jobs, reps) })
	}
	if len(batch) == 0 {
		return replies
	}
	if err := run(batch, replies); err == nil {
		return replies
	} else if len(batch) == 1 {
		s.log.Error("apply notification", "id", batch[0].id, "err", err)
		replies[0] = replyUnavailable()
		return replies
	}
	for i, j := range batch {
		if err := run([]*notifyJob{j}, replies[i:i+1]); err != nil {
			s.log.Error("apply notification", "id", j.id, "err", err)
			replies[i] = replyUnavailable()
		}
	}
	return replies
}

// sweepPending processes every stored row still pending: rows whose
// processing failed or was cut short by a crash.
func (nf *notifier) sweepPending(ctx context.Context) error {
	s := nf.s
	for {
		rows, err := s.db.PendingNotifications(ctx, s.now().Add(time.Second), maxNotifyBatch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		batch := make([]*notifyJob, len(rows))
		for i, row := range rows {
			j := &notifyJob{raw: row.RawNotification, id: row.ID}
			if row.Cut() {
				// Only a rejected request is cut: it stays rejected.
				j.parseErr = errors.New("only the start of the request was kept")
			}
			s.prepareNotify(ctx, j)
			batch[i] = j
		}
		replies := nf.process(ctx, batch)
		stuck := 0
		for _, rep := range replies {
			if rep == replyUnavailable() {
				stuck++
			}
		}
		s.log.Info("swept pending notifications", "count", len(rows), "still_pending", stuck)
		if stuck > 0 || len(rows) < maxNotifyBatch {
			if stuck > 0 {
				return fmt.Errorf("%d notifications could not be applied and stay pending", stuck)
			}
			return nil
		}
	}
}
