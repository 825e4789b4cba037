package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PayPhases returns the values of a pay order's phase (migration 0020),
// which folds the console's state and the gateway's status into one word
// the payments list filters on.
func PayPhases() []string {
	return []string{"created", "paying", "paid", "failed", "expired", "refunded", "unknown", "refused", "other"}
}

// IsPayPhase reports whether s is one of PayPhases.
func IsPayPhase(s string) bool {
	for _, p := range PayPhases() {
		if p == s {
			return true
		}
	}
	return false
}

// PayCursor is a position in the payments list, newest first.
type PayCursor struct {
	CreatedAt string // as stored
	ID        int64
}

// String encodes the cursor for a URL.
func (c PayCursor) String() string {
	if c.ID == 0 {
		return ""
	}
	return c.CreatedAt + "_" + strconv.FormatInt(c.ID, 10)
}

// ParsePayCursor reads what PayCursor.String wrote.
func ParsePayCursor(s string) (PayCursor, bool) {
	at, id, ok := strings.Cut(s, "_")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n <= 0 {
		return PayCursor{}, false
	}
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		return PayCursor{}, false
	}
	return PayCursor{CreatedAt: at, ID: n}, true
}

// PayOrderFilter selects pay orders for the list and the CSV export. Zero
// fields do not filter.
type PayOrderFilter struct {
	Number    string // any order number: payOrderId, mchOrderNo or channel order number
	Phase     string // one of PayPhases
	ProductID int
	AccountID int64
	From, To  time.Time // created at ≥ From and < To
	MinAmount int64     // fen, inclusive
	MaxAmount int64     // fen, inclusive
	After     PayCursor // rows older than this (the next page)
	Before    PayCursor // rows newer than this (the previous page)
	Limit     int       // rows per page; 0 → 50

	// byProduct: with both a status and a product, the product's orders
	// are read (through its index) rather than the status's; set by
	// ListPayOrders on SQLite.
	byProduct, planned bool
}

// payPlanProbe is how many orders of a status and of a product are
// counted to choose which index the list reads when it filters by both.
const payPlanProbe = 2000

// PayOrderPage is one page of the list, newest first, with the cursors of
// its neighbours ("" when there is none).
type PayOrderPage struct {
	Orders []PayOrder
	Newer  string
	Older  string
}

func (f PayOrderFilter) where(db *DB) (string, []any) {
	var conds []string
	var args []any
	if n := strings.TrimSpace(f.Number); n != "" {
		conds = append(conds, `(pay_order_id = ? OR mch_order_no = ? OR (`+db.channelNoIs()+`))`)
		args = append(args, n, n, n, n)
	}
	if f.Phase != "" {
		conds = append(conds, `phase = ?`)
		args = append(args, f.Phase)
	}
	if f.ProductID != 0 {
		conds = append(conds, `product_id = ?`)
		args = append(args, f.ProductID)
	}
	if f.AccountID != 0 {
		conds = append(conds, `account_id = ?`)
		args = append(args, f.AccountID)
	}
	if !f.From.IsZero() {
		conds = append(conds, `created_at >= ?`)
		args = append(args, timeText(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, `created_at < ?`)
		args = append(args, timeText(f.To))
	}
	if f.MinAmount > 0 {
		conds = append(conds, `amount >= ?`)
		args = append(args, f.MinAmount)
	}
	if f.MaxAmount > 0 {
		conds = append(conds, `amount <= ?`)
		args = append(args, f.MaxAmount)
	}
	return strings.Join(conds, " AND "), args
}

// keysetPage adds to a list's conditions (where, with its args) those of
// one page newest first, after the row After or, read backward (oldest
// first), before the row Before, and returns them with the page's order.
func keysetPage(where string, args []any, after, before PayCursor) (conds []string, _ []any, order string, backward bool) {
	if where != "" {
		conds = append(conds, where)
	}
	backward = before.ID != 0 && after.ID == 0
	order = `created_at DESC, id DESC`
	switch {
	case backward:
		// The plain range on created_at lets the index seek; the OR
		// settles ties. (SQLite does not seek on a row-value comparison.)
		conds = append(conds, `created_at >= ? AND (created_at > ? OR id > ?)`)
		args = append(args, before.CreatedAt, before.CreatedAt, before.ID)
		order = `created_at, id`
	case after.ID != 0:
		conds = append(conds, `created_at <= ? AND (created_at < ? OR id < ?)`)
		args = append(args, after.CreatedAt, after.CreatedAt, after.ID)
	}
	return conds, args, order, backward
}

// listQuery builds the page query for f: newest first, or oldest first
// when paging backward from f.Before.
func (f PayOrderFilter) listQuery(db *DB, limit int) (q string, args []any, backward bool) {
	where, args := f.where(db)
	conds, args, order, backward := keysetPage(where, args, f.After, f.Before)
	q = `SELECT ` + payOrderCols + ` FROM pay_orders`
	if f.planned {
		if f.byProduct {
			q += ` ` + db.indexedBy("pay_orders_product_idx")
		} else {
			q += ` ` + db.indexedBy("pay_orders_phase_idx")
		}
	}
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY ` + order + ` LIMIT ?`
	return q, append(args, limit+1), backward
}

// ListPayOrders returns one page of pay orders matching f, newest first,
// paged by keyset (created_at, id) so that every page costs the same
// however deep it is.
func (db *DB) ListPayOrders(ctx context.Context, f PayOrderFilter) (PayOrderPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if err := db.planPayList(ctx, &f); err != nil {
		return PayOrderPage{}, err
	}
	q, args, backward := f.listQuery(db, limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return PayOrderPage{}, fmt.Errorf("list pay orders: %w", err)
	}
	defer rows.Close()
	var out []PayOrder
	for rows.Next() {
		o, err := scanPayOrder(rows)
		if err != nil {
			return PayOrderPage{}, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return PayOrderPage{}, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	page := PayOrderPage{Orders: out}
	if len(out) == 0 {
		return page, nil
	}
	first, last := cursorOf(out[0]), cursorOf(out[len(out)-1])
	switch {
	case backward:
		if more {
			page.Newer = first.String()
		}
		page.Older = last.String()
	case f.After.ID != 0:
		page.Newer = first.String()
		if more {
			page.Older = last.String()
		}
	default:
		if more {
			page.Older = last.String()
		}
	}
	return page, nil
}

// planPayList chooses, for a list filtered by both status and product
// with no order number, which of the two indexes to read newest first:
// the one of the value that holds fewer orders, counted up to
// payPlanProbe each (a covering index range, under a millisecond). Rows of
// the other value are skipped as read, so a page costs at most the smaller
// set's rows, and a common status with a common product finds its page
// among the newest. SQLite, which keeps no statistics here, is told the
// index; PostgreSQL plans by its own.
func (db *DB) planPayList(ctx context.Context, f *PayOrderFilter) error {
	if db.pg || f.planned || f.Phase == "" || f.ProductID == 0 || strings.TrimSpace(f.Number) != "" {
		return nil
	}
	byPhase, err := db.countUpTo(ctx, "pay_orders", `phase = ?`, payPlanProbe, f.Phase)
	if err != nil {
		return fmt.Errorf("list pay orders: %w", err)
	}
	byProduct, err := db.countUpTo(ctx, "pay_orders", `product_id = ?`, payPlanProbe, f.ProductID)
	if err != nil {
		return fmt.Errorf("list pay orders: %w", err)
	}
	f.planned, f.byProduct = true, byProduct < byPhase
	return nil
}

func cursorOf(o PayOrder) PayCursor {
	return PayCursor{CreatedAt: timeText(o.CreatedAt), ID: o.ID}
}

// EachPayOrder calls fn for every pay order matching f, newest first,
// reading in keyset batches so that memory stays flat however many rows
// match. f's cursors and Limit are ignored.
func (db *DB) EachPayOrder(ctx context.Context, f PayOrderFilter, fn func(PayOrder) error) error {
	f.Before, f.After, f.Limit = PayCursor{}, PayCursor{}, 1000
	for {
		page, err := db.ListPayOrders(ctx, f)
		if err != nil {
			return err
		}
		for _, o := range page.Orders {
			if err := fn(o); err != nil {
				return err
			}
		}
		if page.Older == "" {
			return nil
		}
		f.After, _ = ParsePayCursor(page.Older)
	}
}
