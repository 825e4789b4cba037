package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"paydesk/store"
	"paydesk/views"
)

const (
	// resendCooldown is how long after a resend an order is not resent
	// again: the callback asked for needs that long to arrive.
	resendCooldown = time.Minute
	// maxBulkResend bounds one bulk resend.
	maxBulkResend = 5000
	// resendPace spaces a bulk resend's queries, to spare the gateway.
	resendPace = 50 * time.Millisecond
)

// resendOrder asks the gateway to send an order's callback again.
func (s *Server) resendOrder(w http.ResponseWriter, r *http.Request) error {
	o, err := s.orderFromRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	last, err := s.db.LastEventAt(ctx, o.kind, o.id, store.EventResend)
	if err != nil {
		return err
	}
	if wait := resendCooldown - s.now().Sub(last); !last.IsZero() && wait > 0 {
		s.flash(r, "This order was resent "+waitText(s.now().Sub(last))+" ago. Wait "+waitText(wait)+" for that callback before resending again.")
		return redirect(w, r, o.href())
	}
	u, _ := userFrom(ctx)
	res, err := s.queryAndApply(ctx, o, querySpec{source: "resend", actor: u.Username, clientAddr: s.clientAddr(r), executeNotify: true})
	if err != nil {
		return err
	}
	s.flash(r, res.message)
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
	f.Limit = maxBulkResend + 1
	rows, err := s.db.Orders(ctx, f)
	if err != nil {
		return err
	}
	v := views.ResendPreviewView{Filter: fv, FilterText: filterText(fv), Total: len(rows), Max: maxBulkResend, TooMany: len(rows) > maxBulkResend,
		CooldownTxt: waitText(resendCooldown)}
	var items []store.ResendItem
	now := s.now()
	for _, o := range rows {
		info := orderInfo{kind: o.Kind, status: o.Status}
		switch {
		case !info.notifiable():
			v.Ineligible++
		case !o.LastResend.IsZero() && now.Sub(o.LastResend) < resendCooldown:
			v.Cooling++
		default:
			v.Eligible++
			items = append(items, store.ResendItem{OrderKind: o.Kind, OrderRef: o.ID})
		}
	}
	if r.PostForm.Get("confirm") != "1" || v.TooMany || len(items) == 0 {
		return s.render(w, r, http.StatusOK, views.ResendPreview(s.page(r, "Resend notifications", "orders"), v))
	}
	u, _ := userFrom(ctx)
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = s.db.CreateResendJobTx(ctx, tx, store.ResendJob{CreatedBy: u.Username, Filter: v.FilterText}, items)
		if err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "resend.start", Subject: "resend_job:" + strconv.FormatInt(id, 10),
			Detail: fmt.Sprintf("%d orders matching %s", len(items), v.FilterText), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.startResendJob(id, u.Username, s.clientAddr(r))
	return redirect(w, r, "/orders/resend/"+strconv.FormatInt(id, 10))
}

// startResendJob runs a stored job in the background.
func (s *Server) startResendJob(id int64, actor, addr string) {
	b := s.bg
	ctx, cancel := context.WithCancel(b.ctx)
	b.mu.Lock()
	b.jobs[id] = cancel
	b.mu.Unlock()
	b.start(func(context.Context) {
		defer func() {
			b.mu.Lock()
			delete(b.jobs, id)
			b.mu.Unlock()
			cancel()
		}()
		s.runResendJob(ctx, id, actor, addr)
	})
}

// runResendJob works through a job's orders until done or cancelled
// (ctx). The order in hand is finished even when cancelled meanwhile.
func (s *Server) runResendJob(ctx context.Context, id int64, actor, addr string) {
	work := context.WithoutCancel(ctx)
	_, items, err := s.db.ResendJobByID(work, id)
	if err != nil {
		s.log.Error("resend job", "job", id, "err", err)
		if err := s.db.FinishResendJob(work, id, store.ResendInterrupted); err != nil {
			s.log.Error("resend job", "job", id, "err", err)
		}
		return
	}
	state := store.ResendFinished
	for i, it := range items {
		if it.Result != "" {
			continue
		}
		if i > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(resendPace):
			}
		}
		if ctx.Err() != nil {
			state = store.ResendCancelled
			break
		}
		result, detail := s.resendOne(work, it, actor, addr)
		if err := s.db.InTx(work, func(tx *sql.Tx) error {
			return s.db.ResendItemDoneTx(work, tx, id, it.Seq, result, detail)
		}); err != nil {
			s.log.Error("resend job", "job", id, "err", err)
		}
	}
	if s.bg.ctx.Err() != nil {
		state = store.ResendInterrupted
	}
	if err := s.db.FinishResendJob(work, id, state); err != nil {
		s.log.Error("resend job", "job", id, "err", err)
	}
}

// resendOne resends one order of a job, unless it changed or was resent
// meanwhile.
func (s *Server) resendOne(ctx context.Context, it store.ResendItem, actor, addr string) (result, detail string) {
	o, err := s.loadOrder(ctx, it.OrderKind, it.OrderRef)
	if err != nil {
		return "failed", err.Error()
	}
	if !o.notifiable() {
		return "skipped", "no longer " + o.notifiableText()
	}
	last, err := s.db.LastEventAt(ctx, o.kind, o.id, store.EventResend)
	if err != nil {
		return "failed", err.Error()
	}
	if !last.IsZero() && s.now().Sub(last) < resendCooldown {
		return "skipped", "resent " + waitText(s.now().Sub(last)) + " ago"
	}
	res, err := s.queryAndApply(ctx, o, querySpec{source: "resend", actor: actor, clientAddr: addr, executeNotify: true})
	switch {
	case err != nil:
		return "failed", err.Error()
	case !res.answered:
		return "failed", res.message
	}
	return "sent", res.message
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
	v := views.ResendJobView{ID: j.ID, State: j.State, CreatedBy: j.CreatedBy, Created: views.Time(j.CreatedAt, s.loc), FilterText: j.Filter,
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
		v.Items = append(v.Items, views.ResendItemView{Href: orderHref(it.OrderKind, it.OrderRef), Label: kindText(it.OrderKind) + " " + it.MchNo,
			Result: it.Result, Detail: it.Detail})
	}
	return v, nil
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
	u, _ := userFrom(r.Context())
	s.bg.mu.Lock()
	cancel := s.bg.jobs[v.ID]
	s.bg.mu.Unlock()
	if cancel != nil {
		cancel()
	} else if v.Running {
		// Not running in this process (left over): end it here.
		if err := s.db.FinishResendJob(r.Context(), v.ID, store.ResendCancelled); err != nil {
			return err
		}
	}
	if err := s.db.Audit(r.Context(), store.AuditEntry{Actor: u.Username, Action: "resend.cancel", Subject: "resend_job:" + strconv.FormatInt(v.ID, 10),
		Detail: fmt.Sprintf("cancelled after %d of %d", v.Done, v.Total), ClientAddr: s.clientAddr(r)}); err != nil {
		return err
	}
	s.flash(r, "The resend job stops after the order it is on.")
	return redirect(w, r, "/orders/resend/"+strconv.FormatInt(v.ID, 10))
}
