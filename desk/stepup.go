package desk

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"paydesk/internal/money"
	"paydesk/store"
)

// Step-up: approving a payout batch whose total is above a limit asks for
// the approver's password or a current two-factor code again, so that an
// unlocked, unattended console is not enough to release a large sum.
const (
	settingStepUpLimit = "payouts.step_up_limit_fen"
	defaultStepUpLimit = 5_000_000 // ¥50,000.00
)

// StepUpLimit is the total above which approving asks again; 0: never.
func (d *Desk) StepUpLimit(ctx context.Context) (int64, error) {
	v, err := d.db.Setting(ctx, settingStepUpLimit, strconv.Itoa(defaultStepUpLimit))
	if err != nil {
		return 0, err
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit < 0 {
		return defaultStepUpLimit, nil
	}
	return limit, nil
}

// ApprovalStepUp checks what approver a typed to confirm an approval of
// batchID: their password, or a current two-factor code when they have
// two-factor sign-in. It returns how they confirmed ("password" or
// "two-factor code"), or a refusal: missing, wrong (audited), throttled,
// or hashing busy. Attempts are counted before they are checked, per user
// and per address, like sign-ins.
func (d *Desk) ApprovalStepUp(ctx context.Context, a Actor, batchID int64, typed string, limit int64) (string, error) {
	if typed == "" {
		return "", refuse(Invalid, "The batch's total is above %s: type your password or a current two-factor code to approve it. Nothing was approved.", money.Format(limit))
	}
	u, err := d.db.UserByID(ctx, a.UserID)
	if err != nil {
		return "", err
	}
	uKey, tKey, aKey := userThrottleKey(u.Username), codeThrottleKey(u.Username), addrThrottleKey(a.ClientAddr)
	at, err := d.throttle.reserve(uKey, tKey, aKey)
	if err != nil {
		return "", err
	}
	if at.wait > 0 {
		if err := d.auditThrottled(ctx, u, at, a.ClientAddr); err != nil {
			return "", err
		}
		return "", refuse(TooMany, "Too many wrong passwords or codes. Try again in %s. Nothing was approved.", waitText(at.wait))
	}
	// The attempt was counted on all three keys: it ends as a failure on
	// the key of what was typed and the address, and is released on the other.
	refused := func(key, other, detail string) (string, error) {
		d.throttle.release(other)
		d.throttle.failed(key, aKey)
		if err := d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "payout.batch.step_up_failed", Subject: fmt.Sprintf("batch:%d", batchID),
			Detail: detail, ClientAddr: a.ClientAddr}); err != nil {
			return "", err
		}
		return "", refuse(Invalid, "The password or code is not right. Nothing was approved.")
	}
	code := strings.Join(strings.Fields(typed), "")
	if u.TwoFactor && len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		f, err := d.checkCode(ctx, u, code, false)
		if err != nil {
			d.throttle.release(uKey, tKey, aKey)
			return "", err
		}
		if !f.ok {
			return refused(tKey, uKey, "wrong two-factor code")
		}
		d.throttle.succeed(tKey, uKey, aKey)
		return "two-factor code", nil
	}
	good, err := d.hasher.check(ctx, u.PasswordHash, typed)
	if err != nil {
		d.throttle.release(uKey, tKey, aKey)
		if r, ok := AsRefusal(err); ok && r.Kind == Busy {
			return "", refuse(Busy, "The console is busy checking other sign-ins. Try again in a few seconds. Nothing was approved.")
		}
		return "", err
	}
	if len(typed) > maxPassword || !good {
		return refused(uKey, tKey, "wrong password")
	}
	d.throttle.release(uKey, tKey, aKey)
	return "password", nil
}

// SecuritySettings are the admin's sign-in and approval security settings.
type SecuritySettings struct {
	RequireTwoFactor bool
	StepUpLimit      int64 // fen; 0: approving never asks again
}

// Security is the security settings in force.
func (d *Desk) Security(ctx context.Context) (SecuritySettings, error) {
	var out SecuritySettings
	var err error
	if out.RequireTwoFactor, err = d.TwoFactorRequired(ctx); err != nil {
		return out, err
	}
	out.StepUpLimit, err = d.StepUpLimit(ctx)
	return out, err
}

// SetSecurity saves both security settings with one audit row; the limit
// is typed in yuan, empty for never.
func (d *Desk) SetSecurity(ctx context.Context, a Actor, requireTwoFactor bool, limitTyped string) error {
	if !a.AtLeast(store.RoleAdmin) {
		return errAdminOnly
	}
	var limit int64
	if limitTyped = strings.TrimSpace(limitTyped); limitTyped != "" {
		var err error
		if limit, err = money.Parse(limitTyped); err != nil {
			return refuseField("step_up_limit", "The step-up limit: %s", AmountProblem(err))
		}
	}
	old, err := d.Security(ctx)
	if err != nil {
		return err
	}
	require := "0"
	if requireTwoFactor {
		require = "1"
	}
	return d.saveSettings(ctx, a, map[string]string{settingRequireTwoFactor: require, settingStepUpLimit: strconv.FormatInt(limit, 10)}, store.AuditEntry{
		Action: "settings.security", Subject: "settings:security",
		Detail: fmt.Sprintf("two-factor required for everyone %v → %v; step-up when approving above %s → %s",
			old.RequireTwoFactor, requireTwoFactor, limitText(old.StepUpLimit), limitText(limit))})
}

// limitText is a limit for the audit log: "never" for none.
func limitText(fen int64) string {
	if fen <= 0 {
		return "never"
	}
	return money.Format(fen)
}
