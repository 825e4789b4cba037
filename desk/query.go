package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// querySpec says why an order is queried.
type querySpec struct {
	title         i18n.Message // how its timeline entries start: who asked, and why
	actor         string
	clientAddr    string
	executeNotify bool // a resend: ask the gateway to send the callback again
	reconcile     bool // flag a status learned this way as a missed callback
	reconcileNext time.Time
}

// obsSource names the query for the status events it causes.
func (q querySpec) obsSource() i18n.Message {
	switch {
	case q.executeNotify:
		return sourceResend
	case q.reconcile:
		return sourceReconcile
	}
	return sourceQuery
}

// QueryResult is what a query found, in a sentence for staff.
type QueryResult struct {
	Message  i18n.Message
	Answered bool // the gateway answered with the order
	Changed  bool // the answer changed the order
	Status   *int
}

// queryAnswer is the gateway's answer to a query of one order.
type queryAnswer struct {
	askedAt time.Time // the resend's callback may arrive before the answer
	err     error     // gateway trouble: the answer is this error
	raw     payments.Params
	status  int
	amount  int64
	mchNo   string
	obs     observation
}

// QueryOrder asks the gateway for an order's status now and applies the
// answer (operators and above).
func (d *Desk) QueryOrder(ctx context.Context, a Actor, kind string, id int64) (QueryResult, error) {
	if !a.AtLeast(store.RoleOperator) {
		return QueryResult{}, errOperatorOnly
	}
	o, err := d.loadOrder(ctx, kind, id)
	if err != nil {
		return QueryResult{}, err
	}
	return d.queryAndApply(ctx, o, querySpec{title: i18n.M("%s asked the gateway", a.Username), actor: a.Username, clientAddr: a.ClientAddr})
}

// errOperatorOnly refuses what needs an operator or above.
var errOperatorOnly = refuse(Forbidden, "Your role does not allow this. Ask an admin if you need it.")

// queryAndApply asks the gateway about an order, records the query on its
// timeline and applies the answer. Gateway trouble is a result, not an
// error: the error is for the database only.
func (d *Desk) queryAndApply(ctx context.Context, o order, spec querySpec) (QueryResult, error) {
	acct, err := d.db.GatewayAccount(ctx, o.accountID)
	if err != nil {
		return QueryResult{}, err
	}
	ans := d.ask(ctx, acct, o, spec)
	var res QueryResult
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = d.recordQuery(ctx, tx, o, spec, ans)
		return err
	})
	return res, err
}

// ask makes the query call of queryAndApply.
func (d *Desk) ask(ctx context.Context, acct store.GatewayAccount, o order, spec querySpec) queryAnswer {
	ans := queryAnswer{askedAt: d.now()}
	client, err := d.gatewayClient(acct)
	if err != nil {
		ans.err = fmt.Errorf("the merchant key of gateway account %s cannot be opened: %w", acct.Name, err)
		return ans
	}
	if o.kind == store.KindPay {
		a, err := client.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: o.gateNo, MchOrderNo: o.mchNo, ExecuteNotify: spec.executeNotify})
		if ans.err = err; err == nil {
			ans.raw, ans.status, ans.amount, ans.mchNo = a.Raw, a.Status, a.Amount, a.MchOrderNo
			ans.obs = observation{Source: spec.obsSource(), Actor: spec.actor, Status: a.Status, GatewayID: a.PayOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.PaySuccTime}
		}
		return ans
	}
	a, err := client.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: o.gateNo, MchTransOrderNo: o.mchNo, ExecuteNotify: spec.executeNotify})
	if ans.err = err; err == nil {
		ans.raw, ans.status, ans.amount, ans.mchNo = a.Raw, a.Status, a.Amount, a.MchTransOrderNo
		ans.obs = observation{Source: spec.obsSource(), Actor: spec.actor, Status: a.Status, GatewayID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo, SuccTime: a.TransSuccTime, ErrMsg: a.ChannelErrMsg}
	}
	return ans
}

// recordQuery records a query's answer inside tx: the audit row of a
// resend, the timeline entry, the change it causes, a mismatch or a missed
// callback.
func (d *Desk) recordQuery(ctx context.Context, tx *sql.Tx, o order, spec querySpec, ans queryAnswer) (QueryResult, error) {
	var res QueryResult
	what := spec.title
	ev := store.Event{OrderKind: o.kind, OrderRef: o.id, Actor: spec.actor}
	if spec.reconcile {
		if err := d.db.MarkReconciledTx(ctx, tx, o.kind, o.id, spec.reconcileNext); err != nil {
			return res, err
		}
	}
	if spec.executeNotify {
		if err := d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: spec.actor, Action: "order.resend", Subject: o.kind + ":" + strconv.FormatInt(o.id, 10),
			Detail: o.mchNo + ": " + errText(ans.err, "asked the gateway to notify again"), ClientAddr: spec.clientAddr}); err != nil {
			return res, err
		}
	}
	if qerr := ans.err; qerr != nil {
		ev.Type, ev.Detail = store.EventError, qerr.Error()
		res.Message = i18n.M("%s: %s; nothing was learned.", what, GatewayProblem(qerr))
		if payments.IsNotFound(qerr) {
			res.Message = i18n.M("%s: the gateway does not know this order.", what)
		}
		ev.Summary = i18n.Encode(res.Message)
		return res, d.db.AddEventTx(ctx, tx, ev)
	}
	st := ans.status
	res.Answered, res.Status = true, &st
	if ans.amount != o.amount || ans.mchNo != o.mchNo {
		res.Message = i18n.M("%s: the gateway's answer is for %s, %s; the order is %s, %s. Nothing was changed.",
			what, ans.mchNo, i18n.Money(ans.amount), o.mchNo, i18n.Money(o.amount))
		ev.Type, ev.Summary, ev.Detail = store.EventError, i18n.Encode(res.Message), paramsText(ans.raw)
		if _, err := d.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMismatch, DedupeKey: o.kind + ":" + strconv.FormatInt(o.id, 10),
			OrderKind: o.kind, OrderRef: o.id, Summary: i18n.Encode(i18n.M("The gateway's answer about %s %s does not match the order Paydesk holds: the gateway says %s, %s; Paydesk holds %s, %s. Nothing was changed and no money moved because of it. Check the order with the gateway.",
				OrderKindName(o.kind), o.mchNo, ans.mchNo, i18n.Money(ans.amount), o.mchNo, i18n.Money(o.amount)))}); err != nil {
			return res, err
		}
		return res, d.db.AddEventTx(ctx, tx, ev)
	}
	if spec.executeNotify {
		if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: o.kind, OrderRef: o.id, Type: store.EventResend, Actor: spec.actor, At: ans.askedAt,
			Summary: i18n.Encode(i18n.M("Asked the gateway to send its notification again.")), Detail: "query_order executeNotify=true"}); err != nil {
			return res, err
		}
	}
	ev.Type, ev.Status, ev.Detail, ev.At = store.EventQuery, &st, paramsText(ans.raw), ans.askedAt
	res.Message = i18n.M("%s: the order is %s.", what, StatusName(o.kind, &st))
	if spec.executeNotify {
		if Notifiable(o.kind, &st) {
			res.Message = i18n.M("%s: the order is %s; the gateway sends its notification again.", what, StatusName(o.kind, &st))
		} else {
			res.Message = i18n.M("%s: the order is %s; the gateway re-notifies only %s, so no notification is sent.", what, StatusName(o.kind, &st), NotifiableText(o.kind))
		}
	}
	ev.Summary = i18n.Encode(res.Message)
	if err := d.db.AddEventTx(ctx, tx, ev); err != nil {
		return res, err
	}
	changed, err := d.applyInTx(ctx, tx, o, ans.obs)
	if err != nil {
		return res, err
	}
	res.Changed = changed
	if changed && spec.reconcile && (o.origin != "external" || d.hasCallbacks(ctx, tx, o)) {
		return res, d.missedCallback(ctx, tx, o, spec, st)
	}
	return res, nil
}

// missedCallback flags a status learned by the reconciler's query, which
// no callback brought.
func (d *Desk) missedCallback(ctx context.Context, tx *sql.Tx, o order, spec querySpec, st int) error {
	summary := i18n.M("Missed callback: the order is %s, which Paydesk learned by asking the gateway; no callback had brought it.", StatusName(o.kind, &st))
	if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: o.kind, OrderRef: o.id, Type: store.EventNote, Actor: spec.actor, Summary: i18n.Encode(summary), Status: &st}); err != nil {
		return err
	}
	_, err := d.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertMissedCallback, DedupeKey: o.kind + ":" + strconv.FormatInt(o.id, 10),
		OrderKind: o.kind, OrderRef: o.id, Summary: i18n.Encode(i18n.M("%s %s is %s, which Paydesk learned by asking the gateway: no callback brought it, so the shop may not know. Check with the shop, and resend the notification if it has not heard.",
			OrderKindName(o.kind), o.mchNo, StatusName(o.kind, &st)))})
	return err
}

func errText(err error, ok string) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return ok
}

// applyInTx re-reads the order inside tx and applies an observation.
func (d *Desk) applyInTx(ctx context.Context, tx *sql.Tx, o order, obs observation) (bool, error) {
	if o.kind == store.KindPay {
		cur, err := d.db.PayOrderByIDTx(ctx, tx, o.id)
		if err != nil {
			return false, err
		}
		_, changed, err := d.applyPayObservation(ctx, tx, cur, obs)
		return changed, err
	}
	cur, err := d.db.PayoutByIDTx(ctx, tx, o.id)
	if err != nil {
		return false, err
	}
	_, changed, err := d.applyTransObservation(ctx, tx, cur, obs)
	return changed, err
}

func (d *Desk) hasCallbacks(ctx context.Context, tx *sql.Tx, o order) bool {
	n, _ := d.db.CountOrderNotificationsTx(ctx, tx, o.kind, o.id)
	return n > 0
}

// paramsText lists gateway fields one "key = value" a line, sorted.
func paramsText(p payments.Params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, payments.ValueString(p[k]))
	}
	return b.String()
}

// LookupOrder asks the gateway account accountID about a number nothing
// stored matches (pay order by id, then by merchant number, then payout by
// id, then by merchant number) and keeps an order it knows as external,
// the query being its first timeline entry. It returns the order found,
// stored before or now; kept says it was stored now.
func (d *Desk) LookupOrder(ctx context.Context, a Actor, accountID int64, q string) (kind string, id int64, kept bool, err error) {
	if !a.AtLeast(store.RoleOperator) {
		return "", 0, false, errOperatorOnly
	}
	q = strings.TrimSpace(q)
	if q == "" || len(q) > 64 {
		return "", 0, false, refuse(Invalid, "Type an order number of at most 64 characters.")
	}
	if o, err := d.db.PayOrderByNumber(ctx, q); err == nil {
		return store.KindPay, o.ID, false, nil
	}
	if p, err := d.db.PayoutByNumber(ctx, q); err == nil {
		return store.KindTrans, p.ID, false, nil
	}
	acct, err := d.db.GatewayAccount(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return "", 0, false, refuse(Invalid, "Choose a gateway account to ask.")
	} else if err != nil {
		return "", 0, false, err
	}
	client, err := d.gatewayClient(acct)
	if err != nil {
		return "", 0, false, refuse(Invalid, "The merchant key of gateway account %s cannot be opened; an admin must save it again.", acct.Name)
	}
	tries := []func() (any, error){
		func() (any, error) { return client.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: q}) },
		func() (any, error) { return client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: q}) },
		func() (any, error) { return client.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: q}) },
		func() (any, error) { return client.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: q}) },
	}
	for _, ask := range tries {
		ans, err := ask()
		if payments.IsNotFound(err) {
			continue
		}
		if err != nil {
			if payments.IsUnclear(err) {
				return "", 0, false, refuse(Invalid, "The gateway did not answer clearly (%s). Try again in a moment.", err.Error())
			}
			return "", 0, false, refuse(Invalid, "The gateway refused the query: %s", err.Error())
		}
		return d.keepExternal(ctx, acct, ans, a, q)
	}
	return "", 0, false, refuse(Invalid, "Gateway account %s knows no pay order and no payout with the number %s.", acct.Name, q)
}

// keepExternal stores an order the gateway answered a lookup with, the
// query being its first timeline entry. An order stored meanwhile is
// returned as it is (kept false).
func (d *Desk) keepExternal(ctx context.Context, acct store.GatewayAccount, ans any, a Actor, q string) (kind string, id int64, kept bool, err error) {
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		var no string
		var st int
		var raw payments.Params
		var known bool
		var err error
		switch ans := ans.(type) {
		case *payments.PayOrder:
			kind, no, st, raw = store.KindPay, ans.MchOrderNo, ans.Status, ans.Raw
			id, known, err = d.keepExternalPay(ctx, tx, acct, ans, a.Username)
		case *payments.TransOrder:
			kind, no, st, raw = store.KindTrans, ans.MchTransOrderNo, ans.Status, ans.Raw
			id, known, err = d.keepExternalPayout(ctx, tx, acct, ans, a.Username)
		default:
			return fmt.Errorf("lookup answer %T", ans)
		}
		if err != nil || known {
			return err
		}
		kept = true
		if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: kind, OrderRef: id, Type: store.EventQuery, Actor: a.Username, Status: &st,
			Summary: i18n.Encode(i18n.M("Found at the gateway by the number %s: made outside Paydesk by the merchant's other systems; the order is %s.", q, StatusName(kind, &st))),
			Detail:  paramsText(raw)}); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "order.lookup", Subject: kind + ":" + strconv.FormatInt(id, 10),
			Detail: "kept external order " + no + " found at gateway account " + acct.Name, ClientAddr: a.ClientAddr})
	})
	return kind, id, kept, err
}

// keepExternalPay stores a looked-up pay order, unless the account holds
// its merchant number already (known).
func (d *Desk) keepExternalPay(ctx context.Context, tx *sql.Tx, acct store.GatewayAccount, a *payments.PayOrder, actor string) (id int64, known bool, err error) {
	if o, err := d.db.PayOrderByMchOrderNoTx(ctx, tx, acct.ID, a.MchOrderNo); err == nil {
		return o.ID, true, nil
	}
	st := a.Status
	o := store.PayOrder{AccountID: acct.ID, MchOrderNo: a.MchOrderNo, PayOrderID: a.PayOrderID, ChannelOrderNo: a.ChannelOrderNo,
		ProductID: a.ProductID, Amount: a.Amount, Currency: a.Currency, Status: &st, State: store.PayStateOpen, Origin: "external",
		CreatedBy: "lookup by " + actor}
	if a.PaySuccTime > 0 {
		o.PaySuccAt = time.UnixMilli(a.PaySuccTime)
	}
	id, err = d.db.InsertPayOrderTx(ctx, tx, o)
	return id, false, err
}

// keepExternalPayout stores a looked-up payout, unless the account holds
// its merchant number already (known).
func (d *Desk) keepExternalPayout(ctx context.Context, tx *sql.Tx, acct store.GatewayAccount, a *payments.TransOrder, actor string) (id int64, known bool, err error) {
	if p, err := d.db.PayoutByMchTransOrderNoTx(ctx, tx, acct.ID, a.MchTransOrderNo); err == nil {
		return p.ID, true, nil
	}
	st := a.Status
	p := store.Payout{AccountID: acct.ID, MchTransOrderNo: a.MchTransOrderNo, TransOrderID: a.TransOrderID, ChannelOrderNo: a.ChannelOrderNo,
		Amount: a.Amount, Currency: a.Currency, Status: &st, State: store.PayoutSubmitted, LastError: a.ChannelErrMsg, Origin: "external",
		CreatedBy: "lookup by " + actor}
	if a.TransSuccTime > 0 {
		p.TransSuccAt = time.UnixMilli(a.TransSuccTime)
	}
	id, err = d.db.InsertPayoutTx(ctx, tx, p)
	return id, false, err
}
