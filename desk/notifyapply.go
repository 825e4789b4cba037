package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// handleNotification decides what a stored callback means and applies it
// inside tx: the order's status through applyPayObservation /
// applyTransObservation, a new external order, or an alert. It returns the
// outcome to record, with the reply the gateway gets.
func (d *Desk) handleNotification(ctx context.Context, tx *sql.Tx, j *notifyJob) (store.NotificationOutcome, error) {
	out := store.NotificationOutcome{ID: j.id}
	if rej, ok := j.rejection(); ok {
		out.Result, out.Reason = store.NotifyRejected, rej.reason
		rep := rej.reply()
		out.ReplyCode, out.ReplyBody = rep.Code, rep.Body
		if len(j.accounts) > 0 {
			out.SigValid = &j.signed
		}
		err := d.callbackAlert(ctx, tx, j, store.Alert{Kind: rej.alert, DedupeKey: j.alertKey(rej), NotificationID: j.id, Summary: j.alertSummary(rej)})
		return out, err
	}
	valid := true
	out.SigValid = &valid
	out.AccountID = j.acct.ID
	return d.notifyOrder(ctx, tx, j.raw.Kind, j, out)
}

func succeed(out store.NotificationOutcome, result, reason string) store.NotificationOutcome {
	out.Result, out.Reason = result, reason
	out.ReplyCode, out.ReplyBody = http.StatusOK, payments.NotifyReply
	return out
}

// callbackAlert raises an alert about callback j inside tx. When j's row
// is written after its outcome (notifier.storeApplied), the alert, which
// names the row, is raised right after the row is.
func (d *Desk) callbackAlert(ctx context.Context, tx *sql.Tx, j *notifyJob, a store.Alert) error {
	if j.rowLater {
		j.alerts = append(j.alerts, a)
		return nil
	}
	_, err := d.db.RaiseAlertTx(ctx, tx, a)
	return err
}

// ownsAccount reports whether an order's account is one of the accounts
// with the callback's merchant id.
func ownsAccount(j *notifyJob, accountID int64) bool {
	return slices.ContainsFunc(j.accounts, func(a acctKey) bool { return a.acct.ID == accountID })
}

// verifiedBy reports whether the key of account accountID verified the
// callback: only then may it change that account's order.
func verifiedBy(j *notifyJob, accountID int64) bool {
	return slices.ContainsFunc(j.verified, func(a *store.GatewayAccount) bool { return a.ID == accountID })
}

// mismatch records a signed callback that does not fit the order held.
func (d *Desk) mismatch(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome, kind string, ref int64, reason string) (store.NotificationOutcome, error) {
	out.Result, out.Reason = store.NotifyAlert, reason
	out.ReplyCode, out.ReplyBody = http.StatusConflict, "fail: "+reason
	err := d.callbackAlert(ctx, tx, j, store.Alert{Kind: store.AlertMismatch, DedupeKey: kind + ":" + strconv.FormatInt(ref, 10),
		NotificationID: j.id, OrderKind: kind, OrderRef: ref,
		Summary: i18n.Encode(i18n.Message{Key: "A correctly signed callback from the gateway does not match the order Paydesk holds (its merchant, order number or amount differ). Nothing was changed and no money moved because of it. Check the order with the gateway before doing anything with it.",
			Tech: fmt.Sprintf("%s callback: %s", j.raw.Kind, reason)})})
	return out, err
}

// notifyOrder applies a correctly signed callback to the order it names
// (kind store.KindPay or store.KindTrans), or records the order as external.
func (d *Desk) notifyOrder(ctx context.Context, tx *sql.Tx, kind string, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	o, err := d.callbackOrder(ctx, tx, kind, j)
	if errors.Is(err, store.ErrNotFound) {
		if kind == store.KindTrans {
			return d.externalPayout(ctx, tx, j, out)
		}
		return d.externalPayOrder(ctx, tx, j, out)
	}
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = kind, o.ID
	what, statusText := "order", func(st int) string { return PayStatusName(st).String() }
	if kind == store.KindTrans {
		what, statusText = "payout", func(st int) string { return TransStatusName(st).String() }
	}
	if reason := callbackMismatch(j, kind, o); reason != "" {
		return d.mismatch(ctx, tx, j, out, kind, o.ID, reason)
	}
	out.AccountID = o.AccountID
	prev := o.Status
	settled := store.PayStateOpen
	if kind == store.KindTrans {
		settled = store.PayoutSubmitted
	}
	if prev != nil && *prev == n.Status && o.GateNo == n.OrderID && o.State == settled &&
		(n.ChannelOrderNo == "" || n.ChannelOrderNo == o.ChannelOrderNo) && (n.Income == 0 || o.Income != 0) {
		// Nothing for the apply functions to change: the usual duplicate.
		return succeed(out, store.NotifyDuplicate, "the "+what+" is "+statusText(n.Status)+" already"), nil
	}
	obs := observation{Source: sourceCallback, Actor: "gateway", Status: n.Status, GatewayID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo,
		SuccTime: n.SuccTime, NotificationID: j.id, Income: n.Income}
	var changed bool
	if kind == store.KindTrans {
		obs.ErrMsg = payments.ValueString(n.Fields["channelErrMsg"])
		_, changed, err = d.applyTransObservation(ctx, tx, store.Payout{ID: o.ID}, obs)
	} else {
		_, changed, err = d.applyPayObservationTo(ctx, tx, o.PayOrder(), obs)
	}
	if err != nil {
		return out, err
	}
	cur := "unknown"
	if prev != nil {
		cur = statusText(*prev)
	}
	switch {
	case changed:
		return succeed(out, store.NotifyApplied, "status "+statusText(n.Status)), nil
	case prev != nil && (*prev == n.Status || kind == store.KindTrans && payments.IsTransSucceeded(*prev) && payments.IsTransSucceeded(n.Status)):
		return succeed(out, store.NotifyDuplicate, "the "+what+" is "+cur+" already"), nil
	case kind == store.KindTrans && prev != nil && payments.TransFinal(*prev) && payments.TransFinal(n.Status):
		// A success after a failure or the other way round: the gateway
		// contradicts itself. Nothing changes; a person must look. The
		// callback is acknowledged, since sending it again changes nothing.
		reason := fmt.Sprintf("the payout is %s, the callback says %s", cur, statusText(n.Status))
		out = succeed(out, store.NotifyAlert, reason)
		err := d.callbackAlert(ctx, tx, j, store.Alert{Kind: store.AlertContradiction, DedupeKey: "trans:" + strconv.FormatInt(o.ID, 10),
			NotificationID: j.id, OrderKind: store.KindTrans, OrderRef: o.ID,
			Summary: i18n.Encode(i18n.Message{Key: "A correctly signed callback says the opposite of the payout's known outcome (paid out after failed, or the reverse). Nothing was changed. Ask the gateway which is true before paying this payee again.",
				Tech: reason})})
		return out, err
	}
	return succeed(out, store.NotifyStale, fmt.Sprintf("the %s is %s; %s does not move it forward", what, cur, statusText(n.Status))), nil
}

// callbackOrder finds the order a correctly signed callback names: by the
// gateway's number, else by the merchant number under the accounts of its
// merchant id, the ones whose key verified it first.
func (d *Desk) callbackOrder(ctx context.Context, tx *sql.Tx, kind string, j *notifyJob) (store.OrderBrief, error) {
	n := j.n
	if p := j.pre; p != nil && p.GateNo == n.OrderID && !j.grp.found(kind, p.ID) {
		j.grp.find(kind, p.ID)
		return *p, nil
	}
	o, err := d.lookupCallbackOrder(ctx, tx, kind, j)
	if err == nil {
		j.grp.find(kind, o.ID)
	}
	return o, err
}

// applyGroup is what the callbacks applied together share: the orders
// they found (and so may have changed).
type applyGroup struct {
	orders map[orderRef]bool
}

type orderRef struct {
	kind string
	id   int64
}

func (g *applyGroup) found(kind string, id int64) bool {
	return g != nil && g.orders[orderRef{kind, id}]
}

func (g *applyGroup) find(kind string, id int64) {
	if g != nil {
		g.orders[orderRef{kind, id}] = true
	}
}

// prefetchOrders reads, in one query per kind, the orders the group's
// signed callbacks name by gateway number, and hands each to the first of
// them that names it (callbackOrder reads it again for a later one, or
// once another callback of the group found that order).
func (d *Desk) prefetchOrders(ctx context.Context, tx *sql.Tx, jobs []*notifyJob) error {
	grp := &applyGroup{orders: make(map[orderRef]bool, len(jobs))}
	var ids [2][]string
	first := make(map[[2]string]*notifyJob, len(jobs))
	for _, j := range jobs {
		j.grp, j.pre, j.preMissing = grp, nil, false
		if j.lookErr != nil || j.n == nil || j.n.OrderID == "" {
			continue
		}
		if _, rejected := j.rejection(); rejected {
			continue
		}
		k := 0
		if j.raw.Kind == store.KindTrans {
			k = 1
		}
		key := [2]string{j.raw.Kind, j.n.OrderID}
		if _, ok := first[key]; ok {
			continue
		}
		first[key] = j
		j.preMissing = true // until found below
		ids[k] = append(ids[k], j.n.OrderID)
	}
	for k, kind := range [2]string{store.KindPay, store.KindTrans} {
		if len(ids[k]) == 0 {
			continue
		}
		briefs, err := d.db.OrderBriefsByGatewayIDsTx(ctx, tx, kind, ids[k])
		if err != nil {
			return err
		}
		for no, o := range briefs {
			if j := first[[2]string{kind, no}]; j != nil {
				j.pre, j.preMissing = &o, false
			}
		}
	}
	return nil
}

// lookupCallbackOrder is callbackOrder's query.
func (d *Desk) lookupCallbackOrder(ctx context.Context, tx *sql.Tx, kind string, j *notifyJob) (store.OrderBrief, error) {
	n := j.n
	var o store.OrderBrief
	err := store.ErrNotFound
	// A gateway number is written only by a callback naming it (an
	// external order recorded, or an order found by merchant number).
	if n.OrderID != "" && !j.preMissing {
		// Gateway numbers are unique across accounts: found here, the
		// order may be another account's, which callbackMismatch refuses.
		o, err = d.db.OrderBriefByGatewayIDTx(ctx, tx, kind, n.OrderID)
	}
	if errors.Is(err, store.ErrNotFound) && n.MchOrderNo != "" {
		// Merchant numbers are unique per merchant id: look under every
		// account of it, the ones whose key verified the callback first.
		for _, a := range j.verified {
			if o, err = d.db.OrderBriefByMchNoTx(ctx, tx, kind, a.ID, n.MchOrderNo); !errors.Is(err, store.ErrNotFound) {
				break
			}
		}
		for i := 0; i < len(j.accounts) && errors.Is(err, store.ErrNotFound); i++ {
			if a := &j.accounts[i].acct; !verifiedBy(j, a.ID) {
				o, err = d.db.OrderBriefByMchNoTx(ctx, tx, kind, a.ID, n.MchOrderNo)
			}
		}
	}
	return o, err
}

// callbackMismatch says why a correctly signed callback does not fit the
// order o it names, or "".
func callbackMismatch(j *notifyJob, kind string, o store.OrderBrief) string {
	n := j.n
	what, idName := "order", "payOrderId"
	if kind == store.KindTrans {
		what, idName = "payout", "transOrderId"
	}
	switch {
	case ownsAccount(j, o.AccountID) && !verifiedBy(j, o.AccountID):
		return "the " + what + " belongs to another gateway account with merchant id " + n.MchID + ", whose key did not sign this callback"
	case !ownsAccount(j, o.AccountID):
		return "the " + what + " belongs to another merchant id than " + n.MchID
	case n.MchOrderNo != o.MchNo:
		return fmt.Sprintf("merchant number %q, the %s has %q", n.MchOrderNo, what, o.MchNo)
	case n.OrderID != "" && o.GateNo != "" && n.OrderID != o.GateNo:
		return fmt.Sprintf("%s %q, the %s has %q", idName, n.OrderID, what, o.GateNo)
	case n.Amount != o.Amount:
		return fmt.Sprintf("amount %d fen, the %s is for %d fen", n.Amount, what, o.Amount)
	}
	return ""
}

// externalPayOrder records a correctly signed callback's order that Paydesk
// did not create, so that it can be looked up.
func (d *Desk) externalPayOrder(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	if n.MchOrderNo == "" || n.Amount <= 0 {
		return d.unrecordable(ctx, tx, j, out)
	}
	st := n.Status
	o := store.PayOrder{AccountID: j.acct.ID, MchOrderNo: n.MchOrderNo, PayOrderID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo,
		ProductID: n.ProductID, Amount: n.Amount, Param1: n.Param1, Param2: n.Param2, Status: &st, State: store.PayStateOpen,
		Origin: "external", CreatedBy: "gateway callback"}
	if n.SuccTime > 0 {
		o.PaySuccAt = time.UnixMilli(n.SuccTime)
	}
	id, err := d.db.InsertPayOrderTx(ctx, tx, o)
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindPay, id
	err = d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: id, Type: store.EventCreated, Actor: "gateway",
		Summary: i18n.Encode(i18n.M("A gateway callback told Paydesk of a payment made by the merchant's other systems; it is kept here. The payment is %s.", PayStatusName(st))),
		Status:  &st, NotificationID: j.id})
	return succeed(out, store.NotifyApplied, "external order recorded"), err
}

func (d *Desk) unrecordable(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	reason := "unknown order without a merchant order number and a positive amount; it cannot be recorded"
	out.Result, out.Reason = store.NotifyAlert, reason
	out.ReplyCode, out.ReplyBody = http.StatusUnprocessableEntity, "fail: "+reason
	err := d.callbackAlert(ctx, tx, j, store.Alert{Kind: store.AlertUnrecordable, DedupeKey: j.n.MchID + ":" + j.n.OrderID, NotificationID: j.id,
		Summary: i18n.Encode(i18n.Message{Key: "A correctly signed callback names an order Paydesk does not know, without what is needed to record it. Nothing was changed. If the order is yours, look it up under Orders with its number.",
			Tech: fmt.Sprintf("%s callback for order %q: %s", j.raw.Kind, j.n.OrderID, reason)})})
	return out, err
}

func (d *Desk) externalPayout(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	if n.MchOrderNo == "" || n.Amount <= 0 {
		return d.unrecordable(ctx, tx, j, out)
	}
	st := n.Status
	p := store.Payout{AccountID: j.acct.ID, MchTransOrderNo: n.MchOrderNo, TransOrderID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo,
		Amount: n.Amount, Param1: n.Param1, Param2: n.Param2, Status: &st, State: store.PayoutSubmitted,
		Origin: "external", CreatedBy: "gateway callback"}
	if n.SuccTime > 0 {
		p.TransSuccAt = time.UnixMilli(n.SuccTime)
	}
	id, err := d.db.InsertPayoutTx(ctx, tx, p)
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindTrans, id
	err = d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: id, Type: store.EventCreated, Actor: "gateway",
		Summary: i18n.Encode(i18n.M("A gateway callback told Paydesk of a payout made by the merchant's other systems; it is kept here. The payout is %s.", TransStatusName(st))),
		Status:  &st, NotificationID: j.id})
	return succeed(out, store.NotifyApplied, "external payout recorded"), err
}
