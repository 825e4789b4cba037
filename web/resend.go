package web

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/store"
	"paydesk/views"
)

// resendOrder asks the gateway to send an order's callback again.
func (s *Server) resendOrder(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orderFromRequest(r)
	if err != nil {
		return err
	}
	res, err := s.desk.ResendOrder(r.Context(), s.actor(r), o.kind, o.id)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.TooMany {
		s.flash(r, tr(r).Msg(refusal.Message()))
		return redirect(w, r, o.href())
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).Msg(res.Message))
	return redirect(w, r, o.href())
}

// bulkResend previews (and, confirmed, starts) a resend of every order
// matching the orders list filter.
func (s *Server) bulkResend(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	f, fv := s.orderFilter(r.PostForm)
	f.Limit = desk.MaxBulkResend + 1
	rows, err := s.db.Orders(ctx, f)
	if err != nil {
		return err
	}
	plan := s.desk.PlanResend(rows)
	filter := filterText(fv)
	v := views.ResendPreviewView{Filter: fv, FilterText: tr(r).Msg(filter), Total: len(rows), Max: desk.MaxBulkResend, TooMany: plan.TooMany,
		CooldownTxt: waitText(tr(r), desk.ResendCooldown), Ineligible: plan.Ineligible, Cooling: plan.Cooling, Eligible: len(plan.Items)}
	if r.PostForm.Get("confirm") != "1" || plan.TooMany || len(plan.Items) == 0 {
		return s.render(w, r, http.StatusOK, views.ResendPreview(s.page(r, "Resend notifications", "orders"), v))
	}
	id, err := s.desk.StartBulkResend(ctx, s.actor(r), filter, rows)
	if err != nil {
		return err
	}
	return redirect(w, r, "/orders/resend/"+strconv.FormatInt(id, 10))
}

func (s *Server) resendJobFromRequest(r *http.Request) (views.ResendJobView, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "job"), 10, 64)
	if err != nil {
		return views.ResendJobView{}, errNotFound
	}
	j, items, err := s.db.ResendJobByID(r.Context(), id)
	if err != nil {
		return views.ResendJobView{}, err
	}
	pr := tr(r)
	v := views.ResendJobView{ID: j.ID, State: pr.Msg(desk.ResendJobName(j.State)), StateCode: j.State, CreatedBy: j.CreatedBy, Created: views.Time(j.CreatedAt, s.loc), FilterText: pr.Text(j.Filter),
		Total: j.Total, Done: j.Done, Sent: j.Sent, Skipped: j.Skipped, Failed: j.Failed, Running: j.State == store.ResendRunning,
		PollURL: "/orders/resend/" + strconv.FormatInt(j.ID, 10)}
	if u, ok := userFrom(r.Context()); ok {
		v.CanCancel = v.Running && roleAccess(u.Role) >= operator
	}
	// The latest orders done first, at most 100 of them.
	for i := len(items) - 1; i >= 0 && len(v.Items) < 100; i-- {
		it := items[i]
		if it.Result == "" {
			continue
		}
		v.Items = append(v.Items, views.ResendItemView{Href: orderHref(it.OrderKind, it.OrderRef), Label: pr.T("%s %s", pr.Msg(desk.OrderKindName(it.OrderKind)), it.MchNo),
			Result: pr.T(resendResultName(it.Result)), Detail: pr.Text(it.Detail)})
	}
	return v, nil
}

// resendResultName names what happened to one order of a bulk resend.
func resendResultName(result string) string {
	switch result {
	case "sent":
		return i18n.N("asked to notify")
	case "skipped":
		return i18n.N("skipped")
	case "failed":
		return i18n.N("failed")
	}
	return result
}

func (s *Server) resendJobPage(w http.ResponseWriter, r *http.Request) error {
	v, err := s.resendJobFromRequest(r)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") == "true" {
		return s.render(w, r, http.StatusOK, views.ResendProgress(v))
	}
	return s.render(w, r, http.StatusOK, views.ResendJobPage(s.page(r, "Resend job", "orders"), v))
}

func (s *Server) cancelResendJob(w http.ResponseWriter, r *http.Request) error {
	v, err := s.resendJobFromRequest(r)
	if err != nil {
		return err
	}
	if err := s.desk.CancelResendJob(r.Context(), s.actor(r), v.ID); err != nil {
		return err
	}
	s.flash(r, tr(r).T("The resend job stops after the order it is on."))
	return redirect(w, r, "/orders/resend/"+strconv.FormatInt(v.ID, 10))
}
