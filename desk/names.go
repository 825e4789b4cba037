package desk

import (
	"strconv"
	"strings"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// The names of every status, state, result and kind Paydesk shows, as
// finance staff say them (README.md, "Status names", lists them with
// their Chinese). Each is a message to print in the reader's language;
// a value not listed is named by its code.

// PayStatusName names a pay order status the gateway reported.
func PayStatusName(st int) i18n.Message {
	switch st {
	case payments.PayCreated:
		return i18n.M("awaiting payment")
	case payments.PayPaying:
		return i18n.M("paying")
	case payments.PayPaid:
		return i18n.M("paid")
	case payments.PayDone:
		return i18n.M("paid (completed)")
	case payments.PayRefunded:
		return i18n.M("refunded")
	case payments.PayFailed, payments.PayFailedAlt:
		return i18n.M("payment failed")
	case payments.PayExpired:
		return i18n.M("expired")
	}
	return i18n.M("status %s", strconv.Itoa(st))
}

// TransStatusName names a payout status the gateway reported.
func TransStatusName(st int) i18n.Message {
	switch st {
	case payments.TransCreated:
		return i18n.M("accepted")
	case payments.TransTransferring:
		return i18n.M("processing")
	case payments.TransSucceeded:
		return i18n.M("paid out")
	case payments.TransFailed:
		return i18n.M("payout failed")
	case payments.TransCompleted:
		return i18n.M("paid out (completed)")
	}
	return i18n.M("status %s", strconv.Itoa(st))
}

// StatusName names the gateway status of an order of kind; nil is not
// known yet.
func StatusName(kind string, st *int) i18n.Message {
	switch {
	case st == nil:
		return i18n.M("not known yet")
	case kind == store.KindTrans:
		return TransStatusName(*st)
	}
	return PayStatusName(*st)
}

// PaymentName names a payment's status: its console state while the
// gateway's answer is not settled, else the gateway's status.
func PaymentName(o store.PayOrder) i18n.Message {
	switch o.State {
	case store.PayStateCreating:
		return i18n.M("being created")
	case store.PayStateUnknown:
		return i18n.M("unclear — checking")
	case store.PayStateRefused:
		return i18n.M("refused by the gateway")
	}
	paid := o.Status != nil && (payments.IsPaid(*o.Status) || *o.Status == payments.PayRefunded)
	if o.LinkCancelled && !paid {
		// Customers can no longer pay through a deactivated link.
		return i18n.M("cancelled")
	}
	return PayStatusName(o.StatusOr(payments.PayCreated))
}

// PayoutName names a payout's state, and once the gateway has it, its
// status.
func PayoutName(p store.Payout) i18n.Message {
	switch p.State {
	case store.PayoutDraft:
		return i18n.M("draft")
	case store.PayoutAwaitingApproval:
		return i18n.M("awaiting approval")
	case store.PayoutApproved:
		return i18n.M("approved, waiting to be sent")
	case store.PayoutSubmitting:
		return i18n.M("sending")
	case store.PayoutUnknown:
		return i18n.M("unclear — checking")
	case store.PayoutRefused:
		return i18n.M("refused by the gateway")
	case store.PayoutRejected:
		return i18n.M("rejected")
	case store.PayoutExpired:
		return i18n.M("expired")
	case store.PayoutCancelled:
		return i18n.M("discarded")
	case store.PayoutSubmitted:
		return TransStatusName(p.StatusOr(payments.TransTransferring))
	}
	return i18n.M("%s", p.State)
}

// BatchName names a batch's state; an approved batch by its outcome once
// every payout is final.
func BatchName(b store.Batch) i18n.Message {
	switch b.State {
	case store.BatchDraft:
		return i18n.M("draft")
	case store.BatchAwaitingApproval:
		return i18n.M("awaiting approval")
	case store.BatchApproved:
		if b.Outcome != "" {
			return OutcomeName(b.Outcome)
		}
		return i18n.M("approved, sending")
	case store.BatchRejected:
		return i18n.M("rejected")
	case store.BatchExpired:
		return i18n.M("expired")
	case store.BatchCancelled:
		return i18n.M("discarded")
	}
	return i18n.M("%s", b.State)
}

// OutcomeName names how a batch ended.
func OutcomeName(outcome string) i18n.Message {
	switch outcome {
	case store.OutcomeSucceeded:
		return i18n.M("all paid out")
	case store.OutcomePartiallySucceeded:
		return i18n.M("partially paid out")
	case store.OutcomeFailed:
		return i18n.M("all failed")
	}
	return i18n.M("%s", outcome)
}

// BatchKindName names where a batch came from.
func BatchKindName(kind string) i18n.Message {
	switch kind {
	case store.BatchCSV:
		return i18n.M("CSV file")
	case store.BatchSingle:
		return i18n.M("single payout")
	case store.BatchRetry:
		return i18n.M("retry of failed payouts")
	}
	return i18n.M("%s", kind)
}

// CallbackResultName names what Paydesk did with a callback.
func CallbackResultName(result string) i18n.Message {
	switch result {
	case store.NotifyPending:
		return i18n.M("waiting to be applied")
	case store.NotifyApplied:
		return i18n.M("applied")
	case store.NotifyDuplicate:
		return i18n.M("repeat, nothing to do")
	case store.NotifyStale:
		return i18n.M("out of date, nothing to do")
	case store.NotifyRejected:
		return i18n.M("rejected")
	case store.NotifyAlert:
		return i18n.M("needs checking")
	}
	return i18n.M("%s", result)
}

// AlertKindName names what an alert is about.
func AlertKindName(kind string) i18n.Message {
	switch kind {
	case store.AlertBadSignature:
		return i18n.M("bad signature")
	case store.AlertUnknownMerchant:
		return i18n.M("unknown merchant")
	case store.AlertUnreadable:
		return i18n.M("unreadable")
	case store.AlertWrongEndpoint:
		return i18n.M("wrong address")
	case store.AlertForbiddenSource:
		return i18n.M("refused sender")
	case store.AlertMismatch:
		return i18n.M("does not match the order")
	case store.AlertContradiction:
		return i18n.M("contradicts the outcome")
	case store.AlertMissedCallback:
		return i18n.M("missed callback")
	case store.AlertUnrecordable:
		return i18n.M("unknown order")
	}
	return i18n.M("%s", kind)
}

// ResendJobName names a bulk resend's state.
func ResendJobName(state string) i18n.Message {
	switch state {
	case store.ResendRunning:
		return i18n.M("running")
	case store.ResendFinished:
		return i18n.M("finished")
	case store.ResendCancelled:
		return i18n.M("cancelled")
	case store.ResendInterrupted:
		return i18n.M("interrupted")
	}
	return i18n.M("%s", state)
}

// OrderKindName names a kind of order.
func OrderKindName(kind string) i18n.Message {
	if kind == store.KindTrans {
		return i18n.M("Payout")
	}
	return i18n.M("Pay order")
}

// OriginName names who made an order.
func OriginName(origin string) i18n.Message {
	if origin == "external" {
		return i18n.M("other systems")
	}
	return i18n.M("Paydesk")
}

// AuditActionName names an action of the audit log; an action not listed
// by its code.
func AuditActionName(action string) i18n.Message {
	switch action {
	case "auth.login":
		return i18n.M("Signed in to Paydesk")
	case "auth.login_password":
		return i18n.M("Password right, code asked")
	case "auth.login_failed":
		return i18n.M("Sign-in failed")
	case "auth.logout":
		return i18n.M("Signed out")
	case "auth.logout_everywhere":
		return i18n.M("Signed out everywhere")
	case "auth.two_factor_failed":
		return i18n.M("Wrong two-factor code")
	case "auth.recovery_code_used":
		return i18n.M("Signed in with a recovery code")
	case "user.create":
		return i18n.M("Created a user")
	case "user.role":
		return i18n.M("Changed a user's role")
	case "user.disable":
		return i18n.M("Disabled a user")
	case "user.enable":
		return i18n.M("Enabled a user")
	case "user.password_change":
		return i18n.M("Changed their password")
	case "user.password_reset":
		return i18n.M("Reset a user's password")
	case "user.two_factor_enable":
		return i18n.M("Turned two-factor sign-in on")
	case "user.two_factor_disable":
		return i18n.M("Turned two-factor sign-in off")
	case "user.two_factor_recovery_codes":
		return i18n.M("Made new recovery codes")
	case "user.two_factor_reset":
		return i18n.M("Reset a user's two-factor sign-in")
	case "user.language":
		return i18n.M("Chose their language")
	case "settings.security":
		return i18n.M("Changed the security settings")
	case "settings.payouts":
		return i18n.M("Changed the payout settings")
	case "settings.payment_max_amount":
		return i18n.M("Changed the largest payment amount")
	case "settings.rejected_callback_retention":
		return i18n.M("Changed how long rejected callbacks are kept")
	case "settings.language":
		return i18n.M("Changed the team's language")
	case "gateway.create":
		return i18n.M("Added a gateway account")
	case "gateway.update":
		return i18n.M("Changed a gateway account")
	case "gateway.disable":
		return i18n.M("Disabled a gateway account")
	case "gateway.enable":
		return i18n.M("Enabled a gateway account")
	case "payment.create":
		return i18n.M("Created a payment")
	case "payment.export":
		return i18n.M("Exported payments")
	case "payment.link_deactivate":
		return i18n.M("Deactivated a payment link")
	case "payment.link_reactivate":
		return i18n.M("Reactivated a payment link")
	case "payout.create":
		return i18n.M("Made a single payout")
	case "payout.batch.upload":
		return i18n.M("Uploaded a payout batch")
	case "payout.batch.drop_errors":
		return i18n.M("Dropped the rows with errors")
	case "payout.batch.send":
		return i18n.M("Sent a payout batch for approval")
	case "payout.batch.approve":
		return i18n.M("Approved a payout batch")
	case "payout.batch.reject":
		return i18n.M("Rejected a payout batch")
	case "payout.batch.step_up_failed":
		return i18n.M("Approval refused: password or code not right")
	case "payout.batch.expire":
		return i18n.M("A payout batch expired")
	case "payout.batch.cancel":
		return i18n.M("Discarded a payout batch")
	case "payout.batch.retry":
		return i18n.M("Made a batch of failed payouts")
	case "order.lookup":
		return i18n.M("Asked the gateway about an order")
	case "order.resend":
		return i18n.M("Asked the gateway to notify again")
	case "resend.start":
		return i18n.M("Started a bulk resend")
	case "resend.cancel":
		return i18n.M("Cancelled a bulk resend")
	case "alert.ack":
		return i18n.M("Acknowledged an alert")
	case "audit.anchor":
		return i18n.M("Anchored the audit log afresh")
	}
	return i18n.M("%s", action)
}

// PayoutPhaseName names a payouts list status filter (store.PayoutPhases)
// as PayoutName names the payouts in it.
func PayoutPhaseName(phase string) i18n.Message {
	switch phase {
	case "draft":
		return i18n.M("draft")
	case "awaiting_approval":
		return i18n.M("awaiting approval")
	case "approved":
		return i18n.M("approved, waiting to be sent")
	case "sending":
		return i18n.M("sending")
	case "transferring":
		return TransStatusName(payments.TransTransferring)
	case "unclear":
		return i18n.M("unclear — checking")
	case "succeeded":
		return TransStatusName(payments.TransSucceeded)
	case "failed":
		return TransStatusName(payments.TransFailed)
	case "refused":
		return i18n.M("refused by the gateway")
	case "rejected":
		return i18n.M("rejected")
	case "expired":
		return i18n.M("expired")
	case "cancelled":
		return i18n.M("discarded")
	}
	return i18n.M("%s", phase)
}

// RejectedReasonName names, in business words, why a callback was refused
// before it reached an order, from the reason recorded with it (the alert
// kind it counted on; the recorded reason is the technical detail).
func RejectedReasonName(reason string) i18n.Message {
	switch {
	case strings.HasPrefix(reason, "wrong endpoint:"):
		return AlertKindName(store.AlertWrongEndpoint)
	case strings.HasPrefix(reason, "unreadable:"):
		return AlertKindName(store.AlertUnreadable)
	case strings.HasPrefix(reason, "the callback names no merchant id"), strings.HasPrefix(reason, "no enabled gateway account has merchant id"):
		return AlertKindName(store.AlertUnknownMerchant)
	case strings.Contains(reason, "is not among the gateway source addresses"):
		return AlertKindName(store.AlertForbiddenSource)
	case strings.HasPrefix(reason, "the signature does not verify"):
		return AlertKindName(store.AlertBadSignature)
	}
	return i18n.M("other reason")
}
