package web

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
	"paydesk/web/payoutcsv"
)

// maxUploadBytes bounds a batch upload request: the file limit plus room
// for the multipart envelope.
const maxUploadBytes = payoutcsv.MaxBytes + 1<<20

func (s *Server) batchesView(ctx context.Context, before int64) (views.BatchesView, error) {
	v := views.BatchesView{MaxRows: payoutcsv.MaxRows, MaxMiB: payoutcsv.MaxBytes >> 20}
	for _, c := range payoutcsv.Columns() {
		v.Columns = append(v.Columns, views.CSVColumn{Header: c.Header, Help: c.Help, Required: c.Required})
	}
	accts, _, err := s.accountOptions(ctx)
	if err != nil {
		return v, err
	}
	v.Accounts = accts
	list, err := s.db.Batches(ctx, before, pageRows+1)
	if err != nil {
		return v, err
	}
	for i, b := range list {
		if i == pageRows {
			v.NextURL = fmt.Sprintf("/payouts/batches?before=%d", list[i-1].ID)
			break
		}
		state, tone := batchState(b)
		v.Batches = append(v.Batches, views.BatchListRow{ID: b.ID, Kind: b.Kind, FileName: b.FileName, State: state, Tone: tone,
			Outcome: outcomeText(b.Outcome), CreatedBy: b.CreatedBy, Created: views.Time(b.CreatedAt, s.cfg.Location)})
	}
	return v, nil
}

func batchState(b store.Batch) (string, string) {
	switch b.State {
	case store.BatchDraft:
		return "draft", ""
	case store.BatchAwaitingApproval:
		return "awaiting approval", "info"
	case store.BatchApproved:
		switch b.Outcome {
		case store.OutcomeSucceeded:
			return "succeeded", "ok"
		case store.OutcomePartiallySucceeded:
			return "partially succeeded", "warn"
		case store.OutcomeFailed:
			return "failed", "err"
		}
		return "approved, sending", "info"
	case store.BatchRejected:
		return "rejected", "err"
	}
	return b.State, ""
}

func outcomeText(o string) string { return strings.ReplaceAll(o, "_", " ") }

func (s *Server) batchesPage(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	v, err := s.batchesView(r.Context(), before)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.Batches(s.page(r, "Payout batches", "payouts"), v))
}

// uploadBatch reads a CSV file into a new draft batch: valid rows become
// payouts with their numbers fixed, the others are kept as errors.
func (s *Server) uploadBatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	fail := func(msg string) error {
		v, err := s.batchesView(ctx, 0)
		if err != nil {
			return err
		}
		v.Error = msg
		return s.render(w, r, http.StatusUnprocessableEntity, views.Batches(s.page(r, "Payout batches", "payouts"), v))
	}
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(fmt.Sprintf("The file is larger than %d MiB. Split it into smaller files (at most %d rows each).", payoutcsv.MaxBytes>>20, payoutcsv.MaxRows))
		}
		return fail("The upload could not be read. Choose the CSV file again and upload it.")
	}
	defer r.MultipartForm.RemoveAll()
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return fail("Choose a CSV file to upload.")
	}
	defer file.Close()
	if hdr.Size > payoutcsv.MaxBytes {
		return fail(fmt.Sprintf("The file is larger than %d MiB. Split it into smaller files (at most %d rows each).", payoutcsv.MaxBytes>>20, payoutcsv.MaxRows))
	}
	acct, err := s.pickAccount(ctx, r.FormValue("account_id"))
	if err != nil {
		return err
	}
	u, _ := userFrom(ctx)
	id, err := s.importBatch(ctx, importInput{Account: acct, FileName: filepath.Base(hdr.Filename), File: file, By: u.Username, ClientAddr: s.clientAddr(r)})
	var fe *payoutcsv.FileError
	if errors.As(err, &fe) {
		return fail(fe.Msg)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

type importInput struct {
	Account    store.GatewayAccount
	FileName   string
	File       io.ReadSeeker
	By         string
	ClientAddr string
}

// importBatch parses, checks and stores a CSV file as a draft batch in one
// transaction; a *payoutcsv.FileError leaves nothing behind.
func (s *Server) importBatch(ctx context.Context, in importInput) (int64, error) {
	rules, err := s.payoutRules(ctx)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		b := store.Batch{AccountID: in.Account.ID, Kind: store.BatchCSV, FileName: in.FileName, State: store.BatchDraft,
			TwoPerson: rules.TwoPerson, CreatedBy: in.By}
		var err error
		if id, err = s.db.CreateBatchTx(ctx, tx, b); err != nil {
			return err
		}
		bw, err := s.db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer bw.Close()
		errorRows := 0
		sum, err := payoutcsv.Parse(in.File, func(row *payoutcsv.Row) error {
			if len(row.Errors) == 0 {
				var err error
				if row.MchTransOrderNo == "" {
					err = bw.Payout(ctx, rowPayout(row, in.Account.ID, id, mchNo(now, id, row.RowNo), store.PayoutDraft, in.By))
				} else {
					err = bw.PayoutNow(ctx, rowPayout(row, in.Account.ID, id, row.MchTransOrderNo, store.PayoutDraft, in.By))
				}
				no := row.MchTransOrderNo
				if errors.Is(err, store.ErrConflict) {
					row.Errors = append(row.Errors, fmt.Sprintf("Row %d: merchant payout number %s was used before; every payout needs a number never used before (or leave the column empty)", row.RowNo, no))
					row.Raw = row.AccountName + ", " + row.AccountNo + ", " + views.YuanPlain(row.Amount)
				} else if err != nil {
					return err
				}
			}
			if len(row.Errors) > 0 {
				errorRows++
				for _, msg := range row.Errors {
					if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueError, Message: msg, Raw: row.Raw}); err != nil {
						return err
					}
				}
			}
			for _, msg := range row.Warnings {
				if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueWarning, Message: msg}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := bw.Flush(ctx); err != nil {
			return err
		}
		bw.Close()
		if err := s.addBatchTwinWarnings(ctx, tx, id); err != nil {
			return err
		}
		prev, err := s.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		next := prev
		next.Encoding, next.FileRows, next.ErrorRows = sum.Encoding, sum.Rows, errorRows
		if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT row_no) FROM payout_batch_issues WHERE batch_id = ? AND severity = 'warning'`, id).Scan(&next.WarningRows); err != nil {
			return err
		}
		if err := s.db.UpdateBatchTx(ctx, tx, prev, next); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET encoding = ? WHERE id = ?`, sum.Encoding, id); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: in.By, Action: "payout.batch.upload", Subject: fmt.Sprintf("batch:%d", id),
			Detail:     fmt.Sprintf("file %q (%s): %d rows, %d with errors, %d payouts, %s", in.FileName, sum.Encoding, sum.Rows, errorRows, sum.Rows-errorRows, views.Money(sum.Total)),
			ClientAddr: in.ClientAddr})
	})
	return id, err
}

// addBatchTwinWarnings warns about payouts of a batch that repeat an
// earlier payout (same account number and amount) of the last 7 days.
func (s *Server) addBatchTwinWarnings(ctx context.Context, tx *sql.Tx, batchID int64) error {
	twins, err := s.db.RecentTwinsTx(ctx, tx, batchID, s.now().Add(-twinWindow))
	if err != nil {
		return err
	}
	last := -1
	for _, t := range twins {
		if t.RowNo == last {
			continue // one warning per row is enough
		}
		last = t.RowNo
		what := "was sent"
		if t.Succeeded {
			what = "was paid"
		}
		where := ""
		if t.BatchID != 0 {
			where = fmt.Sprintf(" in batch #%d", t.BatchID)
		}
		msg := fmt.Sprintf("Row %d: a payout to the same account with the same amount %s%s on %s (%s); check that it is not paid twice",
			t.RowNo, what, where, views.Time(t.CreatedAt, s.cfg.Location), t.MchTransOrderNo)
		if _, err := tx.ExecContext(ctx, `INSERT INTO payout_batch_issues (batch_id, row_no, severity, message) VALUES (?, ?, 'warning', ?)`, batchID, t.RowNo, msg); err != nil {
			return err
		}
	}
	return nil
}

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
	p := s.page(r, fmt.Sprintf("Payout batch #%d", b.ID), "payouts")
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
	state, tone := batchState(b)
	v := views.BatchView{
		ID: b.ID, Kind: b.Kind, RetryOf: b.RetryOf, FileName: b.FileName, Encoding: b.Encoding, State: state, StateTone: tone,
		CreatedBy: b.CreatedBy, Created: views.Time(b.CreatedAt, s.cfg.Location), FileRows: b.FileRows, ErrorRows: b.ErrorRows,
		WarningRows: b.WarningRows, Dropped: b.ErrorsDropped, Count: n, Sum: views.Yuan(sum),
		TwoPersonOff: !b.TwoPerson, NeedsSecond: b.NeedsSecond, SentBy: b.SentBy, ApprovedBy: b.ApprovedBy,
		ApprovalNote: b.ApprovalNote, SecondBy: b.SecondApprovedBy, RejectedBy: b.RejectedBy, RejectReason: b.RejectReason,
		FormError: formErr, ControlCount: ctlCount, ControlSum: ctlSum,
	}
	if g, err := s.db.GatewayAccount(ctx, b.AccountID); err == nil {
		v.Account = g.Name + " (" + g.MchID + ")"
	}
	if !b.SentAt.IsZero() {
		v.Sent = views.Time(b.SentAt, s.cfg.Location)
	}
	if !b.ApprovedAt.IsZero() {
		v.Approved = views.Time(b.ApprovedAt, s.cfg.Location)
	}
	if b.State == store.BatchAwaitingApproval {
		v.Expires = views.Time(b.ExpiresAt, s.cfg.Location)
	}
	if b.State == store.BatchDraft && roleAccess(u.Role) >= operator {
		v.CanEdit = true
		switch {
		case b.ErrorRows > 0 && !b.ErrorsDropped:
			v.SendBlocked = "Drop the rows with errors, or fix the file and upload it again, before sending the batch for approval."
		case n == 0:
			v.SendBlocked = "The batch has no payouts to send."
		}
	}
	if b.State == store.BatchAwaitingApproval {
		v.ApproveNote = s.approveRefusal(b, u)
		v.CanApprove = v.ApproveNote == ""
	}
	if b.State == store.BatchApproved {
		pv := s.progressView(ctx, b, counts)
		v.Progress = &pv
	}
	const issueRows = 100
	errs, err := s.db.BatchIssues(ctx, id, store.IssueError, 0, issueRows)
	if err != nil {
		return v, b, err
	}
	for _, i := range errs {
		v.Errors = append(v.Errors, views.IssueRow{RowNo: i.RowNo, Message: i.Message, Raw: i.Raw})
	}
	if b.ErrorRows > len(errs) {
		v.MoreErrors = b.ErrorRows - len(errs)
	}
	warns, err := s.db.BatchIssues(ctx, id, store.IssueWarning, 0, issueRows)
	if err != nil {
		return v, b, err
	}
	for _, i := range warns {
		v.Warnings = append(v.Warnings, views.IssueRow{RowNo: i.RowNo, Message: i.Message})
	}
	if b.WarningRows > len(warns) {
		v.MoreWarns = b.WarningRows - len(warns)
	}
	total := 0
	for _, c := range counts {
		total += c.Count
	}
	v.Pages = max(1, (total+pageRows-1)/pageRows)
	v.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	v.Page = min(max(v.Page, 1), v.Pages)
	rows, err := s.db.BatchPayouts(ctx, id, (v.Page-1)*pageRows, pageRows)
	if err != nil {
		return v, b, err
	}
	for _, p := range rows {
		v.Rows = append(v.Rows, s.payoutRow(p))
	}
	if v.Page > 1 {
		v.PrevURL = fmt.Sprintf("/payouts/batches/%d?page=%d", id, v.Page-1)
	}
	if v.Page < v.Pages {
		v.NextURL = fmt.Sprintf("/payouts/batches/%d?page=%d", id, v.Page+1)
	}
	return v, b, nil
}

// approveRefusal says why u may not approve b now, or "" when u may.
func (s *Server) approveRefusal(b store.Batch, u store.User) string {
	switch {
	case roleAccess(u.Role) < approver:
		return "Waiting for an approver. Your role cannot approve payouts."
	case b.TwoPerson && (b.CreatedBy == u.Username || b.SentBy == u.Username):
		return "Waiting for approval by someone else: you made this batch, and the two-person rule is on."
	case b.NeedsSecond && b.ApprovedBy == u.Username:
		return "You approved this batch. A second approver must approve it too."
	case !b.ExpiresAt.IsZero() && !s.now().Before(b.ExpiresAt):
		return "The time for approval has run out; the batch will expire."
	}
	return ""
}

// progressView counts an approved batch's payouts for the progress bar.
func (s *Server) progressView(ctx context.Context, b store.Batch, counts []store.StateCount) views.ProgressView {
	pv := views.ProgressView{BatchID: b.ID}
	type agg struct {
		n   int
		sum int64
	}
	groups := map[string]*agg{}
	order := []struct{ label, tone string }{
		{"succeeded", "ok"}, {"failed", "err"}, {"refused", "err"}, {"transferring", "info"}, {"sending", "info"},
		{"unclear, checking", "warn"}, {"approved, queued", "info"}, {"cancelled", ""},
	}
	for _, c := range counts {
		p := store.Payout{State: c.State, Status: c.Status}
		label, _ := payoutState(p)
		if c.State == store.PayoutSubmitted && !payoutFinal(p) {
			label = "transferring"
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
		if payoutFinal(p) {
			pv.Done += c.Count
			if payoutFailed(p) {
				pv.Err += c.Count
			} else {
				pv.OK += c.Count
			}
		}
	}
	for _, o := range order {
		if g := groups[o.label]; g != nil && g.n > 0 {
			pv.Counts = append(pv.Counts, views.CountRow{Label: o.label, Tone: o.tone, Count: g.n, Sum: views.Yuan(g.sum)})
		}
	}
	pv.Failed = pv.Err
	if pv.Total > 0 && pv.Done == pv.Total {
		pv.Finished = true
		outcome := batchOutcome(pv.OK, pv.Err)
		if b.Outcome == "" {
			if err := s.db.SetBatchOutcome(ctx, b.ID, outcome); err != nil {
				s.log.Error("set batch outcome", "batch", b.ID, "err", err)
			}
		}
		pv.Outcome = outcomeText(outcome)
		pv.Tone = map[string]string{store.OutcomeSucceeded: "ok", store.OutcomePartiallySucceeded: "warn", store.OutcomeFailed: "err"}[outcome]
		pv.CanRetry = pv.Err > 0
	}
	return pv
}

func batchOutcome(ok, failed int) string {
	switch {
	case failed == 0:
		return store.OutcomeSucceeded
	case ok == 0:
		return store.OutcomeFailed
	}
	return store.OutcomePartiallySucceeded
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

// changeBatch runs fn on batch id inside a transaction, with the batch as
// read there; fn returns the batch as it should be and an audit entry.
func (s *Server) changeBatch(r *http.Request, fn func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error)) (store.Batch, error) {
	id, err := pathID(r)
	if err != nil {
		return store.Batch{}, err
	}
	ctx := r.Context()
	var out store.Batch
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		b, err := s.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		next, audit, err := fn(tx, b)
		if err != nil {
			return err
		}
		if err := s.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		out = next
		audit.Subject = fmt.Sprintf("batch:%d", id)
		audit.ClientAddr = s.clientAddr(r)
		return s.db.AuditTx(ctx, tx, audit)
	})
	return out, err
}

func notInState(b store.Batch) error {
	state, _ := batchState(b)
	return errStatus(http.StatusConflict, "Batch #%d is %s: this cannot be done any more.", b.ID, state)
}

func (s *Server) dropBatchErrors(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	b, err := s.changeBatch(r, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if b.State != store.BatchDraft {
			return b, store.AuditEntry{}, notInState(b)
		}
		b.ErrorsDropped = true
		return b, store.AuditEntry{Actor: u.Username, Action: "payout.batch.drop_errors", Detail: fmt.Sprintf("%d rows with errors dropped", b.ErrorRows)}, nil
	})
	if err != nil {
		return err
	}
	s.flash(r, fmt.Sprintf("The %d rows with errors were dropped.", b.ErrorRows))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", b.ID))
}

func (s *Server) sendBatch(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	ctlCount := strings.TrimSpace(r.PostForm.Get("control_count"))
	ctlSum := strings.TrimSpace(r.PostForm.Get("control_sum"))
	rules, err := s.payoutRules(ctx)
	if err != nil {
		return err
	}
	var refusal string
	b, err := s.changeBatch(r, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if b.State != store.BatchDraft {
			return b, store.AuditEntry{}, notInState(b)
		}
		var n int
		var sum int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM payouts WHERE batch_id = ? AND state = ?`, b.ID, store.PayoutDraft).Scan(&n, &sum); err != nil {
			return b, store.AuditEntry{}, err
		}
		wantN, nerr := strconv.Atoi(strings.ReplaceAll(ctlCount, ",", ""))
		wantSum, serr := payments.ParseYuan(ctlSum)
		switch {
		case b.ErrorRows > 0 && !b.ErrorsDropped:
			refusal = "Drop the rows with errors, or fix the file and upload it again, before sending the batch for approval."
		case n == 0:
			refusal = "The batch has no payouts to send."
		case nerr != nil:
			refusal = "Type the number of payouts as a whole number."
		case serr != nil:
			refusal = "The control total " + serr.Error() + "."
		case wantN != n || wantSum != sum:
			refusal = fmt.Sprintf("The control totals do not match: you typed %d payouts and %s, the batch has %d payouts and %s. Check your records and the file.",
				wantN, views.Money(wantSum), n, views.Money(sum))
		}
		if refusal != "" {
			return b, store.AuditEntry{}, errBatchRefused
		}
		now := s.now()
		b.State, b.SentBy, b.SentAt = store.BatchAwaitingApproval, u.Username, now
		b.ExpiresAt = now.Add(time.Duration(rules.ExpiryDays) * 24 * time.Hour)
		b.NeedsSecond = rules.SecondLimit > 0 && sum > rules.SecondLimit
		if _, err := s.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutDraft, store.PayoutAwaitingApproval); err != nil {
			return b, store.AuditEntry{}, err
		}
		return b, store.AuditEntry{Actor: u.Username, Action: "payout.batch.send", Detail: fmt.Sprintf("%d payouts, %s, sent for approval; control totals matched", n, views.Money(sum))}, nil
	})
	if errors.Is(err, errBatchRefused) {
		return s.renderBatch(w, r, http.StatusUnprocessableEntity, refusal, ctlCount, ctlSum)
	}
	if err != nil {
		return err
	}
	s.flash(r, "The batch was sent for approval.")
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", b.ID))
}

// errBatchRefused stops a batch change whose form is re-rendered with a sentence.
var errBatchRefused = errors.New("batch change refused")

func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, _ := userFrom(ctx)
	b, err := s.changeBatch(r, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if b.State != store.BatchDraft {
			return b, store.AuditEntry{}, notInState(b)
		}
		b.State = store.BatchCancelled
		if _, err := s.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutDraft, store.PayoutCancelled); err != nil {
			return b, store.AuditEntry{}, err
		}
		return b, store.AuditEntry{Actor: u.Username, Action: "payout.batch.cancel", Detail: "draft discarded"}, nil
	})
	if err != nil {
		return err
	}
	s.flash(r, fmt.Sprintf("Batch #%d was discarded.", b.ID))
	return redirect(w, r, "/payouts/batches")
}

// expireTx moves a batch whose approval time ran out to expired.
func (s *Server) expireTx(ctx context.Context, tx *sql.Tx, b store.Batch) (store.Batch, error) {
	next := b
	next.State = store.BatchExpired
	if err := s.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
		return b, err
	}
	if _, err := s.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutAwaitingApproval, store.PayoutExpired); err != nil {
		return b, err
	}
	return next, s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: "system", Action: "payout.batch.expire", Subject: fmt.Sprintf("batch:%d", b.ID),
		Detail: "not approved before " + views.Time(b.ExpiresAt, s.cfg.Location)})
}

func (s *Server) approveBatch(w http.ResponseWriter, r *http.Request) error {
	return s.decideBatch(w, r, true)
}

func (s *Server) rejectBatch(w http.ResponseWriter, r *http.Request) error {
	return s.decideBatch(w, r, false)
}

// decideBatch approves or rejects a batch waiting for approval.
func (s *Server) decideBatch(w http.ResponseWriter, r *http.Request, approve bool) error {
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	note := strings.TrimSpace(r.PostForm.Get("note"))
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	if !approve && reason == "" {
		return s.renderBatch(w, r, http.StatusUnprocessableEntity, "Give a reason for rejecting the batch: the maker will see it.", "", "")
	}
	var refusal string
	var status int
	var result store.Batch
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		b, err := s.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if b.State != store.BatchAwaitingApproval {
			return notInState(b)
		}
		if !b.ExpiresAt.IsZero() && !s.now().Before(b.ExpiresAt) {
			if _, err := s.expireTx(ctx, tx, b); err != nil {
				return err
			}
			refusal, status = fmt.Sprintf("The time for approval ran out on %s: the batch has expired and nothing was sent. Upload the file again to make a new batch.",
				views.Time(b.ExpiresAt, s.cfg.Location)), http.StatusConflict
			return nil // commit the expiry
		}
		if why := s.approveRefusal(b, u); why != "" {
			refusal, status = why, http.StatusForbidden
			return nil
		}
		next := b
		now := s.now()
		audit := store.AuditEntry{Actor: u.Username, Subject: fmt.Sprintf("batch:%d", id), ClientAddr: s.clientAddr(r)}
		switch {
		case !approve:
			next.State, next.RejectedBy, next.RejectedAt, next.RejectReason = store.BatchRejected, u.Username, now, reason
			if _, err := s.db.SetBatchPayoutsStateTx(ctx, tx, id, store.PayoutAwaitingApproval, store.PayoutRejected); err != nil {
				return err
			}
			audit.Action, audit.Detail = "payout.batch.reject", "reason: "+reason
		case b.NeedsSecond && b.ApprovedBy == "":
			next.ApprovedBy, next.ApprovedAt, next.ApprovalNote = u.Username, now, note
			audit.Action, audit.Detail = "payout.batch.approve", "first of two approvals; note: "+note
		default:
			if b.NeedsSecond {
				next.SecondApprovedBy, next.SecondApprovedAt = u.Username, now
			} else {
				next.ApprovedBy, next.ApprovedAt, next.ApprovalNote = u.Username, now, note
			}
			next.State = store.BatchApproved
			n, err := s.db.SetBatchPayoutsStateTx(ctx, tx, id, store.PayoutAwaitingApproval, store.PayoutApproved)
			if err != nil {
				return err
			}
			audit.Action, audit.Detail = "payout.batch.approve", fmt.Sprintf("%d payouts approved for sending; note: %s", n, note)
			if !b.TwoPerson && (b.CreatedBy == u.Username || b.SentBy == u.Username) {
				audit.Detail += " (approved by its maker: two-person rule off)"
			}
		}
		if err := s.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		result = next
		return s.db.AuditTx(ctx, tx, audit)
	})
	if err != nil {
		return err
	}
	if refusal != "" {
		if status == http.StatusForbidden {
			return errStatus(status, "%s", refusal)
		}
		return s.renderBatch(w, r, status, refusal, "", "")
	}
	switch {
	case result.State == store.BatchApproved:
		s.kickPayouts()
		s.flash(r, "The batch was approved; its payouts are being sent.")
	case result.State == store.BatchRejected:
		s.flash(r, "The batch was rejected; nothing was sent.")
	default:
		s.flash(r, "Your approval is recorded. A second approver must approve too.")
	}
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

// retryBatch makes a new draft batch of the failed payouts of a finished
// batch, with new merchant payout numbers; it needs a fresh approval.
func (s *Server) retryBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	b, err := s.db.BatchByID(ctx, id)
	if err != nil {
		return err
	}
	if b.State != store.BatchApproved || b.Outcome == "" {
		return errStatus(http.StatusConflict, "Failed payouts can be retried once every payout of the batch is final.")
	}
	var failed []store.Payout
	if err := s.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if payoutFailed(p) {
			failed = append(failed, p)
		}
		return nil
	}); err != nil {
		return err
	}
	if len(failed) == 0 {
		return errStatus(http.StatusConflict, "No payout of this batch failed.")
	}
	rules, err := s.payoutRules(ctx)
	if err != nil {
		return err
	}
	var newID int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		var err error
		newID, err = s.db.CreateBatchTx(ctx, tx, store.Batch{AccountID: b.AccountID, Kind: store.BatchRetry, RetryOf: b.ID,
			FileName: b.FileName, State: store.BatchDraft, FileRows: len(failed), TwoPerson: rules.TwoPerson, CreatedBy: u.Username})
		if err != nil {
			return err
		}
		bw, err := s.db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer bw.Close()
		var sum int64
		for _, p := range failed {
			n := p
			n.BatchID, n.MchTransOrderNo, n.State, n.CreatedBy = newID, mchNo(now, newID, p.RowNo), store.PayoutDraft, u.Username
			if err := bw.Payout(ctx, n); err != nil {
				return err
			}
			sum += p.Amount
		}
		if err := bw.Flush(ctx); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "payout.batch.retry", Subject: fmt.Sprintf("batch:%d", newID),
			Detail: fmt.Sprintf("retry of %d failed payouts of batch #%d, %s, new numbers", len(failed), b.ID, views.Money(sum)), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, fmt.Sprintf("Batch #%d holds the %d failed payouts with new numbers. Check the control totals and send it for approval.", newID, len(failed)))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", newID))
}

// batchResults is the results CSV: every payout's numbers, status and
// error, then the rows that never became payouts. UTF-8 with BOM, CRLF,
// formula-safe.
func (s *Server) batchResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.db.BatchByID(ctx, id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="payout-batch-%d-results.csv"`, id))
	io.WriteString(w, payoutcsv.BOM)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write([]string{"row", "mch_trans_order_no", "trans_order_id", "account_name", "account_no", "bank_code", "bank_name", "amount", "result", "gateway_status", "error"})
	err = s.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		state, _ := payoutState(p)
		status := ""
		if p.Status != nil {
			status = strconv.Itoa(*p.Status)
		}
		errText := ""
		if payoutFailed(p) || p.State == store.PayoutUnknown {
			errText = p.LastError
		}
		rec := []string{strconv.Itoa(p.RowNo), p.MchTransOrderNo, p.TransOrderID, p.AccountName, p.AccountNo, p.BankCode, p.BankName,
			views.YuanPlain(p.Amount), state, status, errText}
		for i := range rec {
			rec[i] = payoutcsv.ExcelText(rec[i])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	for off := 0; ; off += 1000 {
		issues, err := s.db.BatchIssues(ctx, id, store.IssueError, off, 1000)
		if err != nil {
			return err
		}
		for _, i := range issues {
			cw.Write([]string{strconv.Itoa(i.RowNo), "", "", "", "", "", "", "", "not sent", "", payoutcsv.ExcelText(i.Message)})
		}
		if len(issues) < 1000 {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}
