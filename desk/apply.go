package desk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// Sources of an observation, as the timeline names them.
const (
	sourceCreate    = "create answer"
	sourceQuery     = "query"
	sourceCallback  = "callback"
	sourceResend    = "resend query"
	sourceReconcile = "reconciliation query"
)

// observation is what the gateway told us about one order at one moment:
// in a create answer, a query answer or a callback.
type observation struct {
	Source         string // sourceCreate, sourceQuery, ...
	Actor          string // username, "gateway", "reconciler", "worker"
	Status         int    // gateway status
	GatewayID      string // payOrderId / transOrderId, when given
	ChannelOrderNo string
	SuccTime       int64  // paySuccTime / transSuccTime, ms since epoch; 0 when absent
	PayURL         string // pay orders: from a create answer
	ErrMsg         string // payouts: the channel's failure reason, when given
	NotificationID int64
	// Income: a pay callback's income (fen), what the merchant receives
	// after the gateway's fee, when the callback gives it; 0 otherwise.
	Income int64
}

// applyPayObservation applies what the gateway said about pay order
// order.ID inside tx (a write transaction, so the order read here is the
// latest). The status changes only when payments.PayAdvances says it moves
// forward; gateway numbers fill in when missing; an order whose create was
// unclear becomes open once the gateway shows it has it. A status change is
// written to the timeline. It reports whether the status changed, and the
// order as it is afterwards.
func (d *Desk) applyPayObservation(ctx context.Context, tx *sql.Tx, order store.PayOrder, obs observation) (store.PayOrder, bool, error) {
	prev, err := d.db.PayOrderByIDTx(ctx, tx, order.ID)
	if err != nil {
		return order, false, err
	}
	if obs.Income > 0 && obs.Income <= prev.Amount && payments.IsPaid(obs.Status) {
		// The fee is amount − income; the first income given is kept.
		if err := d.db.SetPayIncomeTx(ctx, tx, prev.ID, obs.Income); err != nil {
			return order, false, err
		}
	}
	next := prev
	if next.PayOrderID == "" && obs.GatewayID != "" {
		next.PayOrderID = obs.GatewayID
	}
	if obs.ChannelOrderNo != "" {
		next.ChannelOrderNo = obs.ChannelOrderNo
	}
	if obs.PayURL != "" {
		next.PayURL = obs.PayURL
	}
	if next.State == store.PayStateCreating || next.State == store.PayStateUnknown || next.State == store.PayStateRefused {
		next.State = store.PayStateOpen
		next.LastError = ""
	}
	changed := prev.Status == nil || payments.PayAdvances(*prev.Status, obs.Status)
	if changed {
		st := obs.Status
		next.Status = &st
		if payments.IsPaid(st) && next.PaySuccAt.IsZero() {
			next.PaySuccAt = msTime(obs.SuccTime, d.now())
		}
	}
	if samePay(prev, next) {
		return prev, false, nil
	}
	if err := d.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
		return prev, false, err
	}
	if changed {
		st := obs.Status
		from := "unknown"
		if prev.Status != nil {
			from = payments.PayStatusText(*prev.Status)
		}
		err := d.db.AddEventTx(ctx, tx, store.Event{
			OrderKind: store.KindPay, OrderRef: prev.ID, Type: store.EventStatus, Actor: obs.Actor, Status: &st,
			NotificationID: obs.NotificationID,
			Summary:        fmt.Sprintf("Status %s → %s (from %s)", from, payments.PayStatusText(st), obs.Source),
		})
		if err != nil {
			return prev, false, err
		}
	}
	return next, changed, nil
}

func samePay(a, b store.PayOrder) bool {
	return a.PayOrderID == b.PayOrderID && a.ChannelOrderNo == b.ChannelOrderNo && a.PayURL == b.PayURL &&
		a.State == b.State && a.LastError == b.LastError && sameStatus(a.Status, b.Status) && a.PaySuccAt.Equal(b.PaySuccAt)
}

func sameStatus(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// applyTransObservation is applyPayObservation for payouts: the status
// changes only when payments.TransAdvances says it moves forward (never back
// from succeeded or failed); a payout whose create was sent or unclear
// becomes submitted once the gateway shows it has it.
func (d *Desk) applyTransObservation(ctx context.Context, tx *sql.Tx, payout store.Payout, obs observation) (store.Payout, bool, error) {
	prev, err := d.db.PayoutByIDTx(ctx, tx, payout.ID)
	if err != nil {
		return payout, false, err
	}
	next := prev
	if next.TransOrderID == "" && obs.GatewayID != "" {
		next.TransOrderID = obs.GatewayID
	}
	if obs.ChannelOrderNo != "" {
		next.ChannelOrderNo = obs.ChannelOrderNo
	}
	switch next.State {
	case store.PayoutSubmitting, store.PayoutUnknown, store.PayoutApproved:
		next.State = store.PayoutSubmitted
		next.LastError, next.RefusalUnconfirmed = "", false
	}
	changed := prev.Status == nil || payments.TransAdvances(*prev.Status, obs.Status)
	if changed {
		st := obs.Status
		next.Status = &st
		if payments.IsTransSucceeded(st) && next.TransSuccAt.IsZero() {
			next.TransSuccAt = msTime(obs.SuccTime, d.now())
		}
		if st == payments.TransFailed && obs.ErrMsg != "" {
			next.LastError = obs.ErrMsg
		}
	}
	if sameTrans(prev, next) {
		return prev, false, nil
	}
	if err := d.db.UpdatePayoutTx(ctx, tx, prev, next); err != nil {
		return prev, false, err
	}
	if changed {
		st := obs.Status
		from := "unknown"
		if prev.Status != nil {
			from = payments.TransStatusText(*prev.Status)
		}
		summary := fmt.Sprintf("Status %s → %s (from %s)", from, payments.TransStatusText(st), obs.Source)
		if st == payments.TransFailed && obs.ErrMsg != "" {
			summary += ": " + obs.ErrMsg
		}
		err := d.db.AddEventTx(ctx, tx, store.Event{
			OrderKind: store.KindTrans, OrderRef: prev.ID, Type: store.EventStatus, Actor: obs.Actor, Status: &st,
			NotificationID: obs.NotificationID, Summary: summary,
		})
		if err != nil {
			return prev, false, err
		}
	}
	return next, changed, nil
}

func sameTrans(a, b store.Payout) bool {
	return a.TransOrderID == b.TransOrderID && a.ChannelOrderNo == b.ChannelOrderNo && a.State == b.State &&
		a.LastError == b.LastError && sameStatus(a.Status, b.Status) && a.TransSuccAt.Equal(b.TransSuccAt) &&
		a.RefusalUnconfirmed == b.RefusalUnconfirmed
}

// msTime turns a gateway millisecond timestamp into a time, or def when
// the gateway gave none.
func msTime(ms int64, def time.Time) time.Time {
	if ms <= 0 {
		return def
	}
	return time.UnixMilli(ms)
}
