package web

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/store"
	"paydesk/views"
)

// payoutFilterKeys are the payouts list's filter parameters, in the order
// they are put into links.
var payoutFilterKeys = []string{"status", "batch", "account", "from", "to", "name", "bank", "account_no", "min", "max"}

// payoutFilter reads the payouts list's filters from q: the store's
// filter, the form as typed, and what is wrong with it.
func (s *Server) payoutFilter(pr *i18n.Printer, q url.Values) (store.PayoutFilter, views.PayoutFilterForm, []string) {
	form := views.PayoutFilterForm{
		Status: q.Get("status"), Batch: strings.TrimSpace(q.Get("batch")), Account: q.Get("account"), From: q.Get("from"), To: q.Get("to"),
		Name: strings.TrimSpace(q.Get("name")), Bank: strings.TrimSpace(q.Get("bank")), AccountNo: strings.TrimSpace(q.Get("account_no")),
		Min: strings.TrimSpace(q.Get("min")), Max: strings.TrimSpace(q.Get("max")),
	}
	var f store.PayoutFilter
	var problems []string
	if form.Status != "" {
		if store.IsPayoutPhase(form.Status) {
			f.Phase = form.Status
		} else {
			problems = append(problems, pr.T("Unknown status filter %q.", form.Status))
		}
	}
	if form.Batch != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(form.Batch, "#"), 10, 64)
		if err != nil || id <= 0 {
			problems = append(problems, pr.T("The batch filter must be a batch number such as 12, not %q.", form.Batch))
		}
		f.BatchID = id
	}
	if form.Account != "" {
		if id, err := strconv.ParseInt(form.Account, 10, 64); err == nil {
			f.AccountID = id
		}
	}
	f.From, f.To, f.MinAmount, f.MaxAmount = s.rangeFilter(pr, form.From, form.To, form.Min, form.Max, &problems)
	f.Name, f.BankCode, f.AccountNo = form.Name, form.Bank, form.AccountNo
	return f, form, problems
}

// payoutFilterQuery is the filter part of the list's query, for links.
func payoutFilterQuery(q url.Values) url.Values {
	base := url.Values{}
	for _, k := range payoutFilterKeys {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			base.Set(k, v)
		}
	}
	return base
}

func (s *Server) payoutsPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pr := tr(r)
	f, form, problems := s.payoutFilter(pr, q)
	v := views.PayoutsView{Filter: form, Errors: problems}
	for _, ph := range store.PayoutPhases() {
		v.Statuses = append(v.Statuses, views.Choice{Value: ph, Label: pr.Msg(desk.PayoutPhaseName(ph))})
	}
	if c, ok := store.ParsePayCursor(q.Get("after")); ok {
		f.After = c
	} else if c, ok := store.ParsePayCursor(q.Get("before")); ok {
		f.Before = c
	}
	f.Limit = pageRows
	page, err := s.db.ListPayouts(r.Context(), f)
	if err != nil {
		return err
	}
	for _, p := range page.Payouts {
		v.Rows = append(v.Rows, s.payoutRow(pr, p))
	}
	base := payoutFilterQuery(q)
	link := func(path, key, cur string) string {
		u := url.Values{}
		for k, vs := range base {
			u[k] = vs
		}
		if key != "" {
			u.Set(key, cur)
		}
		if len(u) == 0 {
			return path
		}
		return path + "?" + u.Encode()
	}
	v.FirstURL = link("/payouts", "", "")
	if page.Newer != "" {
		v.NewerURL = link("/payouts", "before", page.Newer)
	}
	if page.Older != "" {
		v.NextURL = link("/payouts", "after", page.Older)
	}
	v.CSVURL = link("/payouts.csv", "", "")
	return s.render(w, r, http.StatusOK, views.Payouts(s.page(r, "Payouts", "payouts"), v))
}

// payoutsCSV exports every payout matching the list's filters, as the
// payments export does: UTF-8 with a byte order mark, amounts in yuan with
// two decimals, times in the console's zone, formula-safe, audited.
func (s *Server) payoutsCSV(w http.ResponseWriter, r *http.Request) error {
	pr := tr(r)
	f, _, problems := s.payoutFilter(pr, r.URL.Query())
	if len(problems) > 0 {
		return errStatus(http.StatusUnprocessableEntity, "%s", strings.Join(problems, " "))
	}
	ctx := r.Context()
	accts, err := s.db.GatewayAccounts(ctx, true)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, g := range accts {
		names[g.ID] = g.Name
	}
	filters := payoutFilterQuery(r.URL.Query()).Encode()
	if err := s.desk.RecordExport(ctx, s.actor(r), "payout.export", "payouts", "CSV export, filters: "+filters+ifEmpty(filters, "none")); err != nil {
		return err
	}
	csvDownload(w, "payouts-"+s.now().In(s.loc).Format("20060102-150405")+".csv")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(payoutcsv.BOM)
	cw := csv.NewWriter(bw)
	zone := pr.T(views.ZoneName(s.loc))
	cw.Write([]string{pr.T("Created (%s)", zone), pr.T("Batch"), pr.T("Row"), pr.T("Merchant payout no."), pr.T("Gateway payout no."), pr.T("Channel order no."),
		pr.T("Gateway account"), pr.T("Account name"), pr.T("Account number"), pr.T("Bank code"), pr.T("Bank name"), pr.T("Province"), pr.T("City"),
		pr.T("Amount (yuan)"), pr.T("Currency"), pr.T("Status"), pr.T("Gateway status code"), pr.T("Paid out at (%s)", zone), pr.T("Error"), pr.T("Created by")})
	timeText := func(v string) string {
		if v == "—" {
			return ""
		}
		return v
	}
	err = s.db.EachPayout(ctx, f, func(p store.Payout) error {
		state := pr.Msg(desk.PayoutName(p))
		status, batch, succ := "", "", ""
		if p.Status != nil {
			status = strconv.Itoa(*p.Status)
		}
		if p.BatchID != 0 {
			batch = strconv.FormatInt(p.BatchID, 10)
		}
		if !p.TransSuccAt.IsZero() {
			succ = timeText(views.Time(p.TransSuccAt, s.loc))
		}
		row := []string{timeText(views.Time(p.CreatedAt, s.loc)), batch, strconv.Itoa(p.RowNo), p.MchTransOrderNo, p.TransOrderID, p.ChannelOrderNo,
			names[p.AccountID], p.AccountName, p.AccountNo, p.BankCode, p.BankName, p.Province, p.City, money.Plain(p.Amount), p.Currency,
			state, status, succ, pr.Text(p.LastError), p.CreatedBy}
		for i := range row {
			if i == 8 {
				row[i] = payoutcsv.ExcelText(row[i]) // a long account number stays text in Excel
				continue
			}
			row[i] = payoutcsv.FormulaSafe(row[i])
		}
		return cw.Write(row)
	})
	if err != nil {
		// The header is out: all we can do is stop and log.
		s.log.Error("payouts CSV export", "err", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("payouts CSV: %w", err)
	}
	return bw.Flush()
}
