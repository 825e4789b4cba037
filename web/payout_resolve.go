package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// markUnknown records an unclear outcome: the payout is "unknown" and is
// queried after the backoff (at once when now is zero).
func (w *payoutWorker) markUnknown(ctx context.Context, tx *sql.Tx, p store.Payout, why string, now time.Time) error {
	db := w.s.db
	cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if cur.State != store.PayoutSubmitting && cur.State != store.PayoutUnknown {
		return nil // a callback told us meanwhile
	}
	next := cur
	next.State, next.LastError = store.PayoutUnknown, why
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
	return db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventError, Actor: "worker",
		Summary: "Outcome unclear (" + why + "); the gateway will be asked by merchant payout number, never sent blindly again"})
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
	list, err := w.s.db.PayoutsDue(ctx, store.PayoutUnknown, w.s.now(), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	w.resolve(ctx, list)
	return len(list), nil
}

type payoutQueryResult struct {
	p   store.Payout
	ans *payments.TransOrder
	err error
}

// resolve asks the gateway about unknown payouts by merchant payout number
// and acts on the answers: found → take the status; not found → create
// again with the same number; unclear → ask again later.
func (w *payoutWorker) resolve(ctx context.Context, list []store.Payout) {
	db := w.s.db
	results := make([]payoutQueryResult, len(list))
	gws := w.clientsFor(ctx, list)
	w.parallel(len(list), func(i int) {
		p := list[i]
		results[i].p = p
		gw := gws[p.AccountID]
		if gw.err != nil {
			results[i].err = &payments.UnclearError{Op: "query payout", Reason: "no gateway client", Err: gw.err}
			return
		}
		results[i].ans, results[i].err = gw.c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: p.MchTransOrderNo})
	})
	if ctx.Err() != nil {
		return
	}
	now := w.s.now()
	var resend []store.Payout
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		resend = resend[:0]
		for _, r := range results {
			p := r.p
			switch {
			case r.err == nil && r.ans.Amount > 0 && r.ans.Amount != p.Amount:
				// The number is taken at the gateway by a payout that is not
				// this one (another system of the merchant's used it): ours
				// was never created. Adopting that payout's outcome would be
				// wrong either way.
				if err := w.numberTaken(ctx, tx, p, r.ans); err != nil {
					return err
				}
				w.forget(p.ID)
			case r.err == nil:
				a := r.ans
				if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker", Status: &a.Status,
					Summary: fmt.Sprintf("Query by merchant payout number: the gateway has it (transOrderId %s, %s)", a.TransOrderID, payments.TransStatusText(a.Status)),
					Detail:  rawJSON(a.Raw)}); err != nil {
					return err
				}
				if _, _, err := w.s.applyTransObservation(ctx, tx, p, observation{Source: sourceQuery, Actor: "worker", Status: a.Status,
					GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}); err != nil {
					return err
				}
				w.forget(p.ID)
			case payments.IsNotFound(r.err):
				cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
				if err != nil {
					return err
				}
				if cur.State != store.PayoutUnknown {
					continue
				}
				next := cur
				next.State = store.PayoutSubmitting
				next.SubmitAttempts++
				if err := db.UpdatePayoutTx(ctx, tx, cur, next); err != nil {
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					return err
				}
				if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker",
					Summary: "Query by merchant payout number: the gateway does not have it; sending it again with the same number"}); err != nil {
					return err
				}
				resend = append(resend, next)
			default:
				if err := db.SetPayoutNextTryTx(ctx, tx, p.ID, now.Add(w.backoff(p.ID))); err != nil {
					return err
				}
				if err := db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventQuery, Actor: "worker",
					Summary: "Query unclear (" + r.err.Error() + "); asking again later"}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		w.s.log.Error("record payout queries", "err", err)
		return
	}
	w.send(ctx, resend)
}

// followUp queries payouts the gateway has had for a while without a final
// status, in case a callback was missed.
func (w *payoutWorker) followUp(ctx context.Context) (int, error) {
	now := w.s.now()
	list, err := w.s.db.PayoutsUnsettled(ctx, now, now.Add(-w.opt.FollowUp), w.opt.Chunk)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	results := make([]payoutQueryResult, len(list))
	gws := w.clientsFor(ctx, list)
	w.parallel(len(list), func(i int) {
		p := list[i]
		results[i].p = p
		gw := gws[p.AccountID]
		if gw.err != nil {
			results[i].err = gw.err
			return
		}
		results[i].ans, results[i].err = gw.c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: p.MchTransOrderNo})
	})
	if ctx.Err() != nil {
		return 0, nil
	}
	db := w.s.db
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for _, r := range results {
			if err := db.SetPayoutNextTryTx(ctx, tx, r.p.ID, now.Add(w.opt.FollowUp)); err != nil {
				return err
			}
			if r.err != nil {
				continue
			}
			a := r.ans
			if _, _, err := w.s.applyTransObservation(ctx, tx, r.p, observation{Source: sourceReconcile, Actor: "worker", Status: a.Status,
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
	ids, err := w.s.db.UnfinishedApprovedBatches(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		counts, err := w.s.db.BatchCounts(ctx, id)
		if err != nil {
			return err
		}
		ok, failed, open := 0, 0, 0
		for _, c := range counts {
			p := store.Payout{State: c.State, Status: c.Status}
			switch {
			case c.State == store.PayoutCancelled:
			case !payoutFinal(p):
				open += c.Count
			case payoutFailed(p):
				failed += c.Count
			default:
				ok += c.Count
			}
		}
		if open == 0 && ok+failed > 0 {
			if err := w.s.db.SetBatchOutcome(ctx, id, batchOutcome(ok, failed)); err != nil {
				return err
			}
		}
	}
	return nil
}

// numberTaken refuses a payout whose merchant payout number the gateway
// holds for a different amount, and raises an alert: the payout was not
// sent, and a person should know that the number is used elsewhere.
func (w *payoutWorker) numberTaken(ctx context.Context, tx *sql.Tx, p store.Payout, a *payments.TransOrder) error {
	db := w.s.db
	cur, err := db.PayoutByIDTx(ctx, tx, p.ID)
	if err != nil {
		return err
	}
	if cur.State != store.PayoutUnknown && cur.State != store.PayoutSubmitting {
		return nil
	}
	msg := fmt.Sprintf("The gateway holds another payout under merchant payout number %s (transOrderId %s, %s, not %s): this payout was not sent. Pay it again under a new number if it is still due.",
		p.MchTransOrderNo, a.TransOrderID, views.Money(a.Amount), views.Money(p.Amount))
	next := cur
	next.State, next.LastError = store.PayoutRefused, msg
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

// rawJSON renders gateway fields for a timeline's "raw fields".
func rawJSON(p payments.Params) string {
	if p == nil {
		return ""
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}
