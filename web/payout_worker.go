package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// PayoutWorkerOptions tune the submission worker; zero values take the
// defaults.
type PayoutWorkerOptions struct {
	Concurrency int           // gateway calls in flight at once (default 64)
	Chunk       int           // payouts marked "submitting" per transaction (default 256)
	Poll        time.Duration // how often to look for work when idle (default 500ms)
	Backoff     time.Duration // first wait before querying an unclear payout again; doubles up to 16× (default 1s)
	FollowUp    time.Duration // query a payout still transferring after this long without news (default 30s)
}

func (o *PayoutWorkerOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Chunk <= 0 {
		o.Chunk = 256
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.FollowUp <= 0 {
		o.FollowUp = 30 * time.Second
	}
}

// payoutWorker submits approved payouts so that none is ever paid twice:
//
//   - Before a create call the payout is durably marked "submitting"
//     (conditionally: of two workers, only one can win the mark).
//   - A definite answer moves it on (submitted, or refused for a FAIL).
//   - An unclear answer marks it "unknown"; only a query by its merchant
//     payout number decides: found → its status is taken; definitely not
//     found → it is created again with the same number; unclear → asked
//     again later, with backoff.
//   - At start, payouts left "submitting" by a crash are unknown, and every
//     unknown payout is queried before anything new is sent.
type payoutWorker struct {
	s       *Server
	opt     PayoutWorkerOptions
	clients map[string]*payments.Client // by account id and last change
	tries   map[int64]int               // unclear queries in a row, for the backoff
	mu      sync.Mutex
}

// StartPayoutWorker runs the submission worker until ctx ends; the returned
// function waits for it to stop.
func (s *Server) StartPayoutWorker(ctx context.Context, opt PayoutWorkerOptions) (wait func()) {
	opt.defaults()
	w := &payoutWorker{s: s, opt: opt, clients: map[string]*payments.Client{}, tries: map[int64]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(ctx)
	}()
	return func() { <-done }
}

func (w *payoutWorker) run(ctx context.Context) {
	log := w.s.log.With("component", "payouts")
	if err := w.recover(ctx); err != nil && ctx.Err() == nil {
		log.Error("resolve payouts left unfinished", "err", err)
	}
	lastFinish := time.Time{}
	for ctx.Err() == nil {
		busy := 0
		for _, step := range []func(context.Context) (int, error){w.expire, w.unstick, w.resolveUnknown, w.submitApproved, w.followUp} {
			n, err := step(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error("payout worker", "err", err)
			}
			busy += n
		}
		if time.Since(lastFinish) > time.Second {
			if err := w.finishBatches(ctx); err != nil && ctx.Err() == nil {
				log.Error("finish batches", "err", err)
			}
			lastFinish = time.Now()
		}
		if busy > 0 {
			continue
		}
		t := time.NewTimer(w.opt.Poll)
		select {
		case <-ctx.Done():
		case <-w.s.payoutKick:
		case <-t.C:
		}
		t.Stop()
	}
}

// recover turns payouts left "submitting" (a crash between the mark and
// the answer) into "unknown" and queries every unknown payout once, before
// anything new is sent. A payout marked "submitting" by another worker
// that is alive may still be waiting for its answer: only one unchanged for
// longer than a gateway call can take is taken as left behind, so recover
// waits up to that long for the marks made before it started.
func (w *payoutWorker) recover(ctx context.Context) error {
	db := w.s.db
	start := w.s.now()
	grace := w.s.cfg.GatewayTimeout + 2*time.Second
	for ctx.Err() == nil {
		list, err := db.PayoutsStuck(ctx, store.PayoutSubmitting, w.s.now().Add(-grace), w.opt.Chunk)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			err = db.InTx(ctx, func(tx *sql.Tx) error {
				for _, p := range list {
					if err := w.markUnknown(ctx, tx, p, "sending was interrupted (the console stopped); the gateway is asked", time.Time{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			continue
		}
		waiting, err := db.PayoutsStuck(ctx, store.PayoutSubmitting, start, 1)
		if err != nil {
			return err
		}
		if len(waiting) == 0 {
			break
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	// One pass over every unknown payout, due or not.
	after := int64(0)
	for ctx.Err() == nil {
		list, err := db.PayoutsUnknownAfter(ctx, after, w.opt.Chunk)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return nil
		}
		after = list[len(list)-1].ID
		w.resolve(ctx, list)
	}
	return ctx.Err()
}

func (w *payoutWorker) client(ctx context.Context, accountID int64) (*payments.Client, store.GatewayAccount, error) {
	g, err := w.s.db.GatewayAccount(ctx, accountID)
	if err != nil {
		return nil, g, err
	}
	// An account changed by an admin (a new key) gets a new client.
	k := fmt.Sprintf("%d@%d", g.ID, g.UpdatedAt.UnixNano())
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.clients[k]; ok {
		return c, g, nil
	}
	c, err := w.s.gatewayClient(g)
	if err != nil {
		return nil, g, err
	}
	w.clients[k] = c
	return c, g, nil
}

// unstick turns payouts "submitting" for much longer than a gateway call
// can take (their answer could not be recorded) into "unknown", so that a
// query decides about them.
func (w *payoutWorker) unstick(ctx context.Context) (int, error) {
	db := w.s.db
	before := w.s.now().Add(-2*w.s.cfg.GatewayTimeout - time.Minute)
	list, err := db.PayoutsStuck(ctx, store.PayoutSubmitting, before, w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for _, p := range list {
			if err := w.markUnknown(ctx, tx, p, "no answer was recorded for this payout; the gateway is asked", w.s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	return len(list), err
}

// payoutGateway is what calls for one account need.
type payoutGateway struct {
	c   *payments.Client
	g   store.GatewayAccount
	err error
}

// clientsFor looks up each account of list once.
func (w *payoutWorker) clientsFor(ctx context.Context, list []store.Payout) map[int64]payoutGateway {
	out := map[int64]payoutGateway{}
	for _, p := range list {
		if _, ok := out[p.AccountID]; !ok {
			c, g, err := w.client(ctx, p.AccountID)
			out[p.AccountID] = payoutGateway{c, g, err}
		}
	}
	return out
}

// expire ends batches whose approval time ran out.
func (w *payoutWorker) expire(ctx context.Context) (int, error) {
	list, err := w.s.db.ExpiredBatches(ctx, w.s.now())
	if err != nil {
		return 0, err
	}
	for _, b := range list {
		err := w.s.db.InTx(ctx, func(tx *sql.Tx) error {
			cur, err := w.s.db.BatchByIDTx(ctx, tx, b.ID)
			if err != nil || cur.State != store.BatchAwaitingApproval {
				return err
			}
			_, err = w.s.expireTx(ctx, tx, cur)
			return err
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return 0, err
		}
	}
	return 0, nil
}

// submitApproved marks a chunk of approved payouts "submitting" in one
// transaction, sends them concurrently, and records the answers in one
// transaction.
func (w *payoutWorker) submitApproved(ctx context.Context) (int, error) {
	db := w.s.db
	list, err := db.PayoutsDue(ctx, store.PayoutApproved, w.s.now(), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	var claimed []store.Payout
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		claimed = claimed[:0]
		for _, p := range list {
			next := p
			next.State = store.PayoutSubmitting
			next.SubmitAttempts++
			err := db.UpdatePayoutTx(ctx, tx, p, next)
			if errors.Is(err, store.ErrConflict) {
				continue // another worker, or a change of the batch, got there first
			}
			if err != nil {
				return err
			}
			claimed = append(claimed, next)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	w.send(ctx, claimed)
	return len(list), nil
}

// payoutCreateResult is one create call's outcome.
type payoutCreateResult struct {
	p   store.Payout
	ans *payments.TransOrder
	err error
}

// send creates claimed payouts (all marked "submitting") at the gateway
// concurrently and records every answer.
func (w *payoutWorker) send(ctx context.Context, claimed []store.Payout) {
	if len(claimed) == 0 {
		return
	}
	results := make([]payoutCreateResult, len(claimed))
	gws := w.clientsFor(ctx, claimed)
	w.parallel(len(claimed), func(i int) {
		p := claimed[i]
		results[i].p = p
		gw := gws[p.AccountID]
		if gw.err != nil {
			results[i].err = &payments.UnclearError{Op: "create payout", Reason: "no gateway client", Err: gw.err}
			return
		}
		results[i].ans, results[i].err = gw.c.CreateTransOrder(ctx, transRequest(p, w.s.notifyURL(gw.g, "trans")))
	})
	if ctx.Err() != nil {
		// Shutting down: the payouts stay "submitting" and are resolved by
		// query at the next start.
		return
	}
	for attempt := 1; ; attempt++ {
		err := w.record(ctx, results)
		if err == nil {
			return
		}
		w.s.log.Error("record payout answers", "attempt", attempt, "err", err)
		if attempt == 3 || ctx.Err() != nil {
			return // still "submitting": unstick or the next start asks the gateway
		}
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
}

// transRequest is the create call for a payout; the same every time it is
// sent, above all the same merchant payout number.
func transRequest(p store.Payout, notifyURL string) payments.TransOrderRequest {
	return payments.TransOrderRequest{
		MchTransOrderNo: p.MchTransOrderNo, Currency: p.Currency, Amount: p.Amount, NotifyURL: notifyURL,
		AccountAttr: p.AccountAttr, BankType: p.BankType, BankCode: p.BankCode, BankName: p.BankName, AccountType: p.AccountType,
		AccountName: p.AccountName, AccountNo: p.AccountNo, Province: p.Province, City: p.City, Param1: p.Param1, Param2: p.Param2,
	}
}

// parallel runs fn(0..n-1) with at most Concurrency at once.
func (w *payoutWorker) parallel(n int, fn func(i int)) {
	sem := make(chan struct{}, w.opt.Concurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// duplicateNumber reports whether a definite FAIL says the merchant payout
// number exists already: then the payout may well exist, and only a query
// decides.
func duplicateNumber(err error) bool {
	var g *payments.GatewayError
	if !errors.As(err, &g) {
		return false
	}
	m := g.RetMsg + " " + g.ErrDes
	return strings.Contains(m, "重复") || strings.Contains(m, "已存在") || strings.Contains(strings.ToLower(m), "exist")
}

// record applies create answers in one transaction.
func (w *payoutWorker) record(ctx context.Context, results []payoutCreateResult) error {
	db := w.s.db
	now := w.s.now()
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			p := r.p
			switch {
			case r.err == nil:
				a := r.ans
				if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventGateway, Actor: "gateway",
					Status: &a.Status, Summary: fmt.Sprintf("The gateway accepted the payout: transOrderId %s, status %s", a.TransOrderID, payments.TransStatusText(a.Status)),
					Detail: rawJSON(a.Raw)}); err != nil {
					return err
				}
				if _, _, err := w.s.applyTransObservation(ctx, tx, p, observation{Source: sourceCreate, Actor: "worker", Status: a.Status,
					GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}); err != nil {
					return err
				}
				w.forget(p.ID)
			case payments.IsUnclear(r.err) || duplicateNumber(r.err):
				if err := w.markUnknown(ctx, tx, p, r.err.Error(), now); err != nil {
					return err
				}
			default:
				cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
				if err != nil {
					return err
				}
				if cur.State != store.PayoutSubmitting {
					continue // a callback or query got there first
				}
				next := cur
				next.State, next.LastError = store.PayoutRefused, refusalText(r.err)
				if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
					return err
				}
				if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventError, Actor: "gateway",
					Summary: "The gateway refused the payout: " + next.LastError}); err != nil {
					return err
				}
				w.forget(p.ID)
			}
		}
		return nil
	})
}

func refusalText(err error) string {
	var g *payments.GatewayError
	if errors.As(err, &g) {
		msg := g.RetMsg
		if g.ErrDes != "" && g.ErrDes != g.RetMsg {
			msg += " (" + g.ErrDes + ")"
		}
		if g.ErrCode != "" {
			msg += " [" + g.ErrCode + "]"
		}
		return msg
	}
	return err.Error()
}
