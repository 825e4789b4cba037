package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Notification results.
const (
	NotifyPending   = "pending"   // stored raw, not processed yet
	NotifyApplied   = "applied"   // changed an order, or recorded a new external order
	NotifyDuplicate = "duplicate" // the order already had this status
	NotifyStale     = "stale"     // older than what the order has, or a status not acted on
	NotifyRejected  = "rejected"  // bad signature, unknown merchant, unreadable
	NotifyAlert     = "alert"     // correctly signed but does not match the order held
)

// NotifyResults lists the results in the order filters show them.
func NotifyResults() []string {
	return []string{NotifyApplied, NotifyDuplicate, NotifyStale, NotifyRejected, NotifyAlert, NotifyPending}
}

// RawNotification is an inbound callback exactly as it arrived.
type RawNotification struct {
	ReceivedAt time.Time
	Kind       string // KindPay or KindTrans
	Method     string
	ClientAddr string
	Headers    string // "Name: value" lines of the headers that matter
	RawQuery   string
	RawBody    []byte
	// The lengths received, in bytes: larger than RawQuery and RawBody
	// when only their start is kept (see Cut). 0 when not recorded.
	QueryLen int
	BodyLen  int

	// Read from the request when it can be: what the callback says.
	MchID      string
	OrderNo    string // the gateway's payOrderId / transOrderId
	MchOrderNo string
	Status     *int
	Amount     *int64
}

// Cut reports whether only the start of the query or body was kept.
func (r RawNotification) Cut() bool {
	return r.QueryLen > len(r.RawQuery) || r.BodyLen > len(r.RawBody)
}

// Header reads one header back from Headers; "" when it was not kept.
func (r RawNotification) Header(name string) string {
	for line := range strings.Lines(r.Headers) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// NotificationOutcome is what became of a stored notification.
type NotificationOutcome struct {
	ID        int64
	Result    string
	Reason    string
	SigValid  *bool
	AccountID int64
	OrderKind string // "" when no order is linked
	OrderRef  int64
	ReplyCode int
	ReplyBody string
}

// Notification is one stored callback with its outcome.
type Notification struct {
	RawNotification
	NotificationOutcome
	ProcessedAt time.Time
}

const insertNotificationCols = `INSERT INTO notifications (received_at, kind, method, client_addr, headers, raw_query, raw_body,
	mch_id, order_no, mch_order_no, status, amount, query_len, body_len) VALUES `

// chunk is how many of n rows the next multi-row statement takes: 64, 16,
// 4 or 1, so that a few cached statements serve every batch size.
func chunk(n int) int {
	for _, c := range [...]int{64, 16, 4} {
		if n >= c {
			return c
		}
	}
	return 1
}

func insertNotificationSQL(rows int) string {
	return insertNotificationCols + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", rows), ", ")
}

// InsertRawNotificationsTx stores callbacks raw (result pending) inside tx
// and returns their ids, in order.
func (db *DB) InsertRawNotificationsTx(ctx context.Context, tx *sql.Tx, raws []RawNotification) ([]int64, error) {
	ids := make([]int64, 0, len(raws))
	for len(raws) > 0 {
		n := chunk(len(raws))
		stmt, err := db.txStmt(ctx, tx, insertNotificationSQL(n))
		if err != nil {
			return nil, fmt.Errorf("store notifications: %w", err)
		}
		args := make([]any, 0, 14*n)
		for _, r := range raws[:n] {
			if r.ReceivedAt.IsZero() {
				r.ReceivedAt = db.now()
			}
			body := r.RawBody
			if body == nil {
				body = []byte{}
			}
			var amount any
			if r.Amount != nil {
				amount = *r.Amount
			}
			args = append(args, timeText(r.ReceivedAt), r.Kind, r.Method, r.ClientAddr, r.Headers, r.RawQuery, body,
				r.MchID, r.OrderNo, r.MchOrderNo, nullStatus(r.Status), amount, r.QueryLen, r.BodyLen)
		}
		if db.pg {
			// PostgreSQL: ids by RETURNING (see pgInsertedIDs).
			if ids, err = db.pgInsertedIDs(ctx, tx, insertNotificationSQL(n), args, ids); err != nil {
				return nil, fmt.Errorf("store notifications: %w", err)
			}
			raws = raws[n:]
			continue
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("store notifications: %w", err)
		}
		// Rows of one INSERT get consecutive rowids: nothing else writes
		// inside this transaction meanwhile.
		last, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		for i := range n {
			ids = append(ids, last-int64(n-1-i))
		}
		raws = raws[n:]
	}
	return ids, nil
}

// NotificationIDsTx returns n ids for notifications stored inside tx,
// ascending: InsertNotificationsTx takes them, so that a callback's outcome
// (events and alerts naming the notification) can be written before its
// row. On SQLite they follow the largest id: transactions begin IMMEDIATE,
// so no other writer takes one meanwhile. On PostgreSQL they are drawn from
// the column's identity sequence, which an explicit id would not advance:
// so a row stored later without an id (the fallback path's raw store,
// another console) never takes one of them. They need not be consecutive
// there.
func (db *DB) NotificationIDsTx(ctx context.Context, tx *sql.Tx, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if n <= 0 {
		return ids, nil
	}
	if !db.pg {
		var last int64
		if err := db.queryRow(ctx, tx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&last); err != nil {
			return nil, fmt.Errorf("notification ids: %w", err)
		}
		for i := range n {
			ids = append(ids, last+1+int64(i))
		}
		return ids, nil
	}
	stmt, err := db.txStmt(ctx, tx, `SELECT nextval(pg_get_serial_sequence('notifications', 'id')) FROM generate_series(1, ?::integer)`)
	if err != nil {
		return nil, fmt.Errorf("notification ids: %w", err)
	}
	rows, err := stmt.QueryContext(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("notification ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("notification ids: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notification ids: %w", err)
	}
	if len(ids) != n {
		return nil, fmt.Errorf("notification ids: %d of %d", len(ids), n)
	}
	slices.Sort(ids)
	return ids, nil
}

func insertNotificationDoneSQL(rows int) string {
	return `INSERT INTO notifications (id, received_at, kind, method, client_addr, headers, raw_query, raw_body,
	mch_id, order_no, mch_order_no, status, amount, query_len, body_len,
	result, reason, sig_valid, account_id, order_kind, order_ref, reply_code, reply_body, processed_at) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", rows), ", ")
}

// InsertNotificationsTx stores callbacks raw together with their outcomes
// inside tx, each row written once: n.ID is the id to take (from
// NotificationIDsTx), and a row whose Result is "" or NotifyPending is
// stored pending, for the sweep.
func (db *DB) InsertNotificationsTx(ctx context.Context, tx *sql.Tx, rows []Notification) error {
	now := timeText(db.now())
	for len(rows) > 0 {
		n := chunk(len(rows))
		stmt, err := db.txStmt(ctx, tx, insertNotificationDoneSQL(n))
		if err != nil {
			return fmt.Errorf("store notifications: %w", err)
		}
		args := make([]any, 0, 24*n)
		for _, r := range rows[:n] {
			if r.ReceivedAt.IsZero() {
				r.ReceivedAt = db.now()
			}
			body := r.RawBody
			if body == nil {
				body = []byte{}
			}
			var amount any
			if r.Amount != nil {
				amount = *r.Amount
			}
			args = append(args, r.ID, timeText(r.ReceivedAt), r.Kind, r.Method, r.ClientAddr, r.Headers, r.RawQuery, body,
				r.MchID, r.OrderNo, r.MchOrderNo, nullStatus(r.Status), amount, r.QueryLen, r.BodyLen)
			o := r.NotificationOutcome
			if o.Result == "" || o.Result == NotifyPending {
				args = append(args, NotifyPending, "", nil, nil, nil, nil, nil, "", nil)
				continue
			}
			var sig, acct, kind, ref any
			if o.SigValid != nil {
				sig = *o.SigValid
			}
			if o.AccountID != 0 {
				acct = o.AccountID
			}
			if o.OrderKind != "" {
				kind, ref = o.OrderKind, o.OrderRef
			}
			args = append(args, o.Result, o.Reason, sig, acct, kind, ref, o.ReplyCode, o.ReplyBody, now)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store notifications: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// InsertRawNotification stores one callback raw in its own transaction.
func (db *DB) InsertRawNotification(ctx context.Context, r RawNotification) (int64, error) {
	var ids []int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = db.InsertRawNotificationsTx(ctx, tx, []RawNotification{r})
		return err
	})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func finishNotificationsSQL(rows int) string {
	return `UPDATE notifications SET result = v.column2, reason = v.column3, sig_valid = v.column4, account_id = v.column5,
		order_kind = v.column6, order_ref = v.column7, reply_code = v.column8, reply_body = v.column9, processed_at = ?
		FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", rows), ", ") + `) AS v
		WHERE notifications.id = v.column1 AND notifications.result = 'pending'`
}

// FinishNotificationsTx records outcomes inside tx. Only pending rows are
// changed, so that a notification is processed once; it returns how many
// of outs were not pending any more (and so left as they were).
func (db *DB) FinishNotificationsTx(ctx context.Context, tx *sql.Tx, outs []NotificationOutcome) (notPending int, err error) {
	now := timeText(db.now())
	for len(outs) > 0 {
		n := chunk(len(outs))
		q := finishNotificationsSQL(n)
		if db.pg {
			q = pgFinishNotificationsSQL(n) // typed VALUES (see there)
		}
		stmt, err := db.txStmt(ctx, tx, q)
		if err != nil {
			return 0, fmt.Errorf("finish notifications: %w", err)
		}
		args := make([]any, 0, 1+9*n)
		args = append(args, now)
		for _, o := range outs[:n] {
			var sig, acct, kind, ref any
			if o.SigValid != nil {
				sig = *o.SigValid
			}
			if o.AccountID != 0 {
				acct = o.AccountID
			}
			if o.OrderKind != "" {
				kind, ref = o.OrderKind, o.OrderRef
			}
			args = append(args, o.ID, o.Result, o.Reason, sig, acct, kind, ref, o.ReplyCode, o.ReplyBody)
		}
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return 0, fmt.Errorf("finish notifications: %w", err)
		}
		changed, _ := res.RowsAffected()
		notPending += n - int(changed)
		outs = outs[n:]
	}
	return notPending, nil
}

const notificationCols = `id, received_at, kind, method, client_addr, headers, raw_query, raw_body, result, reason, sig_valid,
	coalesce(account_id, 0), mch_id, order_no, mch_order_no, status, amount, coalesce(order_kind, ''), coalesce(order_ref, 0),
	coalesce(reply_code, 0), reply_body, coalesce(CAST(processed_at AS TEXT), ''), query_len, body_len`

func scanNotification(row rowScanner) (Notification, error) {
	var n Notification
	var received, processed string
	var sig sql.NullBool
	var status, amount sql.NullInt64
	err := row.Scan(&n.ID, &received, &n.Kind, &n.Method, &n.ClientAddr, &n.Headers, &n.RawQuery, &n.RawBody, &n.Result, &n.Reason, &sig,
		&n.AccountID, &n.MchID, &n.OrderNo, &n.MchOrderNo, &status, &amount, &n.OrderKind, &n.OrderRef,
		&n.ReplyCode, &n.ReplyBody, &processed, &n.QueryLen, &n.BodyLen)
	n.ReceivedAt, n.ProcessedAt = parseTime(received), parseTime(processed)
	if sig.Valid {
		v := sig.Bool
		n.SigValid = &v
	}
	if status.Valid {
		s := int(status.Int64)
		n.Status = &s
	}
	if amount.Valid {
		a := amount.Int64
		n.Amount = &a
	}
	return n, err
}

// NotificationByID returns one stored callback, or ErrNotFound.
func (db *DB) NotificationByID(ctx context.Context, id int64) (Notification, error) {
	n, err := scanNotification(db.QueryRowContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("notification %d: %w", id, ErrNotFound)
	}
	return n, err
}

// PendingNotifications lists stored callbacks not processed yet that
// arrived before before, oldest first.
func (db *DB) PendingNotifications(ctx context.Context, before time.Time, limit int) ([]Notification, error) {
	return collect(ctx, db, scanNotification, `SELECT `+notificationCols+` FROM notifications
		WHERE result = 'pending' AND received_at < ? ORDER BY id LIMIT ?`, timeText(before), limit)
}

// PruneRejectedNotifications deletes up to limit rejected callbacks received
// before before, oldest first, and returns how many it deleted. Alerts that
// pointed at one stay, without the link; a rejected callback changed no
// order, so nothing else refers to it.
func (db *DB) PruneRejectedNotifications(ctx context.Context, before time.Time, limit int) (int, error) {
	// The same rows twice: nothing else writes inside the transaction.
	const oldest = `SELECT id FROM notifications WHERE result = 'rejected' AND received_at < ? ORDER BY id LIMIT ?`
	var n int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		cut := timeText(before)
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET notification_id = NULL WHERE notification_id IN (`+oldest+`)`, cut, limit); err != nil {
			return fmt.Errorf("prune notifications: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE id IN (`+oldest+`)`, cut, limit)
		if err != nil {
			return fmt.Errorf("prune notifications: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// NotificationsForOrder lists the callbacks linked to an order, oldest first.
func (db *DB) NotificationsForOrder(ctx context.Context, kind string, ref int64) ([]Notification, error) {
	return collect(ctx, db, scanNotification, `SELECT `+notificationCols+` FROM notifications
		WHERE order_kind = ? AND order_ref = ? ORDER BY id`, kind, ref)
}

// NotificationFilter selects stored callbacks. Zero values match everything.
type NotificationFilter struct {
	Kind     string
	Result   string
	From, To time.Time // received in [From, To)
	// OrderNos and Orders select callbacks carrying one of the gateway
	// order numbers or linked to one of the orders (either matches).
	OrderNos []string
	Orders   []OrderKey
	BeforeID int64 // keyset paging
	Limit    int
}

// OrderKey names one pay order or payout.
type OrderKey struct {
	Kind string
	Ref  int64
}

// Notifications lists matching callbacks, newest first.
func (db *DB) Notifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, `kind = ?`), append(args, f.Kind)
	}
	if f.Result != "" {
		where, args = append(where, `result = ?`), append(args, f.Result)
	}
	if !f.From.IsZero() {
		where, args = append(where, `received_at >= ?`), append(args, timeText(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, `received_at < ?`), append(args, timeText(f.To))
	}
	if len(f.OrderNos) > 0 || len(f.Orders) > 0 {
		var or []string
		for _, no := range f.OrderNos {
			or, args = append(or, `order_no = ?`), append(args, no)
		}
		for _, o := range f.Orders {
			or, args = append(or, `(order_kind = ? AND order_ref = ?)`), append(args, o.Kind, o.Ref)
		}
		where = append(where, `(`+strings.Join(or, ` OR `)+`)`)
	}
	if f.BeforeID > 0 {
		where, args = append(where, `id < ?`), append(args, f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + notificationCols + ` FROM notifications`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return collect(ctx, db, scanNotification, q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
}

// CountOrderNotificationsTx counts the callbacks linked to an order,
// inside tx.
func (db *DB) CountOrderNotificationsTx(ctx context.Context, tx *sql.Tx, kind string, ref int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE order_kind = ? AND order_ref = ?`, kind, ref).Scan(&n)
	return n, err
}

// LastNotificationAt returns when the latest callback for an order with
// one of the statuses arrived (zero when none did).
func (db *DB) LastNotificationAt(ctx context.Context, kind string, ref int64) (time.Time, error) {
	var at sql.NullString
	err := db.QueryRowContext(ctx, `SELECT max(received_at) FROM notifications WHERE order_kind = ? AND order_ref = ?`, kind, ref).Scan(&at)
	return parseTime(at.String), err
}

// Tx lookups used while applying a callback: they see rows written earlier
// in the same transaction (such as an external order recorded by the
// callback before).

// PayOrderByPayOrderIDTx finds a pay order by the gateway's id inside tx.
func (db *DB) PayOrderByPayOrderIDTx(ctx context.Context, tx *sql.Tx, payOrderID string) (PayOrder, error) {
	return db.onePayOrder(ctx, tx, `pay_order_id = ?`, payOrderID)
}

// PayOrderByMchOrderNoTx finds an account's pay order by merchant order number inside tx.
func (db *DB) PayOrderByMchOrderNoTx(ctx context.Context, tx *sql.Tx, accountID int64, no string) (PayOrder, error) {
	return db.onePayOrder(ctx, tx, `account_id = ? AND mch_order_no = ?`, accountID, no)
}

// PayoutByTransOrderIDTx finds a payout by the gateway's id inside tx.
func (db *DB) PayoutByTransOrderIDTx(ctx context.Context, tx *sql.Tx, id string) (Payout, error) {
	return db.onePayout(ctx, tx, `trans_order_id = ?`, id)
}

// PayoutByMchTransOrderNoTx finds an account's payout by merchant number inside tx.
func (db *DB) PayoutByMchTransOrderNoTx(ctx context.Context, tx *sql.Tx, accountID int64, no string) (Payout, error) {
	return db.onePayout(ctx, tx, `account_id = ? AND mch_trans_order_no = ?`, accountID, no)
}

// OrderBrief is what checking a callback against an order needs, and for
// a pay order what applying it changes (PayOrder of Brief), so that the
// order is read once.
type OrderBrief struct {
	ID             int64
	AccountID      int64
	MchNo          string // mchOrderNo / mchTransOrderNo
	GateNo         string // payOrderId / transOrderId, "" until known
	ChannelOrderNo string
	Amount         int64
	Status         *int
	State          string
	// Pay orders only.
	PayURL    string
	PaySuccAt time.Time
	LastError string
	Income    int64
}

// PayOrder is the pay order o briefs: the fields it holds, the others
// zero. UpdatePayOrderTx writes only what differs from it, so it serves
// as the row read when only those fields change.
func (o OrderBrief) PayOrder() PayOrder {
	return PayOrder{ID: o.ID, AccountID: o.AccountID, MchOrderNo: o.MchNo, PayOrderID: o.GateNo, ChannelOrderNo: o.ChannelOrderNo,
		Amount: o.Amount, Status: o.Status, State: o.State, PayURL: o.PayURL, PaySuccAt: o.PaySuccAt, LastError: o.LastError, Income: o.Income}
}

const (
	payBriefSQL = `SELECT id, account_id, mch_order_no, coalesce(pay_order_id, ''), channel_order_no, amount, status, state,
			pay_url, coalesce(CAST(pay_succ_at AS TEXT), ''), last_error, coalesce(income, 0) FROM pay_orders WHERE `
	transBriefSQL = `SELECT id, account_id, mch_trans_order_no, coalesce(trans_order_id, ''), channel_order_no, amount, status, state
			FROM payouts WHERE `
)

func scanOrderBrief(row rowScanner, kind string) (OrderBrief, error) {
	var o OrderBrief
	var status sql.NullInt64
	var err error
	if kind == KindTrans {
		err = row.Scan(&o.ID, &o.AccountID, &o.MchNo, &o.GateNo, &o.ChannelOrderNo, &o.Amount, &status, &o.State)
	} else {
		var succ string
		err = row.Scan(&o.ID, &o.AccountID, &o.MchNo, &o.GateNo, &o.ChannelOrderNo, &o.Amount, &status, &o.State, &o.PayURL, &succ, &o.LastError, &o.Income)
		o.PaySuccAt = parseTime(succ)
	}
	if status.Valid {
		s := int(status.Int64)
		o.Status = &s
	}
	return o, err
}

func (db *DB) orderBrief(ctx context.Context, tx *sql.Tx, kind, where string, args ...any) (OrderBrief, error) {
	q := payBriefSQL
	if kind == KindTrans {
		q = transBriefSQL
	}
	o, err := scanOrderBrief(db.queryRow(ctx, tx, q+where, args...), kind)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("%s order: %w", kind, ErrNotFound)
	}
	return o, err
}

// OrderBriefsByGatewayIDsTx finds the pay orders (kind KindPay) or payouts
// (KindTrans) with the given gateway numbers inside tx, one query for many
// callbacks; the map has the ones found, by gateway number.
func (db *DB) OrderBriefsByGatewayIDsTx(ctx context.Context, tx *sql.Tx, kind string, ids []string) (map[string]OrderBrief, error) {
	q, col := payBriefSQL, "pay_order_id"
	if kind == KindTrans {
		q, col = transBriefSQL, "trans_order_id"
	}
	found := make(map[string]OrderBrief, len(ids))
	for len(ids) > 0 {
		n := chunk(len(ids))
		stmt, err := db.txStmt(ctx, tx, q+col+` IN (`+strings.TrimSuffix(strings.Repeat("?, ", n), ", ")+`)`)
		if err != nil {
			return nil, fmt.Errorf("%s orders: %w", kind, err)
		}
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		rows, err := stmt.QueryContext(ctx, args...)
		if err != nil {
			return nil, fmt.Errorf("%s orders: %w", kind, err)
		}
		for rows.Next() {
			o, err := scanOrderBrief(rows, kind)
			if err != nil {
				rows.Close()
				return nil, err
			}
			found[o.GateNo] = o
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("%s orders: %w", kind, err)
		}
		ids = ids[n:]
	}
	return found, nil
}

// OrderBriefByGatewayIDTx finds a pay order (kind KindPay, by payOrderId)
// or payout (KindTrans, by transOrderId) inside tx.
func (db *DB) OrderBriefByGatewayIDTx(ctx context.Context, tx *sql.Tx, kind, id string) (OrderBrief, error) {
	if kind == KindTrans {
		return db.orderBrief(ctx, tx, kind, `trans_order_id = ?`, id)
	}
	return db.orderBrief(ctx, tx, kind, `pay_order_id = ?`, id)
}

// OrderBriefByMchNoTx finds an account's pay order or payout by its
// merchant number inside tx.
func (db *DB) OrderBriefByMchNoTx(ctx context.Context, tx *sql.Tx, kind string, accountID int64, no string) (OrderBrief, error) {
	if kind == KindTrans {
		return db.orderBrief(ctx, tx, kind, `account_id = ? AND mch_trans_order_no = ?`, accountID, no)
	}
	return db.orderBrief(ctx, tx, kind, `account_id = ? AND mch_order_no = ?`, accountID, no)
}
