package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

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
	if err := parseForm(r); err != nil {
		return err
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
		Detail: "not approved before " + views.Time(b.ExpiresAt, s.loc)})
}

func (s *Server) approveBatch(w http.ResponseWriter, r *http.Request) error {
	return s.decideBatch(w, r, true)
}

func (s *Server) rejectBatch(w http.ResponseWriter, r *http.Request) error {
	return s.decideBatch(w, r, false)
}

// decideBatch approves or rejects a batch waiting for approval.
func (s *Server) decideBatch(w http.ResponseWriter, r *http.Request, approve bool) error {
	if err := parseForm(r); err != nil {
		return err
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
	var stepUp string // how the approver confirmed a large batch (stepup.go)
	if approve {
		how, refusal, err := s.approvalStepUp(r, id, u)
		if err != nil {
			return err
		}
		if refusal != "" {
			return s.renderBatch(w, r, http.StatusUnprocessableEntity, refusal, "", "")
		}
		stepUp = how
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
				views.Time(b.ExpiresAt, s.loc)), http.StatusConflict
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
		if approve && stepUp != "" {
			audit.Detail += "; approved with step-up (" + stepUp + ")"
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
