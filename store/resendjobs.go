package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Resend job states.
const (
	ResendRunning     = "running"
	ResendFinished    = "finished"
	ResendCancelled   = "cancelled"
	ResendInterrupted = "interrupted" // the console stopped while it ran
)

// ResendJob is a bulk resend of notifications.
type ResendJob struct {
	ID         int64
	CreatedAt  time.Time
	CreatedBy  string
	Filter     string
	Total      int
	Done       int
	Sent       int
	Skipped    int
	Failed     int
	State      string
	FinishedAt time.Time
	// Owner is the console running the job (several may share the
	// database); LeaseUntil is when the job counts as abandoned unless
	// Owner renews it (RenewResendJob).
	Owner      string
	LeaseUntil time.Time
}

// ResendItem is one order of a resend job.
type ResendItem struct {
	Seq       int
	OrderKind string
	OrderRef  int64
	Result    string // "" until done; sent, skipped, failed
	Detail    string
	MchNo     string // the order's merchant number (read with the job)
}

// CreateResendJobTx stores a running job with its orders inside tx.
func (db *DB) CreateResendJobTx(ctx context.Context, tx *sql.Tx, j ResendJob, items []ResendItem) (int64, error) {
	id, err := db.insertID(ctx, tx, `INSERT INTO resend_jobs (created_at, created_by, filter, total, state, owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		timeText(db.now()), j.CreatedBy, j.Filter, len(items), ResendRunning, j.Owner, nullTime(j.LeaseUntil))
	if err != nil {
		return 0, fmt.Errorf("create resend job: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO resend_job_items (job_id, seq, order_kind, order_ref) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for i, it := range items {
		if _, err := stmt.ExecContext(ctx, id, i+1, it.OrderKind, it.OrderRef); err != nil {
			return 0, fmt.Errorf("create resend job: %w", err)
		}
	}
	return id, nil
}

// ResendJobByID returns a job and its items in order.
func (db *DB) ResendJobByID(ctx context.Context, id int64) (ResendJob, []ResendItem, error) {
	var j ResendJob
	var created, finished string
	err := db.QueryRowContext(ctx, `SELECT id, created_at, created_by, filter, total, done, sent, skipped, failed, state, coalesce(CAST(finished_at AS TEXT), '')
		FROM resend_jobs WHERE id = ?`, id).Scan(&j.ID, &created, &j.CreatedBy, &j.Filter, &j.Total, &j.Done, &j.Sent, &j.Skipped, &j.Failed, &j.State, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return j, nil, fmt.Errorf("resend job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return j, nil, err
	}
	j.CreatedAt, j.FinishedAt = parseTime(created), parseTime(finished)
	rows, err := db.QueryContext(ctx, `SELECT i.seq, i.order_kind, i.order_ref, i.result, i.detail, coalesce(p.mch_order_no, t.mch_trans_order_no, '')
		FROM resend_job_items i
		LEFT JOIN pay_orders p ON i.order_kind = 'pay' AND p.id = i.order_ref
		LEFT JOIN payouts t ON i.order_kind = 'trans' AND t.id = i.order_ref
		WHERE i.job_id = ? ORDER BY i.seq`, id)
	if err != nil {
		return j, nil, err
	}
	defer rows.Close()
	var items []ResendItem
	for rows.Next() {
		var it ResendItem
		if err := rows.Scan(&it.Seq, &it.OrderKind, &it.OrderRef, &it.Result, &it.Detail, &it.MchNo); err != nil {
			return j, nil, err
		}
		items = append(items, it)
	}
	return j, items, rows.Err()
}

// ResendItemDoneTx records one order's result and counts it on the job.
func (db *DB) ResendItemDoneTx(ctx context.Context, tx *sql.Tx, jobID int64, seq int, result, detail string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE resend_job_items SET result = ?, detail = ? WHERE job_id = ? AND seq = ?`, result, detail, jobID, seq); err != nil {
		return err
	}
	col := map[string]string{"sent": "sent", "skipped": "skipped", "failed": "failed"}[result]
	if col == "" {
		return fmt.Errorf("resend item result %q", result)
	}
	_, err := tx.ExecContext(ctx, `UPDATE resend_jobs SET done = done + 1, `+col+` = `+col+` + 1 WHERE id = ?`, jobID)
	return err
}

// FinishResendJob ends a running job with state.
func (db *DB) FinishResendJob(ctx context.Context, id int64, state string) error {
	_, err := db.ExecContext(ctx, `UPDATE resend_jobs SET state = ?, finished_at = ? WHERE id = ? AND state = 'running'`, state, timeText(db.now()), id)
	return err
}

// InterruptAbandonedResendJobs marks interrupted the running jobs whose
// lease ended before now (or that have none): their console stopped. Jobs
// of consoles still running renew their lease and are left alone.
func (db *DB) InterruptAbandonedResendJobs(ctx context.Context, now time.Time) error {
	_, err := db.ExecContext(ctx, `UPDATE resend_jobs SET state = 'interrupted', finished_at = ?
		WHERE state = 'running' AND (lease_until IS NULL OR lease_until < ?)`, timeText(db.now()), timeText(now))
	return err
}

// RenewResendJob extends a running job's lease to until; it reports false
// when the job is no longer running (cancelled from another console, or
// taken as abandoned), and its runner should stop.
func (db *DB) RenewResendJob(ctx context.Context, id int64, until time.Time) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE resend_jobs SET lease_until = ? WHERE id = ? AND state = 'running'`, timeText(until), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
