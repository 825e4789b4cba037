package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

func resultTone(result string) string {
	switch result {
	case store.NotifyApplied:
		return "ok"
	case store.NotifyRejected, store.NotifyAlert:
		return "err"
	case store.NotifyPending:
		return "warn"
	case store.NotifyDuplicate, store.NotifyStale:
		return "info"
	}
	return ""
}

func (s *Server) notificationRow(pr *i18n.Printer, n store.Notification) views.NotificationRow {
	row := views.NotificationRow{ID: n.ID, Href: "/notifications/" + strconv.FormatInt(n.ID, 10), Received: views.Time(n.ReceivedAt, s.loc),
		Kind: pr.T(callbackKindName(n.Kind)), KindCode: n.Kind, Method: n.Method, Client: n.ClientAddr,
		Result: pr.Msg(desk.CallbackResultName(n.Result)), ResultCode: n.Result, ResultTone: resultTone(n.Result), Reason: n.Reason,
		Reply: replyText(pr, n.ReplyCode, n.ReplyBody), Signature: "—"}
	row.OrderLabel = orDash(strings.TrimSpace(n.MchOrderNo + " " + n.OrderNo))
	if n.OrderKind != "" {
		row.OrderHref = orderHref(n.OrderKind, n.OrderRef)
	}
	if n.Status != nil {
		row.Status = pr.Msg(desk.StatusName(n.Kind, n.Status))
	}
	if n.SigValid != nil {
		row.Signature = pr.T(map[bool]string{true: i18n.N("valid"), false: i18n.N("does not match")}[*n.SigValid])
	}
	return row
}

// callbackKindName names the kind of a callback.
func callbackKindName(kind string) string {
	if kind == store.KindTrans {
		return i18n.N("payout callback")
	}
	return i18n.N("payment callback")
}

// notificationFilter reads the notification log's filter from the query
// string: the form as it is shown again, and the store filter. An order
// number finds callbacks by the gateway's number as received, or through
// the order the number names.
func (s *Server) notificationFilter(ctx context.Context, q url.Values) (store.NotificationFilter, views.NotificationFilterView, error) {
	fv := views.NotificationFilterView{Kind: q.Get("kind"), Result: q.Get("result"), From: q.Get("from"), To: q.Get("to"), Order: strings.TrimSpace(q.Get("order"))}
	f := store.NotificationFilter{Limit: 50}
	if fv.Order != "" {
		// By the gateway's number as received, or through the order the
		// number names (merchant or channel numbers).
		f.OrderNos = []string{fv.Order}
		if o, err := s.db.PayOrderByNumber(ctx, fv.Order); err == nil {
			f.Orders = append(f.Orders, store.OrderKey{Kind: store.KindPay, Ref: o.ID})
			if o.PayOrderID != "" && o.PayOrderID != fv.Order {
				f.OrderNos = append(f.OrderNos, o.PayOrderID)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return f, fv, err
		}
		if p, err := s.db.PayoutByNumber(ctx, fv.Order); err == nil {
			f.Orders = append(f.Orders, store.OrderKey{Kind: store.KindTrans, Ref: p.ID})
			if p.TransOrderID != "" && p.TransOrderID != fv.Order {
				f.OrderNos = append(f.OrderNos, p.TransOrderID)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return f, fv, err
		}
	}
	if fv.Kind == store.KindPay || fv.Kind == store.KindTrans {
		f.Kind = fv.Kind
	} else {
		fv.Kind = ""
	}
	for _, res := range store.NotifyResults() {
		if fv.Result == res {
			f.Result = res
		}
	}
	if f.Result == "" {
		fv.Result = ""
	}
	var err error
	if f.From, err = s.parseDay(fv.From, false); err != nil {
		fv.From = ""
	}
	if f.To, err = s.parseDay(fv.To, true); err != nil {
		fv.To = ""
	}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	return f, fv, nil
}

func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f, fv, err := s.notificationFilter(ctx, q)
	if err != nil {
		return err
	}
	rows, err := s.db.Notifications(ctx, f)
	if err != nil {
		return err
	}
	pr := tr(r)
	v := views.NotificationsView{Filter: fv, ShowAll: q.Get("alerts") == "all"}
	for _, res := range store.NotifyResults() {
		v.Results = append(v.Results, views.Option{Value: res, Label: pr.Msg(desk.CallbackResultName(res))})
	}
	if u, ok := userFrom(ctx); ok {
		v.CanOperate = roleAccess(u.Role) >= operator
	}
	for _, n := range rows {
		v.Rows = append(v.Rows, s.notificationRow(pr, n))
	}
	if len(rows) == f.Limit {
		next := url.Values{}
		for k, vals := range q {
			next[k] = vals
		}
		next.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		v.NextURL = "/notifications?" + next.Encode()
	}
	alerts, err := s.db.Alerts(ctx, v.ShowAll, 200)
	if err != nil {
		return err
	}
	for _, a := range alerts {
		summary, tech := pr.TextTech(a.Summary)
		row := views.AlertRow{ID: a.ID, Kind: a.Kind, KindText: pr.Msg(desk.AlertKindName(a.Kind)), Summary: summary, Tech: tech, Count: a.Count,
			First: views.Time(a.CreatedAt, s.loc), Last: views.Time(a.LastAt, s.loc),
			Acked: !a.AckedAt.IsZero(), AckedBy: a.AckedBy, AckNote: a.AckNote, AckedAt: views.Time(a.AckedAt, s.loc)}
		if a.OrderKind != "" {
			row.OrderHref = orderHref(a.OrderKind, a.OrderRef)
		}
		if a.NotificationID != 0 {
			row.NotifHref = "/notifications/" + strconv.FormatInt(a.NotificationID, 10)
		}
		v.Alerts = append(v.Alerts, row)
	}
	return s.render(w, r, http.StatusOK, views.NotificationsPage(s.page(r, "Notifications", "notifications"), v))
}

func (s *Server) notificationPage(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	n, err := s.db.NotificationByID(r.Context(), id)
	if err != nil {
		return err
	}
	pr := tr(r)
	d := views.NotificationDetail{NotificationRow: s.notificationRow(pr, n), Headers: n.Headers, RawQuery: n.RawQuery, RawBody: printable(n.RawBody)}
	if n.QueryLen > len(n.RawQuery) {
		d.QueryCut = pr.T("Rejected unverified request: only the first %d of its %d bytes are kept.", len(n.RawQuery), n.QueryLen)
	}
	if n.BodyLen > len(n.RawBody) {
		d.BodyCut = pr.T("Rejected unverified request: only the first %d of its %d bytes are kept.", len(n.RawBody), n.BodyLen)
	}
	if pn, err := payments.ParseNotification(payments.NotifyKind(n.Kind), n.Method, n.RawQuery, n.Header("Content-Type"), n.RawBody); err == nil {
		for line := range strings.Lines(paramsText(pn.Fields)) {
			k, val, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " = ")
			d.Fields = append(d.Fields, views.Fact{Label: k, Value: val, Mono: true})
		}
	}
	return s.render(w, r, http.StatusOK, views.NotificationPage(s.pagef(r, "notifications", "Callback %s", strconv.FormatInt(n.ID, 10)), d))
}

// printable shows a stored body as text, with bytes that are not UTF-8 escaped.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strconv.QuoteToASCII(string(b))
}

// ackAlert closes an alert with a note, audit-logged.
func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return errNotFound
	}
	if err := parseForm(r); err != nil {
		return err
	}
	err = s.desk.AckAlert(r.Context(), s.actor(r), id, r.PostForm.Get("note"))
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		s.flashError(r, tr(r).Msg(refusal.Message()))
		return redirect(w, r, "/notifications")
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Alert acknowledged."))
	return redirect(w, r, "/notifications")
}
