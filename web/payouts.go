package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// pageRows is how many rows a list page shows.
const pageRows = 50

// payoutTone is the badge tone of a payout's state.
func payoutTone(p store.Payout) string {
	switch p.State {
	case store.PayoutAwaitingApproval, store.PayoutApproved, store.PayoutSubmitting:
		return "info"
	case store.PayoutUnknown:
		return "warn"
	case store.PayoutRefused:
		return "err"
	case store.PayoutSubmitted:
		st := p.StatusOr(payments.TransTransferring)
		switch {
		case payments.IsTransSucceeded(st):
			return "ok"
		case st == payments.TransFailed:
			return "err"
		}
		return "info"
	}
	return ""
}

func (s *Server) payoutRow(pr *i18n.Printer, p store.Payout) views.PayoutRow {
	state, tone := pr.Msg(desk.PayoutName(p)), payoutTone(p)
	bank := p.BankCode
	if b, ok := payments.BankByCode(p.BankCode); ok {
		bank += " " + b.Name
	}
	errText := ""
	if desk.PayoutFailed(p) || p.State == store.PayoutUnknown {
		errText = p.LastError
	}
	return views.PayoutRow{
		ID: p.ID, RowNo: p.RowNo, BatchID: p.BatchID, MchNo: p.MchTransOrderNo, GatewayID: p.TransOrderID,
		AccountName: p.AccountName, AccountNo: p.AccountNo, Bank: bank, Amount: money.Format(p.Amount),
		State: state, Tone: tone, Error: errText, Created: views.Time(p.CreatedAt, s.loc),
	}
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

func (s *Server) payoutDetail(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p, err := s.db.PayoutByID(ctx, id)
	if err != nil {
		return err
	}
	v := views.PayoutDetail{
		Row: s.payoutRow(tr(r), p), Amount: money.Format(p.Amount), AmountCapitals: money.Capitals(p.Amount), BankCode: p.BankCode, BankName: p.BankName,
		Province: p.Province, City: p.City, BankType: p.BankType, Param1: p.Param1, Param2: p.Param2,
		Attempts: p.SubmitAttempts, Status: tr(r).T("none yet"),
	}
	v.Row.Error = tr(r).Text(p.LastError)
	v.AccountType = tr(r).T(map[string]string{"1": i18n.N("bank card"), "2": i18n.N("WeChat"), "3": i18n.N("Alipay"), "4": i18n.N("other")}[p.AccountType])
	v.AccountAttr = tr(r).T(map[string]string{"0": i18n.N("personal"), "1": i18n.N("corporate")}[p.AccountAttr])
	if p.Status != nil {
		v.Status = tr(r).Msg(desk.TransStatusName(*p.Status))
	}
	if !p.TransSuccAt.IsZero() {
		v.Succeeded = views.Time(p.TransSuccAt, s.loc)
	}
	if v.Timeline, v.TimelinePoll, err = s.payoutTimeline(ctx, p); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.PayoutPage(s.pagef(r, "payouts", "Payout %s", p.MchTransOrderNo), v))
}

// payoutTimeline is a payout's story: its batch's transitions (not stored
// per payout: a batch may hold 100,000), then its events and callbacks and
// what the gateway is expected to do next (timeline.go). poll is the
// fragment to refresh from while the payout is not settled.
func (s *Server) payoutTimeline(ctx context.Context, p store.Payout) (entries []views.TimelineEntry, poll string, err error) {
	if p.BatchID != 0 {
		b, err := s.db.BatchByID(ctx, p.BatchID)
		if err != nil {
			return nil, "", err
		}
		add := func(at time.Time, actor, summary, tone string) {
			if !at.IsZero() {
				entries = append(entries, views.TimelineEntry{When: views.Time(at, s.loc), Type: "note", Actor: actor, Summary: summary, Tone: tone})
			}
		}
		pr := i18n.FromContext(ctx)
		add(b.CreatedAt, b.CreatedBy, pr.T("Payout of %s to %s made in batch #%s, row %d.", money.Format(p.Amount), p.AccountName, strconv.FormatInt(b.ID, 10), p.RowNo), "")
		add(b.SentAt, b.SentBy, pr.T("Sent for approval."), "")
		add(b.ApprovedAt, b.ApprovedBy, pr.T("Approved."), "ok")
		add(b.SecondApprovedAt, b.SecondApprovedBy, pr.T("Approved by the second approver."), "ok")
		add(b.RejectedAt, b.RejectedBy, pr.T("Rejected: %s", b.RejectReason), "err")
	}
	o, err := s.loadOrder(ctx, store.KindTrans, p.ID)
	if err != nil {
		return nil, "", err
	}
	tl, expecting, err := s.timeline(ctx, o)
	if err != nil {
		return nil, "", err
	}
	if expecting || !desk.PayoutFinal(p) {
		poll = fmt.Sprintf("/payouts/%d/timeline", p.ID)
	}
	return append(entries, tl...), poll, nil
}

// payoutTimelineFragment is the timeline a payout page polls.
func (s *Server) payoutTimelineFragment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.db.PayoutByID(r.Context(), id)
	if err != nil {
		return err
	}
	entries, poll, err := s.payoutTimeline(r.Context(), p)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.Timeline(entries, poll))
}

func bankOptions() []views.BankOption {
	var out []views.BankOption
	for _, b := range payments.Banks() {
		out = append(out, views.BankOption{Code: b.Code, Name: b.Name})
	}
	return out
}

// accountOptions lists the enabled gateway accounts for a select.
func (s *Server) accountOptions(ctx context.Context) ([]views.PayoutChoice, []store.GatewayAccount, error) {
	accts, err := s.db.GatewayAccounts(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	var opts []views.PayoutChoice
	for _, a := range accts {
		opts = append(opts, views.PayoutChoice{Value: strconv.FormatInt(a.ID, 10), Label: a.Name + " (" + a.MchID + ")"})
	}
	return opts, accts, nil
}

func (s *Server) newPayoutPage(w http.ResponseWriter, r *http.Request) error {
	accts, _, err := s.accountOptions(r.Context())
	if err != nil {
		return err
	}
	f := views.PayoutForm{Accounts: accts, Banks: bankOptions(), AccountType: "1", AccountAttr: "0"}
	return s.render(w, r, http.StatusOK, views.NewPayout(s.page(r, "New payout", "payouts"), f))
}

// createPayout makes a single payout: a batch of one, waiting for approval.
func (s *Server) createPayout(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	get := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	accts, _, err := s.accountOptions(ctx)
	if err != nil {
		return err
	}
	f := views.PayoutForm{
		AccountID: get("account_id"), Accounts: accts, Banks: bankOptions(),
		Amount: get("amount"), AccountName: get("account_name"), AccountNo: get("account_no"), BankCode: get("bank_code"),
		Branch: get("branch"), Province: get("province"), City: get("city"), AccountType: get("account_type"),
		AccountAttr: get("account_attr"), BankType: get("bank_type"), Param1: get("param1"), Param2: get("param2"),
	}
	batchID, err := s.desk.CreatePayout(ctx, s.actor(r), desk.PayoutInput{AccountID: f.AccountID, Fields: map[string]string{
		"amount": f.Amount, "account_name": f.AccountName, "account_no": f.AccountNo, "bank_code": f.BankCode, "branch": f.Branch,
		"province": f.Province, "city": f.City, "account_type": f.AccountType, "account_attr": f.AccountAttr,
		"bank_type": f.BankType, "param1": f.Param1, "param2": f.Param2,
	}})
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid && len(refusal.Fields) > 0 {
		f.Errors = fieldErrors(tr(r), refusal)
		p := s.page(r, "New payout", "payouts")
		p.Error = tr(r).Msg(refusal.Message())
		return s.render(w, r, http.StatusUnprocessableEntity, views.NewPayout(p, f))
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("The payout was made and waits for approval."))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", batchID))
}

func (s *Server) payoutTemplate(w http.ResponseWriter, r *http.Request) error {
	csvDownload(w, "payout-batch-template.csv")
	return payoutcsv.WriteTemplate(w)
}

func (s *Server) payoutSettingsPage(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.desk.PayoutRules(r.Context())
	if err != nil {
		return err
	}
	f := views.PayoutSettingsForm{TwoPerson: rules.TwoPerson, ExpiryDays: strconv.Itoa(rules.ExpiryDays)}
	if rules.SecondLimit > 0 {
		f.SecondLimit = money.Plain(rules.SecondLimit)
	}
	return s.render(w, r, http.StatusOK, views.PayoutSettings(s.page(r, "Payout settings", "settings"), f))
}

func (s *Server) savePayoutSettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := views.PayoutSettingsForm{
		TwoPerson:   r.PostForm.Get("two_person") == "1",
		SecondLimit: strings.TrimSpace(r.PostForm.Get("second_limit")),
		ExpiryDays:  strings.TrimSpace(r.PostForm.Get("expiry_days")),
	}
	err := s.desk.SetPayoutRules(r.Context(), s.actor(r), f.TwoPerson, f.SecondLimit, f.ExpiryDays)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		f.Errors = fieldErrors(tr(r), refusal)
		return s.render(w, r, http.StatusUnprocessableEntity, views.PayoutSettings(s.page(r, "Payout settings", "settings"), f))
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Payout settings saved."))
	return redirect(w, r, "/settings/payouts")
}
