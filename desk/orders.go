package desk

import (
	"context"
	"fmt"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// order is what queries, resends and the reconciler need of a pay order or
// a payout.
type order struct {
	kind      string // store.KindPay or store.KindTrans
	id        int64
	accountID int64
	mchNo     string
	gateNo    string
	amount    int64
	status    *int
	origin    string
}

func (d *Desk) loadOrder(ctx context.Context, kind string, id int64) (order, error) {
	switch kind {
	case store.KindPay:
		o, err := d.db.PayOrderByID(ctx, id)
		return order{kind: kind, id: o.ID, accountID: o.AccountID, mchNo: o.MchOrderNo, gateNo: o.PayOrderID, amount: o.Amount,
			status: o.Status, origin: o.Origin}, err
	case store.KindTrans:
		p, err := d.db.PayoutByID(ctx, id)
		return order{kind: kind, id: p.ID, accountID: p.AccountID, mchNo: p.MchTransOrderNo, gateNo: p.TransOrderID, amount: p.Amount,
			status: p.Status, origin: p.Origin}, err
	}
	return order{}, fmt.Errorf("order kind %q: %w", kind, store.ErrNotFound)
}

// Notifiable reports whether the gateway re-notifies an order of kind
// (store.KindPay or store.KindTrans) with status on request: paid pay
// orders and finished payouts only (PROTOCOL-NOTES §5).
func Notifiable(kind string, status *int) bool {
	if status == nil {
		return false
	}
	if kind == store.KindTrans {
		return payments.TransFinal(*status)
	}
	return payments.IsPaid(*status)
}

// NotifiableText names the orders of kind the gateway re-notifies.
func NotifiableText(kind string) i18n.Message {
	if kind == store.KindTrans {
		return i18n.M("finished payouts (paid out or failed)")
	}
	return i18n.M("paid orders")
}

// kindText names an order kind for staff.
func kindText(kind string) string {
	if kind == store.KindTrans {
		return "Payout"
	}
	return "Pay order"
}
