package desk

import (
	"context"
	"fmt"

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
func NotifiableText(kind string) string {
	if kind == store.KindTrans {
		return "finished payouts (succeeded or failed)"
	}
	return "paid orders"
}

// StatusText names a gateway status of an order of kind for staff.
func StatusText(kind string, st *int) string {
	if st == nil {
		return "not known yet"
	}
	if kind == store.KindTrans {
		return payments.TransStatusText(*st)
	}
	return payments.PayStatusText(*st)
}

// kindText names an order kind for staff.
func kindText(kind string) string {
	if kind == store.KindTrans {
		return "Payout"
	}
	return "Pay order"
}
