package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Pay order states: the console's own lifecycle of the create call. The
// gateway's status is separate (PayOrder.Status).
const (
	PayStateCreating = "creating" // marked before the create call is sent
	PayStateOpen     = "open"     // the gateway has the order
	PayStateUnknown  = "unknown"  // the create answer was unclear; only a query decides
	PayStateRefused  = "refused"  // the gateway definitely refused the create
)

// PayOrder is one row of pay_orders.
type PayOrder struct {
	ID             int64
	AccountID      int64
	MchOrderNo     string
	PayOrderID     string // "" until the gateway has given it
	ChannelOrderNo string
	ProductID      int
	Amount         int64 // fen
	Currency       string
	Subject        string
	Body           string
	Param1         string
	Param2         string
	Status         *int // gateway status; nil until the gateway has told us
	State          string
	PayURL         string
	PaySuccAt      time.Time
	ExpiresAt      time.Time
	Origin         string // "console" or "external"
	CreatedBy      string
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// LinkCancelled: the order's public payment link was deactivated, so
	// the customer can no longer pay through it.
	LinkCancelled bool
	// Income: what the merchant receives after the gateway's fee, as a paid
	// callback gave it (fen); 0 when no callback gave it.
	Income int64
}

// StatusOr returns the gateway status, or def when none is known.
func (o PayOrder) StatusOr(def int) int {
	if o.Status == nil {
		return def
	}
	return *o.Status
}

const payOrderCols = `id, account_id, mch_order_no, coalesce(pay_order_id, ''), channel_order_no, product_id, amount, currency,
	subject, body, param1, param2, status, state, pay_url, coalesce(CAST(pay_succ_at AS TEXT), ''), coalesce(CAST(expires_at AS TEXT), ''), origin, created_by,
	last_error, created_at, updated_at, link_token IS NOT NULL AND link_active = 0, coalesce(income, 0)`

func scanPayOrder(row rowScanner) (PayOrder, error) {
	var o PayOrder
	var status sql.NullInt64
	var succ, expires, created, updated string
	err := row.Scan(&o.ID, &o.AccountID, &o.MchOrderNo, &o.PayOrderID, &o.ChannelOrderNo, &o.ProductID, &o.Amount, &o.Currency,
		&o.Subject, &o.Body, &o.Param1, &o.Param2, &status, &o.State, &o.PayURL, &succ, &expires, &o.Origin, &o.CreatedBy,
		&o.LastError, &created, &updated, &o.LinkCancelled, &o.Income)
	if status.Valid {
		s := int(status.Int64)
		o.Status = &s
	}
	o.PaySuccAt, o.ExpiresAt, o.CreatedAt, o.UpdatedAt = parseTime(succ), parseTime(expires), parseTime(created), parseTime(updated)
	return o, err
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeText(t)
}

// nullInt is n, or NULL for 0.
func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func sameInt(a, b *int) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func nullStatus(s *int) any {
	if s == nil {
		return nil
	}
	return *s
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) onePayOrder(ctx context.Context, q querier, where string, args ...any) (PayOrder, error) {
	o, err := scanPayOrder(db.queryRow(ctx, q, `SELECT `+payOrderCols+` FROM pay_orders WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("pay order: %w", ErrNotFound)
	}
	return o, err
}

// PayOrderByID returns one pay order, or ErrNotFound.
func (db *DB) PayOrderByID(ctx context.Context, id int64) (PayOrder, error) {
	return db.onePayOrder(ctx, db, `id = ?`, id)
}

// PayOrderByIDTx reads one pay order inside tx.
func (db *DB) PayOrderByIDTx(ctx context.Context, tx *sql.Tx, id int64) (PayOrder, error) {
	return db.onePayOrder(ctx, tx, `id = ?`, id)
}

// PayOrderByMchOrderNo returns the order an account holds under a merchant order number.
func (db *DB) PayOrderByMchOrderNo(ctx context.Context, accountID int64, no string) (PayOrder, error) {
	return db.onePayOrder(ctx, db, `account_id = ? AND mch_order_no = ?`, accountID, no)
}

// PayOrderByPayOrderID returns the order with the gateway's pay order id.
func (db *DB) PayOrderByPayOrderID(ctx context.Context, payOrderID string) (PayOrder, error) {
	return db.onePayOrder(ctx, db, `pay_order_id = ?`, payOrderID)
}

// PayOrderByNumber finds a pay order by any of its numbers: the gateway's
// payOrderId, the merchant order number, or the channel order number.
func (db *DB) PayOrderByNumber(ctx context.Context, number string) (PayOrder, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return PayOrder{}, fmt.Errorf("pay order: %w", ErrNotFound)
	}
	if o, err := db.onePayOrder(ctx, db, `pay_order_id = ?`, number); !errors.Is(err, ErrNotFound) {
		return o, err
	}
	if o, err := db.onePayOrder(ctx, db, `mch_order_no = ? ORDER BY id DESC LIMIT 1`, number); !errors.Is(err, ErrNotFound) {
		return o, err
	}
	return db.onePayOrder(ctx, db, db.channelNoIs()+` ORDER BY id DESC LIMIT 1`, number, number)
}

// channelNoIs is the condition that a pay order's channel number is the
// one given twice as its arguments, written so that it goes through
// pay_orders_search_channel_idx (migration 0082), the only index on that
// column (0090): lower() of equal numbers is equal, and the index is on
// lower(channel_order_no), in the "C" collation on PostgreSQL (bytewise).
func (db *DB) channelNoIs() string {
	return db.bytewise(`lower(channel_order_no)`) + ` = lower(?) AND channel_order_no = ? AND channel_order_no <> ''`
}

// InsertPayOrderTx stores a new pay order inside tx and returns its id. A
// merchant order number the account already holds gives ErrConflict.
func (db *DB) InsertPayOrderTx(ctx context.Context, tx *sql.Tx, o PayOrder) (int64, error) {
	now := timeText(db.now())
	if o.Currency == "" {
		o.Currency = "cny"
	}
	if o.Origin == "" {
		o.Origin = "console"
	}
	id, err := db.insertID(ctx, tx, `INSERT INTO pay_orders (account_id, mch_order_no, pay_order_id, channel_order_no, product_id, amount, currency,
		subject, body, param1, param2, status, state, pay_url, pay_succ_at, expires_at, origin, created_by, last_error, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.AccountID, o.MchOrderNo, nullString(o.PayOrderID), o.ChannelOrderNo, o.ProductID, o.Amount, o.Currency,
		o.Subject, o.Body, o.Param1, o.Param2, nullStatus(o.Status), o.State, o.PayURL, nullTime(o.PaySuccAt), nullTime(o.ExpiresAt),
		o.Origin, o.CreatedBy, o.LastError, now, now)
	if err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("pay order %s exists already: %w", o.MchOrderNo, ErrConflict)
		}
		return 0, fmt.Errorf("insert pay order: %w", err)
	}
	return id, nil
}

// UpdatePayOrderTx writes the mutable fields of o (gateway ids, status,
// state, pay URL, times, error) that differ from prev, the row as read
// inside tx, but only if the row still has the status and state it had
// when read. It returns ErrConflict when another writer got there first,
// so that callers re-read and decide again. Only the columns that change
// are written: each index on a written column is updated, whether or not
// its value changed, and this runs for every callback.
func (db *DB) UpdatePayOrderTx(ctx context.Context, tx *sql.Tx, prev, o PayOrder) error {
	var set strings.Builder
	args := make([]any, 0, 12)
	col := func(name string, v any) {
		set.WriteString(name)
		set.WriteString(" = ?, ")
		args = append(args, v)
	}
	if o.PayOrderID != prev.PayOrderID {
		col("pay_order_id", nullString(o.PayOrderID))
	}
	if o.ChannelOrderNo != prev.ChannelOrderNo {
		col("channel_order_no", o.ChannelOrderNo)
	}
	if !sameInt(o.Status, prev.Status) {
		col("status", nullStatus(o.Status))
	}
	if o.State != prev.State {
		col("state", o.State)
	}
	if o.PayURL != prev.PayURL {
		col("pay_url", o.PayURL)
	}
	if !o.PaySuccAt.Equal(prev.PaySuccAt) {
		col("pay_succ_at", nullTime(o.PaySuccAt))
	}
	if !o.ExpiresAt.Equal(prev.ExpiresAt) {
		col("expires_at", nullTime(o.ExpiresAt))
	}
	if o.LastError != prev.LastError {
		col("last_error", o.LastError)
	}
	if o.Income != prev.Income {
		col("income", nullInt(o.Income))
	}
	set.WriteString("updated_at = ?")
	args = append(args, timeText(db.now()), o.ID, prev.State, nullStatus(prev.Status))
	var res sql.Result
	update := func() (err error) {
		res, err = db.execTx(ctx, tx, `UPDATE pay_orders SET `+set.String()+` WHERE id = ? AND state = ? AND status IS NOT DISTINCT FROM ?`, args...)
		return err
	}
	var err error
	if o.PayOrderID != prev.PayOrderID {
		err = db.guard(ctx, tx, update) // the unique gateway id is set
	} else {
		err = update()
	}
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("pay order id %s belongs to another order: %w", o.PayOrderID, ErrConflict)
		}
		return fmt.Errorf("update pay order: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("pay order %d changed meanwhile: %w", o.ID, ErrConflict)
	}
	return nil
}
