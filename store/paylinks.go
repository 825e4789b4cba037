package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PayLink is the public payment link of a console-made pay order.
type PayLink struct {
	OrderID   int64
	Token     string // the unguessable part of /pay/{token}
	Active    bool   // false once staff have deactivated it
	ChangedBy string // who last deactivated or reactivated it
	ChangedAt time.Time
}

// ErrFormReused is SetPayLinkTx's answer to a form token used before: the
// form was submitted twice. It wraps ErrConflict.
var ErrFormReused = fmt.Errorf("payment form submitted twice: %w", ErrConflict)

// SetPayLinkTx gives a new order its link token and the form token of the
// submission that created it. A form token already used gives
// ErrFormReused.
func (db *DB) SetPayLinkTx(ctx context.Context, tx *sql.Tx, orderID int64, linkToken, formToken string) error {
	err := db.guard(ctx, tx, func() error {
		_, err := tx.ExecContext(ctx, `UPDATE pay_orders SET link_token = ?, form_token = ? WHERE id = ?`,
			nullString(linkToken), nullString(formToken), orderID)
		return err
	})
	if err != nil {
		if isUnique(err) {
			return ErrFormReused
		}
		return fmt.Errorf("set pay link: %w", err)
	}
	return nil
}

// PayOrderIDByFormToken returns the order a new-payment form submission
// created, or ErrNotFound. Pass a transaction to read inside it.
func (db *DB) PayOrderIDByFormToken(ctx context.Context, tx *sql.Tx, formToken string) (int64, error) {
	var q querier = db
	if tx != nil {
		q = tx
	}
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM pay_orders WHERE form_token = ?`, formToken).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("pay order for form: %w", ErrNotFound)
	}
	return id, err
}

const payLinkCols = `id, coalesce(link_token, ''), link_active, link_changed_by, coalesce(CAST(link_changed_at AS TEXT), '')`

func scanPayLink(row rowScanner) (PayLink, error) {
	var l PayLink
	var changed string
	err := row.Scan(&l.OrderID, &l.Token, &l.Active, &l.ChangedBy, &changed)
	l.ChangedAt = parseTime(changed)
	return l, err
}

// PayLinkByToken returns the link with token, or ErrNotFound.
func (db *DB) PayLinkByToken(ctx context.Context, token string) (PayLink, error) {
	if token == "" {
		return PayLink{}, fmt.Errorf("pay link: %w", ErrNotFound)
	}
	l, err := scanPayLink(db.QueryRowContext(ctx, `SELECT `+payLinkCols+` FROM pay_orders WHERE link_token = ?`, token))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("pay link: %w", ErrNotFound)
	}
	return l, err
}

// PayLinkByOrder returns an order's link; Token is "" for orders without
// one (those Paydesk did not create).
func (db *DB) PayLinkByOrder(ctx context.Context, orderID int64) (PayLink, error) {
	l, err := scanPayLink(db.QueryRowContext(ctx, `SELECT `+payLinkCols+` FROM pay_orders WHERE id = ?`, orderID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, fmt.Errorf("pay link of order %d: %w", orderID, ErrNotFound)
	}
	return l, err
}

// SetPayLinkActiveTx deactivates (or reactivates) an order's public link.
// It returns ErrConflict when the link is already in that state.
func (db *DB) SetPayLinkActiveTx(ctx context.Context, tx *sql.Tx, orderID int64, active bool, by string) error {
	res, err := tx.ExecContext(ctx, `UPDATE pay_orders SET link_active = ?, link_changed_by = ?, link_changed_at = ?
		WHERE id = ? AND link_token IS NOT NULL AND link_active <> ?`, active, by, timeText(db.now()), orderID, active)
	if err != nil {
		return fmt.Errorf("set pay link state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("pay link of order %d is already in that state: %w", orderID, ErrConflict)
	}
	return nil
}

// ClaimPayOrderCheck records that the console is about to ask the gateway
// about an order, unless it did so less than minGap ago. Only one caller
// wins a slot, so page views and pollers never flood the gateway.
func (db *DB) ClaimPayOrderCheck(ctx context.Context, orderID int64, minGap time.Duration) (bool, error) {
	now := db.now()
	res, err := db.ExecContext(ctx, `UPDATE pay_orders SET checked_at = ? WHERE id = ? AND (checked_at IS NULL OR checked_at <= ?)`,
		timeText(now), orderID, timeText(now.Add(-minGap)))
	if err != nil {
		return false, fmt.Errorf("claim pay order check: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PayOrdersToResolve lists console-made orders whose create call ended
// without a definite answer: every "unknown" order, and "creating" orders
// last touched before stale (the process stopped during the call). They
// are read through the index of orders that are not open (migration 0093),
// which the query names by its condition.
func (db *DB) PayOrdersToResolve(ctx context.Context, stale time.Time, limit int) ([]PayOrder, error) {
	return collect(ctx, db, scanPayOrder, `SELECT `+payOrderCols+` FROM pay_orders
		WHERE (state = 'unknown' OR (state = 'creating' AND updated_at < ?)) AND state <> 'open'
		ORDER BY updated_at LIMIT ?`, timeText(stale), limit)
}

// MarkPayOrderCheckedTx records inside tx that the gateway was just asked
// about an order (or waited for), so that the next check waits its turn.
func (db *DB) MarkPayOrderCheckedTx(ctx context.Context, tx *sql.Tx, orderID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE pay_orders SET checked_at = ? WHERE id = ?`, timeText(db.now()), orderID)
	return err
}
