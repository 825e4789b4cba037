package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// payoutWorker submits approved payouts so that none is ever paid twice:
//
//   - Before a create call the payout is durably marked "submitting"
//     (conditionally: of two workers, only one can win the mark).
//   - A definite answer moves it on (submitted, or refused for a FAIL).
//   - An unclear answer marks it "unknown"; only a query by its merchant
//     payout number decides: found → its status is taken; definitely not
//     found → it is created again with the same number; unclear → asked
//     again later, with backoff.
//   - A definite refusal is taken at its word only on a first send. A
//     payout sent again may meet a gateway that holds the first send under
//     the same number (it arrived late), whatever words the refusal uses:
//     it is "unknown" with an unconfirmed refusal, and the query decides:
//     found → its status is taken; not found → refused, now confirmed.
//   - At start, payouts left "submitting" by a crash are unknown, and every
//     unknown payout is queried before anything new is sent.
type payoutWorker struct {
	d       *Desk
	opt     PayoutOptions
	clients map[string]*payments.Client // by account id and last change
	tries   map[int64]int               // unclear queries in a row, for the backoff
	mu      sync.Mutex
}

// kickPayouts wakes the payout workers, if they sleep.
func (d *Desk) kickPayouts() {
	select {
	case d.payoutKick <- struct{}{}:
	default:
	}
}

// RunPayoutWorker runs a payout worker with opt until ctx ends. Run runs
// one (with Config.Payouts) when Config.PayoutWorker is set; several may
// run on one database without paying anything twice.
func (d *Desk) RunPayoutWorker(ctx context.Context, opt PayoutOptions) {
	opt.defaults()
	w := &payoutWorker{d: d, opt: opt, clients: map[string]*payments.Client{}, tries: map[int64]int{}}
	w.run(ctx)
}

func (w *payoutWorker) run(ctx context.Context) {
	log := w.d.log.With("component", "payouts")
	if err := w.recover(ctx); err != nil && ctx.Err() == nil {
		log.Error("resolve payouts left unfinished", "err", err)
	}
	lastFinish := time.Time{}
	for ctx.Err() == nil {
		if err := w.d.expireDue(ctx); err != nil && ctx.Err() == nil {
			log.Error("expire batches", "err", err)
		}
		busy := 0
		for _, step := range []func(context.Context) (int, error){w.unstick, w.resolveUnknown, w.confirmRefusals, w.submitApproved, w.followUp} {
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
		case <-w.d.payoutKick:
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
	db := w.d.db
	start := w.d.now()
	grace := w.d.cfg.GatewayTimeout + 2*time.Second
	for ctx.Err() == nil {
		list, err := db.PayoutsStuck(ctx, store.PayoutSubmitting, w.d.now().Add(-grace), w.opt.Chunk)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			if err := w.markAllUnknown(ctx, list, i18n.M("sending was interrupted: the console stopped")); err != nil {
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

// markAllUnknown marks payouts unknown in one transaction, to be asked
// about at once (see markUnknown).
func (w *payoutWorker) markAllUnknown(ctx context.Context, list []store.Payout, why i18n.Message) error {
	return w.d.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, p := range list {
			if err := w.markUnknown(ctx, tx, p, unclear(why, ""), time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *payoutWorker) client(ctx context.Context, accountID int64) (*payments.Client, store.GatewayAccount, error) {
	g, err := w.d.db.GatewayAccount(ctx, accountID)
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
	c, err := w.d.gatewayClient(g)
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
	before := w.d.now().Add(-2*w.d.cfg.GatewayTimeout - time.Minute)
	list, err := w.d.db.PayoutsStuck(ctx, store.PayoutSubmitting, before, w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	return len(list), w.markAllUnknown(ctx, list, i18n.M("no answer was recorded for this payout"))
}

// payoutCall is one gateway call's outcome for one payout: a create or a
// query, both answered with the payout as the gateway holds it.
type payoutCall struct {
	p   store.Payout
	ans *payments.TransOrder
	err error
}

// callEach makes one gateway call per payout of list, at most Concurrency
// at once, each with the client of its payout's account, and returns the
// outcomes in list's order. A payout whose account has no usable client
// gets noClient's error instead.
func (w *payoutWorker) callEach(ctx context.Context, list []store.Payout, noClient func(error) error,
	call func(c *payments.Client, g store.GatewayAccount, p store.Payout) (*payments.TransOrder, error)) []payoutCall {
	type gateway struct {
		c   *payments.Client
		g   store.GatewayAccount
		err error
	}
	gws := map[int64]gateway{}
	for _, p := range list {
		if _, ok := gws[p.AccountID]; !ok {
			c, g, err := w.client(ctx, p.AccountID)
			gws[p.AccountID] = gateway{c, g, err}
		}
	}
	out := make([]payoutCall, len(list))
	sem := make(chan struct{}, w.opt.Concurrency)
	var wg sync.WaitGroup
	for i, p := range list {
		out[i].p = p
		gw := gws[p.AccountID]
		if gw.err != nil {
			out[i].err = noClient(gw.err)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i].ans, out[i].err = call(gw.c, gw.g, p)
		}()
	}
	wg.Wait()
	return out
}

// submitApproved marks a chunk of approved payouts "submitting" in one
// transaction, sends them concurrently, and records the answers in one
// transaction.
func (w *payoutWorker) submitApproved(ctx context.Context) (int, error) {
	db := w.d.db
	list, err := db.PayoutsDue(ctx, store.PayoutApproved, w.d.now(), w.opt.Chunk)
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

// send creates claimed payouts (all marked "submitting") at the gateway
// concurrently and records every answer.
func (w *payoutWorker) send(ctx context.Context, claimed []store.Payout) {
	if len(claimed) == 0 {
		return
	}
	results := w.callEach(ctx, claimed,
		func(err error) error {
			return &payments.UnclearError{Op: "create payout", Reason: "no gateway client", Err: err}
		},
		func(c *payments.Client, g store.GatewayAccount, p store.Payout) (*payments.TransOrder, error) {
			return c.CreateTransOrder(ctx, transRequest(p, w.d.NotifyURL(g, "trans")))
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
		w.d.log.Error("record payout answers", "attempt", attempt, "err", err)
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

// record applies create answers in one transaction.
func (w *payoutWorker) record(ctx context.Context, results []payoutCall) error {
	db := w.d.db
	now := w.d.now()
	return db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			p := r.p
			switch {
			case r.err == nil:
				if err := w.accepted(ctx, tx, p, r.ans); err != nil {
					return err
				}
			case payments.IsUnclear(r.err):
				if err := w.markUnknown(ctx, tx, p, unclear(GatewayProblem(r.err), r.err.Error()), now); err != nil {
					return err
				}
			case resent(p) && isGatewayRefusal(r.err):
				if err := w.markUnknown(ctx, tx, p, refusedAgain(r.err), now); err != nil {
					return err
				}
			case payments.IsDuplicateNumber(r.err):
				// A first send: the number may be taken by the gateway's
				// own earlier record of it, or by another system.
				if err := w.markUnknown(ctx, tx, p, unclear(GatewayProblem(r.err), r.err.Error()), now); err != nil {
					return err
				}
			default:
				if err := w.refused(ctx, tx, p, r.err); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// accepted records inside tx that the gateway accepted payout p.
func (w *payoutWorker) accepted(ctx context.Context, tx *sql.Tx, p store.Payout, a *payments.TransOrder) error {
	if err := w.d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventGateway, Actor: "gateway",
		Status: &a.Status, Summary: i18n.Encode(i18n.M("The gateway accepted the payout of %s to %s; it is %s.", i18n.Money(p.Amount), p.AccountName, TransStatusName(a.Status))),
		Detail: rawJSON(a.Raw)}); err != nil {
		return err
	}
	if _, _, err := w.d.applyTransObservation(ctx, tx, p, observation{Source: sourceCreate, Actor: "worker", Status: a.Status,
		GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}); err != nil {
		return err
	}
	w.forget(p.ID)
	return nil
}

// resent reports whether a create call of p is not its first: an earlier
// one may have reached the gateway.
func resent(p store.Payout) bool { return p.SubmitAttempts > 1 }

// isGatewayRefusal reports whether err is the gateway's definite refusal,
// as opposed to a request refused before it was sent.
func isGatewayRefusal(err error) bool {
	var g *payments.GatewayError
	return errors.As(err, &g) && !payments.IsUnclear(err)
}

// refused records inside tx a definite refusal of payout p's first create
// call: taken at its word.
func (w *payoutWorker) refused(ctx context.Context, tx *sql.Tx, p store.Payout, callErr error) error {
	db := w.d.db
	cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if cur.State != store.PayoutSubmitting {
		return nil // a callback or query got there first
	}
	next := cur
	next.State, next.LastError = store.PayoutRefused, i18n.Encode(GatewayProblem(callErr))
	if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
		return err
	}
	if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventError, Actor: "gateway",
		Summary: i18n.Encode(i18n.M("The gateway refused the payout (%s); nothing was paid.", GatewayProblem(callErr))), Detail: callErr.Error()}); err != nil {
		return err
	}
	w.forget(p.ID)
	return nil
}
