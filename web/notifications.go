package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
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

func (s *Server) notificationRow(n store.Notification) views.NotificationRow {
	row := views.NotificationRow{ID: n.ID, Href: "/notifications/" + strconv.FormatInt(n.ID, 10), Received: views.Time(n.ReceivedAt, s.loc),
		Kind: n.Kind, Method: n.Method, Client: n.ClientAddr, Result: n.Result, ResultTone: resultTone(n.Result), Reason: n.Reason,
		Reply: replyText(n.ReplyCode, n.ReplyBody), Signature: "—"}
	row.OrderLabel = orDash(strings.TrimSpace(n.MchOrderNo + " " + n.OrderNo))
	if n.OrderKind != "" {
		row.OrderHref = orderHref(n.OrderKind, n.OrderRef)
	}
	if n.Status != nil {
		row.Status = statusText(n.Kind, n.Status)
	}
	if n.SigValid != nil {
		row.Signature = map[bool]string{true: "valid", false: "invalid"}[*n.SigValid]
	}
	return row
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
	v := views.NotificationsView{Filter: fv, Results: store.NotifyResults(), ShowAll: q.Get("alerts") == "all"}
	if u, ok := userFrom(ctx); ok {
		v.CanOperate = roleAccess(u.Role) >= operator
	}
	for _, n := range rows {
		v.Rows = append(v.Rows, s.notificationRow(n))
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
		row := views.AlertRow{ID: a.ID, Kind: a.Kind, KindText: desk.AlertKindText(a.Kind), Summary: a.Summary, Count: a.Count,
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
	d := views.NotificationDetail{NotificationRow: s.notificationRow(n), Headers: n.Headers, RawQuery: n.RawQuery, RawBody: printable(n.RawBody)}
	if n.QueryLen > len(n.RawQuery) {
		d.QueryCut = fmt.Sprintf("Rejected unverified request: only the first %d of its %d bytes are kept.", len(n.RawQuery), n.QueryLen)
	}
	if n.BodyLen > len(n.RawBody) {
		d.BodyCut = fmt.Sprintf("Rejected unverified request: only the first %d of its %d bytes are kept.", len(n.RawBody), n.BodyLen)
	}
	if pn, err := payments.ParseNotification(payments.NotifyKind(n.Kind), n.Method, n.RawQuery, n.Header("Content-Type"), n.RawBody); err == nil {
		for line := range strings.Lines(paramsText(pn.Fields)) {
			k, val, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " = ")
			d.Fields = append(d.Fields, views.Fact{Label: k, Value: val, Mono: true})
		}
	}
	return s.render(w, r, http.StatusOK, views.NotificationPage(s.page(r, "Callback", "notifications"), d))
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
		s.flashError(r, refusal.Error())
		return redirect(w, r, "/notifications")
	}
	if err != nil {
		return err
	}
	s.flash(r, "Alert acknowledged.")
	return redirect(w, r, "/notifications")
}
