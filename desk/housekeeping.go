package desk

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"paydesk/store"
)

// Housekeeping deletes rejected callbacks (requests that failed
// verification or parsing) older than the retention setting; their alerts
// and counts stay. Verified callbacks are never deleted.
const (
	settingRejectedRetention     = "notifications.rejected_retention_days"
	defaultRejectedRetentionDays = 90
	maxRejectedRetentionDays     = 3650

	housekeepFirst = time.Minute // after start, so that start-up stays quick
	housekeepEvery = time.Hour
	// pruneBatch rows are deleted per transaction, so that the callback
	// writer never waits long for the database.
	pruneBatch = 500
)

// runHousekeeping runs Housekeep now and then until ctx ends.
func (d *Desk) runHousekeeping(ctx context.Context) {
	t := time.NewTimer(housekeepFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Resend jobs of a console that stopped while others run on.
		if err := d.db.InterruptAbandonedResendJobs(ctx, d.now()); err != nil && ctx.Err() == nil {
			d.log.Error("mark interrupted resend jobs", "err", err)
		}
		if n, err := d.Housekeep(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("housekeeping", "err", err)
		} else if n > 0 {
			d.log.Info("deleted rejected callbacks past their retention", "count", n)
		}
		t.Reset(housekeepEvery)
	}
}

// Housekeep deletes the rejected callbacks past the retention setting and
// returns how many it deleted. Run does it hourly.
func (d *Desk) Housekeep(ctx context.Context) (int, error) {
	days, err := d.RejectedRetentionDays(ctx)
	if err != nil {
		return 0, err
	}
	before := d.now().AddDate(0, 0, -days)
	total := 0
	for ctx.Err() == nil {
		n, err := d.db.PruneRejectedNotifications(ctx, before, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// RejectedRetentionDays is how many days rejected callbacks are kept.
func (d *Desk) RejectedRetentionDays(ctx context.Context) (int, error) {
	v, err := d.db.Setting(ctx, settingRejectedRetention, strconv.Itoa(defaultRejectedRetentionDays))
	if err != nil {
		return 0, err
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= maxRejectedRetentionDays {
		return n, nil
	}
	return defaultRejectedRetentionDays, nil
}

// SetRejectedRetention saves how many days rejected callbacks are kept,
// typed as a whole number of days; it returns the number saved.
func (d *Desk) SetRejectedRetention(ctx context.Context, a Actor, typed string) (int, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return 0, errAdminOnly
	}
	days, err := strconv.Atoi(strings.TrimSpace(typed))
	if err != nil || days < 1 || days > maxRejectedRetentionDays {
		return 0, refuseField("rejected_retention_days", "Keep rejected callbacks for a whole number of days from 1 to %d.", maxRejectedRetentionDays)
	}
	old, err := d.RejectedRetentionDays(ctx)
	if err != nil {
		return 0, err
	}
	return days, d.saveSettings(ctx, a, map[string]string{settingRejectedRetention: strconv.Itoa(days)}, store.AuditEntry{
		Action: "settings.rejected_callback_retention", Subject: "setting:" + settingRejectedRetention,
		Detail: fmt.Sprintf("from %d to %d days", old, days)})
}

// sessionCleanupEvery is how often expired sessions are deleted.
const sessionCleanupEvery = 10 * time.Minute

// runSessionCleanup deletes expired sessions now and then until ctx ends.
func (d *Desk) runSessionCleanup(ctx context.Context) {
	t := time.NewTicker(sessionCleanupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := d.db.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("delete expired sessions", "err", err)
		}
	}
}
