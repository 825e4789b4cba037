package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/store"
	"paydesk/views"
)

// batchTotals sums a batch's payouts that are neither dropped nor cancelled.
func batchTotals(counts []store.StateCount) (n int, sum int64) {
	for _, c := range counts {
		switch c.State {
		case store.PayoutCancelled:
		default:
			n += c.Count
			sum += c.Sum
		}
	}
	return n, sum
}

func (s *Server) batchPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderBatch(w, r, http.StatusOK, "", "", "")
}

// renderBatch renders a batch's page; formErr with the control totals the
// maker typed re-renders a refused form.
func (s *Server) renderBatch(w http.ResponseWriter, r *http.Request, status int, formErr, ctlCount, ctlSum string) error {
	v, b, err := s.batchView(r, formErr, ctlCount, ctlSum)
	if err != nil {
		return err
	}
	p := s.pagef(r, "payouts", "Payout batch #%s", strconv.FormatInt(b.ID, 10))
	if formErr != "" && !v.CanEdit && b.State != store.BatchAwaitingApproval {
		p.Error = formErr // no form on the page to show it next to
	}
	return s.render(w, r, status, views.Batch(p, v))
}

// batchView builds a batch page's view model.
func (s *Server) batchView(r *http.Request, formErr, ctlCount, ctlSum string) (views.BatchView, store.Batch, error) {
	id, err := pathID(r)
	if err != nil {
		return views.BatchView{}, store.Batch{}, err
	}
	ctx := r.Context()
	b, err := s.db.BatchByID(ctx, id)
	if err != nil {
		return views.BatchView{}, b, err
	}
	u, _ := userFrom(ctx)
	counts, err := s.db.BatchCounts(ctx, id)
	if err != nil {
		return views.BatchView{}, b, err
	}
	n, sum := batchTotals(counts)
	pr := tr(r)
	v := views.BatchView{
		ID: b.ID, Kind: pr.Msg(desk.BatchKindName(b.Kind)), RetryOf: b.RetryOf, FileName: b.FileName, Encoding: b.Encoding,
		State: pr.Msg(desk.BatchName(b)), StateCode: b.State, StateTone: batchTone(b),
		CreatedBy: b.CreatedBy, Created: views.Time(b.CreatedAt, s.loc), FileRows: b.FileRows, ErrorRows: b.ErrorRows,
		WarningRows: b.WarningRows, Dropped: b.ErrorsDropped, Count: n, Sum: money.Format(sum), SumCapitals: money.Capitals(sum),
		TwoPersonOff: !b.TwoPerson, NeedsSecond: b.NeedsSecond, SentBy: b.SentBy, ApprovedBy: b.ApprovedBy,
		ApprovalNote: b.ApprovalNote, SecondBy: b.SecondApprovedBy, RejectedBy: b.RejectedBy, RejectReason: b.RejectReason,
		FormError: formErr, ControlCount: ctlCount, ControlSum: ctlSum,
	}
	if b.FileName != "" {
		if v.ReadAs, err = s.readAs(ctx, b.ID); err != nil {
			return v, b, err
		}
	}
	if g, err := s.db.GatewayAccount(ctx, b.AccountID); err == nil {
		v.Account = g.Name + " (" + g.MchID + ")"
	}
	if !b.SentAt.IsZero() {
		v.Sent = views.Time(b.SentAt, s.loc)
	}
	if !b.ApprovedAt.IsZero() {
		v.Approved = views.Time(b.ApprovedAt, s.loc)
	}
	if b.State == store.BatchAwaitingApproval {
		v.Expires = views.Time(b.ExpiresAt, s.loc)
	}
	acts, err := s.desk.BatchActions(ctx, s.actor(r), b, counts)
	if err != nil {
		return v, b, err
	}
	if v.CanEdit = acts.Edit; acts.Edit {
		v.SendBlocked = pr.Msg(acts.SendBlocked)
	}
	if b.State == store.BatchAwaitingApproval {
		v.ApproveNote, v.CanApprove = pr.Msg(acts.ApproveNote), acts.Approve
		v.ConfirmWarnings = acts.ConfirmWarnings
		if acts.StepUp > 0 {
			v.StepUp, v.StepUpCode = money.Format(acts.StepUp), u.TwoFactor
		}
	}
	if b.State == store.BatchApproved {
		pv := s.progressView(ctx, pr, b, counts, acts)
		v.Progress = &pv
	}
	v.ErrorsCSV = b.ErrorRows > 0
	v.ResultsCSV = b.State != store.BatchDraft && v.Progress == nil
	v.CanCopy, v.CopyNote = acts.Copy, pr.Msg(acts.CopyNote)
	if err := s.batchHistory(ctx, pr, b, &v); err != nil {
		return v, b, err
	}
	if err := s.batchIssues(ctx, b, &v); err != nil {
		return v, b, err
	}
	if err := s.batchRows(r, b, counts, &v); err != nil {
		return v, b, err
	}
	return v, b, nil
}

// batchHistory adds a batch's transitions (its audit rows) to v.
func (s *Server) batchHistory(ctx context.Context, pr *i18n.Printer, b store.Batch, v *views.BatchView) error {
	history, err := s.db.BatchHistory(ctx, b.ID)
	if err != nil {
		return err
	}
	for _, e := range history {
		tone := ""
		switch e.Action {
		case "payout.batch.approve":
			tone = "ok"
		case "payout.batch.reject", "payout.batch.expire", "payout.batch.cancel", "payout.batch.step_up_failed":
			tone = "err"
		}
		v.History = append(v.History, views.TimelineEntry{When: views.Time(e.At, s.loc), Type: "note", Actor: e.Actor,
			Summary: pr.Msg(desk.AuditActionName(e.Action)), Detail: e.Detail, Tone: tone})
	}
	if !b.FinishedAt.IsZero() {
		v.History = append(v.History, views.TimelineEntry{When: views.Time(b.FinishedAt, s.loc), Type: "status",
			Summary: pr.T("Every payout is final: %s", pr.Msg(desk.OutcomeName(b.Outcome))), Tone: map[bool]string{true: "ok", false: "err"}[b.Outcome == store.OutcomeSucceeded]})
	}
	return nil
}

// batchIssues adds the first of a batch's row errors and warnings to v.
func (s *Server) batchIssues(ctx context.Context, b store.Batch, v *views.BatchView) error {
	const issueRows = 100
	pr := i18n.FromContext(ctx)
	errs, err := s.db.BatchIssues(ctx, b.ID, store.IssueError, 0, issueRows)
	if err != nil {
		return err
	}
	for _, i := range errs {
		v.Errors = append(v.Errors, views.IssueRow{RowNo: i.RowNo, Message: pr.Text(i.Message), Raw: i.Raw})
	}
	if b.ErrorRows > len(errs) {
		v.MoreErrors = b.ErrorRows - len(errs)
	}
	warns, err := s.db.BatchIssues(ctx, b.ID, store.IssueWarning, 0, issueRows)
	if err != nil {
		return err
	}
	for _, i := range warns {
		v.Warnings = append(v.Warnings, views.IssueRow{RowNo: i.RowNo, Message: pr.Text(i.Message)})
	}
	if b.WarningRows > len(warns) {
		v.MoreWarns = b.WarningRows - len(warns)
	}
	return nil
}

// batchRows adds the page of the batch's payouts the request asks for.
func (s *Server) batchRows(r *http.Request, b store.Batch, counts []store.StateCount, v *views.BatchView) error {
	total := 0
	for _, c := range counts {
		total += c.Count
	}
	v.Pages = max(1, (total+pageRows-1)/pageRows)
	v.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	v.Page = min(max(v.Page, 1), v.Pages)
	rows, err := s.db.BatchPayouts(r.Context(), b.ID, (v.Page-1)*pageRows, pageRows)
	if err != nil {
		return err
	}
	warned := map[int]string{}
	for _, w := range v.Warnings {
		if warned[w.RowNo] != "" {
			warned[w.RowNo] += "; "
		}
		warned[w.RowNo] += w.Message
	}
	for _, p := range rows {
		row := s.payoutRow(tr(r), p)
		row.Warning = warned[row.RowNo]
		v.Rows = append(v.Rows, row)
	}
	if v.Page > 1 {
		v.PrevURL = fmt.Sprintf("/payouts/batches/%d?page=%d", b.ID, v.Page-1)
	}
	if v.Page < v.Pages {
		v.NextURL = fmt.Sprintf("/payouts/batches/%d?page=%d", b.ID, v.Page+1)
	}
	return nil
}

// readAs lists the first payees' names of an uploaded batch as they were
// read, so that a file read in the wrong encoding (张三 as 寮犱笁) is seen
// before anyone approves it.
func (s *Server) readAs(ctx context.Context, batchID int64) (string, error) {
	const names = 3
	first, err := s.db.BatchPayouts(ctx, batchID, 0, names+1)
	if err != nil {
		return "", err
	}
	var list []string
	for _, p := range first[:min(len(first), names)] {
		list = append(list, p.AccountName)
	}
	text := strings.Join(list, ", ")
	if len(first) > names {
		text += " …"
	}
	return text, nil
}

// progressView counts an approved batch's payouts for the progress bar.
func (s *Server) progressView(ctx context.Context, pr *i18n.Printer, b store.Batch, counts []store.StateCount, acts desk.BatchActions) views.ProgressView {
	pv := views.ProgressView{BatchID: b.ID}
	type agg struct {
		n   int
		sum int64
	}
	groups := map[string]*agg{}
	order := []struct{ label, tone string }{
		{i18n.N("paid out"), "ok"}, {i18n.N("payout failed"), "err"}, {i18n.N("refused by the gateway"), "err"},
		{i18n.N("processing"), "info"}, {i18n.N("sending"), "info"}, {i18n.N("unclear — checking"), "warn"},
		{i18n.N("approved, waiting to be sent"), "info"}, {i18n.N("discarded"), ""},
	}
	for _, c := range counts {
		p := store.Payout{State: c.State, Status: c.Status}
		label := desk.PayoutName(p).Key
		switch {
		case c.State == store.PayoutSubmitted && !desk.PayoutFinal(p):
			label = "processing"
		case c.State == store.PayoutSubmitted && desk.PayoutFailed(p):
			label = "payout failed"
		case c.State == store.PayoutSubmitted:
			label = "paid out"
		}
		if groups[label] == nil {
			groups[label] = &agg{}
		}
		groups[label].n += c.Count
		groups[label].sum += c.Sum
		if c.State == store.PayoutCancelled {
			continue
		}
		pv.Total += c.Count
		if desk.PayoutFinal(p) {
			pv.Done += c.Count
			if desk.PayoutFailed(p) {
				pv.Err += c.Count
			} else {
				pv.OK += c.Count
			}
		}
	}
	for _, o := range order {
		if g := groups[o.label]; g != nil && g.n > 0 {
			pv.Counts = append(pv.Counts, views.CountRow{Label: pr.T(o.label), Tone: o.tone, Count: g.n, Sum: money.Format(g.sum)})
		}
	}
	pv.Failed = acts.RetryCount
	if acts.RetryNote.Key != "" {
		pv.RetryOut = pr.Msg(acts.RetryNote)
	}
	if pv.Total > 0 && pv.Done == pv.Total {
		pv.Finished = true
		outcome := desk.BatchOutcome(pv.OK, pv.Err)
		if b.Outcome == "" {
			// The worker records it within a second; the page need not wait.
			if _, err := s.desk.FinishBatch(ctx, b.ID); err != nil {
				s.log.Error("set batch outcome", "batch", b.ID, "err", err)
			}
		}
		pv.Outcome = pr.Msg(desk.OutcomeName(outcome))
		pv.Tone = map[string]string{store.OutcomeSucceeded: "ok", store.OutcomePartiallySucceeded: "warn", store.OutcomeFailed: "err"}[outcome]
		pv.CanRetry = acts.Retry
	}
	return pv
}

func (s *Server) batchProgress(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") != "true" {
		return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
	}
	v, _, err := s.batchView(r, "", "", "")
	if err != nil {
		return err
	}
	if v.Progress == nil {
		w.Header().Set("HX-Refresh", "true")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if v.Progress.Finished && r.URL.Query().Get("running") == "1" {
		// The page's heading still says "sending": load it whole once.
		w.Header().Set("HX-Refresh", "true")
	}
	return s.render(w, r, http.StatusOK, views.BatchLive(v))
}
