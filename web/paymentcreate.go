package web

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// Creating a payment: the order is stored in state "creating" with its
// merchant order number before the gateway is called, so that whatever
// happens to the call, the order can be found again by that number. An
// unclear answer leaves the order "unknown"; it is then settled by query
// (the resolver, a page view, or "Check status") and never by creating it
// again. A query that definitely says the gateway has no such order means
// the create never arrived: the order is marked refused, and staff make a
// new payment (unlike a payout, a payment can simply be made again: nothing
// is paid until the customer pays).

// newMchOrderNo makes a merchant order number: "PD", the UTC time to the
// second and 10 random characters, 26 in all (the gateway allows 30).
func newMchOrderNo(now time.Time) string {
	return "PD" + now.UTC().Format("20060102150405") + randomToken(10, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
}

// randomToken draws n characters from alphabet with crypto/rand.
func randomToken(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newLinkToken is the unguessable part of a public payment link: 128 random bits.
func newLinkToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newFormToken is the one-time token of a new-payment form.
func newFormToken() string { return newLinkToken() }

// validFormToken reports whether s looks like what newFormToken makes.
func validFormToken(s string) bool {
	if len(s) != 22 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
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

// errPaymentExists says a form was submitted twice; the order is the first one.
type errPaymentExists struct{ id int64 }

func (e errPaymentExists) Error() string { return fmt.Sprintf("payment %d exists for this form", e.id) }

// insertPayment stores a new console payment in state "creating", with its
// link, its timeline's first entry and the audit row, in one transaction.
// A form token used before gives errPaymentExists with the first order.
func (s *Server) insertPayment(ctx context.Context, o store.PayOrder, formToken, clientAddr string) (store.PayOrder, error) {
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if id, err := s.db.PayOrderIDByFormToken(ctx, tx, formToken); err == nil {
			return errPaymentExists{id}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id, err := s.db.InsertPayOrderTx(ctx, tx, o)
		if err != nil {
			return err
		}
		o.ID = id
		if err := s.db.SetPayLinkTx(ctx, tx, id, newLinkToken(), formToken); err != nil {
			return err
		}
		product := fmt.Sprint(o.ProductID)
		if p, ok := payments.ProductByID(o.ProductID); ok {
			product += " " + p.Name
		}
		if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: id, Type: store.EventCreated, Actor: o.CreatedBy,
			Summary: fmt.Sprintf("Payment of %s created in Paydesk, product %s; merchant order no. %s", yuanText(o.Amount), product, o.MchOrderNo)}); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: o.CreatedBy, Action: "payment.create", Subject: fmt.Sprintf("pay:%s", o.MchOrderNo),
			Detail: fmt.Sprintf("amount %s, product %s, account %d, subject %q", yuanText(o.Amount), product, o.AccountID, o.Subject), ClientAddr: clientAddr})
	})
	if err != nil {
		var exists errPaymentExists
		if errors.As(err, &exists) {
			return store.PayOrder{}, err
		}
		if errors.Is(err, store.ErrConflict) && strings.Contains(err.Error(), "submitted twice") {
			if id, lerr := s.db.PayOrderIDByFormToken(ctx, nil, formToken); lerr == nil {
				return store.PayOrder{}, errPaymentExists{id}
			}
		}
		return store.PayOrder{}, err
	}
	return s.db.PayOrderByID(ctx, o.ID)
}

// capitalize puts the first letter of s in upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// yuanText is an amount for timelines and the audit log: ¥12.50.
func yuanText(fen int64) string {
	return fmt.Sprintf("¥%d.%02d", fen/100, fen%100)
}

// sendPayment makes the create call for an order in state "creating" and
// records its outcome: open with the gateway's numbers, refused with the
// gateway's reason, or unknown when the answer is unclear.
func (s *Server) sendPayment(ctx context.Context, o store.PayOrder, g store.GatewayAccount, clientIP string) error {
	client, err := s.gatewayClient(g)
	if err != nil {
		return s.refusePayment(ctx, o, o.CreatedBy, "Paydesk could not use the gateway account: "+err.Error(), "")
	}
	body := o.Body
	if body == "" {
		body = o.Subject
	}
	created, callErr := client.CreatePayOrder(ctx, payments.PayOrderRequest{
		ProductID: o.ProductID, MchOrderNo: o.MchOrderNo, Currency: o.Currency, Amount: o.Amount,
		ClientIP: clientIP, NotifyURL: s.notifyURL(g, "pay"), Subject: o.Subject, Body: body,
		Param1: o.Param1, Param2: o.Param2,
	})
	var gwErr *payments.GatewayError
	switch err := callErr; {
	case err == nil:
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventGateway, Actor: "gateway",
				Summary: "The gateway created the order " + created.PayOrderID, Detail: rawJSON(created.Raw)}); err != nil {
				return err
			}
			if _, _, err := s.applyPayObservation(ctx, tx, o, observation{Source: sourceCreate, Actor: o.CreatedBy,
				Status: payments.PayCreated, GatewayID: created.PayOrderID, PayURL: created.PayURL}); err != nil {
				return err
			}
			return s.db.MarkPayOrderCheckedTx(ctx, tx, o.ID)
		})
	case payments.IsUnclear(err):
		s.log.Warn("payment create answer unclear; it will be settled by query", "mchOrderNo", o.MchOrderNo, "err", err)
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			prev, err := s.db.PayOrderByIDTx(ctx, tx, o.ID)
			if err != nil || prev.State != store.PayStateCreating {
				return err
			}
			next := prev
			next.State, next.LastError = store.PayStateUnknown, "The gateway's answer was unclear ("+callErr.Error()+"). Paydesk is asking the gateway whether it has the order; it will not create it again."
			if err := s.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
				return err
			}
			// The create call has just waited for the gateway: the first
			// query waits a little too.
			if err := s.db.MarkPayOrderCheckedTx(ctx, tx, o.ID); err != nil {
				return err
			}
			reason := "unclear answer"
			var unclear *payments.UnclearError
			if errors.As(callErr, &unclear) {
				reason = unclear.Reason
			}
			return s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventError, Actor: "gateway",
				Summary: "No clear answer to the create call (" + reason + "); Paydesk settles it by query, never by creating it again",
				Detail:  callErr.Error()})
		})
	case errors.As(err, &gwErr):
		return s.refusePayment(ctx, o, "gateway", "The gateway refused the payment: "+gwErr.Error(), "")
	default:
		// Refused before anything was sent (an invalid request).
		return s.refusePayment(ctx, o, o.CreatedBy, "Paydesk did not send the payment: "+err.Error(), "")
	}
}

// refusePayment marks an order the gateway does not have as refused.
func (s *Server) refusePayment(ctx context.Context, o store.PayOrder, actor, msg, detail string) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		prev, err := s.db.PayOrderByIDTx(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		if prev.State != store.PayStateCreating && prev.State != store.PayStateUnknown {
			return nil // settled meanwhile
		}
		next := prev
		next.State, next.LastError = store.PayStateRefused, msg
		if err := s.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
			return err
		}
		return s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventGateway, Actor: actor,
			Summary: msg, Detail: detail})
	})
}

// Check outcomes, for the staff page's flash.
const (
	checkChanged  = "The gateway's answer changed the payment."
	checkSame     = "The gateway's answer changed nothing."
	checkNotFound = "The gateway never received this payment. Create a new payment if the customer still has to pay."
)

// checkPayment asks the gateway about an order by its merchant order
// number and applies the answer. For an order whose create was unclear, a
// definite "no such order" marks it refused once the create call is surely
// over (GatewayTimeout after it ended): a late create cannot arrive after
// that. It returns a sentence for staff.
//
// A check someone asked for (always) is written to the timeline with the
// gateway's answer; an automatic one only when it changed something, so
// that pages watching a payment do not flood its timeline.
func (s *Server) checkPayment(ctx context.Context, o store.PayOrder, actor, source string, always bool) (string, error) {
	g, err := s.db.GatewayAccount(ctx, o.AccountID)
	if err != nil {
		return "", err
	}
	client, err := s.gatewayClient(g)
	if err != nil {
		return "", err
	}
	ans, err := client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: o.MchOrderNo})
	switch {
	case err == nil:
		changed := false
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			before, err := s.db.PayOrderByIDTx(ctx, tx, o.ID)
			if err != nil {
				return err
			}
			// The query goes on the timeline before the change it causes.
			news := before.State != store.PayStateOpen || before.Status == nil || payments.PayAdvances(*before.Status, ans.Status)
			if always || news {
				if err := s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventQuery, Actor: actor,
					Status: &ans.Status, Summary: fmt.Sprintf("%s: the gateway has the order %s, status %s", capitalize(source), ans.PayOrderID, payments.PayStatusText(ans.Status)),
					Detail: rawJSON(ans.Raw)}); err != nil {
					return err
				}
			}
			after, statusChanged, err := s.applyPayObservation(ctx, tx, o, observation{Source: source, Actor: actor, Status: ans.Status,
				GatewayID: ans.PayOrderID, ChannelOrderNo: ans.ChannelOrderNo, SuccTime: ans.PaySuccTime})
			changed = statusChanged || after.State != before.State
			return err
		})
		if err != nil {
			return "", err
		}
		if changed {
			return checkChanged, nil
		}
		return checkSame, nil
	case payments.IsNotFound(err):
		if o.State == store.PayStateOpen {
			return "", fmt.Errorf("the gateway says it has no order %s, although it created it: %w", o.MchOrderNo, err)
		}
		if s.now().Sub(o.UpdatedAt) < s.cfg.GatewayTimeout {
			return "The gateway does not show the order yet; Paydesk will ask again.", nil
		}
		if err := s.refusePayment(ctx, o, actor, "The gateway never received this payment (a query found no such order); create a new payment.", ""); err != nil {
			return "", err
		}
		return checkNotFound, nil
	default:
		return "", err
	}
}

// resolverEvery is how often the resolver looks for payments whose create
// call ended without a definite answer.
const resolverEvery = 3 * time.Second

// StartPaymentResolver settles, in the background until ctx ends, every
// payment whose create call had no definite answer (state unknown, or
// creating after a stop in the middle of the call), by query.
func (s *Server) StartPaymentResolver(ctx context.Context) {
	go func() {
		t := time.NewTicker(resolverEvery)
		defer t.Stop()
		for {
			s.resolvePayments(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// resolvePayments runs one pass of the resolver.
func (s *Server) resolvePayments(ctx context.Context) {
	// A "creating" order younger than the call's timeout may still be in
	// its create call.
	stale := s.now().Add(-s.cfg.GatewayTimeout - 5*time.Second)
	orders, err := s.db.PayOrdersToResolve(ctx, stale, 50)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("payment resolver", "err", err)
		}
		return
	}
	for _, o := range orders {
		if ctx.Err() != nil {
			return
		}
		if ok, err := s.db.ClaimPayOrderCheck(ctx, o.ID, resolverEvery); err != nil || !ok {
			continue
		}
		if _, err := s.checkPayment(ctx, o, "resolver", "query after an unclear create answer", false); err != nil && ctx.Err() == nil {
			s.log.Warn("payment resolver: query failed; will try again", "mchOrderNo", o.MchOrderNo, "err", err)
		}
	}
}
