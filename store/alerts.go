package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Alert kinds.
const (
	AlertBadSignature    = "bad_signature"    // a callback whose signature does not verify
	AlertUnknownMerchant = "unknown_merchant" // a callback for a merchant id no account has
	AlertUnreadable      = "unreadable"       // a callback that could not be read
	AlertWrongEndpoint   = "wrong_endpoint"   // a callback of the other kind: a pay notification at /notify/trans or the reverse
	AlertMismatch        = "mismatch"         // signed, but merchant, order number or amount differ from the order held
	AlertContradiction   = "contradiction"    // signed, but contradicts an outcome already known
	AlertMissedCallback  = "missed_callback"  // a status learned by query that no callback brought
	AlertUnrecordable    = "unrecordable"     // signed, for an unknown order that cannot be recorded
	AlertForbiddenSource = "forbidden_source" // a callback from an address outside the account's gateway source addresses
)

// Alert is something a person must look at, open until acknowledged.
type Alert struct {
	ID             int64
	CreatedAt      time.Time
	LastAt         time.Time
	Kind           string
	DedupeKey      string // repeats with the same kind and key while open raise Count
	Summary        string
	Count          int
	NotificationID int64
	OrderKind      string
	OrderRef       int64
	AckedAt        time.Time
	AckedBy        string
	AckNote        string
}

// RaiseAlertTx opens an alert inside tx, or counts a repeat of an open one
// with the same kind and dedupe key. It returns the alert's id.
func (db *DB) RaiseAlertTx(ctx context.Context, tx *sql.Tx, a Alert) (int64, error) {
	return db.RepeatAlertTx(ctx, tx, a, 1)
}

// RepeatAlertTx is RaiseAlertTx for n occurrences at once: it adds n to the
// count of the open alert with a's kind and dedupe key, or opens it with
// count n.
func (db *DB) RepeatAlertTx(ctx context.Context, tx *sql.Tx, a Alert, n int) (int64, error) {
	now := timeText(db.now())
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM alerts WHERE kind = ? AND dedupe_key = ? AND acked_at IS NULL LIMIT 1`, a.Kind, a.DedupeKey).Scan(&id)
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `UPDATE alerts SET count = count + ?, last_at = ?, summary = ? WHERE id = ?`, n, now, a.Summary, id)
		return id, err
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("raise alert: %w", err)
	}
	var nid, kind, ref any
	if a.NotificationID != 0 {
		nid = a.NotificationID
	}
	if a.OrderKind != "" {
		kind, ref = a.OrderKind, a.OrderRef
	}
	id, err = db.insertID(ctx, tx, `INSERT INTO alerts (created_at, last_at, kind, dedupe_key, summary, count, notification_id, order_kind, order_ref)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, now, now, a.Kind, a.DedupeKey, a.Summary, n, nid, kind, ref)
	if err != nil {
		return 0, fmt.Errorf("raise alert: %w", err)
	}
	return id, nil
}

const alertCols = `id, created_at, last_at, kind, dedupe_key, summary, count, coalesce(notification_id, 0), coalesce(order_kind, ''),
	coalesce(order_ref, 0), coalesce(CAST(acked_at AS TEXT), ''), acked_by, ack_note`

func scanAlert(row rowScanner) (Alert, error) {
	var a Alert
	var created, last, acked string
	err := row.Scan(&a.ID, &created, &last, &a.Kind, &a.DedupeKey, &a.Summary, &a.Count, &a.NotificationID, &a.OrderKind, &a.OrderRef, &acked, &a.AckedBy, &a.AckNote)
	a.CreatedAt, a.LastAt, a.AckedAt = parseTime(created), parseTime(last), parseTime(acked)
	return a, err
}

// AlertByID returns one alert, or ErrNotFound.
func (db *DB) AlertByID(ctx context.Context, id int64) (Alert, error) {
	a, err := scanAlert(db.QueryRowContext(ctx, `SELECT `+alertCols+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return a, err
}

// Alerts lists alerts, newest first: open ones only unless all is set.
func (db *DB) Alerts(ctx context.Context, all bool, limit int) ([]Alert, error) {
	q := `SELECT ` + alertCols + ` FROM alerts`
	if !all {
		q += ` WHERE acked_at IS NULL`
	}
	return collect(ctx, db, scanAlert, q+` ORDER BY id DESC LIMIT ?`, limit)
}

// AlertsForOrder lists every alert about an order, oldest first.
func (db *DB) AlertsForOrder(ctx context.Context, kind string, ref int64) ([]Alert, error) {
	return collect(ctx, db, scanAlert, `SELECT `+alertCols+` FROM alerts WHERE order_kind = ? AND order_ref = ? ORDER BY id`, kind, ref)
}

// CountOpenAlerts counts alerts not acknowledged yet, up to limit.
func (db *DB) CountOpenAlerts(ctx context.Context, limit int) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM alerts WHERE acked_at IS NULL LIMIT ?) AS open`, limit).Scan(&n)
	return n, err
}

// AckAlertTx acknowledges an open alert inside tx; ErrNotFound when there is
// no such open alert.
func (db *DB) AckAlertTx(ctx context.Context, tx *sql.Tx, id int64, by, note string) error {
	res, err := tx.ExecContext(ctx, `UPDATE alerts SET acked_at = ?, acked_by = ?, ack_note = ? WHERE id = ? AND acked_at IS NULL`,
		timeText(db.now()), by, note, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("open alert %d: %w", id, ErrNotFound)
	}
	return nil
}
