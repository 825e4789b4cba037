package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"paydesk/desk"
	"paydesk/internal/money"
	"paydesk/store"
	"paydesk/views"
)

// home is the start page: the user's queue and the money of today, 7 and
// 30 days (?days= picks the period whose rates are shown).
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path != "/" {
		return errNotFound
	}
	ctx := r.Context()
	a := s.actor(r)
	h, err := s.desk.HomeFor(ctx, a)
	if err != nil {
		return err
	}
	p := s.page(r, "Start", "")
	v := views.HomeView{
		CanApprove: a.AtLeast(store.RoleApprover),
		AwaitingMe: s.homeBatches(h.AwaitingMe, false),
		SentBack:   s.homeBatches(h.SentBack, true),
		Unclear:    h.UnclearPayouts, OpenAlerts: h.OpenAlerts,
		RejectedCallbacksAll: h.RejectedCallbacksTotal,
	}
	// Rejected since yesterday's date: the notifications filter takes days.
	since := s.now().Add(-24 * time.Hour).In(s.loc).Format("2006-01-02")
	v.RejectedCallbacksLink = "/notifications?" + url.Values{"result": {"rejected"}, "from": {since}}.Encode()
	for _, rc := range h.RejectedCallbacks {
		v.RejectedCallbacks = append(v.RejectedCallbacks, views.ReasonRow{Name: tr(r).Msg(desk.RejectedReasonName(rc.Reason)), Reason: rc.Reason, Count: rc.Count})
	}
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	for _, hp := range h.Periods {
		pv := homePeriod(hp)
		v.Periods = append(v.Periods, pv)
		if hp.Days == days || (v.Shown.Days == 0 && hp.Days == 7) {
			v.Shown = pv
		}
	}
	return s.render(w, r, http.StatusOK, views.Home(p, v))
}

func (s *Server) homeBatches(hb desk.HomeBatches, sentBack bool) views.HomeBatches {
	out := views.HomeBatches{Count: hb.Count, Sum: money.Format(hb.Sum)}
	for _, b := range hb.Batches {
		row := views.HomeBatchRow{ID: b.ID, FileName: b.FileName, Count: b.Count, Sum: money.Format(b.Sum),
			Warnings: b.WarningRows, NeedsSecond: b.NeedsSecond}
		if sentBack {
			row.By, row.Note, row.Expired = b.RejectedBy, b.RejectReason, b.State == store.BatchExpired
			row.When = views.Time(b.At, s.loc)
		} else {
			row.By, row.When = b.CreatedBy, views.Time(b.SentAt, s.loc)
		}
		out.Batches = append(out.Batches, row)
	}
	return out
}

func homePeriod(hp desk.HomePeriod) views.HomePeriodView {
	pv := views.HomePeriodView{
		Days: hp.Days, Name: views.PeriodName(hp.Days),
		Collected: money.Format(hp.Collected), CollectedFen: hp.Collected, CollectedCount: hp.CollectedCount,
		PaidOut: money.Format(hp.PaidOut), PaidOutFen: hp.PaidOut, PaidOutCount: hp.PaidOutCount,
		Fees: money.Format(hp.Fees), FeesFen: hp.Fees, FeesCount: hp.FeesCount,
		DelayP50: hp.DelayP50, DelayP95: hp.DelayP95, DelayCount: hp.DelayCount,
	}
	rates := func(in []desk.HomeRate) []views.RateRow {
		var out []views.RateRow
		for _, r := range in {
			out = append(out, views.RateRow{Label: r.Label, Successes: r.Successes, Finals: r.Finals, PerMille: r.PerMille})
		}
		return out
	}
	pv.Products, pv.Banks = rates(hp.Products), rates(hp.Banks)
	return pv
}
