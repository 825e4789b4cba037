package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// orderInfo is what order pages, timelines, resends and the reconciler
// need of a pay order or a payout.
type orderInfo struct {
	kind      string // store.KindPay or store.KindTrans
	id        int64
	accountID int64
	mchNo     string
	gateNo    string
	amount    int64
	status    *int
	state     string
	origin    string
	createdBy string
	succAt    time.Time
	createdAt time.Time
	pay       store.PayOrder
	payout    store.Payout
}

func payInfo(o store.PayOrder) orderInfo {
	return orderInfo{kind: store.KindPay, id: o.ID, accountID: o.AccountID, mchNo: o.MchOrderNo, gateNo: o.PayOrderID, amount: o.Amount,
		status: o.Status, state: o.State, origin: o.Origin, createdBy: o.CreatedBy, succAt: o.PaySuccAt, createdAt: o.CreatedAt, pay: o}
}

func payoutInfo(p store.Payout) orderInfo {
	return orderInfo{kind: store.KindTrans, id: p.ID, accountID: p.AccountID, mchNo: p.MchTransOrderNo, gateNo: p.TransOrderID, amount: p.Amount,
		status: p.Status, state: p.State, origin: p.Origin, createdBy: p.CreatedBy, succAt: p.TransSuccAt, createdAt: p.CreatedAt, payout: p}
}

func (s *Server) loadOrder(ctx context.Context, kind string, id int64) (orderInfo, error) {
	switch kind {
	case store.KindPay:
		o, err := s.db.PayOrderByID(ctx, id)
		return payInfo(o), err
	case store.KindTrans:
		p, err := s.db.PayoutByID(ctx, id)
		return payoutInfo(p), err
	}
	return orderInfo{}, fmt.Errorf("order kind %q: %w", kind, store.ErrNotFound)
}

// final reports whether the gateway has given an outcome.
func (o orderInfo) final() bool {
	if o.status == nil {
		return false
	}
	if o.kind == store.KindTrans {
		return payments.TransFinal(*o.status)
	}
	return payments.PayFinal(*o.status)
}

// notifiable reports whether the gateway re-notifies the order on request.
func (o orderInfo) notifiable() bool { return desk.Notifiable(o.kind, o.status) }

func (o orderInfo) notifiableText() i18n.Message { return desk.NotifiableText(o.kind) }

// sameOutcome reports whether status st is the outcome the order has.
func (o orderInfo) sameOutcome(st int) bool {
	if o.status == nil {
		return false
	}
	if o.kind == store.KindTrans {
		return payments.IsTransSucceeded(st) == payments.IsTransSucceeded(*o.status) && payments.TransFinal(st)
	}
	return payments.IsPaid(st) && payments.IsPaid(*o.status) || st == *o.status
}

func (o orderInfo) href() string { return orderHref(o.kind, o.id) }

func orderHref(kind string, id int64) string {
	return "/orders/" + kind + "/" + strconv.FormatInt(id, 10)
}

// orderFromRequest reads {kind} and {id}.
func (s *Server) orderFromRequest(r *http.Request) (orderInfo, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return orderInfo{}, errNotFound
	}
	return s.loadOrder(r.Context(), chi.URLParam(r, "kind"), id)
}

func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orderFromRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	// A payment made on the payments page has one page: its link, QR
	// code, status, timeline and actions are there.
	if o.kind == store.KindPay && o.origin == "console" {
		link, err := s.db.PayLinkByOrder(ctx, o.id)
		if err != nil {
			return err
		}
		if link.Token != "" {
			return redirect(w, r, paymentHref(o.id))
		}
	}
	v, err := s.orderView(r, o)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.OrderPage(s.pagef(r, "orders", "%s", v.Title), v))
}

// paymentHref is the page of a payment made on the payments page.
func paymentHref(id int64) string { return "/payments/" + strconv.FormatInt(id, 10) }

// orderView is what the page of order o shows.
func (s *Server) orderView(r *http.Request, o orderInfo) (views.OrderView, error) {
	ctx := r.Context()
	entries, expecting, err := s.timeline(ctx, o)
	if err != nil {
		return views.OrderView{}, err
	}
	acct, err := s.db.GatewayAccount(ctx, o.accountID)
	if err != nil {
		return views.OrderView{}, err
	}
	pr := tr(r)
	v := views.OrderView{
		Kind:       o.kind,
		ID:         o.id,
		Title:      pr.T("%s %s", pr.Msg(desk.OrderKindName(o.kind)), o.mchNo),
		StatusText: pr.Msg(desk.StatusName(o.kind, o.status)),
		StatusTone: statusTone(o.kind, o.status),
		External:   o.origin == "external",
		Timeline:   entries,
		QueryURL:   o.href() + "/query",
		ResendURL:  o.href() + "/resend",
	}
	if u, ok := userFrom(ctx); ok {
		v.CanOperate = roleAccess(u.Role) >= operator
	}
	if expecting {
		v.PollURL = o.href() + "/timeline"
	}
	if o.origin == "console" {
		v.RichURL = map[string]string{store.KindPay: "/payments/", store.KindTrans: "/payouts/"}[o.kind] + strconv.FormatInt(o.id, 10)
	}
	v.Facts = s.orderFacts(pr, o, acct)
	if !o.notifiable() {
		v.ResendWarning = pr.T("The gateway re-notifies only %s. This one is %s, so a resend sends no callback; it only asks the gateway for the current status.",
			pr.Msg(o.notifiableText()), pr.Msg(desk.StatusName(o.kind, o.status)))
	}
	if o.origin == "external" {
		n, err := s.db.LastNotificationAt(ctx, o.kind, o.id)
		if err != nil {
			return v, err
		}
		if n.IsZero() {
			v.ResendNote = pr.T("This order was created by the merchant's other systems. Its callbacks go to their notify URL, not to Paydesk, so a resent callback will not show up here.")
		}
	}
	return v, nil
}

// orderFacts lists what an order page says about the order.
func (s *Server) orderFacts(pr *i18n.Printer, o orderInfo, acct store.GatewayAccount) []views.Fact {
	loc := s.loc
	createdBy := o.createdBy
	if o.origin == "external" {
		createdBy = pr.T("the merchant's other systems (recorded by %s)", o.createdBy)
	}
	facts := []views.Fact{
		{Label: pr.T("Merchant order no."), Value: o.mchNo, Mono: true},
		{Label: pr.T("Gateway order no."), Value: orDash(o.gateNo), Mono: true},
	}
	if o.kind == store.KindPay {
		p := o.pay
		product := strconv.Itoa(p.ProductID)
		if pr, ok := payments.ProductByID(p.ProductID); ok {
			product += " " + pr.Name
		}
		facts = append(facts,
			views.Fact{Label: pr.T("Channel order no."), Value: orDash(p.ChannelOrderNo), Mono: true},
			views.Fact{Label: pr.T("Amount"), Value: money.Format(p.Amount)},
			views.Fact{Label: pr.T("Product"), Value: product},
			views.Fact{Label: pr.T("Subject"), Value: orDash(p.Subject)},
			views.Fact{Label: pr.T("Paid at"), Value: views.Time(p.PaySuccAt, loc)},
		)
	} else {
		p := o.payout
		facts = append(facts,
			views.Fact{Label: pr.T("Channel order no."), Value: orDash(p.ChannelOrderNo), Mono: true},
			views.Fact{Label: pr.T("Amount"), Value: money.Format(p.Amount)},
			views.Fact{Label: pr.T("Payee account"), Value: strings.TrimSpace(p.AccountName + " " + p.AccountNo)},
			views.Fact{Label: pr.T("Bank"), Value: strings.TrimSpace(p.BankCode + " " + p.BankName)},
			views.Fact{Label: pr.T("Paid out at"), Value: views.Time(p.TransSuccAt, loc)},
		)
		if p.LastError != "" {
			facts = append(facts, views.Fact{Label: pr.T("Error"), Value: pr.Text(p.LastError)})
		}
	}
	facts = append(facts,
		views.Fact{Label: pr.T("Gateway account"), Value: acct.Name},
		views.Fact{Label: pr.T("Created by"), Value: orDash(createdBy)},
		views.Fact{Label: pr.T("Created at"), Value: views.Time(o.createdAt, loc)},
		views.Fact{Label: "mchId", Value: acct.MchID, Mono: true, Tech: true},
		views.Fact{Label: pr.T("Record state"), Value: o.state, Mono: true, Tech: true},
	)
	return facts
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// orderTimeline is the timeline fragment pages poll while something is expected.
func (s *Server) orderTimeline(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orderFromRequest(r)
	if err != nil {
		return err
	}
	entries, expecting, err := s.timeline(r.Context(), o)
	if err != nil {
		return err
	}
	poll := ""
	if expecting {
		poll = o.href() + "/timeline"
	}
	return s.render(w, r, http.StatusOK, views.Timeline(entries, poll))
}

// queryOrder asks the gateway for an order's status now.
func (s *Server) queryOrder(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orderFromRequest(r)
	if err != nil {
		return err
	}
	res, err := s.desk.QueryOrder(r.Context(), s.actor(r), o.kind, o.id)
	if err != nil {
		return err
	}
	s.flash(r, tr(r).Msg(res.Message))
	return redirect(w, r, o.href())
}

// lookupOrder asks the gateway about a number nothing stored matches, and
// keeps an order it knows as external.
func (s *Server) lookupOrder(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	q := strings.TrimSpace(r.PostForm.Get("q"))
	acctID := r.PostForm.Get("account")
	id, _ := strconv.ParseInt(acctID, 10, 64)
	kind, ref, kept, err := s.desk.LookupOrder(r.Context(), s.actor(r), id, q)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		return s.renderOrders(w, r, http.StatusUnprocessableEntity, q, acctID, tr(r).Msg(refusal.Message()))
	}
	if err != nil {
		return err
	}
	if kept {
		s.flash(r, tr(r).T("Found at the gateway and kept as an external order."))
	}
	return redirect(w, r, orderHref(kind, ref))
}

// orderRow maps a summary to a list row.
func (s *Server) orderRow(pr *i18n.Printer, o store.OrderSummary) views.OrderRow {
	return views.OrderRow{Kind: o.Kind, KindText: pr.Msg(desk.OrderKindName(o.Kind)), Href: orderHref(o.Kind, o.ID), MchNo: o.MchNo, GateNo: orDash(o.GateNo),
		Amount: money.Format(o.Amount), StatusText: pr.Msg(desk.StatusName(o.Kind, o.Status)), StatusTone: statusTone(o.Kind, o.Status),
		Origin: pr.Msg(desk.OriginName(o.Origin)), Created: views.Time(o.CreatedAt, s.loc)}
}

// orderFilter reads the orders list filter from a query string or form.
func (s *Server) orderFilter(v url.Values) (store.OrderFilter, views.OrderFilterView) {
	fv := views.OrderFilterView{Kind: v.Get("kind"), Status: v.Get("status"), Origin: v.Get("origin"), From: v.Get("from"), To: v.Get("to")}
	var f store.OrderFilter
	if fv.Kind == store.KindPay || fv.Kind == store.KindTrans {
		f.Kind = fv.Kind
	} else {
		fv.Kind = ""
	}
	switch fv.Status {
	case "open", "success", "failed":
		f.Status = fv.Status
	default:
		fv.Status = ""
	}
	switch fv.Origin {
	case "console", "external":
		f.Origin = fv.Origin
	default:
		fv.Origin = ""
	}
	var err error
	if f.From, err = s.parseDay(fv.From, false); err != nil {
		fv.From = ""
	}
	if f.To, err = s.parseDay(fv.To, true); err != nil {
		fv.To = ""
	}
	return f, fv
}

// filterText says in words which orders a filter takes.
func filterText(fv views.OrderFilterView) i18n.Message {
	var parts []i18n.Message
	if fv.Kind != "" {
		parts = append(parts, map[string]i18n.Message{"pay": i18n.M("pay orders"), "trans": i18n.M("payouts")}[fv.Kind])
	}
	if fv.Status != "" {
		parts = append(parts, map[string]i18n.Message{"open": i18n.M("not finished"), "success": i18n.M("paid or paid out"), "failed": i18n.M("failed or expired")}[fv.Status])
	}
	if fv.Origin != "" {
		parts = append(parts, i18n.M("made by %s", desk.OriginName(fv.Origin)))
	}
	if fv.From != "" {
		parts = append(parts, i18n.M("from %s", fv.From))
	}
	if fv.To != "" {
		parts = append(parts, i18n.M("to %s", fv.To))
	}
	if len(parts) == 0 {
		return i18n.M("all orders")
	}
	m := parts[0]
	for _, p := range parts[1:] {
		m = i18n.M("%s, %s", m, p)
	}
	return m
}

func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderOrders(w, r, http.StatusOK, strings.TrimSpace(r.URL.Query().Get("q")), "", "")
}

func (s *Server) renderOrders(w http.ResponseWriter, r *http.Request, status int, q, accountID, lookupMsg string) error {
	ctx := r.Context()
	f, fv := s.orderFilter(r.URL.Query())
	if before, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("before")); err == nil {
		f.Before = before
	}
	v := views.OrdersView{Q: q, Filter: fv, AccountID: accountID, LookupMsg: lookupMsg}
	if u, ok := userFrom(ctx); ok {
		v.CanOperate = roleAccess(u.Role) >= operator
	}
	if q != "" {
		v.Searched = true
		if o, err := s.db.PayOrderByNumber(ctx, q); err == nil {
			v.Results = append(v.Results, s.orderRow(tr(r), store.OrderSummary{Kind: store.KindPay, ID: o.ID, MchNo: o.MchOrderNo, GateNo: o.PayOrderID,
				Amount: o.Amount, Status: o.Status, Origin: o.Origin, CreatedAt: o.CreatedAt}))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if p, err := s.db.PayoutByNumber(ctx, q); err == nil {
			v.Results = append(v.Results, s.orderRow(tr(r), store.OrderSummary{Kind: store.KindTrans, ID: p.ID, MchNo: p.MchTransOrderNo, GateNo: p.TransOrderID,
				Amount: p.Amount, Status: p.Status, Origin: p.Origin, CreatedAt: p.CreatedAt}))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if len(v.Results) == 0 {
			v.NotLocal = true
			accts, err := s.db.GatewayAccounts(ctx, false)
			if err != nil {
				return err
			}
			for _, a := range accts {
				v.Accounts = append(v.Accounts, views.Option{Value: strconv.FormatInt(a.ID, 10), Label: a.Name + " (mchId " + a.MchID + ")"})
			}
		}
	}
	if q != "" {
		// A search shows its results only: a lookup stays a point query.
		return s.render(w, r, status, views.OrdersPage(s.page(r, "Orders", "orders"), v))
	}
	f.Limit = 50
	rows, err := s.db.Orders(ctx, f)
	if err != nil {
		return err
	}
	for _, o := range rows {
		v.Rows = append(v.Rows, s.orderRow(tr(r), o))
	}
	if len(rows) == f.Limit {
		next := r.URL.Query()
		next.Set("before", rows[len(rows)-1].CreatedAt.UTC().Format(time.RFC3339Nano))
		v.NextURL = "/orders?" + next.Encode()
	}
	return s.render(w, r, status, views.OrdersPage(s.page(r, "Orders", "orders"), v))
}
