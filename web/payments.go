package web

import (
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

// pageCheckGap is how often page views and pollers may ask the gateway about
// one payment that is still waiting (when no callback has come).
const pageCheckGap = 3 * time.Second

// expiryLabel names a link lifetime of the new-payment form.
func expiryLabel(p *i18n.Printer, minutes int) string {
	switch {
	case minutes == 0:
		return p.T("never")
	case minutes%(24*60) == 0:
		return p.T("in %d days", minutes/(24*60))
	case minutes%60 == 0:
		return p.T("in %d hours", minutes/60)
	}
	return p.T("in %d minutes", minutes)
}

func productLabel(id int) string {
	if p, ok := payments.ProductByID(id); ok {
		return fmt.Sprintf("%d · %s", p.ID, p.Name)
	}
	return strconv.Itoa(id)
}

func productOptions() []views.Choice {
	var out []views.Choice
	for _, p := range payments.Products() {
		out = append(out, views.Choice{Value: strconv.Itoa(p.ID), Label: productLabel(p.ID)})
	}
	return out
}

// paymentForm fills the choices of a new-payment form.
func (s *Server) paymentForm(r *http.Request, f views.PaymentForm) (views.PaymentForm, error) {
	accts, err := s.db.GatewayAccounts(r.Context(), false)
	if err != nil {
		return f, err
	}
	f.Accounts = nil
	for _, g := range accts {
		label := g.Name
		if g.IsSandbox {
			label = tr(r).T("%s (sandbox)", g.Name)
		}
		f.Accounts = append(f.Accounts, views.Choice{Value: strconv.FormatInt(g.ID, 10), Label: label})
	}
	f.Products = productOptions()
	f.Expiries = nil
	for _, minutes := range desk.LinkLifetimes() {
		v := ""
		if minutes > 0 {
			v = strconv.Itoa(minutes)
		}
		f.Expiries = append(f.Expiries, views.Choice{Value: v, Label: expiryLabel(tr(r), minutes)})
	}
	f.MaxAmount = money.Format(s.desk.MaxPaymentFen(r.Context()))
	if f.FormToken == "" {
		f.FormToken = desk.NewFormToken()
	}
	return f, nil
}

func (s *Server) newPaymentPage(w http.ResponseWriter, r *http.Request) error {
	f, err := s.paymentForm(r, views.PaymentForm{ProductID: "8002", Expiry: "1440"})
	if err != nil {
		return err
	}
	p := s.page(r, "New payment", "payments")
	if len(f.Accounts) == 0 {
		p.Error = tr(r).T("No gateway account is enabled. An admin must add one under Settings → Gateway accounts.")
	}
	return s.render(w, r, http.StatusOK, views.PaymentNew(p, f))
}

func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	pf := r.PostForm
	in := desk.PaymentInput{FormToken: pf.Get("form_token"), AccountID: pf.Get("account"), ProductID: pf.Get("product"), Amount: pf.Get("amount"),
		Subject: pf.Get("subject"), Body: pf.Get("body"), Param1: pf.Get("param1"), Param2: pf.Get("param2"), Expiry: pf.Get("expiry")}
	order, err := s.desk.CreatePayment(r.Context(), s.actor(r), in)
	var exists *desk.PaymentExists
	if errors.As(err, &exists) {
		s.flash(r, tr(r).T("This form was submitted before; here is the payment it created."))
		return redirect(w, r, fmt.Sprintf("/payments/%d", exists.ID))
	}
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		f := views.PaymentForm{FormToken: in.FormToken, AccountID: in.AccountID, ProductID: in.ProductID, Amount: in.Amount,
			Subject: strings.TrimSpace(in.Subject), Body: strings.TrimSpace(in.Body), Param1: strings.TrimSpace(in.Param1), Param2: strings.TrimSpace(in.Param2),
			Expiry: in.Expiry, Errors: fieldErrors(tr(r), refusal)}
		if _, expired := f.Errors["form"]; expired {
			f.FormToken = "" // a fresh one
		}
		if f, err = s.paymentForm(r, f); err != nil {
			return err
		}
		p := s.page(r, "New payment", "payments")
		p.Error = tr(r).Msg(refusal.Message())
		return s.render(w, r, http.StatusUnprocessableEntity, views.PaymentNew(p, f))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/payments/%d", order.ID))
}

// paymentByParam loads the payment named by the {id} route parameter.
func (s *Server) paymentByParam(r *http.Request) (store.PayOrder, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.PayOrder{}, errNotFound
	}
	return s.db.PayOrderByID(r.Context(), id)
}

// payTone is the badge class of an order's status.
func payTone(o store.PayOrder) string {
	switch o.State {
	case store.PayStateRefused:
		return "err"
	case store.PayStateCreating, store.PayStateUnknown:
		return "warn"
	}
	st := o.StatusOr(payments.PayCreated)
	switch {
	case payments.IsPaid(st):
		return "ok"
	case payments.IsPayFailed(st):
		return "err"
	case st == payments.PayExpired || st == payments.PayRefunded:
		return "warn"
	}
	return "info"
}

// paymentTimeline is the payment's whole story: its events, every callback
// and what the gateway is expected to do next (timeline.go).
func (s *Server) paymentTimeline(r *http.Request, id int64) ([]views.TimelineEntry, error) {
	return s.timelineEntries(r.Context(), store.KindPay, id)
}

func (s *Server) paymentLive(r *http.Request, o store.PayOrder) (views.PaymentLive, error) {
	tl, err := s.paymentTimeline(r, o.ID)
	if err != nil {
		return views.PaymentLive{}, err
	}
	link, err := s.db.PayLinkByOrder(r.Context(), o.ID)
	if err != nil {
		return views.PaymentLive{}, err
	}
	l := views.PaymentLive{
		ID: o.ID, StatusText: tr(r).Msg(desk.PaymentName(o)), Tone: payTone(o), PayOrderID: o.PayOrderID, LastError: tr(r).Text(o.LastError),
		Poll: desk.PaymentWaiting(o), Timeline: tl,
		CanCheck: desk.PaymentActionsFor(s.actor(r), o, link).Check,
	}
	if !o.PaySuccAt.IsZero() && payments.IsPaid(o.StatusOr(-99)) {
		l.PaidAt = views.Time(o.PaySuccAt, s.loc)
	}
	p := tr(r)
	switch {
	case o.State == store.PayStateCreating:
		l.Note = p.T("Paydesk is creating the order at the gateway.")
	case o.State == store.PayStateUnknown:
		l.Note = p.T("The gateway's answer to the create call was unclear. Paydesk asks the gateway by the merchant order number until it knows; it never creates the order a second time.")
		l.LastError = ""
	case o.State == store.PayStateOpen && o.PayURL == "":
		l.Note = p.T("The gateway has the order, but its answer with the pay link was lost, so customers cannot pay it through Paydesk. Create a new payment if the customer still has to pay.")
	case desk.PaymentWaiting(o):
		l.Note = p.T("Waiting for the customer to pay. This page updates by itself.")
	}
	return l, nil
}

func (s *Server) paymentPage(w http.ResponseWriter, r *http.Request) error {
	o, err := s.paymentByParam(r)
	if err != nil {
		return err
	}
	// The page is drawn from what is stored: asking the gateway about a
	// waiting payment (up to its timeout) is left to the status block,
	// which refreshes as soon as the page is shown.
	live, err := s.paymentLive(r, o)
	if err != nil {
		return err
	}
	live.AskNow = live.Poll
	g, err := s.db.GatewayAccount(r.Context(), o.AccountID)
	if err != nil {
		return err
	}
	link, err := s.db.PayLinkByOrder(r.Context(), o.ID)
	if err != nil {
		return err
	}
	v := views.PaymentView{
		ID: o.ID, MchOrderNo: o.MchOrderNo, PayOrderID: o.PayOrderID, ChannelOrderNo: o.ChannelOrderNo,
		Account: g.Name, Product: productLabel(o.ProductID), Amount: money.Format(o.Amount),
		Subject: o.Subject, Body: o.Body, Param1: o.Param1, Param2: o.Param2, PayURL: o.PayURL,
		Expires: tr(r).T("never"), Created: views.Time(o.CreatedAt, s.loc), CreatedBy: o.CreatedBy,
		Live: live,
	}
	acts := desk.PaymentActionsFor(s.actor(r), o, link)
	v.CanOperate = acts.Deactivate || acts.Reactivate
	if !o.ExpiresAt.IsZero() {
		v.Expires = views.Time(o.ExpiresAt, s.loc)
	}
	if o.PayURL != "" {
		if a, err := payments.ParsePayURL(o.PayURL); err == nil {
			v.PayMethod = a.Method
		}
	}
	if link.Token != "" {
		v.LinkURL = s.linkURL(link.Token)
		v.LinkActive = link.Active
		switch {
		case !link.Active:
			v.LinkNote = tr(r).T("Deactivated by %s at %s; customers who open it see that it was cancelled.", link.ChangedBy, views.Time(link.ChangedAt, s.loc))
		case !o.ExpiresAt.IsZero() && !s.now().Before(o.ExpiresAt) && !payments.IsPaid(o.StatusOr(-99)):
			v.LinkNote = tr(r).T("The link has expired; customers who open it see that.")
		case o.State == store.PayStateOpen && o.PayURL == "":
			v.LinkNote = tr(r).T("Without the gateway's pay link, customers who open this link are told it cannot be paid online.")
		case o.State == store.PayStateRefused:
			v.LinkNote = tr(r).T("The payment was refused; customers who open this link are told it cannot be paid.")
		}
	}
	ov, err := s.orderView(r, payInfo(o))
	if err != nil {
		return err
	}
	// The resend posts to the order's address, which leads back here.
	v.Order = &ov
	return s.render(w, r, http.StatusOK, views.PaymentPage(s.pagef(r, "payments", "Payment %s", o.MchOrderNo), v))
}

// linkURL is the public payment link with token.
func (s *Server) linkURL(token string) string {
	return strings.TrimRight(s.desk.PublicURL(), "/") + "/pay/" + token
}

// paymentStatus is the refreshing fragment of a payment's page.
func (s *Server) paymentStatus(w http.ResponseWriter, r *http.Request) error {
	o, err := s.paymentByParam(r)
	if err != nil {
		return err
	}
	o = s.desk.RefreshPayment(r.Context(), o)
	live, err := s.paymentLive(r, o)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.PaymentLiveBlock(live))
}

// checkPaymentNow is the "Check status" button.
func (s *Server) checkPaymentNow(w http.ResponseWriter, r *http.Request) error {
	o, err := s.paymentByParam(r)
	if err != nil {
		return err
	}
	msg, err := s.desk.CheckPayment(r.Context(), s.actor(r), o.ID)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "true" {
		fresh, err := s.db.PayOrderByID(r.Context(), o.ID)
		if err != nil {
			return err
		}
		live, err := s.paymentLive(r, fresh)
		if err != nil {
			return err
		}
		live.Note = tr(r).Msg(msg)
		return s.render(w, r, http.StatusOK, views.PaymentLiveBlock(live))
	}
	s.flash(r, tr(r).Msg(msg))
	return redirect(w, r, fmt.Sprintf("/payments/%d", o.ID))
}

func (s *Server) deactivatePaymentLink(w http.ResponseWriter, r *http.Request) error {
	return s.setPaymentLinkActive(w, r, false)
}

func (s *Server) reactivatePaymentLink(w http.ResponseWriter, r *http.Request) error {
	return s.setPaymentLinkActive(w, r, true)
}

func (s *Server) setPaymentLinkActive(w http.ResponseWriter, r *http.Request, active bool) error {
	o, err := s.paymentByParam(r)
	if err != nil {
		return err
	}
	changed, err := s.desk.SetPaymentLinkActive(r.Context(), s.actor(r), o.ID, active)
	if err != nil {
		return err
	}
	switch {
	case !changed && active:
		s.flash(r, tr(r).T("The link was already reactivated."))
	case !changed:
		s.flash(r, tr(r).T("The link was already deactivated."))
	case active:
		s.flash(r, tr(r).T("Payment link reactivated."))
	default:
		s.flash(r, tr(r).T("Payment link deactivated."))
	}
	return redirect(w, r, fmt.Sprintf("/payments/%d", o.ID))
}

// rangeFilter reads a list's date range (days in the console's zone, the
// to day included) and amount range (yuan, by the one amount parser),
// adding a sentence to problems for each part that cannot be read.
func (s *Server) rangeFilter(p *i18n.Printer, from, to, lowest, highest string, problems *[]string) (fromT, toT time.Time, minFen, maxFen int64) {
	day := func(v, key string, end bool) time.Time {
		t, err := s.parseDay(v, end)
		if err != nil {
			*problems = append(*problems, p.T(key, v))
		}
		return t
	}
	amount := func(v, key string) int64 {
		if v == "" {
			return 0
		}
		fen, err := money.Parse(v)
		if err != nil {
			*problems = append(*problems, p.T(key, p.Msg(desk.AmountProblem(err))))
		}
		return fen
	}
	return day(from, i18n.N("The from date %q is not a date like 2026-11-26."), false), day(to, i18n.N("The to date %q is not a date like 2026-11-26."), true),
		amount(lowest, i18n.N("The minimum amount: %s")), amount(highest, i18n.N("The maximum amount: %s"))
}

// paymentFilter reads the list's filters from a query string. Problems are
// sentences for staff; the filter then leaves that part out.
func (s *Server) paymentFilter(p *i18n.Printer, q url.Values) (store.PayOrderFilter, views.PaymentList, []string) {
	l := views.PaymentList{
		Number: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Product: q.Get("product"), Account: q.Get("account"),
		From: q.Get("from"), To: q.Get("to"), Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max")),
	}
	var f store.PayOrderFilter
	var problems []string
	f.Number = l.Number
	if l.Status != "" {
		if store.IsPayPhase(l.Status) {
			f.Phase = l.Status
		} else {
			problems = append(problems, p.T("Unknown status filter %q.", l.Status))
		}
	}
	if l.Product != "" {
		if id, err := strconv.Atoi(l.Product); err == nil {
			f.ProductID = id
		} else {
			problems = append(problems, p.T("The product filter must be a product number such as 8002."))
		}
	}
	if l.Account != "" {
		if id, err := strconv.ParseInt(l.Account, 10, 64); err == nil {
			f.AccountID = id
		}
	}
	f.From, f.To, f.MinAmount, f.MaxAmount = s.rangeFilter(p, l.From, l.To, l.Min, l.Max, &problems)
	return f, l, problems
}

// phaseLabel names a status filter of the payments list.
func phaseLabel(phase string) string {
	switch phase {
	case "created":
		return i18n.N("not paid yet")
	case "paying":
		return i18n.N("paying")
	case "paid":
		return i18n.N("paid")
	case "failed":
		return i18n.N("payment failed")
	case "expired":
		return i18n.N("expired")
	case "refunded":
		return i18n.N("refunded")
	case "unknown":
		return i18n.N("unclear — checking")
	case "refused":
		return i18n.N("refused by the gateway")
	case "other":
		return i18n.N("other status")
	}
	return phase
}

func (s *Server) paymentsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f, l, problems := s.paymentFilter(tr(r), q)
	l.Errors = problems
	if c, ok := store.ParsePayCursor(q.Get("after")); ok {
		f.After = c
	} else if c, ok := store.ParsePayCursor(q.Get("before")); ok {
		f.Before = c
	}
	page, err := s.db.ListPayOrders(r.Context(), f)
	if err != nil {
		return err
	}
	accts, err := s.db.GatewayAccounts(r.Context(), true)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, g := range accts {
		names[g.ID] = g.Name
		l.Accounts = append(l.Accounts, views.Choice{Value: strconv.FormatInt(g.ID, 10), Label: g.Name})
	}
	for _, ph := range store.PayPhases() {
		l.Statuses = append(l.Statuses, views.Choice{Value: ph, Label: tr(r).T(phaseLabel(ph))})
	}
	l.Products = productOptions()
	for _, o := range page.Orders {
		l.Rows = append(l.Rows, views.PaymentRow{
			ID: o.ID, Created: views.Time(o.CreatedAt, s.loc), MchOrderNo: o.MchOrderNo, PayOrderID: o.PayOrderID,
			Account: names[o.AccountID], Product: productLabel(o.ProductID), Amount: money.Format(o.Amount),
			StatusText: tr(r).Msg(desk.PaymentName(o)), Tone: payTone(o), Subject: o.Subject,
		})
	}
	base := url.Values{}
	for _, k := range []string{"q", "status", "product", "account", "from", "to", "min", "max"} {
		if v := q.Get(k); v != "" {
			base.Set(k, v)
		}
	}
	withCursor := func(key, cur string) string {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		if key != "" {
			v.Set(key, cur)
		}
		if len(v) == 0 {
			return "/payments"
		}
		return "/payments?" + v.Encode()
	}
	l.FirstURL = withCursor("", "")
	if page.Newer != "" {
		l.NewerURL = withCursor("before", page.Newer)
	}
	if page.Older != "" {
		l.OlderURL = withCursor("after", page.Older)
	}
	l.CSVURL = "/payments.csv"
	if len(base) > 0 {
		l.CSVURL += "?" + base.Encode()
	}
	u, _ := userFrom(r.Context())
	l.CanCreate = roleAccess(u.Role) >= operator
	return s.render(w, r, http.StatusOK, views.Payments(s.page(r, "Payments", "payments"), l))
}
