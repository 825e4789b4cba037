package desk

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/internal/money"
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

// newMchOrderNo makes a merchant order number: "PD", the time to the
// second in the console's zone (the date staff see on the payment: a
// payment made at 04:02 Beijing time on 30 November is PD20261130…), and
// 10 random characters, 26 in all (the gateway allows 30).
func newMchOrderNo(now time.Time) string {
	return "PD" + now.Format("20060102150405") + randomToken(10, "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
}

// newLinkToken is the unguessable part of a public payment link: 128 random bits.
func newLinkToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewFormToken is the one-time token of a new-payment form: a second
// submission of the same form finds the payment the first one made.
func NewFormToken() string { return newLinkToken() }

// validFormToken reports whether s looks like what NewFormToken makes.
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

// PaymentExists is CreatePayment's answer to a form submitted before: the
// payment it made is ID.
type PaymentExists struct{ ID int64 }

func (e *PaymentExists) Error() string { return fmt.Sprintf("payment %d exists for this form", e.ID) }

// LinkLifetimes are the minutes a payment link may live, 0 for ever: the
// new-payment form offers these.
func LinkLifetimes() []int { return []int{0, 15, 60, 24 * 60, 3 * 24 * 60, 7 * 24 * 60} }

// PaymentInput is a new-payment form as typed.
type PaymentInput struct {
	FormToken string
	AccountID string
	ProductID string
	Amount    string // yuan
	Subject   string
	Body      string
	Param1    string
	Param2    string
	Expiry    string // minutes, one of LinkLifetimes; "" for never
}

// paymentText are the checks of the form's text fields.
var paymentText = []struct {
	field                 string
	max                   int
	missing, bad, tooLong string
	value                 func(*PaymentInput) *string
	required              bool
}{
	{"subject", 64, i18n.N("Enter the subject."), i18n.N("The subject contains characters that are not allowed."), i18n.N("The subject is longer than %d characters (it has %d)."),
		func(in *PaymentInput) *string { return &in.Subject }, true},
	{"body", 256, "", i18n.N("The description contains characters that are not allowed."), i18n.N("The description is longer than %d characters (it has %d)."),
		func(in *PaymentInput) *string { return &in.Body }, false},
	{"param1", 64, "", i18n.N("The param1 contains characters that are not allowed."), i18n.N("The param1 is longer than %d characters (it has %d)."),
		func(in *PaymentInput) *string { return &in.Param1 }, false},
	{"param2", 64, "", i18n.N("The param2 contains characters that are not allowed."), i18n.N("The param2 is longer than %d characters (it has %d)."),
		func(in *PaymentInput) *string { return &in.Param2 }, false},
}

// paymentOrder checks a new-payment form and makes the order it asks for;
// a refusal lists every field that is wrong.
func (d *Desk) paymentOrder(ctx context.Context, in *PaymentInput) (store.PayOrder, *Refusal) {
	var o store.PayOrder
	var fields []*Refusal
	if fen, err := money.Parse(in.Amount); err != nil {
		fields = append(fields, refuseMessage(Invalid, "amount", AmountProblem(err)))
	} else if max := d.MaxPaymentFen(ctx); fen > max {
		fields = append(fields, refuseField("amount", "The amount is above the largest a payment may have here, %s.", money.Format(max)))
	} else {
		o.Amount = fen
	}
	if id, err := strconv.Atoi(in.ProductID); err != nil {
		fields = append(fields, refuseField("product", "Choose a pay product."))
	} else if _, ok := payments.ProductByID(id); !ok {
		fields = append(fields, refuseField("product", "Choose one of the pay products 8000–8019."))
	} else {
		o.ProductID = id
	}
	if id, err := strconv.ParseInt(in.AccountID, 10, 64); err != nil || id <= 0 {
		fields = append(fields, refuseField("account", "Choose a gateway account."))
	} else if g, err := d.db.GatewayAccount(ctx, id); err != nil || g.Disabled {
		fields = append(fields, refuseField("account", "That gateway account does not exist or is disabled; choose another."))
	} else {
		o.AccountID = g.ID
	}
	for _, c := range paymentText {
		v := c.value(in)
		*v = strings.TrimSpace(*v)
		switch n := utf8.RuneCountInString(*v); {
		case c.required && *v == "":
			fields = append(fields, refuseField(c.field, c.missing))
		case !utf8.ValidString(*v) || strings.ContainsRune(*v, 0):
			fields = append(fields, refuseField(c.field, c.bad))
		case n > c.max:
			fields = append(fields, refuseField(c.field, c.tooLong, c.max, n))
		}
	}
	o.Subject, o.Body, o.Param1, o.Param2 = in.Subject, in.Body, in.Param1, in.Param2
	if in.Expiry != "" {
		minutes, err := strconv.Atoi(in.Expiry)
		if err != nil || minutes <= 0 || !slices.Contains(LinkLifetimes(), minutes) {
			fields = append(fields, refuseField("expiry", "Choose when the link expires."))
		} else {
			o.ExpiresAt = d.now().Add(time.Duration(minutes) * time.Minute)
		}
	}
	if len(fields) > 0 {
		return o, &Refusal{Kind: Invalid, Format: "The payment was not created. Correct what is marked below and submit again.", Fields: fields}
	}
	return o, nil
}

// CreatePayment makes a payment (operators and above): the order is stored
// with its link, timeline entry and audit row, then created at the
// gateway, whose answer is recorded however the caller's context ends. A
// form submitted before gives *PaymentExists with the payment it made.
func (d *Desk) CreatePayment(ctx context.Context, a Actor, in PaymentInput) (store.PayOrder, error) {
	if !a.AtLeast(store.RoleOperator) {
		return store.PayOrder{}, errOperatorOnly
	}
	tokenOK := validFormToken(in.FormToken)
	if tokenOK {
		if id, err := d.db.PayOrderIDByFormToken(ctx, nil, in.FormToken); err == nil {
			return store.PayOrder{}, &PaymentExists{id}
		}
	}
	o, refusal := d.paymentOrder(ctx, &in)
	if !tokenOK {
		// A form from elsewhere or an old page.
		fields := []*Refusal{refuseField("form", "This form has expired.")}
		if refusal != nil {
			fields = append(fields, refusal.Fields...)
		}
		return o, &Refusal{Kind: Invalid, Format: "This form has expired. Check the fields and submit again.", Fields: fields}
	}
	if refusal != nil {
		return o, refusal
	}
	g, err := d.db.GatewayAccount(ctx, o.AccountID)
	if err != nil {
		return o, err
	}
	o.MchOrderNo = newMchOrderNo(d.now().In(d.cfg.Location))
	o.State, o.CreatedBy, o.Origin = store.PayStateCreating, a.Username, "console"
	order, err := d.insertPayment(ctx, o, in.FormToken, a.ClientAddr)
	if err != nil {
		return order, err
	}
	// The call goes on if the caller goes away: its outcome must be recorded.
	if err := d.sendPayment(context.WithoutCancel(ctx), order, g, a.ClientAddr); err != nil {
		d.log.Error("record payment create outcome", "mchOrderNo", order.MchOrderNo, "err", err)
	}
	return order, nil
}

// insertPayment stores a new console payment in state "creating", with its
// link, its timeline's first entry and the audit row, in one transaction.
// A form token used before gives *PaymentExists with the first order.
func (d *Desk) insertPayment(ctx context.Context, o store.PayOrder, formToken, clientAddr string) (store.PayOrder, error) {
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		if id, err := d.db.PayOrderIDByFormToken(ctx, tx, formToken); err == nil {
			return &PaymentExists{id}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		id, err := d.db.InsertPayOrderTx(ctx, tx, o)
		if err != nil {
			return err
		}
		o.ID = id
		if err := d.db.SetPayLinkTx(ctx, tx, id, newLinkToken(), formToken); err != nil {
			return err
		}
		product := fmt.Sprint(o.ProductID)
		if p, ok := payments.ProductByID(o.ProductID); ok {
			product += " " + p.Name
		}
		if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: id, Type: store.EventCreated, Actor: o.CreatedBy,
			Summary: i18n.Encode(i18n.M("Payment of %s created in Paydesk (%s).", i18n.Money(o.Amount), product)),
			Detail:  "mchOrderNo = " + o.MchOrderNo + "\nproductId = " + strconv.Itoa(o.ProductID)}); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: o.CreatedBy, Action: "payment.create", Subject: fmt.Sprintf("pay:%s", o.MchOrderNo),
			Detail: fmt.Sprintf("amount %s, product %s, account %d, subject %q", money.Format(o.Amount), product, o.AccountID, o.Subject), ClientAddr: clientAddr})
	})
	if err != nil {
		var exists *PaymentExists
		if errors.As(err, &exists) {
			return store.PayOrder{}, err
		}
		if errors.Is(err, store.ErrFormReused) {
			if id, lerr := d.db.PayOrderIDByFormToken(ctx, nil, formToken); lerr == nil {
				return store.PayOrder{}, &PaymentExists{id}
			}
		}
		return store.PayOrder{}, err
	}
	return d.db.PayOrderByID(ctx, o.ID)
}

// sendPayment makes the create call for an order in state "creating" and
// records its outcome: open with the gateway's numbers, refused with the
// gateway's reason, or unknown when the answer is unclear.
func (d *Desk) sendPayment(ctx context.Context, o store.PayOrder, g store.GatewayAccount, clientIP string) error {
	client, err := d.gatewayClient(g)
	if err != nil {
		return d.refusePayment(ctx, o, o.CreatedBy, i18n.M("Paydesk could not use the gateway account (its merchant key cannot be opened); nothing was sent. An admin must save the key again."), err.Error())
	}
	body := o.Body
	if body == "" {
		body = o.Subject
	}
	created, callErr := client.CreatePayOrder(ctx, payments.PayOrderRequest{
		ProductID: o.ProductID, MchOrderNo: o.MchOrderNo, Currency: o.Currency, Amount: o.Amount,
		ClientIP: clientIP, NotifyURL: d.NotifyURL(g, "pay"), Subject: o.Subject, Body: body,
		Param1: o.Param1, Param2: o.Param2,
	})
	var gwErr *payments.GatewayError
	switch err := callErr; {
	case err == nil:
		return d.db.InTx(ctx, func(tx *sql.Tx) error {
			if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventGateway, Actor: "gateway",
				Summary: i18n.Encode(i18n.M("The gateway took the payment; the customer can pay now.")), Detail: rawJSON(created.Raw)}); err != nil {
				return err
			}
			if _, _, err := d.applyPayObservation(ctx, tx, o, observation{Source: sourceCreate, Actor: o.CreatedBy,
				Status: payments.PayCreated, GatewayID: created.PayOrderID, PayURL: created.PayURL}); err != nil {
				return err
			}
			return d.db.MarkPayOrderCheckedTx(ctx, tx, o.ID)
		})
	case payments.IsUnclear(err):
		d.log.Warn("payment create answer unclear; it will be settled by query", "mchOrderNo", o.MchOrderNo, "err", err)
		return d.db.InTx(ctx, func(tx *sql.Tx) error { return d.paymentUnclear(ctx, tx, o, callErr) })
	case errors.As(err, &gwErr):
		return d.refusePayment(ctx, o, "gateway", i18n.M("The gateway refused the payment (%s); nothing was paid. Create a new payment if the customer still has to pay.", GatewayProblem(gwErr)), gwErr.Error())
	default:
		// Refused before anything was sent (an invalid request).
		return d.refusePayment(ctx, o, o.CreatedBy, i18n.M("Paydesk did not send the payment: the gateway account's settings are incomplete. Ask an admin to check them."), err.Error())
	}
}

// paymentUnclear records inside tx that the create call of o had no clear
// answer: o is "unknown" until a query settles it.
func (d *Desk) paymentUnclear(ctx context.Context, tx *sql.Tx, o store.PayOrder, callErr error) error {
	prev, err := d.db.PayOrderByIDTx(ctx, tx, o.ID)
	if err != nil || prev.State != store.PayStateCreating {
		return err
	}
	next := prev
	next.State, next.LastError = store.PayStateUnknown, i18n.Encode(i18n.M("The gateway's answer was unclear (%s). Paydesk is asking the gateway whether it has the order; it will not create it again.", GatewayProblem(callErr)))
	if err := d.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
		return err
	}
	// The create call has just waited for the gateway: the first query
	// waits a little too.
	if err := d.db.MarkPayOrderCheckedTx(ctx, tx, o.ID); err != nil {
		return err
	}
	return d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventError, Actor: "gateway",
		Summary: i18n.Encode(i18n.M("No clear answer when creating the payment (%s); Paydesk asks the gateway, and never creates it a second time.", GatewayProblem(callErr))),
		Detail:  callErr.Error()})
}

// refusePayment marks an order the gateway does not have as refused.
func (d *Desk) refusePayment(ctx context.Context, o store.PayOrder, actor string, msg i18n.Message, detail string) error {
	return d.db.InTx(ctx, func(tx *sql.Tx) error {
		prev, err := d.db.PayOrderByIDTx(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		if prev.State != store.PayStateCreating && prev.State != store.PayStateUnknown {
			return nil // settled meanwhile
		}
		next := prev
		next.State, next.LastError = store.PayStateRefused, i18n.Encode(msg)
		if err := d.db.UpdatePayOrderTx(ctx, tx, prev, next); err != nil {
			return err
		}
		return d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventGateway, Actor: actor,
			Summary: i18n.Encode(msg), Detail: detail})
	})
}

// Check outcomes, for the staff page.
var (
	checkChanged  = i18n.M("The gateway's answer changed the payment.")
	checkSame     = i18n.M("The gateway's answer changed nothing.")
	checkNotFound = i18n.M("The gateway never received this payment. Create a new payment if the customer still has to pay.")
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
func (d *Desk) checkPayment(ctx context.Context, o store.PayOrder, actor string, source i18n.Message, always bool) (i18n.Message, error) {
	g, err := d.db.GatewayAccount(ctx, o.AccountID)
	if err != nil {
		return i18n.Message{}, err
	}
	client, err := d.gatewayClient(g)
	if err != nil {
		return i18n.Message{}, err
	}
	ans, err := client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: o.MchOrderNo})
	switch {
	case err == nil:
		changed := false
		err := d.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			changed, err = d.recordPaymentCheck(ctx, tx, o, ans, actor, source, always)
			return err
		})
		if err != nil {
			return i18n.Message{}, err
		}
		if changed {
			return checkChanged, nil
		}
		return checkSame, nil
	case payments.IsNotFound(err):
		if o.State == store.PayStateOpen {
			return i18n.Message{}, fmt.Errorf("the gateway says it has no order %s, although it created it: %w", o.MchOrderNo, err)
		}
		if d.now().Sub(o.UpdatedAt) < d.cfg.GatewayTimeout {
			return i18n.M("The gateway does not show the order yet; Paydesk will ask again."), nil
		}
		if err := d.refusePayment(ctx, o, actor, i18n.M("The gateway never received this payment (a query found no such order); nothing was paid. Create a new payment if the customer still has to pay."), ""); err != nil {
			return i18n.Message{}, err
		}
		return checkNotFound, nil
	default:
		return i18n.Message{}, err
	}
}

// recordPaymentCheck applies a check's answer inside tx, the query going
// on the timeline before the change it causes; it reports whether the
// order changed.
func (d *Desk) recordPaymentCheck(ctx context.Context, tx *sql.Tx, o store.PayOrder, ans *payments.PayOrder, actor string, source i18n.Message, always bool) (bool, error) {
	before, err := d.db.PayOrderByIDTx(ctx, tx, o.ID)
	if err != nil {
		return false, err
	}
	news := before.State != store.PayStateOpen || before.Status == nil || payments.PayAdvances(*before.Status, ans.Status)
	if always || news {
		if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventQuery, Actor: actor,
			Status: &ans.Status, Summary: i18n.Encode(i18n.M("Asked the gateway (%s): the payment is %s.", source, PayStatusName(ans.Status))),
			Detail: rawJSON(ans.Raw)}); err != nil {
			return false, err
		}
	}
	after, statusChanged, err := d.applyPayObservation(ctx, tx, o, observation{Source: source, Actor: actor, Status: ans.Status,
		GatewayID: ans.PayOrderID, ChannelOrderNo: ans.ChannelOrderNo, SuccTime: ans.PaySuccTime})
	return statusChanged || after.State != before.State, err
}

// PaymentActions says what an actor may do with a payment, and why not:
// the page shows the buttons, the actions enforce the same answers.
type PaymentActions struct {
	Check      bool // ask the gateway now ("Check status")
	Deactivate bool // deactivate the payment link
	Reactivate bool // reactivate it
}

// PaymentActionsFor is what a may do with payment o whose link is link.
func PaymentActionsFor(a Actor, o store.PayOrder, link store.PayLink) PaymentActions {
	if !a.AtLeast(store.RoleOperator) {
		return PaymentActions{}
	}
	paid := o.State == store.PayStateOpen && payments.IsPaid(o.StatusOr(-99))
	return PaymentActions{
		Check:      o.State != store.PayStateCreating && o.State != store.PayStateRefused,
		Deactivate: link.Token != "" && link.Active && !paid,
		Reactivate: link.Token != "" && !link.Active,
	}
}

// CheckPayment is "Check status": it asks the gateway about a payment now,
// records the answer on the timeline, and returns a sentence for staff.
func (d *Desk) CheckPayment(ctx context.Context, a Actor, id int64) (i18n.Message, error) {
	o, err := d.db.PayOrderByID(ctx, id)
	if err != nil {
		return i18n.Message{}, err
	}
	link, err := d.db.PayLinkByOrder(ctx, o.ID)
	if err != nil {
		return i18n.Message{}, err
	}
	if !PaymentActionsFor(a, o, link).Check {
		switch {
		case !a.AtLeast(store.RoleOperator):
			return i18n.Message{}, errOperatorOnly
		case o.State == store.PayStateCreating:
			return i18n.Message{}, refuse(Conflict, "The payment is still being created; wait a moment.")
		}
		return i18n.Message{}, refuse(Conflict, "The payment was refused: there is nothing to ask the gateway. Create a new payment if the customer still has to pay.")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.GatewayTimeout)
	defer cancel()
	if _, err := d.db.ClaimPayOrderCheck(ctx, o.ID, 0); err != nil {
		return i18n.Message{}, err
	}
	msg, err := d.checkPayment(ctx, o, a.Username, i18n.M("a status check by %s", a.Username), true)
	if err != nil {
		d.log.Warn("payment status check", "mchOrderNo", o.MchOrderNo, "err", err)
		msg = i18n.M("The gateway could not be asked: %s. Try again in a moment.", GatewayProblem(err))
	}
	return msg, nil
}

// pageCheckGap is how often page views and pollers may ask the gateway about
// one payment that is still waiting (when no callback has come).
const pageCheckGap = 3 * time.Second

// PaymentWaiting reports whether an order may still change by itself
// soon: its create is unsettled, or it is open and not yet paid or failed.
func PaymentWaiting(o store.PayOrder) bool {
	switch o.State {
	case store.PayStateCreating, store.PayStateUnknown:
		return true
	case store.PayStateOpen:
		return !payments.PayFinal(o.StatusOr(payments.PayCreated))
	}
	return false
}

// RefreshPayment asks the gateway about a waiting order when no one has
// for pageCheckGap, so that pages show the truth even when a callback is
// late or lost, and returns the order as it is now. Errors are logged, not
// returned: the page shows what is known.
func (d *Desk) RefreshPayment(ctx context.Context, o store.PayOrder) store.PayOrder {
	if !PaymentWaiting(o) || (o.State == store.PayStateCreating && d.now().Sub(o.UpdatedAt) < d.cfg.GatewayTimeout) {
		return o
	}
	ok, err := d.db.ClaimPayOrderCheck(ctx, o.ID, pageCheckGap)
	if err != nil || !ok {
		return o
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.GatewayTimeout)
	defer cancel()
	if _, err := d.checkPayment(qctx, o, "paydesk", i18n.M("an automatic check"), false); err != nil {
		d.log.Warn("payment status check", "mchOrderNo", o.MchOrderNo, "err", err)
		return o
	}
	if fresh, err := d.db.PayOrderByID(ctx, o.ID); err == nil {
		return fresh
	}
	return o
}

// resolverEvery is how often the resolver looks for payments whose create
// call ended without a definite answer.
const resolverEvery = 3 * time.Second

// runPaymentResolver settles, until ctx ends, every payment whose create
// call had no definite answer, by query.
func (d *Desk) runPaymentResolver(ctx context.Context) {
	t := time.NewTicker(resolverEvery)
	defer t.Stop()
	for {
		d.ResolvePayments(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ResolvePayments runs one pass of the payment resolver: every payment
// whose create call had no definite answer (state unknown, or creating
// after a stop in the middle of the call) is settled by query. Run does it
// every 3 s.
func (d *Desk) ResolvePayments(ctx context.Context) {
	// A "creating" order younger than the call's timeout may still be in
	// its create call.
	stale := d.now().Add(-d.cfg.GatewayTimeout - 5*time.Second)
	orders, err := d.db.PayOrdersToResolve(ctx, stale, 50)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("payment resolver", "err", err)
		}
		return
	}
	for _, o := range orders {
		if ctx.Err() != nil {
			return
		}
		if ok, err := d.db.ClaimPayOrderCheck(ctx, o.ID, resolverEvery); err != nil || !ok {
			continue
		}
		if _, err := d.checkPayment(ctx, o, "resolver", i18n.M("a check after an unclear create answer"), false); err != nil && ctx.Err() == nil {
			d.log.Warn("payment resolver: query failed; will try again", "mchOrderNo", o.MchOrderNo, "err", err)
		}
	}
}

// SetPaymentLinkActive deactivates or reactivates a payment's public link,
// as PaymentActionsFor allows; it reports false when the link was so
// already.
func (d *Desk) SetPaymentLinkActive(ctx context.Context, a Actor, id int64, active bool) (bool, error) {
	o, err := d.db.PayOrderByID(ctx, id)
	if err != nil {
		return false, err
	}
	link, err := d.db.PayLinkByOrder(ctx, o.ID)
	if err != nil {
		return false, err
	}
	acts := PaymentActionsFor(a, o, link)
	switch {
	case !a.AtLeast(store.RoleOperator):
		return false, errOperatorOnly
	case link.Token == "":
		return false, refuse(NotFound, "This payment has no payment link: Paydesk did not create it.")
	case link.Active == active:
		return false, nil
	case !active && !acts.Deactivate:
		return false, refuse(Conflict, "The payment is paid: its link stays, so that customers who open it see that it was paid.")
	}
	action, word, summary := "payment.link_deactivate", "deactivated", i18n.M("Payment link deactivated: customers who open it see that it was cancelled.")
	if active {
		action, word, summary = "payment.link_reactivate", "reactivated", i18n.M("Payment link reactivated: customers can pay with it again.")
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.SetPayLinkActiveTx(ctx, tx, o.ID, active, a.Username); err != nil {
			return err
		}
		if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventNote, Actor: a.Username,
			Summary: i18n.Encode(summary)}); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: action, Subject: "pay:" + o.MchOrderNo,
			Detail: "payment link " + word, ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}
