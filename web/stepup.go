package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"paydesk/store"
	"paydesk/views"
)

// Step-up: approving a payout batch whose total is above a limit asks for
// the approver's password or a current two-factor code again, so that an
// unlocked, unattended console is not enough to release a large sum.
const (
	settingStepUpLimit = "payouts.step_up_limit_fen"
	defaultStepUpLimit = 5_000_000 // ¥50,000.00
)

// stepUpLimit is the total above which approving asks again; 0: never.
func (s *Server) stepUpLimit(ctx context.Context) (int64, error) {
	v, err := s.db.Setting(ctx, settingStepUpLimit, strconv.Itoa(defaultStepUpLimit))
	if err != nil {
		return 0, err
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit < 0 {
		return defaultStepUpLimit, nil
	}
	return limit, nil
}

// stepUpNeeded reports whether approving batch b asks for the password or a
// code again, and the limit it is above.
func (s *Server) stepUpNeeded(ctx context.Context, b store.Batch) (bool, int64, error) {
	limit, err := s.stepUpLimit(ctx)
	if err != nil || limit == 0 {
		return false, 0, err
	}
	counts, err := s.db.BatchCounts(ctx, b.ID)
	if err != nil {
		return false, 0, err
	}
	_, sum := batchTotals(counts)
	return sum > limit, limit, nil
}

// approvalStepUp checks the step-up of an approval of batch id by u, when
// one is needed. It returns how u confirmed ("" when no step-up was
// needed), or a refusal sentence when the password or code is missing or
// wrong. A batch u may not approve anyway is left to the approval's own
// refusals.
func (s *Server) approvalStepUp(r *http.Request, id int64, u store.User) (how, refusal string, err error) {
	ctx := r.Context()
	b, err := s.db.BatchByID(ctx, id)
	if err != nil || b.State != store.BatchAwaitingApproval || s.approveRefusal(b, u) != "" {
		return "", "", err
	}
	need, limit, err := s.stepUpNeeded(ctx, b)
	if err != nil || !need {
		return "", "", err
	}
	typed := r.PostForm.Get("step_up")
	if typed == "" {
		return "", fmt.Sprintf("The batch's total is above %s: type your password or a current two-factor code to approve it. Nothing was approved.", views.Money(limit)), nil
	}
	addr := s.clientAddr(r)
	uKey, tKey, aKey := userThrottleKey(u.Username), codeThrottleKey(u.Username), addrThrottleKey(addr)
	at := s.throttle.reserve(uKey, tKey, aKey)
	if at.wait > 0 {
		if err := s.auditThrottled(ctx, u, at, addr); err != nil {
			return "", "", err
		}
		return "", "Too many wrong passwords or codes. Try again in " + waitText(at.wait) + ". Nothing was approved.", nil
	}
	// The attempt was counted on all three keys: it ends as a failure on
	// the key of what was typed and the address, and is released on the other.
	refuse := func(key, other, detail string) (string, string, error) {
		s.throttle.release(other)
		s.throttle.failed(key, aKey)
		err := s.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "payout.batch.step_up_failed", Subject: fmt.Sprintf("batch:%d", id), Detail: detail, ClientAddr: addr})
		return "", "The password or code is not right. Nothing was approved.", err
	}
	code := strings.Join(strings.Fields(typed), "")
	if u.TwoFactor && len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		f, err := s.checkCode(ctx, u, code, false)
		if err != nil {
			s.throttle.release(uKey, tKey, aKey)
			return "", "", err
		}
		if !f.ok {
			return refuse(tKey, uKey, "wrong two-factor code")
		}
		s.throttle.succeed(tKey, uKey, aKey)
		return "two-factor code", "", nil
	}
	good, err := s.hasher.check(ctx, u.PasswordHash, typed)
	if err != nil {
		s.throttle.release(uKey, tKey, aKey)
		if errors.Is(err, errHashBusy) {
			return "", "The console is busy checking other sign-ins. Try again in a few seconds. Nothing was approved.", nil
		}
		return "", "", err
	}
	if len(typed) > maxPassword || !good {
		return refuse(uKey, tKey, "wrong password")
	}
	s.throttle.release(uKey, tKey, aKey)
	return "password", "", nil
}
