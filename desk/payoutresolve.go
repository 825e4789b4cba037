package desk

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// unknownWhy is why a payout is "unknown": an unclear answer, or a
// refusal of a payout sent again, which a query must confirm.
type unknownWhy struct {
	text    i18n.Message // for the payout's error and its timeline
	tech    string       // the error as the protocol says it
	refusal bool         // the gateway refused a re-send; text is its refusal
}

func unclear(why i18n.Message, tech string) unknownWhy { return unknownWhy{text: why, tech: tech} }

func refusedAgain(err error) unknownWhy {
	return unknownWhy{text: GatewayProblem(err), tech: err.Error(), refusal: true}
}

// storedText is a text column as a message: one written by i18n.Encode,
// or text written before, printed as it is.
func storedText(s string) i18n.Message {
	if m, ok := i18n.Decode(s); ok {
		return m
	}
	return i18n.M("%s", s)
}

// markUnknown records an outcome only a query can settle: the payout is
// "unknown" and is queried after the backoff (at once when now is zero).
func (w *payoutWorker) markUnknown(ctx context.Context, tx *sql.Tx, p store.Payout, why unknownWhy, now time.Time) error {
	db := w.d.db
	cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if cur.State != store.PayoutSubmitting && cur.State != store.PayoutUnknown {
		return nil // a callback told us meanwhile
	}
	next := cur
	next.State, next.LastError, next.RefusalUnconfirmed = store.PayoutUnknown, i18n.Encode(why.text), why.refusal
	if !sameTrans(cur, next) {
		if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
			return err
		}
	}
	nextTry := time.Time{} // a zero now: ask at once
	if !now.IsZero() {
		nextTry = now.Add(w.backoff(p.ID))
	}
	if err := db.SetPayoutNextTryTx(ctx, tx, p.ID, nextTry); err != nil {
		return err
	}
	summary := i18n.M("Not known whether the payout was made (%s). Paydesk asks the gateway by the payout's number; it never sends it again blindly.", why.text)
	if why.refusal {
		summary = i18n.M("The gateway refused the payout when it was sent again (%s), but it may hold an earlier send under the same number: Paydesk asks the gateway before taking the refusal.", why.text)
	}
	return db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventError, Actor: "worker",
		Summary: i18n.Encode(summary), Detail: why.tech})
}

func (w *payoutWorker) backoff(id int64) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.tries[id]
	w.tries[id] = n + 1
	return w.opt.Backoff << min(n, 4)
}

func (w *payoutWorker) forget(id int64) {
	w.mu.Lock()
	delete(w.tries, id)
	w.mu.Unlock()
}

// resolveUnknown queries the unknown payouts that are due.
func (w *payoutWorker) resolveUnknown(ctx context.Context) (int, error) {
	now := w.d.now()
	list, err := w.d.db.ClaimPayoutsDue(ctx, store.PayoutUnknown, now, w.leaseEnd(now), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	w.resolve(ctx, list)
	return len(list), nil
}

// queryEach asks the gateway about each payout of list by its merchant
// payout number.
func (w *payoutWorker) queryEach(ctx context.Context, list []store.Payout) []payoutCall {
	return w.callEach(ctx, list,
		func(err error) error {
			return &payments.UnclearError{Op: "query payout", Reason: "no gateway client", Err: err}
		},
		func(c *payments.Client, _ store.GatewayAccount, p store.Payout) (*payments.TransOrder, error) {
			return c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: p.MchTransOrderNo})
		})
}

// resolve asks the gateway about unknown payouts by merchant payout number
// and acts on the answers: found → take the status; not found → create
// again with the same number; unclear → ask again later.
func (w *payoutWorker) resolve(ctx context.Context, list []store.Payout) {
	results := w.queryEach(ctx, list)
	if ctx.Err() != nil {
		return
	}
	now := w.d.now()
	var resend []store.Payout
	err := w.d.db.InTx(ctx, func(tx *sql.Tx) error {
		resend = resend[:0]
		for _, r := range results {
			again, err := w.resolved(ctx, tx, r, now)
			if err != nil {
				return err
			}
			if again != nil {
				resend = append(resend, *again)
			}
		}
		return nil
	})
	if err != nil {
		w.d.log.Error("record payout queries", "err", err)
		return
	}
	w.send(ctx, resend)
}

// resolved records inside tx what a query said about an unknown payout;
// it returns the payout, marked "submitting" again, when it is to be sent
// again with the same number.
func (w *payoutWorker) resolved(ctx context.Context, tx *sql.Tx, r payoutCall, now time.Time) (*store.Payout, error) {
	db := w.d.db
	p := r.p
	switch {
	case r.err == nil && r.ans.Amount > 0 && r.ans.Amount != p.Amount:
		// The number is taken at the gateway by a payout that is not
		// this one (another system of the merchant's used it): ours
		// was never created. Adopting that payout's outcome would be
		// wrong either way.
		w.forget(p.ID)
		return nil, w.numberTaken(ctx, tx, p, r.ans)
	case r.err == nil:
		a := r.ans
		if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker", Status: &a.Status,
			Summary: i18n.Encode(i18n.M("Asked the gateway by the payout's number: it has the payout, %s.", TransStatusName(a.Status))),
			Detail:  rawJSON(a.Raw)}); err != nil {
			return nil, err
		}
		if _, _, err := w.d.applyTransObservation(ctx, tx, p, observation{Source: sourceQuery, Actor: "worker", Status: a.Status,
			GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}); err != nil {
			return nil, err
		}
		w.forget(p.ID)
		return nil, nil
	case payments.IsNotFound(r.err):
		cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
		if err != nil || cur.State != store.PayoutUnknown {
			return nil, err
		}
		if cur.RefusalUnconfirmed {
			w.forget(p.ID)
			return nil, w.confirmRefusal(ctx, tx, cur)
		}
		next := cur
		next.State = store.PayoutSubmitting
		next.SubmitAttempts++
		if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, nil
			}
			return nil, err
		}
		if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker",
			Summary: i18n.Encode(i18n.M("Asked the gateway by the payout's number: it does not have the payout, so Paydesk sends it again under the same number.")), Detail: "query_order mchTransOrderNo: not found"}); err != nil {
			return nil, err
		}
		return &next, nil
	default:
		if err := db.SetPayoutNextTryTx(ctx, tx, p.ID, now.Add(w.backoff(p.ID))); err != nil {
			return nil, err
		}
		return nil, db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker",
			Summary: i18n.Encode(i18n.M("Asked the gateway by the payout's number, without a clear answer (%s); Paydesk asks again later.", GatewayProblem(r.err))), Detail: r.err.Error()})
	}
}

// confirmRefusal takes the refusal of a payout sent again, now that a
// query found no earlier send under its number: it is refused, and the
// refusal is confirmed.
func (w *payoutWorker) confirmRefusal(ctx context.Context, tx *sql.Tx, cur store.Payout) error {
	next := cur
	next.State, next.RefusalUnconfirmed = store.PayoutRefused, false
	if err := w.d.db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil
		}
		return err
	}
	return w.d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: cur.ID, Type: store.EventQuery, Actor: "worker",
		Summary: i18n.Encode(i18n.M("Asked the gateway by the payout's number: it does not have the payout, so its refusal stands (%s). Nothing was paid.", storedText(cur.LastError)))})
}

// confirmRefusals asks the gateway about payouts refused when they were
// sent again by a console older than the rule that has such refusals
// confirmed by a query: found → the payout exists, and takes the status
// found; not found → the refusal is confirmed; unclear → later.
func (w *payoutWorker) confirmRefusals(ctx context.Context) (int, error) {
	now := w.d.now()
	list, err := w.d.db.ClaimUnconfirmedRefusals(ctx, now, w.leaseEnd(now), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	results := w.queryEach(ctx, list)
	if ctx.Err() != nil {
		return 0, nil
	}
	return len(list), w.d.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			if err := w.settleOldRefusal(ctx, tx, r, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// settleOldRefusal records inside tx what a query said about a refused
// payout whose refusal was not confirmed.
func (w *payoutWorker) settleOldRefusal(ctx context.Context, tx *sql.Tx, r payoutCall, now time.Time) error {
	db := w.d.db
	cur, err := db.PayoutByIDTx(ctx, tx, r.p.ID)
	if err != nil || cur.State != store.PayoutRefused || !cur.RefusalUnconfirmed {
		return err
	}
	next := cur
	next.RefusalUnconfirmed = false
	var summary i18n.Message
	switch a := r.ans; {
	case r.err == nil && (a.Amount <= 0 || a.Amount == cur.Amount):
		// The earlier send arrived: the payout exists and goes on.
		st := a.Status
		next.State, next.Status, next.LastError = store.PayoutSubmitted, &st, ""
		if next.TransOrderID == "" {
			next.TransOrderID = a.TransOrderID
		}
		if a.ChannelOrderNo != "" {
			next.ChannelOrderNo = a.ChannelOrderNo
		}
		if st == payments.TransFailed && a.ChannelErrMsg != "" {
			next.LastError = a.ChannelErrMsg
		}
		if payments.IsTransSucceeded(st) {
			next.TransSuccAt = msTime(a.TransSuccTime, now)
		}
		summary = i18n.M("Asked the gateway by the payout's number: it has the payout after all (%s). An earlier send arrived; the refusal of the payout sent again is void.", TransStatusName(st))
		if cur.BatchID != 0 {
			if err := db.ReopenBatchTx(ctx, tx, cur.BatchID); err != nil {
				return err
			}
		}
	case r.err == nil:
		summary = i18n.M("Asked the gateway by the payout's number: it holds another payout under it (%s, not %s); the refusal stands. Nothing was paid.", i18n.Money(a.Amount), i18n.Money(cur.Amount))
	case payments.IsNotFound(r.err):
		summary = i18n.M("Asked the gateway by the payout's number: it does not have the payout, so its refusal stands (%s). Nothing was paid.", storedText(cur.LastError))
	default:
		return db.SetPayoutNextTryTx(ctx, tx, cur.ID, now.Add(w.backoff(cur.ID)))
	}
	w.forget(cur.ID)
	if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
		return err
	}
	if next.State == store.PayoutSubmitted {
		// Followed up at the usual pace, not when this claim's lease ends.
		if err := db.SetPayoutNextTryTx(ctx, tx, cur.ID, now); err != nil {
			return err
		}
	}
	var status *int
	if next.Status != cur.Status {
		status = next.Status
	}
	return db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: cur.ID, Type: store.EventQuery, Actor: "worker", Status: status,
		Summary: i18n.Encode(summary), Detail: rawJSON(rawOf(r.ans))})
}

// rawOf is the raw fields of an answer, if there is one.
func rawOf(a *payments.TransOrder) payments.Params {
	if a == nil {
		return nil
	}
	return a.Raw
}

// followUp queries payouts the gateway has had for a while without a final
// status, in case a callback was missed.
func (w *payoutWorker) followUp(ctx context.Context) (int, error) {
	now := w.d.now()
	list, err := w.d.db.ClaimPayoutsUnsettled(ctx, now, now.Add(-w.opt.FollowUp), w.leaseEnd(now), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	results := w.queryEach(ctx, list)
	if ctx.Err() != nil {
		return 0, nil
	}
	db := w.d.db
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			if err := db.SetPayoutNextTryTx(ctx, tx, r.p.ID, now.Add(w.opt.FollowUp)); err != nil {
				return err
			}
			if r.err != nil {
				continue
			}
			a := r.ans
			if _, _, err := w.d.applyTransObservation(ctx, tx, r.p, observation{Source: sourceReconcile, Actor: "worker", Status: a.Status,
				GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}); err != nil {
				return err
			}
		}
		return nil
	})
	return len(list), err
}

// finishBatches records the outcome of approved batches whose payouts are
// all final.
func (w *payoutWorker) finishBatches(ctx context.Context) error {
	ids, err := w.d.db.UnfinishedApprovedBatches(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := w.d.FinishBatch(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// numberTaken refuses a payout whose merchant payout number the gateway
// holds for a different amount, and raises an alert: the payout was not
// sent, and a person should know that the number is used elsewhere.
func (w *payoutWorker) numberTaken(ctx context.Context, tx *sql.Tx, p store.Payout, a *payments.TransOrder) error {
	db := w.d.db
	cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if cur.State != store.PayoutUnknown && cur.State != store.PayoutSubmitting {
		return nil
	}
	msg := i18n.Encode(i18n.M("The gateway holds another payout under this payout's number %s (%s, not %s): this payout was not sent and nothing was paid. Pay it again under a new number if it is still due.",
		p.MchTransOrderNo, i18n.Money(a.Amount), i18n.Money(p.Amount)))
	next := cur
	next.State, next.LastError, next.RefusalUnconfirmed = store.PayoutRefused, msg, false
	if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
		return err
	}
	if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventError, Actor: "worker",
		Summary: msg, Detail: rawJSON(a.Raw)}); err != nil {
		return err
	}
	_, err = db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMismatch, DedupeKey: "payout-number:" + p.MchTransOrderNo,
		Summary: msg, OrderKind: store.KindTrans, OrderRef: p.ID})
	return err
}

// leaseEnd is how long a claimed payout (see store.ClaimPayoutsDue) is
// this worker's to ask about: longer than its queries can take, after
// which another console takes it over should this one have stopped.
func (w *payoutWorker) leaseEnd(now time.Time) time.Time {
	return now.Add(2*w.d.cfg.GatewayTimeout + 30*time.Second)
}
