package web

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// The public payment link, /pay/{token}: what a customer sees. It shows
// the merchant's name, the amount, the subject and the way to pay, and
// nothing else of the order (no ids, no notes, no order numbers).
//
// QR codes: the public page shows a QR code of the payUrl itself when it is
// a plain URL (what a wallet app scans); the QR code staff download and
// print encodes the payment link, so that deactivating or expiring the
// link also stops the printed code, and the POST;url form works from it.

// payLinkByParam loads the link and order named by the {token} parameter.
func (s *Server) payLinkByParam(r *http.Request) (store.PayLink, store.PayOrder, error) {
	link, err := s.db.PayLinkByToken(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		return link, store.PayOrder{}, errStatus(http.StatusNotFound, "This payment link does not exist. Check the address, or ask the merchant for a new link.")
	}
	o, err := s.db.PayOrderByID(r.Context(), link.OrderID)
	return link, o, err
}

func (s *Server) merchantName(g store.GatewayAccount) string {
	if g.MerchantName != "" {
		return g.MerchantName
	}
	return g.Name
}

// publicLive decides what the customer sees.
func (s *Server) publicLive(link store.PayLink, o store.PayOrder) (views.PublicLive, payments.PayAction) {
	l := views.PublicLive{StatusURL: "/pay/" + link.Token + "/status"}
	st := o.StatusOr(payments.PayCreated)
	var action payments.PayAction
	switch {
	case !link.Active:
		l.State, l.Message = "cancelled", i18n.N("This payment link has been cancelled by the merchant.")
	case o.State == store.PayStateOpen && payments.IsPaid(st):
		l.State, l.Message = "paid", i18n.N("Thank you — the payment has been received.")
	case o.State == store.PayStateOpen && st == payments.PayRefunded:
		l.State, l.Message = "unavailable", i18n.N("This payment has been refunded.")
	case st == payments.PayExpired || (!o.ExpiresAt.IsZero() && !s.now().Before(o.ExpiresAt)):
		l.State, l.Message = "expired", i18n.N("This payment link has expired. Ask the merchant for a new one.")
	case o.State == store.PayStateCreating || o.State == store.PayStateUnknown:
		l.State, l.Message, l.Poll = "preparing", i18n.N("The payment is being prepared. This page updates by itself."), true
	case o.State == store.PayStateRefused:
		l.State, l.Message = "unavailable", i18n.N("This payment cannot be paid. Ask the merchant for a new link.")
	case payments.IsPayFailed(st):
		l.State, l.Message = "failed", i18n.N("The payment did not go through. Ask the merchant for a new link.")
	default:
		a, err := payments.ParsePayURL(o.PayURL)
		if err != nil {
			// The order may still turn paid or be cancelled: keep following it.
			l.State, l.Message, l.Poll = "unavailable", i18n.N("This payment cannot be paid online. Ask the merchant for a new link."), desk.PaymentWaiting(o)
			break
		}
		action = a
		l.State, l.Poll = "payable", true
		l.GoURL = "/pay/" + link.Token + "/go"
		if a.Method == "GET" {
			l.QRURL = "/pay/" + link.Token + "/qr.png"
		}
		if !o.ExpiresAt.IsZero() {
			l.Expires, l.Zone = views.Time(o.ExpiresAt, s.loc), views.ZoneName(s.loc)
		}
	}
	return l, action
}

// linkLive reports whether a customer may still pay through a link, so
// that its page may ask the gateway for news.
func (s *Server) linkLive(link store.PayLink, o store.PayOrder) bool {
	return link.Active && (o.ExpiresAt.IsZero() || s.now().Before(o.ExpiresAt))
}

func publicHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Robots-Tag", "noindex, nofollow")
}

func (s *Server) publicPayPage(w http.ResponseWriter, r *http.Request) error {
	link, o, err := s.payLinkByParam(r)
	if err != nil {
		return err
	}
	if s.linkLive(link, o) {
		o = s.desk.RefreshPayment(r.Context(), o)
	}
	g, err := s.db.GatewayAccount(r.Context(), o.AccountID)
	if err != nil {
		return err
	}
	live, _ := s.publicLive(link, o)
	publicHeaders(w)
	return s.render(w, r, http.StatusOK, views.PublicPay(views.PublicPayment{
		MerchantName: s.merchantName(g), Amount: money.Format(o.Amount), Subject: o.Subject, Live: live,
	}))
}

// publicPayStatus is the fragment the public page polls.
func (s *Server) publicPayStatus(w http.ResponseWriter, r *http.Request) error {
	link, o, err := s.payLinkByParam(r)
	if err != nil {
		return err
	}
	if s.linkLive(link, o) {
		o = s.desk.RefreshPayment(r.Context(), o)
	}
	live, _ := s.publicLive(link, o)
	publicHeaders(w)
	return s.render(w, r, http.StatusOK, views.PublicPayLive(live))
}

// publicPayGo takes the customer to the gateway: a redirect for a plain
// payUrl, a self-submitting form for a POST;url one.
func (s *Server) publicPayGo(w http.ResponseWriter, r *http.Request) error {
	link, o, err := s.payLinkByParam(r)
	if err != nil {
		return err
	}
	live, action := s.publicLive(link, o)
	publicHeaders(w)
	if live.State != "payable" {
		http.Redirect(w, r, "/pay/"+link.Token, http.StatusSeeOther)
		return nil
	}
	if action.Method == "GET" {
		http.Redirect(w, r, action.Action, http.StatusSeeOther)
		return nil
	}
	v := views.PayRedirect{Action: action.Action}
	for _, f := range action.Fields {
		v.Fields = append(v.Fields, views.HiddenField{Name: f.Name, Value: f.Value})
	}
	return s.render(w, r, http.StatusOK, views.PublicPayRedirect(v))
}

// publicPayQR is the QR code of the payUrl, while the link is payable.
func (s *Server) publicPayQR(w http.ResponseWriter, r *http.Request) error {
	link, o, err := s.payLinkByParam(r)
	if err != nil {
		return err
	}
	live, action := s.publicLive(link, o)
	if live.State != "payable" || action.Method != "GET" {
		return errNotFound
	}
	return writeQR(w, r, action.Action, "png", "pay")
}

// paymentQR is the QR code of a payment's public link, for staff.
func (s *Server) paymentQR(format string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		o, err := s.paymentByParam(r)
		if err != nil {
			return err
		}
		link, err := s.db.PayLinkByOrder(r.Context(), o.ID)
		if err != nil {
			return err
		}
		if link.Token == "" {
			return errStatus(http.StatusNotFound, "This payment has no payment link: Paydesk did not create it.")
		}
		return writeQR(w, r, s.linkURL(link.Token), format, "payment-"+o.MchOrderNo)
	}
}

// paymentCard is the printable card of a payment link.
func (s *Server) paymentCard(w http.ResponseWriter, r *http.Request) error {
	o, err := s.paymentByParam(r)
	if err != nil {
		return err
	}
	link, err := s.db.PayLinkByOrder(r.Context(), o.ID)
	if err != nil {
		return err
	}
	if link.Token == "" {
		return errStatus(http.StatusNotFound, "This payment has no payment link: Paydesk did not create it.")
	}
	g, err := s.db.GatewayAccount(r.Context(), o.AccountID)
	if err != nil {
		return err
	}
	c := views.PayCard{MerchantName: s.merchantName(g), Amount: money.Format(o.Amount), AmountCapitals: money.Capitals(o.Amount), Subject: o.Subject,
		QRURL: fmt.Sprintf("/payments/%d/qr.png", o.ID), LinkURL: s.linkURL(link.Token)}
	if !o.ExpiresAt.IsZero() {
		c.Expires, c.Zone = views.Time(o.ExpiresAt, s.loc), views.ZoneName(s.loc)
	}
	switch {
	case payments.IsPaid(o.StatusOr(-99)):
		c.Zone = views.ZoneName(s.loc)
		c.Paid = views.Time(o.PaySuccAt, s.loc)
		if o.PaySuccAt.IsZero() {
			c.Paid = views.Time(o.UpdatedAt, s.loc)
		}
	case !link.Active:
		c.Cancelled = true
	}
	return s.render(w, r, http.StatusOK, views.PublicPayCard(c))
}
