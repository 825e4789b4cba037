package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// handleNotification decides what a stored callback means and applies it
// inside tx: the order's status through applyPayObservation /
// applyTransObservation, a new external order, or an alert. It returns the
// outcome to record, with the reply the gateway gets.
func (s *Server) handleNotification(ctx context.Context, tx *sql.Tx, j *notifyJob) (store.NotificationOutcome, error) {
	out := store.NotificationOutcome{ID: j.id}
	reject := func(code int, kind, key, reason string) (store.NotificationOutcome, error) {
		out.Result, out.Reason = store.NotifyRejected, reason
		out.ReplyCode, out.ReplyBody = code, "fail: "+reason
		_, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: kind, DedupeKey: key, NotificationID: j.id,
			Summary: fmt.Sprintf("Rejected %s callback from %s: %s", j.raw.Kind, j.raw.ClientAddr, reason)})
		return out, err
	}
	if j.parseErr != nil {
		return reject(http.StatusBadRequest, store.AlertUnreadable, j.raw.ClientAddr, "unreadable: "+j.parseErr.Error())
	}
	n := j.n
	if len(j.accounts) == 0 {
		reason := "no enabled gateway account has merchant id " + strconv.Quote(n.MchID)
		if n.MchID == "" {
			reason = "the callback names no merchant id (mchId)"
		}
		return reject(http.StatusForbidden, store.AlertUnknownMerchant, n.MchID, reason)
	}
	valid := j.acct != nil
	out.SigValid = &valid
	if !valid {
		return reject(http.StatusForbidden, store.AlertBadSignature, n.MchID, "the signature does not verify with the merchant key of "+n.MchID)
	}
	out.AccountID = j.acct.ID
	if j.raw.Kind == store.KindPay {
		return s.notifyPayOrder(ctx, tx, j, out)
	}
	return s.notifyPayout(ctx, tx, j, out)
}

func succeed(out store.NotificationOutcome, result, reason string) store.NotificationOutcome {
	out.Result, out.Reason = result, reason
	out.ReplyCode, out.ReplyBody = http.StatusOK, payments.NotifyReply
	return out
}

// ownsAccount reports whether an order's account is one of the accounts
// with the callback's merchant id.
func ownsAccount(j *notifyJob, accountID int64) bool {
	return slices.ContainsFunc(j.accounts, func(a acctKey) bool { return a.acct.ID == accountID })
}

// mismatch records a signed callback that does not fit the order held.
func (s *Server) mismatch(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome, kind string, ref int64, reason string) (store.NotificationOutcome, error) {
	out.Result, out.Reason = store.NotifyAlert, reason
	out.ReplyCode, out.ReplyBody = http.StatusConflict, "fail: "+reason
	_, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMismatch, DedupeKey: kind + ":" + strconv.FormatInt(ref, 10),
		NotificationID: j.id, OrderKind: kind, OrderRef: ref,
		Summary: fmt.Sprintf("A correctly signed %s callback does not match the order held: %s. Nothing was changed.", j.raw.Kind, reason)})
	return out, err
}

func (s *Server) notifyPayOrder(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	var o store.PayOrder
	err := store.ErrNotFound
	if n.OrderID != "" {
		o, err = s.db.PayOrderByPayOrderIDTx(ctx, tx, n.OrderID)
	}
	if errors.Is(err, store.ErrNotFound) && n.MchOrderNo != "" {
		o, err = s.db.PayOrderByMchOrderNoTx(ctx, tx, j.acct.ID, n.MchOrderNo)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.externalPayOrder(ctx, tx, j, out)
	}
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindPay, o.ID
	switch {
	case !ownsAccount(j, o.AccountID):
		return s.mismatch(ctx, tx, j, out, store.KindPay, o.ID, "the order belongs to another merchant id than "+n.MchID)
	case n.MchOrderNo != o.MchOrderNo:
		return s.mismatch(ctx, tx, j, out, store.KindPay, o.ID, fmt.Sprintf("merchant order number %q, the order has %q", n.MchOrderNo, o.MchOrderNo))
	case n.OrderID != "" && o.PayOrderID != "" && n.OrderID != o.PayOrderID:
		return s.mismatch(ctx, tx, j, out, store.KindPay, o.ID, fmt.Sprintf("payOrderId %q, the order has %q", n.OrderID, o.PayOrderID))
	case n.Amount != o.Amount:
		return s.mismatch(ctx, tx, j, out, store.KindPay, o.ID, fmt.Sprintf("amount %d fen, the order is for %d fen", n.Amount, o.Amount))
	}
	prev := o.Status
	if prev != nil && *prev == n.Status && o.PayOrderID == n.OrderID && o.State == store.PayStateOpen &&
		(n.ChannelOrderNo == "" || n.ChannelOrderNo == o.ChannelOrderNo) {
		// Nothing for applyPayObservation to change: the usual duplicate.
		return succeed(out, store.NotifyDuplicate, "the order is "+payments.PayStatusText(n.Status)+" already"), nil
	}
	_, changed, err := s.applyPayObservation(ctx, tx, o, observation{Source: sourceCallback, Actor: "gateway", Status: n.Status,
		GatewayID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo, SuccTime: n.SuccTime, NotificationID: j.id})
	if err != nil {
		return out, err
	}
	switch {
	case changed:
		return succeed(out, store.NotifyApplied, "status "+payments.PayStatusText(n.Status)), nil
	case prev != nil && *prev == n.Status:
		return succeed(out, store.NotifyDuplicate, "the order is "+payments.PayStatusText(n.Status)+" already"), nil
	}
	cur := "unknown"
	if prev != nil {
		cur = payments.PayStatusText(*prev)
	}
	return succeed(out, store.NotifyStale, fmt.Sprintf("the order is %s; %s does not move it forward", cur, payments.PayStatusText(n.Status))), nil
}

// externalPayOrder records a correctly signed callback's order that Paydesk
// did not create, so that it can be looked up.
func (s *Server) externalPayOrder(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	if n.MchOrderNo == "" || n.Amount <= 0 {
		return s.unrecordable(ctx, tx, j, out)
	}
	st := n.Status
	o := store.PayOrder{AccountID: j.acct.ID, MchOrderNo: n.MchOrderNo, PayOrderID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo,
		ProductID: n.ProductID, Amount: n.Amount, Param1: n.Param1, Param2: n.Param2, Status: &st, State: store.PayStateOpen,
		Origin: "external", CreatedBy: "gateway callback"}
	if n.SuccTime > 0 {
		o.PaySuccAt = time.UnixMilli(n.SuccTime)
	}
	id, err := s.db.InsertPayOrderTx(ctx, tx, o)
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindPay, id
	err = s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: id, Type: store.EventCreated, Actor: "gateway",
		Summary: "Recorded from a gateway callback: created outside Paydesk (by the merchant's other systems), status " + payments.PayStatusText(st),
		Status:  &st, NotificationID: j.id})
	return succeed(out, store.NotifyApplied, "external order recorded"), err
}

func (s *Server) unrecordable(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	reason := "unknown order without a merchant order number and a positive amount; it cannot be recorded"
	out.Result, out.Reason = store.NotifyAlert, reason
	out.ReplyCode, out.ReplyBody = http.StatusUnprocessableEntity, "fail: "+reason
	_, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertUnrecordable, DedupeKey: j.n.MchID + ":" + j.n.OrderID, NotificationID: j.id,
		Summary: fmt.Sprintf("A correctly signed %s callback for order %q: %s.", j.raw.Kind, j.n.OrderID, reason)})
	return out, err
}

func (s *Server) notifyPayout(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	var p store.Payout
	err := store.ErrNotFound
	if n.OrderID != "" {
		p, err = s.db.PayoutByTransOrderIDTx(ctx, tx, n.OrderID)
	}
	if errors.Is(err, store.ErrNotFound) && n.MchOrderNo != "" {
		p, err = s.db.PayoutByMchTransOrderNoTx(ctx, tx, j.acct.ID, n.MchOrderNo)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.externalPayout(ctx, tx, j, out)
	}
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindTrans, p.ID
	switch {
	case !ownsAccount(j, p.AccountID):
		return s.mismatch(ctx, tx, j, out, store.KindTrans, p.ID, "the payout belongs to another merchant id than "+n.MchID)
	case n.MchOrderNo != p.MchTransOrderNo:
		return s.mismatch(ctx, tx, j, out, store.KindTrans, p.ID, fmt.Sprintf("merchant payout number %q, the payout has %q", n.MchOrderNo, p.MchTransOrderNo))
	case n.OrderID != "" && p.TransOrderID != "" && n.OrderID != p.TransOrderID:
		return s.mismatch(ctx, tx, j, out, store.KindTrans, p.ID, fmt.Sprintf("transOrderId %q, the payout has %q", n.OrderID, p.TransOrderID))
	case n.Amount != p.Amount:
		return s.mismatch(ctx, tx, j, out, store.KindTrans, p.ID, fmt.Sprintf("amount %d fen, the payout is for %d fen", n.Amount, p.Amount))
	}
	prev := p.Status
	if prev != nil && *prev == n.Status && p.TransOrderID == n.OrderID && p.State == store.PayoutSubmitted &&
		(n.ChannelOrderNo == "" || n.ChannelOrderNo == p.ChannelOrderNo) {
		return succeed(out, store.NotifyDuplicate, "the payout is "+payments.TransStatusText(n.Status)+" already"), nil
	}
	_, changed, err := s.applyTransObservation(ctx, tx, p, observation{Source: sourceCallback, Actor: "gateway", Status: n.Status,
		GatewayID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo, SuccTime: n.SuccTime, NotificationID: j.id})
	if err != nil {
		return out, err
	}
	switch {
	case changed:
		return succeed(out, store.NotifyApplied, "status "+payments.TransStatusText(n.Status)), nil
	case prev != nil && (*prev == n.Status || payments.IsTransSucceeded(*prev) && payments.IsTransSucceeded(n.Status)):
		return succeed(out, store.NotifyDuplicate, "the payout is "+payments.TransStatusText(*prev)+" already"), nil
	case prev != nil && payments.TransFinal(*prev) && payments.TransFinal(n.Status):
		// A success after a failure or the other way round: the gateway
		// contradicts itself. Nothing changes; a person must look. The
		// callback is acknowledged, since sending it again changes nothing.
		reason := fmt.Sprintf("the payout is %s, the callback says %s", payments.TransStatusText(*prev), payments.TransStatusText(n.Status))
		out = succeed(out, store.NotifyAlert, reason)
		_, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertContradiction, DedupeKey: "trans:" + strconv.FormatInt(p.ID, 10),
			NotificationID: j.id, OrderKind: store.KindTrans, OrderRef: p.ID,
			Summary: "A correctly signed payout callback contradicts the payout's outcome: " + reason + ". Nothing was changed."})
		return out, err
	}
	cur := "unknown"
	if prev != nil {
		cur = payments.TransStatusText(*prev)
	}
	return succeed(out, store.NotifyStale, fmt.Sprintf("the payout is %s; %s does not move it forward", cur, payments.TransStatusText(n.Status))), nil
}

func (s *Server) externalPayout(ctx context.Context, tx *sql.Tx, j *notifyJob, out store.NotificationOutcome) (store.NotificationOutcome, error) {
	n := j.n
	if n.MchOrderNo == "" || n.Amount <= 0 {
		return s.unrecordable(ctx, tx, j, out)
	}
	st := n.Status
	p := store.Payout{AccountID: j.acct.ID, MchTransOrderNo: n.MchOrderNo, TransOrderID: n.OrderID, ChannelOrderNo: n.ChannelOrderNo,
		Amount: n.Amount, Param1: n.Param1, Param2: n.Param2, Status: &st, State: store.PayoutSubmitted,
		Origin: "external", CreatedBy: "gateway callback"}
	if n.SuccTime > 0 {
		p.TransSuccAt = time.UnixMilli(n.SuccTime)
	}
	id, err := s.db.InsertPayoutTx(ctx, tx, p)
	if err != nil {
		return out, err
	}
	out.OrderKind, out.OrderRef = store.KindTrans, id
	err = s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: id, Type: store.EventCreated, Actor: "gateway",
		Summary: "Recorded from a gateway callback: created outside Paydesk (by the merchant's other systems), status " + payments.TransStatusText(st),
		Status:  &st, NotificationID: j.id})
	return succeed(out, store.NotifyApplied, "external payout recorded"), err
}
