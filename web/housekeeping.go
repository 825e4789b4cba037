package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
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

// runHousekeeping runs housekeep now and then until ctx ends (the server's
// Close).
func (s *Server) runHousekeeping(ctx context.Context) {
	t := time.NewTimer(housekeepFirst)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.housekeep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("housekeeping", "err", err)
		} else if n > 0 {
			s.log.Info("deleted rejected callbacks past their retention", "count", n)
		}
		t.Reset(housekeepEvery)
	}
}

// housekeep deletes the rejected callbacks past the retention setting and
// returns how many it deleted.
func (s *Server) housekeep(ctx context.Context) (int, error) {
	days, err := s.rejectedRetentionDays(ctx)
	if err != nil {
		return 0, err
	}
	before := s.now().AddDate(0, 0, -days)
	total := 0
	for ctx.Err() == nil {
		n, err := s.db.PruneRejectedNotifications(ctx, before, pruneBatch)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
	return total, ctx.Err()
}

// rejectedRetentionDays is how many days rejected callbacks are kept.
func (s *Server) rejectedRetentionDays(ctx context.Context) (int, error) {
	v, err := s.db.Setting(ctx, settingRejectedRetention, strconv.Itoa(defaultRejectedRetentionDays))
	if err != nil {
		return 0, err
	}
	if d, err := strconv.Atoi(v); err == nil && d >= 1 && d <= maxRejectedRetentionDays {
		return d, nil
	}
	return defaultRejectedRetentionDays, nil
}

// setRejectedRetention saves how many days rejected callbacks are kept.
func (s *Server) setRejectedRetention(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get("rejected_retention_days")))
	if err != nil || days < 1 || days > maxRejectedRetentionDays {
		return errStatus(http.StatusUnprocessableEntity, "Keep rejected callbacks for a whole number of days from 1 to %d.", maxRejectedRetentionDays)
	}
	ctx := r.Context()
	old, err := s.rejectedRetentionDays(ctx)
	if err != nil {
		return err
	}
	u, _ := userFrom(ctx)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.SetSettingTx(ctx, tx, settingRejectedRetention, strconv.Itoa(days)); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "settings.rejected_callback_retention", Subject: "setting:" + settingRejectedRetention,
			Detail: fmt.Sprintf("from %d to %d days", old, days), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, fmt.Sprintf("Rejected callbacks are now kept for %d days.", days))
	return redirect(w, r, "/settings/gateways")
}
