package desk

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// Sources of an observation, as the timeline names them.
var (
	sourceCreate    = i18n.M("the answer to the create call")
	sourceQuery     = i18n.M("a query")
	sourceCallback  = i18n.M("a gateway callback")
	sourceResend    = i18n.M("a resend query")
	sourceReconcile = i18n.M("a reconciliation query")
)

// observation is what the gateway told us about one order at one moment:
// in a create answer, a query answer or a callback.
type observation struct {
	Source         i18n.Message // sourceCreate, sourceQuery, ...
	Actor          string       // username, "gateway", "reconciler", "worker"
	Status         int          // gateway status
	GatewayID      string       // payOrderId / transOrderId, when given
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
	return d.applyPayObservationTo(ctx, tx, prev, obs)
}

// applyPayObservationTo is applyPayObservation on the order prev as read
// inside tx: at least its mutable fields (store.OrderBrief.PayOrder), so
// that a callback reads its order once.
func (d *Desk) applyPayObservationTo(ctx context.Context, tx *sql.Tx, prev store.PayOrder, obs observation) (store.PayOrder, bool, error) {
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
	if next.Income == 0 && obs.Income > 0 && obs.Income <= next.Amount && next.Status != nil && payments.IsPaid(*next.Status) {
		// The fee is amount − income; the first income given is kept.
		next.Income = obs.Income
	}
	if samePay(prev, next) {
		return prev, false, nil
	}
	if err := d.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
		return prev, false, err
	}
	if changed {
		st := obs.Status
		err := d.db.AddEventTx(ctx, tx, store.Event{
			OrderKind: store.KindPay, OrderRef: prev.ID, Type: store.EventStatus, Actor: obs.Actor, Status: &st,
			NotificationID: obs.NotificationID,
			Summary:        i18n.Encode(i18n.M("%s Learned from %s.", payChange(st, prev.Amount), obs.Source)),
			Detail:         statusDetail(prev.Status, st),
		})
		if err != nil {
			return prev, false, err
		}
	}
	return next, changed, nil
}

func samePay(a, b store.PayOrder) bool {
	return a.PayOrderID == b.PayOrderID && a.ChannelOrderNo == b.ChannelOrderNo && a.PayURL == b.PayURL &&
		a.State == b.State && a.LastError == b.LastError && sameStatus(a.Status, b.Status) && a.PaySuccAt.Equal(b.PaySuccAt) && a.Income == b.Income
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
		err := d.db.AddEventTx(ctx, tx, store.Event{
			OrderKind: store.KindTrans, OrderRef: prev.ID, Type: store.EventStatus, Actor: obs.Actor, Status: &st,
			NotificationID: obs.NotificationID,
			Summary:        i18n.Encode(i18n.M("%s Learned from %s.", transChange(st, prev, obs.ErrMsg), obs.Source)),
			Detail:         statusDetail(prev.Status, st),
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

// payChange says what a pay order's new status st means for the money.
func payChange(st int, amount int64) i18n.Message {
	switch {
	case payments.IsPaid(st):
		return i18n.M("The customer paid %s.", i18n.Money(amount))
	case payments.IsPayFailed(st):
		return i18n.M("The payment of %s failed.", i18n.Money(amount))
	case st == payments.PayExpired:
		return i18n.M("The payment of %s expired unpaid.", i18n.Money(amount))
	case st == payments.PayRefunded:
		return i18n.M("The payment of %s was refunded.", i18n.Money(amount))
	case st == payments.PayPaying:
		return i18n.M("The customer is paying %s.", i18n.Money(amount))
	case st == payments.PayCreated:
		return i18n.M("The payment of %s awaits the customer.", i18n.Money(amount))
	}
	return i18n.M("The payment is now: %s.", PayStatusName(st))
}

// transChange says what a payout's new status st means for the money;
// reason is the channel's reason for a failure, when it gave one.
func transChange(st int, p store.Payout, reason string) i18n.Message {
	switch {
	case payments.IsTransSucceeded(st):
		return i18n.M("Paid out %s to %s.", i18n.Money(p.Amount), p.AccountName)
	case st == payments.TransFailed && reason != "":
		return i18n.M("The payout of %s to %s failed: %s", i18n.Money(p.Amount), p.AccountName, reason)
	case st == payments.TransFailed:
		return i18n.M("The payout of %s to %s failed.", i18n.Money(p.Amount), p.AccountName)
	case st == payments.TransTransferring:
		return i18n.M("The gateway is processing the payout of %s.", i18n.Money(p.Amount))
	case st == payments.TransCreated:
		return i18n.M("The gateway accepted the payout of %s.", i18n.Money(p.Amount))
	}
	return i18n.M("The payout is now: %s.", TransStatusName(st))
}

// statusDetail is a status change in the protocol's numbers, for the
// technical details.
func statusDetail(from *int, to int) string {
	if from == nil {
		return fmt.Sprintf("status → %d", to)
	}
	return fmt.Sprintf("status %d → %d", *from, to)
}

// msTime turns a gateway millisecond timestamp into a time, or def when
// the gateway gave none.
func msTime(ms int64, def time.Time) time.Time {
	if ms <= 0 {
		return def
	}
	return time.UnixMilli(ms)
}
