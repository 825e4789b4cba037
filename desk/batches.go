package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
)

// Payout batches: made (a CSV file, the single-payout form, or the failed
// rows of a batch), sent for approval with control totals, approved or
// rejected by someone else, then sent by the payout worker. Every rule of
// who may do what with a batch, and when, is BatchActionsFor.

// Payout settings keys and defaults.
const (
	settingTwoPerson   = "payouts.two_person"
	settingSecondLimit = "payouts.second_approver_limit_fen"
	settingExpiryDays  = "payouts.expiry_days"

	defaultExpiryDays = 3
	twinWindow        = 7 * 24 * time.Hour // "paid in the last 7 days" warnings
)

// PayoutRules are the admin's approval settings.
type PayoutRules struct {
	TwoPerson   bool
	SecondLimit int64 // fen; 0: never a second approver
	ExpiryDays  int
}

// PayoutRules are the approval settings in force.
func (d *Desk) PayoutRules(ctx context.Context) (PayoutRules, error) {
	r := PayoutRules{TwoPerson: true, ExpiryDays: defaultExpiryDays}
	v, err := d.db.Setting(ctx, settingTwoPerson, "1")
	if err != nil {
		return r, err
	}
	r.TwoPerson = v != "0"
	if v, err = d.db.Setting(ctx, settingSecondLimit, "0"); err != nil {
		return r, err
	}
	r.SecondLimit, _ = strconv.ParseInt(v, 10, 64)
	if v, err = d.db.Setting(ctx, settingExpiryDays, strconv.Itoa(defaultExpiryDays)); err != nil {
		return r, err
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		r.ExpiryDays = n
	}
	return r, nil
}

// SetPayoutRules saves the approval settings as an admin typed them: the
// second-approver limit in yuan (empty for never), the expiry in days.
func (d *Desk) SetPayoutRules(ctx context.Context, a Actor, twoPerson bool, secondLimit, expiryDays string) error {
	if !a.AtLeast(store.RoleAdmin) {
		return errAdminOnly
	}
	var fields []*Refusal
	var limit int64
	if secondLimit = strings.TrimSpace(secondLimit); secondLimit != "" {
		var err error
		if limit, err = money.Parse(secondLimit); err != nil {
			fields = append(fields, refuseField("second_limit", "The second-approver limit: %s", AmountProblem(err)))
		}
	}
	days, err := strconv.Atoi(strings.TrimSpace(expiryDays))
	if err != nil || days < 1 || days > 90 {
		fields = append(fields, refuseField("expiry_days", "Enter a whole number of days from 1 to 90."))
	}
	if len(fields) > 0 {
		return &Refusal{Kind: Invalid, Format: "The settings were not saved. Correct the fields marked below.", Fields: fields}
	}
	old, err := d.PayoutRules(ctx)
	if err != nil {
		return err
	}
	two := "1"
	if !twoPerson {
		two = "0"
	}
	return d.saveSettings(ctx, a, map[string]string{settingTwoPerson: two, settingSecondLimit: strconv.FormatInt(limit, 10), settingExpiryDays: strconv.Itoa(days)},
		store.AuditEntry{Action: "settings.payouts", Subject: "settings:payouts",
			Detail: fmt.Sprintf("two-person rule %v → %v; second approver above %s → %s; expiry %d → %d days",
				old.TwoPerson, twoPerson, limitText(old.SecondLimit), limitText(limit), old.ExpiryDays, days)})
}

// PayoutFinal reports whether nothing more will happen to a payout.
func PayoutFinal(p store.Payout) bool {
	switch p.State {
	case store.PayoutRefused, store.PayoutRejected, store.PayoutExpired, store.PayoutCancelled:
		return true
	case store.PayoutSubmitted:
		return p.Status != nil && payments.TransFinal(*p.Status)
	}
	return false
}

// PayoutFailed reports whether a sent payout definitely did not pay.
func PayoutFailed(p store.Payout) bool {
	return p.State == store.PayoutRefused || p.State == store.PayoutSubmitted && p.StatusOr(-1) == payments.TransFailed
}

// BatchOutcome is the outcome of a finished batch with ok and failed
// payouts.
func BatchOutcome(ok, failed int) string {
	switch {
	case failed == 0:
		return store.OutcomeSucceeded
	case ok == 0:
		return store.OutcomeFailed
	}
	return store.OutcomePartiallySucceeded
}

// BatchFacts are what BatchActionsFor needs to know of a batch's payouts.
type BatchFacts struct {
	Count       int   // payouts not cancelled
	Sum         int64 // their total
	Final       int   // of them, those final
	Failed      int   // of them, those that did not pay
	Unconfirmed int   // of the failed, refusals of a re-send no query has confirmed yet
	StepUpLimit int64 // the step-up limit in force; 0: never
	WarningRows int   // rows of the batch with a warning, as stored now
	CopiedTo    int64 // the batch it was copied or retried into; 0: none
}

// BatchActions says what an actor may do with a batch now, and why not.
type BatchActions struct {
	// Edit: the batch is a draft and the actor may change it (drop the
	// rows with errors, send it for approval, discard it).
	Edit bool
	// SendBlocked says why a draft cannot be sent for approval yet (its
	// Key is "" when nothing blocks it).
	SendBlocked i18n.Message
	// Approve and Reject: the actor may decide; ApproveNote says why not.
	Approve     bool
	Reject      bool
	ApproveNote i18n.Message
	// StepUp, above zero, is the limit above which approving asks for the
	// password or a code again.
	StepUp int64
	// ConfirmWarnings, above zero, is the number of rows with warnings the
	// approver must say they checked (checked_warnings) to approve; the
	// approval is refused when the number differs, so that warnings added
	// since the page was read are not approved blind. Warnings lists the
	// first of them (BatchActions reads them; BatchActionsFor leaves it
	// empty).
	ConfirmWarnings int
	Warnings        []store.BatchIssue
	// Retry: the failed payouts may be made into a new batch; RetryCount
	// of them, and RetryNote says which it leaves out and why.
	Retry      bool
	RetryCount int
	RetryNote  i18n.Message
	// Copy: the batch was sent back (rejected or expired) or failed, and
	// its payouts may be copied into a new draft (new numbers, a new
	// approval); CopyNote says why not when it cannot be (any more).
	Copy     bool
	CopyNote i18n.Message
}

// BatchActionsFor is the one place that says what a may do with batch b
// at now; the batch page shows it and every batch action enforces it.
func BatchActionsFor(a Actor, b store.Batch, f BatchFacts, now time.Time) BatchActions {
	var acts BatchActions
	switch b.State {
	case store.BatchDraft:
		acts.Edit = a.AtLeast(store.RoleOperator)
		switch {
		case b.ErrorRows > 0 && !b.ErrorsDropped:
			acts.SendBlocked = i18n.M("Drop the rows with errors, or fix the file and upload it again, before sending the batch for approval.")
		case f.Count == 0:
			acts.SendBlocked = i18n.M("The batch has no payouts to send.")
		}
	case store.BatchAwaitingApproval:
		switch {
		case !a.AtLeast(store.RoleApprover):
			acts.ApproveNote = i18n.M("Waiting for an approver. Your role cannot approve payouts.")
		case b.TwoPerson && (b.CreatedBy == a.Username || b.SentBy == a.Username):
			acts.ApproveNote = i18n.M("Waiting for approval by someone else: you made this batch, and the two-person rule is on.")
		case b.NeedsSecond && b.ApprovedBy == a.Username:
			acts.ApproveNote = i18n.M("You approved this batch. A second approver must approve it too.")
		case !b.ExpiresAt.IsZero() && !now.Before(b.ExpiresAt):
			acts.ApproveNote = i18n.M("The time for approval has run out; the batch will expire.")
		}
		acts.Approve = acts.ApproveNote.Key == ""
		acts.Reject = acts.Approve
		if acts.Approve && f.StepUpLimit > 0 && f.Sum > f.StepUpLimit {
			acts.StepUp = f.StepUpLimit
		}
		if acts.Approve {
			acts.ConfirmWarnings = f.WarningRows
		}
	case store.BatchApproved:
		// A refusal no query has confirmed may hide a payout the gateway
		// holds: paying it again under a new number could pay twice.
		acts.RetryCount = f.Failed - f.Unconfirmed
		acts.Retry = a.AtLeast(store.RoleOperator) && f.Count > 0 && f.Final == f.Count && acts.RetryCount > 0
		if f.Unconfirmed > 0 {
			acts.RetryNote = i18n.M("%d refused payouts are not offered for a retry: the gateway refused them when they were sent again, and Paydesk is asking it whether an earlier send arrived.", f.Unconfirmed)
		}
	}
	acts.Copy, acts.CopyNote = copyRule(a, b, f)
	return acts
}

// copyRule says whether a may copy batch b into a new draft, and if not,
// why (empty when there is nothing to say).
func copyRule(a Actor, b store.Batch, f BatchFacts) (bool, i18n.Message) {
	sentBack := b.State == store.BatchRejected || b.State == store.BatchExpired
	failed := b.State == store.BatchApproved && b.Outcome == store.OutcomeFailed
	switch {
	case !sentBack && !failed:
		return false, i18n.Message{}
	case f.CopiedTo != 0:
		return false, i18n.M("This batch was copied into batch #%d.", f.CopiedTo)
	case f.Count == 0:
		return false, i18n.Message{}
	case failed && f.Unconfirmed > 0:
		return false, i18n.M("The batch cannot be copied yet: the gateway refused some payouts when they were sent again, and Paydesk is asking it whether an earlier send arrived.")
	case !a.AtLeast(store.RoleOperator):
		return false, i18n.Message{}
	}
	return true, i18n.Message{}
}

// batchFacts counts a batch's payouts for BatchActionsFor, from counts
// when the caller has them (nil: they are read).
func (d *Desk) batchFacts(ctx context.Context, b store.Batch, counts []store.StateCount) (BatchFacts, error) {
	var f BatchFacts
	var err error
	if counts == nil {
		if counts, err = d.db.BatchCounts(ctx, b.ID); err != nil {
			return f, err
		}
	}
	for _, c := range counts {
		if c.State == store.PayoutCancelled {
			continue
		}
		f.Count += c.Count
		f.Sum += c.Sum
		p := store.Payout{State: c.State, Status: c.Status}
		if PayoutFinal(p) {
			f.Final += c.Count
			if PayoutFailed(p) {
				f.Failed += c.Count
			}
		}
	}
	switch b.State {
	case store.BatchAwaitingApproval:
		if f.StepUpLimit, err = d.StepUpLimit(ctx); err != nil {
			return f, err
		}
		if f.WarningRows, err = d.db.WarningRows(ctx, b.ID); err != nil {
			return f, err
		}
	case store.BatchApproved:
		if f.Unconfirmed, err = d.db.UnconfirmedRefusals(ctx, b.ID); err != nil {
			return f, err
		}
	}
	switch b.State {
	case store.BatchApproved, store.BatchRejected, store.BatchExpired:
		if f.CopiedTo, err = d.db.CopiedTo(ctx, b.ID); err != nil {
			return f, err
		}
	}
	return f, nil
}

// BatchActions is what a may do with batch b now. counts are the batch's
// payouts counted by state (store.DB.BatchCounts), when the caller has
// them; nil reads them.
func (d *Desk) BatchActions(ctx context.Context, a Actor, b store.Batch, counts []store.StateCount) (BatchActions, error) {
	f, err := d.batchFacts(ctx, b, counts)
	if err != nil {
		return BatchActions{}, err
	}
	acts := BatchActionsFor(a, b, f, d.now())
	if acts.ConfirmWarnings > 0 {
		if acts.Warnings, err = d.db.BatchIssues(ctx, b.ID, store.IssueWarning, 0, shownWarnings); err != nil {
			return acts, err
		}
	}
	return acts, nil
}

// shownWarnings is how many warnings BatchActions lists; the page says how
// many more there are.
const shownWarnings = 100

// checkedWarnings refuses an approval of a batch with warnings rows unless
// the approver confirmed, as typed, that they checked exactly that many.
func checkedWarnings(warnings int, typed string) *Refusal {
	typed = strings.TrimSpace(typed)
	if warnings == 0 && (typed == "" || typed == "0") {
		return nil
	}
	if typed == "" {
		return refuseField("checked_warnings", "The batch has %d rows with warnings: check them and confirm that you did before approving. Nothing was approved.", warnings)
	}
	n, err := strconv.Atoi(typed)
	if err != nil || n < 0 {
		return refuseField("checked_warnings", "The number of warnings checked must be a whole number. Nothing was approved.")
	}
	if n != warnings {
		return &Refusal{Kind: Conflict, Field: "checked_warnings",
			Format: "The batch has %d rows with warnings now, not the %d you checked: read them again before approving. Nothing was approved.",
			Args:   []any{warnings, n}}
	}
	return nil
}

// notInState refuses a change of a batch that has moved on.
func notInState(b store.Batch) *Refusal {
	return refuse(Conflict, "Batch #%s is %s: this cannot be done any more.", strconv.FormatInt(b.ID, 10), BatchName(b))
}

// changeBatch runs fn on batch id inside a transaction, with the batch as
// read there; fn returns the batch as it should be and an audit entry.
func (d *Desk) changeBatch(ctx context.Context, a Actor, id int64, fn func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error)) (store.Batch, error) {
	var out store.Batch
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		b, err := d.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		next, audit, err := fn(tx, b)
		if err != nil {
			return err
		}
		if err := d.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		out = next
		audit.Actor, audit.Subject, audit.ClientAddr = a.Username, fmt.Sprintf("batch:%d", id), a.ClientAddr
		return d.db.AuditTx(ctx, tx, audit)
	})
	return out, err
}

// editable refuses what only an operator may do with a draft.
func editable(a Actor, b store.Batch) error {
	if !a.AtLeast(store.RoleOperator) {
		return errOperatorOnly
	}
	if b.State != store.BatchDraft {
		return notInState(b)
	}
	return nil
}

// DropBatchErrors drops the rows with errors of a draft batch.
func (d *Desk) DropBatchErrors(ctx context.Context, a Actor, id int64) (store.Batch, error) {
	return d.changeBatch(ctx, a, id, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if err := editable(a, b); err != nil {
			return b, store.AuditEntry{}, err
		}
		b.ErrorsDropped = true
		return b, store.AuditEntry{Action: "payout.batch.drop_errors", Detail: fmt.Sprintf("%d rows with errors dropped", b.ErrorRows)}, nil
	})
}

// SendBatch sends a draft batch for approval once the control totals the
// maker typed (the number of payouts and their total in yuan) match it.
func (d *Desk) SendBatch(ctx context.Context, a Actor, id int64, controlCount, controlSum string) (store.Batch, error) {
	rules, err := d.PayoutRules(ctx)
	if err != nil {
		return store.Batch{}, err
	}
	return d.changeBatch(ctx, a, id, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if err := editable(a, b); err != nil {
			return b, store.AuditEntry{}, err
		}
		n, sum, err := d.db.DraftTotalsTx(ctx, tx, b.ID)
		if err != nil {
			return b, store.AuditEntry{}, err
		}
		if r := controlTotals(b, n, sum, controlCount, controlSum); r != nil {
			return b, store.AuditEntry{}, r
		}
		now := d.now()
		b.State, b.SentBy, b.SentAt = store.BatchAwaitingApproval, a.Username, now
		b.ExpiresAt = now.Add(time.Duration(rules.ExpiryDays) * 24 * time.Hour)
		b.NeedsSecond = rules.SecondLimit > 0 && sum > rules.SecondLimit
		if _, err := d.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutDraft, store.PayoutAwaitingApproval); err != nil {
			return b, store.AuditEntry{}, err
		}
		if err := d.db.SetBatchSentTx(ctx, tx, b.ID, n, sum); err != nil {
			return b, store.AuditEntry{}, err
		}
		return b, store.AuditEntry{Action: "payout.batch.send", Detail: fmt.Sprintf("%d payouts, %s, sent for approval; control totals matched", n, money.Format(sum))}, nil
	})
}

// controlTotals refuses sending draft b, of n payouts summing sum, when
// its errors are not dropped or the typed totals do not match.
func controlTotals(b store.Batch, n int, sum int64, count, total string) *Refusal {
	acts := BatchActionsFor(Actor{Role: store.RoleOperator}, b, BatchFacts{Count: n, Sum: sum}, time.Time{})
	if acts.SendBlocked.Key != "" {
		return refuseMessage(Invalid, "", acts.SendBlocked)
	}
	wantN, nerr := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(count), ",", ""))
	wantSum, serr := money.Parse(strings.TrimSpace(total))
	switch {
	case nerr != nil:
		return refuse(Invalid, "Type the number of payouts as a whole number.")
	case serr != nil:
		return refuse(Invalid, "The control total: %s", AmountProblem(serr))
	case wantN != n || wantSum != sum:
		return refuse(Invalid, "The control totals do not match: you typed %d payouts and %s, the batch has %d payouts and %s. Check your records and the file.",
			wantN, money.Format(wantSum), n, money.Format(sum))
	}
	return nil
}

// CancelBatch discards a draft batch.
func (d *Desk) CancelBatch(ctx context.Context, a Actor, id int64) (store.Batch, error) {
	return d.changeBatch(ctx, a, id, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		if err := editable(a, b); err != nil {
			return b, store.AuditEntry{}, err
		}
		b.State = store.BatchCancelled
		if _, err := d.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutDraft, store.PayoutCancelled); err != nil {
			return b, store.AuditEntry{}, err
		}
		return b, store.AuditEntry{Action: "payout.batch.cancel", Detail: "draft discarded"}, nil
	})
}

// expireTx moves a batch whose approval time ran out to expired.
func (d *Desk) expireTx(ctx context.Context, tx *sql.Tx, b store.Batch) (store.Batch, error) {
	next := b
	next.State = store.BatchExpired
	if err := d.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
		return b, err
	}
	if _, err := d.db.SetBatchPayoutsStateTx(ctx, tx, b.ID, store.PayoutAwaitingApproval, store.PayoutExpired); err != nil {
		return b, err
	}
	return next, d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: System.Username, Action: "payout.batch.expire", Subject: fmt.Sprintf("batch:%d", b.ID),
		Detail: "not approved before " + timeIn(b.ExpiresAt, d.cfg.Location)})
}

// expireDue ends the batches whose approval time ran out.
func (d *Desk) expireDue(ctx context.Context) error {
	list, err := d.db.ExpiredBatches(ctx, d.now())
	if err != nil {
		return err
	}
	for _, b := range list {
		err := d.db.InTx(ctx, func(tx *sql.Tx) error {
			cur, err := d.db.BatchByIDTx(ctx, tx, b.ID)
			if err != nil || cur.State != store.BatchAwaitingApproval {
				return err
			}
			_, err = d.expireTx(ctx, tx, cur)
			return err
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// ApproveBatch records a's approval of a batch waiting for it, as
// BatchActionsFor allows. Above the step-up limit, stepUp must be a's
// password or a current two-factor code. Above the second-approver limit
// the first approval waits for a second one; the last one approves the
// payouts for sending and wakes the worker. A batch whose time ran out is
// expired now and refused. A batch with warnings needs checked, the number
// of rows with warnings the approver checked (BatchActions.ConfirmWarnings).
func (d *Desk) ApproveBatch(ctx context.Context, a Actor, id int64, note, stepUp, checked string) (store.Batch, error) {
	b, err := d.db.BatchByID(ctx, id)
	if err != nil {
		return b, err
	}
	var how string // how the approver confirmed a large batch
	if acts, err := d.BatchActions(ctx, a, b, nil); err != nil {
		return b, err
	} else if r := checkedWarnings(acts.ConfirmWarnings, checked); acts.Approve && r != nil {
		return b, r
	} else if acts.Approve && acts.StepUp > 0 {
		if how, err = d.ApprovalStepUp(ctx, a, id, stepUp, acts.StepUp); err != nil {
			return b, err
		}
	}
	b, err = d.decideBatch(ctx, a, id, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		next, now := b, d.now()
		audit := store.AuditEntry{Action: "payout.batch.approve"}
		// Read again where the approval is written: a warning added since
		// the check above is not approved blind either.
		warnings, err := d.db.WarningRowsTx(ctx, tx, id)
		if err != nil {
			return b, audit, err
		}
		if r := checkedWarnings(warnings, checked); r != nil {
			return b, audit, r
		}
		if b.NeedsSecond && b.ApprovedBy == "" {
			next.ApprovedBy, next.ApprovedAt, next.ApprovalNote = a.Username, now, note
			audit.Detail = "first of two approvals; note: " + note
		} else {
			if b.NeedsSecond {
				next.SecondApprovedBy, next.SecondApprovedAt = a.Username, now
			} else {
				next.ApprovedBy, next.ApprovedAt, next.ApprovalNote = a.Username, now, note
			}
			next.State = store.BatchApproved
			n, err := d.db.SetBatchPayoutsStateTx(ctx, tx, id, store.PayoutAwaitingApproval, store.PayoutApproved)
			if err != nil {
				return b, audit, err
			}
			audit.Detail = fmt.Sprintf("%d payouts approved for sending; note: %s", n, note)
			if !b.TwoPerson && (b.CreatedBy == a.Username || b.SentBy == a.Username) {
				audit.Detail += " (approved by its maker: two-person rule off)"
			}
		}
		if warnings > 0 {
			audit.Detail += fmt.Sprintf("; the approver confirmed checking the %d rows with warnings", warnings)
		}
		if how != "" {
			audit.Detail += "; approved with step-up (" + how + ")"
		}
		return next, audit, nil
	})
	if err == nil && b.State == store.BatchApproved {
		d.kickPayouts()
	}
	return b, err
}

// RejectBatch records a's rejection of a batch waiting for approval, with
// the reason the maker will see.
func (d *Desk) RejectBatch(ctx context.Context, a Actor, id int64, reason string) (store.Batch, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Batch{}, refuseField("reason", "Give a reason for rejecting the batch: the maker will see it.")
	}
	return d.decideBatch(ctx, a, id, func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error) {
		next := b
		next.State, next.RejectedBy, next.RejectedAt, next.RejectReason = store.BatchRejected, a.Username, d.now(), reason
		if _, err := d.db.SetBatchPayoutsStateTx(ctx, tx, id, store.PayoutAwaitingApproval, store.PayoutRejected); err != nil {
			return b, store.AuditEntry{}, err
		}
		return next, store.AuditEntry{Action: "payout.batch.reject", Detail: "reason: " + reason}, nil
	})
}

// decideBatch applies an approval or a rejection (decide) to batch id in
// one transaction, after the rules of BatchActionsFor, read inside it. A
// batch whose approval time ran out is expired (and that committed) and
// refused.
func (d *Desk) decideBatch(ctx context.Context, a Actor, id int64, decide func(tx *sql.Tx, b store.Batch) (store.Batch, store.AuditEntry, error)) (store.Batch, error) {
	var result store.Batch
	var refusal *Refusal
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		b, err := d.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if b.State != store.BatchAwaitingApproval {
			return notInState(b)
		}
		if !b.ExpiresAt.IsZero() && !d.now().Before(b.ExpiresAt) {
			if result, err = d.expireTx(ctx, tx, b); err != nil {
				return err
			}
			refusal = refuse(Conflict, "The time for approval ran out on %s: the batch has expired and nothing was sent. Upload the file again to make a new batch.",
				timeIn(b.ExpiresAt, d.cfg.Location))
			return nil // commit the expiry
		}
		if acts := BatchActionsFor(a, b, BatchFacts{}, d.now()); !acts.Approve {
			return refuseMessage(Forbidden, "", acts.ApproveNote)
		}
		next, audit, err := decide(tx, b)
		if err != nil {
			return err
		}
		if err := d.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		result = next
		audit.Actor, audit.Subject, audit.ClientAddr = a.Username, fmt.Sprintf("batch:%d", id), a.ClientAddr
		return d.db.AuditTx(ctx, tx, audit)
	})
	if err == nil && refusal != nil {
		return result, refusal
	}
	return result, err
}

// mchNo is the merchant payout number of a batch's row: fixed when the
// batch is made, unique for the database (batch ids are), and never reused.
// Its date and time are now's, in the zone now is in: the console's.
func mchNo(now time.Time, batchID int64, rowNo int) string {
	return fmt.Sprintf("PD%s%d%06d", now.Format("060102150405"), batchID, rowNo)
}

func rowPayout(row *payoutcsv.Row, accountID, batchID int64, no, state, by string) store.Payout {
	return store.Payout{
		AccountID: accountID, BatchID: batchID, RowNo: row.RowNo, MchTransOrderNo: no, Amount: row.Amount,
		AccountName: row.AccountName, AccountNo: row.AccountNo, BankCode: row.BankCode, BankName: row.Branch,
		Province: row.Province, City: row.City, AccountType: row.AccountType, AccountAttr: row.AccountAttr,
		BankType: row.BankType, Param1: row.Param1, Param2: row.Param2, State: state, CreatedBy: by,
	}
}

// pickAccount returns the enabled gateway account idText names, or the
// first one.
func (d *Desk) pickAccount(ctx context.Context, idText string) (store.GatewayAccount, error) {
	accts, err := d.db.GatewayAccounts(ctx, false)
	if err != nil {
		return store.GatewayAccount{}, err
	}
	if len(accts) == 0 {
		return store.GatewayAccount{}, refuse(Invalid, "There is no gateway account to pay out from. An admin must add one in Settings → Gateway accounts.")
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

// PayoutInput is the single-payout form as typed: its fields by the CSV
// columns' names (amount, account_name, account_no, bank_code, branch,
// province, city, account_type, account_attr, bank_type, param1, param2),
// and the gateway account's id.
type PayoutInput struct {
	AccountID string
	Fields    map[string]string
}

// CreatePayout makes a single payout: a batch of one, sent for approval
// at once. It returns the batch's id.
func (d *Desk) CreatePayout(ctx context.Context, a Actor, in PayoutInput) (int64, error) {
	if !a.AtLeast(store.RoleOperator) {
		return 0, errOperatorOnly
	}
	row := payoutcsv.CheckOne(in.Fields)
	if len(row.Errors) > 0 {
		r := &Refusal{Kind: Invalid, Format: "The payout was not made. Correct the fields marked below."}
		for field, msg := range row.FieldErrors {
			r.Fields = append(r.Fields, refuseMessage(Invalid, field, msg))
		}
		return 0, r
	}
	acct, err := d.pickAccount(ctx, in.AccountID)
	if err != nil {
		return 0, err
	}
	rules, err := d.PayoutRules(ctx)
	if err != nil {
		return 0, err
	}
	var batchID int64
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		b := store.Batch{AccountID: acct.ID, Kind: store.BatchSingle, State: store.BatchAwaitingApproval, FileRows: 1,
			TwoPerson: rules.TwoPerson, NeedsSecond: rules.SecondLimit > 0 && row.Amount > rules.SecondLimit, CreatedBy: a.Username}
		var err error
		if batchID, err = d.db.CreateBatchTx(ctx, tx, b); err != nil {
			return err
		}
		if b, err = d.db.BatchByIDTx(ctx, tx, batchID); err != nil {
			return err
		}
		payoutID, err := d.db.InsertPayoutTx(ctx, tx, rowPayout(row, acct.ID, batchID, mchNo(now.In(d.cfg.Location), batchID, 1), store.PayoutAwaitingApproval, a.Username))
		if err != nil {
			return err
		}
		if err := d.addBatchTwinWarnings(ctx, tx, batchID); err != nil {
			return err
		}
		next := b
		next.SentBy, next.SentAt, next.ExpiresAt = a.Username, now, now.Add(time.Duration(rules.ExpiryDays)*24*time.Hour)
		if next.WarningRows, err = d.db.WarningRowsTx(ctx, tx, batchID); err != nil {
			return err
		}
		if err := d.db.UpdateBatchTx(ctx, tx, b, next); err != nil {
			return err
		}
		if err := d.db.SetBatchSentTx(ctx, tx, batchID, 1, row.Amount); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "payout.create", Subject: fmt.Sprintf("batch:%d", batchID),
			Detail: fmt.Sprintf("single payout #%d, %s to %s %s, sent for approval", payoutID, money.Format(row.Amount), row.AccountName, row.AccountNo), ClientAddr: a.ClientAddr})
	})
	return batchID, err
}

// BatchFile is an uploaded payout file.
type BatchFile struct {
	AccountID string // the gateway account to pay out from; empty for the first
	Name      string
	File      io.ReadSeeker
}

// ImportBatch parses, checks and stores a CSV file as a draft batch in one
// transaction: valid rows become payouts with their numbers fixed, the
// others are kept as errors. A file refused as a whole leaves nothing
// behind.
func (d *Desk) ImportBatch(ctx context.Context, a Actor, f BatchFile) (int64, error) {
	if !a.AtLeast(store.RoleOperator) {
		return 0, errOperatorOnly
	}
	if payoutcsv.HasControl(f.Name, false) {
		return 0, refuse(Invalid, "The file's name contains a control character; rename the file and upload it again.")
	}
	acct, err := d.pickAccount(ctx, f.AccountID)
	if err != nil {
		return 0, err
	}
	rules, err := d.PayoutRules(ctx)
	if err != nil {
		return 0, err
	}
	var id int64
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = d.importBatchTx(ctx, tx, a, acct, rules, f)
		return err
	})
	var fe *payoutcsv.FileError
	if errors.As(err, &fe) {
		return 0, refuseMessage(Invalid, "", fe.Msg)
	}
	return id, err
}

// importBatchTx stores a file's batch inside tx.
func (d *Desk) importBatchTx(ctx context.Context, tx *sql.Tx, a Actor, acct store.GatewayAccount, rules PayoutRules, f BatchFile) (int64, error) {
	now := d.now()
	id, err := d.db.CreateBatchTx(ctx, tx, store.Batch{AccountID: acct.ID, Kind: store.BatchCSV, FileName: f.Name, State: store.BatchDraft,
		TwoPerson: rules.TwoPerson, CreatedBy: a.Username})
	if err != nil {
		return 0, err
	}
	bw, err := d.db.NewBatchWriter(ctx, tx)
	if err != nil {
		return 0, err
	}
	defer bw.Close()
	errorRows := 0
	sum, err := payoutcsv.Parse(f.File, func(row *payoutcsv.Row) error {
		if len(row.Errors) == 0 {
			var err error
			if row.MchTransOrderNo == "" {
				err = bw.Payout(ctx, rowPayout(row, acct.ID, id, mchNo(now.In(d.cfg.Location), id, row.RowNo), store.PayoutDraft, a.Username))
			} else {
				err = bw.PayoutNow(ctx, rowPayout(row, acct.ID, id, row.MchTransOrderNo, store.PayoutDraft, a.Username))
			}
			if errors.Is(err, store.ErrConflict) {
				row.Errors = append(row.Errors, i18n.M("Row %s: %s", strconv.Itoa(row.RowNo), i18n.M("The merchant payout number %s was used before; every payout needs a number never used before (or leave the column empty).", row.MchTransOrderNo)))
				row.Raw = row.AccountName + ", " + row.AccountNo + ", " + money.Plain(row.Amount)
			} else if err != nil {
				return err
			}
		}
		if len(row.Errors) > 0 {
			errorRows++
			cells := row.TemplateCells() // kept once per row, for the errors file
			for _, msg := range row.Errors {
				if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueError, Message: i18n.Encode(msg), Raw: row.Raw, Cells: cells}); err != nil {
					return err
				}
				cells = nil
			}
		}
		for _, msg := range row.Warnings {
			if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueWarning, Message: i18n.Encode(msg)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := bw.Flush(ctx); err != nil {
		return 0, err
	}
	twins, err := bw.RecentTwins(ctx, id, d.now().Add(-twinWindow))
	if err != nil {
		return 0, err
	}
	err = d.twinWarnings(twins, func(rowNo int, msg string) error {
		return bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: rowNo, Severity: store.IssueWarning, Message: msg})
	})
	if err != nil {
		return 0, err
	}
	bw.Close()
	prev, err := d.db.BatchByIDTx(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	next := prev
	next.Encoding, next.FileRows, next.ErrorRows = sum.Encoding, sum.Rows, errorRows
	if next.WarningRows, err = d.db.WarningRowsTx(ctx, tx, id); err != nil {
		return 0, err
	}
	if err := d.db.UpdateBatchTx(ctx, tx, prev, next); err != nil {
		return 0, err
	}
	if err := d.db.SetBatchEncodingTx(ctx, tx, id, sum.Encoding); err != nil {
		return 0, err
	}
	return id, d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "payout.batch.upload", Subject: fmt.Sprintf("batch:%d", id),
		Detail:     fmt.Sprintf("file %q (%s): %d rows, %d with errors, %d payouts, %s", f.Name, sum.Encoding, sum.Rows, errorRows, sum.Rows-errorRows, money.Format(sum.Total)),
		ClientAddr: a.ClientAddr})
}

// addBatchTwinWarnings warns about payouts of a batch that repeat an
// earlier payout (same account number and amount) of the last 7 days.
func (d *Desk) addBatchTwinWarnings(ctx context.Context, tx *sql.Tx, batchID int64) error {
	twins, err := d.db.RecentTwinsTx(ctx, tx, batchID, d.now().Add(-twinWindow))
	if err != nil {
		return err
	}
	return d.twinWarnings(twins, func(rowNo int, msg string) error {
		return d.db.AddBatchWarningTx(ctx, tx, batchID, rowNo, msg)
	})
}

// twinWarnings calls add with the warning for each row that twins (by
// row, as RecentTwinsTx gives them) names.
func (d *Desk) twinWarnings(twins []store.RecentTwin, add func(rowNo int, msg string) error) error {
	last := -1
	for _, t := range twins {
		if t.RowNo == last {
			continue // one warning per row is enough
		}
		last = t.RowNo
		var m i18n.Message
		at, batch := timeIn(t.CreatedAt, d.cfg.Location), strconv.FormatInt(t.BatchID, 10)
		switch {
		case t.Succeeded && t.BatchID != 0:
			m = i18n.M("A payout to the same account with the same amount was paid in batch #%s on %s (%s); check that it is not paid twice.", batch, at, t.MchTransOrderNo)
		case t.Succeeded:
			m = i18n.M("A payout to the same account with the same amount was paid on %s (%s); check that it is not paid twice.", at, t.MchTransOrderNo)
		case t.BatchID != 0:
			m = i18n.M("A payout to the same account with the same amount was sent in batch #%s on %s (%s); check that it is not paid twice.", batch, at, t.MchTransOrderNo)
		default:
			m = i18n.M("A payout to the same account with the same amount was sent on %s (%s); check that it is not paid twice.", at, t.MchTransOrderNo)
		}
		if err := add(t.RowNo, i18n.Encode(i18n.M("Row %s: %s", strconv.Itoa(t.RowNo), m))); err != nil {
			return err
		}
	}
	return nil
}

// RetryBatch makes a new draft batch of the failed payouts of a finished
// batch, with new merchant payout numbers; it needs a fresh approval. It
// returns the new batch's id and how many payouts it holds.
func (d *Desk) RetryBatch(ctx context.Context, a Actor, id int64) (int64, int, error) {
	b, err := d.db.BatchByID(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	if !a.AtLeast(store.RoleOperator) {
		return 0, 0, errOperatorOnly
	}
	f, err := d.batchFacts(ctx, b, nil)
	if err != nil {
		return 0, 0, err
	}
	switch acts := BatchActionsFor(a, b, f, d.now()); {
	case acts.Retry:
	case b.State != store.BatchApproved || f.Final < f.Count || f.Count == 0:
		return 0, 0, refuse(Conflict, "Failed payouts can be retried once every payout of the batch is final.")
	case f.Failed > 0:
		return 0, 0, refuse(Conflict, "The refused payouts cannot be retried yet: the gateway refused them when they were sent again, and Paydesk is asking it whether an earlier send arrived.")
	default:
		return 0, 0, refuse(Conflict, "No payout of this batch failed.")
	}
	var failed []store.Payout
	if err := d.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if PayoutFailed(p) && !p.RefusalUnconfirmed {
			failed = append(failed, p)
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	if len(failed) == 0 {
		return 0, 0, refuse(Conflict, "No payout of this batch failed.")
	}
	rules, err := d.PayoutRules(ctx)
	if err != nil {
		return 0, 0, err
	}
	var newID int64
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		var sum int64
		var err error
		if newID, sum, err = d.draftOfTx(ctx, tx, a, b, failed, rules.TwoPerson); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "payout.batch.retry", Subject: fmt.Sprintf("batch:%d", newID),
			Detail: fmt.Sprintf("retry of %d failed payouts of batch #%d, %s, new numbers", len(failed), b.ID, money.Format(sum)), ClientAddr: a.ClientAddr})
	})
	return newID, len(failed), err
}

// draftOfTx makes, inside tx, a new draft batch of b's kind retry holding
// rows (payouts of b) under new merchant payout numbers, made by a. It
// returns the new batch's id and the rows' total.
func (d *Desk) draftOfTx(ctx context.Context, tx *sql.Tx, a Actor, b store.Batch, rows []store.Payout, twoPerson bool) (int64, int64, error) {
	now := d.now().In(d.cfg.Location)
	id, err := d.db.CreateBatchTx(ctx, tx, store.Batch{AccountID: b.AccountID, Kind: store.BatchRetry, RetryOf: b.ID,
		FileName: b.FileName, State: store.BatchDraft, FileRows: len(rows), TwoPerson: twoPerson, CreatedBy: a.Username})
	if err != nil {
		return 0, 0, err
	}
	bw, err := d.db.NewBatchWriter(ctx, tx)
	if err != nil {
		return 0, 0, err
	}
	defer bw.Close()
	var sum int64
	for _, p := range rows {
		n := store.Payout{AccountID: p.AccountID, BatchID: id, RowNo: p.RowNo, MchTransOrderNo: mchNo(now, id, p.RowNo),
			Amount: p.Amount, Currency: p.Currency, AccountName: p.AccountName, AccountNo: p.AccountNo, BankCode: p.BankCode,
			BankName: p.BankName, Province: p.Province, City: p.City, AccountType: p.AccountType, AccountAttr: p.AccountAttr,
			BankType: p.BankType, Param1: p.Param1, Param2: p.Param2, State: store.PayoutDraft, CreatedBy: a.Username}
		if err := bw.Payout(ctx, n); err != nil {
			return 0, 0, err
		}
		sum += p.Amount
	}
	return id, sum, bw.Flush(ctx)
}

// FinishBatch records the outcome of an approved batch once every payout
// of it is final (the worker does it within a second; a page that sees it
// first may too). It returns the outcome, "" while payouts are open.
func (d *Desk) FinishBatch(ctx context.Context, id int64) (string, error) {
	counts, err := d.db.BatchCounts(ctx, id)
	if err != nil {
		return "", err
	}
	ok, failed, open := 0, 0, 0
	for _, c := range counts {
		p := store.Payout{State: c.State, Status: c.Status}
		switch {
		case c.State == store.PayoutCancelled:
		case !PayoutFinal(p):
			open += c.Count
		case PayoutFailed(p):
			failed += c.Count
		default:
			ok += c.Count
		}
	}
	if open > 0 || ok+failed == 0 {
		return "", nil
	}
	outcome := BatchOutcome(ok, failed)
	return outcome, d.db.SetBatchOutcome(ctx, id, outcome)
}
