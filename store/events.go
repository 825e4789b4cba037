package store

import (
	"context"
	"database/sql"
	"time"
)

// Order kinds, as stored in order_events.order_kind.
const (
	KindPay   = "pay"
	KindTrans = "trans"
)

// Event types on an order's timeline.
const (
	EventCreated  = "created"  // the order was made (by whom, or by which system)
	EventGateway  = "gateway"  // the gateway's answer to a create call
	EventCallback = "callback" // a notification arrived
	EventQuery    = "query"    // a query (manual, automatic, resend) and its answer
	EventResend   = "resend"   // a resend was asked for
	EventStatus   = "status"   // the status changed
	EventNote     = "note"     // anything else worth showing
	EventError    = "error"    // something went wrong
)

// Event is one entry of an order's timeline.
type Event struct {
	ID             int64
	OrderKind      string // KindPay or KindTrans
	OrderRef       int64  // pay_orders.id or payouts.id
	At             time.Time
	Type           string
	Actor          string // username, "gateway", "reconciler", "system"
	Summary        string
	Status         *int // the gateway status the event carried, if any
	NotificationID int64
	Detail         string // raw fields (JSON) or other detail shown on demand
}

// AddEventTx appends an event to an order's timeline inside tx. A zero At
// means now.
func (db *DB) AddEventTx(ctx context.Context, tx *sql.Tx, e Event) error {
	if e.At.IsZero() {
		e.At = db.now()
	}
	var nid any
	if e.NotificationID != 0 {
		nid = e.NotificationID
	}
	_, err := db.execTx(ctx, tx, `INSERT INTO order_events (order_kind, order_ref, at, type, actor, summary, status, notification_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.OrderKind, e.OrderRef, timeText(e.At), e.Type, e.Actor, e.Summary, e.Status, nid, e.Detail)
	return err
}

// Events lists an order's timeline, oldest first.
func (db *DB) Events(ctx context.Context, kind string, ref int64) ([]Event, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, order_kind, order_ref, at, type, actor, summary, status, coalesce(notification_id, 0), detail
		FROM order_events WHERE order_kind = ? AND order_ref = ? ORDER BY id`, kind, ref)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		var status sql.NullInt64
		if err := rows.Scan(&e.ID, &e.OrderKind, &e.OrderRef, &at, &e.Type, &e.Actor, &e.Summary, &status, &e.NotificationID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		if status.Valid {
			s := int(status.Int64)
			e.Status = &s
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
