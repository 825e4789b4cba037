package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// querySpec says why an order is queried.
type querySpec struct {
	source        string // "manual query", "resend", "reconciler"
	actor         string
	clientAddr    string
	executeNotify bool // a resend: ask the gateway to send the callback again
	reconcile     bool // flag a status learned this way as a missed callback
	reconcileNext time.Time
}

// obsSource names the query for apply.go's status events.
func (q querySpec) obsSource() string {
	switch {
	case q.executeNotify:
		return sourceResend
	case q.reconcile:
		return sourceReconcile
	}
	return sourceQuery
}

// queryResult is what a query found, in a sentence for staff.
type queryResult struct {
	message  string
	answered bool
	changed  bool
	status   *int
}

// queryAndApply asks the gateway about an order, records the query on its
// timeline and applies the answer. Gateway trouble is a result, not an
// error: the error is for the database only.
func (s *Server) queryAndApply(ctx context.Context, o orderInfo, spec querySpec) (queryResult, error) {
	var res queryResult
	acct, err := s.db.GatewayAccount(ctx, o.accountID)
	if err != nil {
		return res, err
	}
	var ans payments.Params
	var st int
	var qerr error
	var obs observation
	var ansAmount int64
	var ansNo string
	// The resend's callback may arrive before the query's answer: the
	// timeline dates the query from when it was asked.
	askedAt := s.now()
	client, err := s.gatewayClient(acct)
	if err != nil {
		qerr = fmt.Errorf("the merchant key of gateway account %s cannot be opened: %w", acct.Name, err)
	} else if o.kind == store.KindPay {
		var a *payments.PayOrder
		a, qerr = client.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: o.gateNo, MchOrderNo: o.mchNo, ExecuteNotify: spec.executeNotify})
		if qerr == nil {
			ans, st, ansAmount, ansNo = a.Raw, a.Status, a.Amount, a.MchOrderNo
			obs = observation{Source: spec.obsSource(), Actor: spec.actor, Status: a.Status, GatewayID: a.PayOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.PaySuccTime}
		}
	} else {
		var a *payments.TransOrder
		a, qerr = client.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: o.gateNo, MchTransOrderNo: o.mchNo, ExecuteNotify: spec.executeNotify})
		if qerr == nil {
			ans, st, ansAmount, ansNo = a.Raw, a.Status, a.Amount, a.MchTransOrderNo
			obs = observation{Source: spec.obsSource(), Actor: spec.actor, Status: a.Status, GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}
		}
	}
	what := strings.ToUpper(spec.source[:1]) + spec.source[1:]
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		ev := store.Event{OrderKind: o.kind, OrderRef: o.id, Actor: spec.actor}
		if spec.reconcile {
			if err := s.db.MarkReconciledTx(ctx, tx, o.kind, o.id, spec.reconcileNext); err != nil {
				return err
			}
		}
		if spec.executeNotify {
			if err := s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: spec.actor, Action: "order.resend", Subject: o.kind + ":" + strconv.FormatInt(o.id, 10),
				Detail: o.mchNo + ": " + errText(qerr, "asked the gateway to notify again"), ClientAddr: spec.clientAddr}); err != nil {
				return err
			}
		}
		if qerr != nil {
			ev.Type = store.EventError
			ev.Summary = what + " failed: " + qerr.Error()
			switch {
			case payments.IsNotFound(qerr):
				ev.Summary = what + ": the gateway does not know this order (" + qerr.Error() + ")."
			case payments.IsUnclear(qerr):
				ev.Summary = what + ": the gateway did not answer clearly (" + qerr.Error() + "); nothing was learned."
			}
			res.message = ev.Summary
			return s.db.AddEventTx(ctx, tx, ev)
		}
		res.answered = true
		res.status = &st
		if ansAmount != o.amount || ansNo != o.mchNo {
			reason := fmt.Sprintf("the gateway's answer is for %s, %d fen; the order is %s, %d fen", ansNo, ansAmount, o.mchNo, o.amount)
			ev.Type, ev.Summary, ev.Detail = store.EventError, what+": "+reason+". Nothing was changed.", paramsText(ans)
			res.message = ev.Summary
			if _, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMismatch, DedupeKey: o.kind + ":" + strconv.FormatInt(o.id, 10),
				OrderKind: o.kind, OrderRef: o.id, Summary: "A query answer does not match the order held: " + reason + "."}); err != nil {
				return err
			}
			return s.db.AddEventTx(ctx, tx, ev)
		}
		if spec.executeNotify {
			if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: o.kind, OrderRef: o.id, Type: store.EventResend, Actor: spec.actor, At: askedAt,
				Summary: "Resend asked (query with executeNotify)"}); err != nil {
				return err
			}
		}
		ev.Type, ev.Status, ev.Detail, ev.At = store.EventQuery, &st, paramsText(ans), askedAt
		ev.Summary = what + ": the gateway says " + statusText(o.kind, &st)
		after := o
		after.status = &st
		if spec.executeNotify {
			if after.notifiable() {
				ev.Summary += "; it sends the callback again"
			} else {
				ev.Summary += "; it re-notifies only " + o.notifiableText() + ", so no callback is sent"
			}
		}
		res.message = ev.Summary + "."
		if err := s.db.AddEventTx(ctx, tx, ev); err != nil {
			return err
		}
		changed, err := s.applyInTx(ctx, tx, o, obs)
		if err != nil {
			return err
		}
		res.changed = changed
		if changed && spec.reconcile && (o.origin != "external" || s.hasCallbacks(ctx, tx, o)) {
			summary := fmt.Sprintf("Missed callback: the status %s was learned by query; no callback had brought it.", statusText(o.kind, &st))
			if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: o.kind, OrderRef: o.id, Type: store.EventNote, Actor: spec.actor, Summary: summary, Status: &st}); err != nil {
				return err
			}
			_, err := s.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMissedCallback, DedupeKey: o.kind + ":" + strconv.FormatInt(o.id, 10),
				OrderKind: o.kind, OrderRef: o.id, Summary: kindText(o.kind) + " " + o.mchNo + ": " + summary})
			return err
		}
		return nil
	})
	return res, err
}

func errText(err error, ok string) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return ok
}

// applyInTx re-reads the order inside tx and applies an observation.
func (s *Server) applyInTx(ctx context.Context, tx *sql.Tx, o orderInfo, obs observation) (bool, error) {
	if o.kind == store.KindPay {
		cur, err := s.db.PayOrderByIDTx(ctx, tx, o.id)
		if err != nil {
			return false, err
		}
		_, changed, err := s.applyPayObservation(ctx, tx, cur, obs)
		return changed, err
	}
	cur, err := s.db.PayoutByIDTx(ctx, tx, o.id)
	if err != nil {
		return false, err
	}
	_, changed, err := s.applyTransObservation(ctx, tx, cur, obs)
	return changed, err
}

func (s *Server) hasCallbacks(ctx context.Context, tx *sql.Tx, o orderInfo) bool {
	var n int
	_ = tx.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE order_kind = ? AND order_ref = ?`, o.kind, o.id).Scan(&n)
	return n > 0
}

// lookupOrder asks the gateway about a number nothing stored matches, and
// keeps an order it knows as external.
func (s *Server) lookupOrder(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	q := strings.TrimSpace(r.PostForm.Get("q"))
	acctID := r.PostForm.Get("account")
	fail := func(msg string) error { return s.renderOrders(w, r, http.StatusUnprocessableEntity, q, acctID, msg) }
	if q == "" || len(q) > 64 {
		return fail("Type an order number of at most 64 characters.")
	}
	if o, err := s.db.PayOrderByNumber(ctx, q); err == nil {
		return redirect(w, r, orderHref(store.KindPay, o.ID))
	}
	if p, err := s.db.PayoutByNumber(ctx, q); err == nil {
		return redirect(w, r, orderHref(store.KindTrans, p.ID))
	}
	id, _ := strconv.ParseInt(acctID, 10, 64)
	acct, err := s.db.GatewayAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail("Choose a gateway account to ask.")
	} else if err != nil {
		return err
	}
	client, err := s.gatewayClient(acct)
	if err != nil {
		return fail("The merchant key of gateway account " + acct.Name + " cannot be opened; an admin must save it again.")
	}
	u, _ := userFrom(ctx)
	tries := []struct {
		kind string
		ask  func() (any, error)
	}{
		{store.KindPay, func() (any, error) { return client.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: q}) }},
		{store.KindPay, func() (any, error) { return client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: q}) }},
		{store.KindTrans, func() (any, error) { return client.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: q}) }},
		{store.KindTrans, func() (any, error) { return client.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: q}) }},
	}
	for _, try := range tries {
		ans, err := try.ask()
		if payments.IsNotFound(err) {
			continue
		}
		if err != nil {
			if payments.IsUnclear(err) {
				return fail("The gateway did not answer clearly (" + err.Error() + "). Try again in a moment.")
			}
			return fail("The gateway refused the query: " + err.Error())
		}
		href, err := s.keepExternal(ctx, acct, ans, u.Username, s.clientAddr(r), q)
		if err != nil {
			return err
		}
		s.flash(r, "Found at the gateway and kept as an external order.")
		return redirect(w, r, href)
	}
	return fail(fmt.Sprintf("Gateway account %s knows no pay order and no payout with the number %s.", acct.Name, q))
}

// keepExternal stores an order the gateway answered a lookup with, the
// query being its first timeline entry. An order stored meanwhile is
// returned as it is.
func (s *Server) keepExternal(ctx context.Context, acct store.GatewayAccount, ans any, actor, addr, q string) (string, error) {
	var href string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var kind, no string
		var id int64
		var st int
		var raw payments.Params
		switch a := ans.(type) {
		case *payments.PayOrder:
			kind, no, st, raw = store.KindPay, a.MchOrderNo, a.Status, a.Raw
			if o, err := s.db.PayOrderByMchOrderNoTx(ctx, tx, acct.ID, a.MchOrderNo); err == nil {
				href = orderHref(kind, o.ID)
				return nil
			}
			o := store.PayOrder{AccountID: acct.ID, MchOrderNo: a.MchOrderNo, PayOrderID: a.PayOrderID, ChannelOrderNo: a.ChannelOrderNo,
				ProductID: a.ProductID, Amount: a.Amount, Currency: a.Currency, Status: &st, State: store.PayStateOpen, Origin: "external",
				CreatedBy: "lookup by " + actor}
			if a.PaySuccTime > 0 {
				o.PaySuccAt = time.UnixMilli(a.PaySuccTime)
			}
			var err error
			if id, err = s.db.InsertPayOrderTx(ctx, tx, o); err != nil {
				return err
			}
		case *payments.TransOrder:
			kind, no, st, raw = store.KindTrans, a.MchTransOrderNo, a.Status, a.Raw
			if p, err := s.db.PayoutByMchTransOrderNoTx(ctx, tx, acct.ID, a.MchTransOrderNo); err == nil {
				href = orderHref(kind, p.ID)
				return nil
			}
			p := store.Payout{AccountID: acct.ID, MchTransOrderNo: a.MchTransOrderNo, TransOrderID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo,
				Amount: a.Amount, Currency: a.Currency, Status: &st, State: store.PayoutSubmitted, LastError: a.ChannelErrMsg, Origin: "external",
				CreatedBy: "lookup by " + actor}
			if a.TransSuccTime > 0 {
				p.TransSuccAt = time.UnixMilli(a.TransSuccTime)
			}
			var err error
			if id, err = s.db.InsertPayoutTx(ctx, tx, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("lookup answer %T", ans)
		}
		href = orderHref(kind, id)
		if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: kind, OrderRef: id, Type: store.EventQuery, Actor: actor, Status: &st,
			Summary: "Looked up at the gateway by number " + q + ": created outside Paydesk, the gateway says " + statusText(kind, &st),
			Detail:  paramsText(raw)}); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: actor, Action: "order.lookup", Subject: kind + ":" + strconv.FormatInt(id, 10),
			Detail: "kept external order " + no + " found at gateway account " + acct.Name, ClientAddr: addr})
	})
	return href, err
}
