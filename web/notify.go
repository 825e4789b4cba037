package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

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
	// maxNotifyBody bounds what is stored of a callback's body; the
	// gateway's callbacks are well under 2 KB.
	maxNotifyBody = 64 << 10
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
	acct     *store.GatewayAccount   // the preferred account whose key verified the signature
	verified []*store.GatewayAccount // every account whose key verified it, acct first
	reply    chan notifyReply        // nil for sweeps
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
	truncated := len(body) > maxNotifyBody
	if truncated {
		body = body[:maxNotifyBody]
	}
	var hb strings.Builder
	// The request headers kept with a callback.
	for _, h := range [...]string{"Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For", "X-Real-Ip", "Forwarded"} {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&hb, "%s: %s\n", h, v)
		}
	}
	job := &notifyJob{
		raw: store.RawNotification{
			ReceivedAt: s.now(),
			Kind:       string(kind),
			Method:     r.Method,
			ClientAddr: s.clientAddr(r),
			Headers:    hb.String(),
			RawQuery:   r.URL.RawQuery,
			RawBody:    body,
		},
		reply: make(chan notifyReply, 1),
	}
	if len(job.raw.RawQuery) > maxNotifyBody {
		job.raw.RawQuery = job.raw.RawQuery[:maxNotifyBody]
		job.parseErr = fmt.Errorf("the query string is longer than %d bytes; only the start is kept", maxNotifyBody)
	}
	switch {
	case job.parseErr != nil:
	case truncated:
		job.parseErr = fmt.Errorf("the body is larger than %d bytes; only the start is kept", maxNotifyBody)
	case readErr != nil:
		job.parseErr = fmt.Errorf("the body could not be read: %v", readErr)
	}
	s.prepareNotify(r.Context(), job)
	rep := s.notifier.submit(r.Context(), job)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.code)
	_, err := io.WriteString(w, rep.body)
	return err
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

// prepareNotify parses a callback and checks its signature against the
// keys of the accounts with its merchant id. It does not touch the
// database but for the (cached) account lookup.
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
	// Every account whose key verifies, the one whose appId the callback
	// names first: accounts on one merchant id may share a key, and the
	// callback may apply only to an order of one of them.
	type checked struct {
		key string
		ok  bool
	}
	var done []checked // keys verified already: one MD5 per distinct key
	verifies := func(key string) bool {
		for _, c := range done {
			if c.key == key {
				return c.ok
			}
		}
		ok := n.Verify(key)
		done = append(done, checked{key, ok})
		return ok
	}
	for pass := range 2 {
		for i := range accounts {
			a := &accounts[i]
			if (pass == 0) != (n.AppID != "" && a.acct.AppID == n.AppID) {
				continue
			}
			if verifies(a.key) {
				j.verified = append(j.verified, &a.acct)
			}
		}
	}
	if len(j.verified) > 0 {
		j.acct = j.verified[0]
	}
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
// recorded"). When the transaction fails, the two halves are retried
// apart so that one bad row cannot hold back the others.
func (nf *notifier) cycle(ctx context.Context, stored, incoming []*notifyJob) []*notifyJob {
	if len(stored) == 0 && len(incoming) == 0 {
		return nil
	}
	s := nf.s
	replies := make([]notifyReply, len(stored))
	var ids []int64
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := nf.apply(ctx, tx, stored, replies); err != nil {
			return err
		}
		var err error
		ids, err = nf.storeRaw(ctx, tx, incoming)
		return err
	})
	if err != nil {
		s.log.Warn("notification commit failed; retrying its parts apart", "stored", len(stored), "incoming", len(incoming), "err", err)
		replies = nf.process(ctx, stored)
		ids = nil
		if len(incoming) > 0 {
			err = s.db.InTx(ctx, func(tx *sql.Tx) error {
				var err error
				ids, err = nf.storeRaw(ctx, tx, incoming)
				return err
			})
			if err != nil {
				s.log.Error("store notifications", "count", len(incoming), "err", err)
			}
		}
	}
	for i, j := range stored {
		if j.reply != nil {
			j.reply <- replies[i]
		}
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
