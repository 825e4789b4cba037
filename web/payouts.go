package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"paydesk/desk/payoutcsv"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// Payout settings keys and defaults.
const (
	settingTwoPerson   = "payouts.two_person"
	settingSecondLimit = "payouts.second_approver_limit_fen"
	settingExpiryDays  = "payouts.expiry_days"

	defaultExpiryDays = 3
	twinWindow        = 7 * 24 * time.Hour // "paid in the last 7 days" warnings
	pageRows          = 50
)

// payoutRules are the admin's approval settings.
type payoutRules struct {
	TwoPerson   bool
	SecondLimit int64 // fen; 0: never a second approver
	ExpiryDays  int
}

func (s *Server) payoutRules(ctx context.Context) (payoutRules, error) {
	r := payoutRules{TwoPerson: true, ExpiryDays: defaultExpiryDays}
	v, err := s.db.Setting(ctx, settingTwoPerson, "1")
	if err != nil {
		return r, err
	}
	r.TwoPerson = v != "0"
	if v, err = s.db.Setting(ctx, settingSecondLimit, "0"); err != nil {
		return r, err
	}
	r.SecondLimit, _ = strconv.ParseInt(v, 10, 64)
	if v, err = s.db.Setting(ctx, settingExpiryDays, strconv.Itoa(defaultExpiryDays)); err != nil {
		return r, err
	}
	if d, err := strconv.Atoi(v); err == nil && d > 0 {
		r.ExpiryDays = d
	}
	return r, nil
}

// payoutState is how a payout's state and status read to staff, and the
// badge tone.
func payoutState(p store.Payout) (string, string) {
	switch p.State {
	case store.PayoutDraft:
		return "draft", ""
	case store.PayoutAwaitingApproval:
		return "awaiting approval", "info"
	case store.PayoutApproved:
		return "approved, queued", "info"
	case store.PayoutSubmitting:
		return "sending", "info"
	case store.PayoutUnknown:
		return "unclear, checking", "warn"
	case store.PayoutRefused:
		return "refused", "err"
	case store.PayoutRejected, store.PayoutExpired, store.PayoutCancelled:
		return p.State, ""
	case store.PayoutSubmitted:
		st := p.StatusOr(payments.TransTransferring)
		switch {
		case payments.IsTransSucceeded(st):
			return "succeeded", "ok"
		case st == payments.TransFailed:
			return "failed", "err"
		}
		return payments.TransStatusText(st), "info"
	}
	return p.State, ""
}

// payoutFinal reports whether nothing more will happen to a payout.
func payoutFinal(p store.Payout) bool {
	switch p.State {
	case store.PayoutRefused, store.PayoutRejected, store.PayoutExpired, store.PayoutCancelled:
		return true
	case store.PayoutSubmitted:
		return p.Status != nil && payments.TransFinal(*p.Status)
	}
	return false
}

// payoutFailed reports whether a sent payout definitely did not pay.
func payoutFailed(p store.Payout) bool {
	return p.State == store.PayoutRefused || p.State == store.PayoutSubmitted && p.StatusOr(-1) == payments.TransFailed
}

func (s *Server) payoutRow(p store.Payout) views.PayoutRow {
	state, tone := payoutState(p)
	bank := p.BankCode
	if b, ok := payments.BankByCode(p.BankCode); ok {
		bank += " " + b.Name
	}
	errText := ""
	if payoutFailed(p) || p.State == store.PayoutUnknown {
		errText = p.LastError
	}
	return views.PayoutRow{
		ID: p.ID, RowNo: p.RowNo, BatchID: p.BatchID, MchNo: p.MchTransOrderNo, GatewayID: p.TransOrderID,
		AccountName: p.AccountName, AccountNo: p.AccountNo, Bank: bank, Amount: views.Money(p.Amount),
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

func (s *Server) payoutsPage(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	list, err := s.db.Payouts(r.Context(), before, pageRows+1)
	if err != nil {
		return err
	}
	var v views.PayoutsView
	for i, p := range list {
		if i == pageRows {
			v.NextURL = fmt.Sprintf("/payouts?before=%d", list[i-1].ID)
			break
		}
		v.Rows = append(v.Rows, s.payoutRow(p))
	}
	return s.render(w, r, http.StatusOK, views.Payouts(s.page(r, "Payouts", "payouts"), v))
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
		Row: s.payoutRow(p), Amount: views.Money(p.Amount), BankCode: p.BankCode, BankName: p.BankName,
		Province: p.Province, City: p.City, BankType: p.BankType, Param1: p.Param1, Param2: p.Param2,
		Attempts: p.SubmitAttempts, Status: "none yet",
	}
	v.Row.Error = p.LastError
	v.AccountType = map[string]string{"1": "bank card", "2": "WeChat", "3": "Alipay", "4": "other"}[p.AccountType]
	v.AccountAttr = map[string]string{"0": "personal", "1": "corporate"}[p.AccountAttr]
	if p.Status != nil {
		v.Status = fmt.Sprintf("%d · %s", *p.Status, payments.TransStatusText(*p.Status))
	}
	if !p.TransSuccAt.IsZero() {
		v.Succeeded = views.Time(p.TransSuccAt, s.loc)
	}
	if v.Timeline, v.TimelinePoll, err = s.payoutTimeline(ctx, p); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.PayoutPage(s.page(r, "Payout "+p.MchTransOrderNo, "payouts"), v))
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
		add(b.CreatedAt, b.CreatedBy, fmt.Sprintf("Created in batch #%d, row %d", b.ID, p.RowNo), "")
		add(b.SentAt, b.SentBy, "Sent for approval", "")
		add(b.ApprovedAt, b.ApprovedBy, "Approved", "ok")
		add(b.SecondApprovedAt, b.SecondApprovedBy, "Approved (second approver)", "ok")
		add(b.RejectedAt, b.RejectedBy, "Rejected: "+b.RejectReason, "err")
	}
	o, err := s.loadOrder(ctx, store.KindTrans, p.ID)
	if err != nil {
		return nil, "", err
	}
	tl, expecting, err := s.timeline(ctx, o)
	if err != nil {
		return nil, "", err
	}
	if expecting || !payoutFinal(p) {
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

// pickAccount returns the gateway account a form names, or the first one.
func (s *Server) pickAccount(ctx context.Context, idText string) (store.GatewayAccount, error) {
	_, accts, err := s.accountOptions(ctx)
	if err != nil {
		return store.GatewayAccount{}, err
	}
	if len(accts) == 0 {
		return store.GatewayAccount{}, errStatus(http.StatusUnprocessableEntity, "There is no gateway account to pay out from. An admin must add one in Settings → Gateway accounts.")
	}
	if id, err := strconv.ParseInt(idText, 10, 64); err == nil {
		for _, a := range accts {
			if a.ID == id {
				return a, nil
			}
		}
	}
	return accts[0], nil
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
	u, _ := userFrom(ctx)
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
	row := payoutcsv.CheckOne(map[string]string{
		"amount": f.Amount, "account_name": f.AccountName, "account_no": f.AccountNo, "bank_code": f.BankCode, "branch": f.Branch,
		"province": f.Province, "city": f.City, "account_type": f.AccountType, "account_attr": f.AccountAttr,
		"bank_type": f.BankType, "param1": f.Param1, "param2": f.Param2,
	})
	if len(row.Errors) > 0 {
		f.Errors = row.FieldErrors
		p := s.page(r, "New payout", "payouts")
		p.Error = "The payout was not made. Correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, views.NewPayout(p, f))
	}
	acct, err := s.pickAccount(ctx, f.AccountID)
	if err != nil {
		return err
	}
	rules, err := s.payoutRules(ctx)
	if err != nil {
		return err
	}
	var batchID, payoutID int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		b := store.Batch{AccountID: acct.ID, Kind: store.BatchSingle, State: store.BatchAwaitingApproval, FileRows: 1,
			TwoPerson: rules.TwoPerson, NeedsSecond: rules.SecondLimit > 0 && row.Amount > rules.SecondLimit, CreatedBy: u.Username}
		var err error
		if batchID, err = s.db.CreateBatchTx(ctx, tx, b); err != nil {
			return err
		}
		b, err = s.db.BatchByIDTx(ctx, tx, batchID)
		if err != nil {
			return err
		}
		next := b
		next.SentBy, next.SentAt, next.ExpiresAt = u.Username, now, now.Add(time.Duration(rules.ExpiryDays)*24*time.Hour)
		if err := s.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		payoutID, err = s.db.InsertPayoutTx(ctx, tx, rowPayout(row, acct.ID, batchID, mchNo(now, batchID, 1), store.PayoutAwaitingApproval, u.Username))
		if err != nil {
			return err
		}
		if err := s.addBatchTwinWarnings(ctx, tx, batchID); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "payout.create", Subject: fmt.Sprintf("batch:%d", batchID),
			Detail: fmt.Sprintf("single payout #%d, %s to %s %s, sent for approval", payoutID, views.Money(row.Amount), row.AccountName, row.AccountNo), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, "The payout was made and waits for approval.")
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", batchID))
}

// mchNo is the merchant payout number of a batch's row: fixed when the
// batch is made, unique for the database (batch ids are), and never reused.
func mchNo(now time.Time, batchID int64, rowNo int) string {
	return fmt.Sprintf("PD%s%d%06d", now.UTC().Format("060102150405"), batchID, rowNo)
}

func rowPayout(row *payoutcsv.Row, accountID, batchID int64, no, state, by string) store.Payout {
	return store.Payout{
		AccountID: accountID, BatchID: batchID, RowNo: row.RowNo, MchTransOrderNo: no, Amount: row.Amount,
		AccountName: row.AccountName, AccountNo: row.AccountNo, BankCode: row.BankCode, BankName: row.Branch,
		Province: row.Province, City: row.City, AccountType: row.AccountType, AccountAttr: row.AccountAttr,
		BankType: row.BankType, Param1: row.Param1, Param2: row.Param2, State: state, CreatedBy: by,
	}
}

func (s *Server) payoutTemplate(w http.ResponseWriter, r *http.Request) error {
	csvDownload(w, "payout-batch-template.csv")
	return payoutcsv.WriteTemplate(w)
}

func (s *Server) payoutSettingsPage(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.payoutRules(r.Context())
	if err != nil {
		return err
	}
	f := views.PayoutSettingsForm{TwoPerson: rules.TwoPerson, ExpiryDays: strconv.Itoa(rules.ExpiryDays)}
	if rules.SecondLimit > 0 {
		f.SecondLimit = views.YuanPlain(rules.SecondLimit)
	}
	return s.render(w, r, http.StatusOK, views.PayoutSettings(s.page(r, "Payout settings", "settings"), f))
}

func (s *Server) savePayoutSettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	f := views.PayoutSettingsForm{
		TwoPerson:   r.PostForm.Get("two_person") == "1",
		SecondLimit: strings.TrimSpace(r.PostForm.Get("second_limit")),
		ExpiryDays:  strings.TrimSpace(r.PostForm.Get("expiry_days")),
		Errors:      map[string]string{},
	}
	var limit int64
	if f.SecondLimit != "" {
		var err error
		if limit, err = payments.ParseYuan(f.SecondLimit); err != nil {
			f.Errors["second_limit"] = "The limit " + err.Error() + "."
		}
	}
	days, err := strconv.Atoi(f.ExpiryDays)
	if err != nil || days < 1 || days > 90 {
		f.Errors["expiry_days"] = "Enter a whole number of days from 1 to 90."
	}
	if len(f.Errors) > 0 {
		return s.render(w, r, http.StatusUnprocessableEntity, views.PayoutSettings(s.page(r, "Payout settings", "settings"), f))
	}
	old, err := s.payoutRules(ctx)
	if err != nil {
		return err
	}
	two := "1"
	if !f.TwoPerson {
		two = "0"
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		for k, v := range map[string]string{settingTwoPerson: two, settingSecondLimit: strconv.FormatInt(limit, 10), settingExpiryDays: strconv.Itoa(days)} {
			if err := s.db.SetSettingTx(ctx, tx, k, v); err != nil {
				return err
			}
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "settings.payouts", Subject: "settings:payouts",
			Detail: fmt.Sprintf("two-person rule %v → %v; second approver above %s → %s; expiry %d → %d days",
				old.TwoPerson, f.TwoPerson, limitText(old.SecondLimit), limitText(limit), old.ExpiryDays, days), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, "Payout settings saved.")
	return redirect(w, r, "/settings/payouts")
}

func limitText(fen int64) string {
	if fen <= 0 {
		return "never"
	}
	return views.Money(fen)
}

// kickPayouts wakes the submission worker, if it sleeps.
func (s *Server) kickPayouts() {
	select {
	case s.payoutKick <- struct{}{}:
	default:
	}
}
