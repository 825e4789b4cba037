package store

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"time"
)

// OrderFilter selects pay orders and payouts for the orders list and bulk
// resends. Zero values match everything.
type OrderFilter struct {
	Kind     string // KindPay, KindTrans or "" for both
	Status   string // "open", "success", "failed" or ""
	Origin   string // "console", "external" or ""
	From, To time.Time
	Before   time.Time // keyset paging: created before this
	Limit    int
}

// OrderSummary is one pay order or payout in a list.
type OrderSummary struct {
	Kind       string
	ID         int64
	AccountID  int64
	MchNo      string
	GateNo     string
	Amount     int64
	Status     *int
	State      string
	Origin     string
	CreatedAt  time.Time
	LastResend time.Time // the latest resend event on its timeline
	// ReconcileCount is how often the reconciler has asked about it.
	ReconcileCount int
}

func statusClause(kind, group string) string {
	switch {
	case group == "open":
		return `(status IS NULL OR status IN (0, 1))`
	case group == "success" && kind == KindPay:
		return `status IN (2, 3)`
	case group == "success":
		return `status IN (2, 4)`
	case group == "failed" && kind == KindPay:
		return `status IN (5, -1, -2)`
	case group == "failed":
		return `status = 3`
	}
	return ""
}

// Orders lists matching pay orders and payouts, newest first.
func (db *DB) Orders(ctx context.Context, f OrderFilter) ([]OrderSummary, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var out []OrderSummary
	for _, kind := range []string{KindPay, KindTrans} {
		if f.Kind != "" && f.Kind != kind {
			continue
		}
		// A pay order's status group is listed one status at a time, each
		// newest first through pay_orders_status_idx (status, created_at,
		// id): whether a group is most of the orders or a handful, each
		// query reads at most Limit rows. One query with the group's
		// statuses ORed leaves the plan to SQLite, which without
		// statistics (the console runs no ANALYZE) sorted every open
		// order: 160 ms with 150,000 of them, for 50 rows.
		clauses := []string{statusClause(kind, f.Status)}
		if kind == KindPay {
			if one := payStatusesOf(f.Status); one != nil {
				clauses = one
			}
		}
		for _, clause := range clauses {
			page, err := db.orderPage(ctx, kind, clause, f)
			if err != nil {
				return nil, err
			}
			out = append(out, page...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].Kind == out[j].Kind && out[i].ID > out[j].ID
	})
	if len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// payStatusesOf is a pay order status group as one clause per status, nil
// when the group is not one.
func payStatusesOf(group string) []string {
	switch group {
	case "open":
		return []string{`status IS NULL`, `status = 0`, `status = 1`}
	case "success":
		return []string{`status = 2`, `status = 3`}
	case "failed":
		return []string{`status = 5`, `status = -1`, `status = -2`}
	}
	return nil
}

// orderPage lists the orders of one kind matching status (a clause, "" for
// any) and f, newest first.
func (db *DB) orderPage(ctx context.Context, kind, status string, f OrderFilter) ([]OrderSummary, error) {
	q, args := orderPageQuery(kind, status, f)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrderSummary
	for rows.Next() {
		o := OrderSummary{Kind: kind}
		var status sql.NullInt64
		var created, resend string
		if err := rows.Scan(&o.ID, &o.AccountID, &o.MchNo, &o.GateNo, &o.Amount, &status, &o.State, &o.Origin, &created, &resend); err != nil {
			return nil, err
		}
		if status.Valid {
			s := int(status.Int64)
			o.Status = &s
		}
		o.CreatedAt, o.LastResend = parseTime(created), parseTime(resend)
		out = append(out, o)
	}
	return out, rows.Err()
}

// orderPageQuery is orderPage's query and its arguments.
func orderPageQuery(kind, status string, f OrderFilter) (string, []any) {
	table, mch, gate := "pay_orders", "mch_order_no", "pay_order_id"
	if kind == KindTrans {
		table, mch, gate = "payouts", "mch_trans_order_no", "trans_order_id"
	}
	var where []string
	var args []any
	if status != "" {
		where = append(where, status)
	}
	if kind == KindTrans {
		// Payouts never sent are not gateway orders.
		where = append(where, `state IN ('submitting', 'submitted', 'unknown')`)
	}
	if f.Origin != "" {
		where, args = append(where, `origin = ?`), append(args, f.Origin)
	}
	if !f.From.IsZero() {
		where, args = append(where, `created_at >= ?`), append(args, timeText(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, `created_at < ?`), append(args, timeText(f.To))
	}
	if !f.Before.IsZero() {
		where, args = append(where, `created_at < ?`), append(args, timeText(f.Before))
	}
	q := `SELECT t.id, t.account_id, t.` + mch + `, coalesce(t.` + gate + `, ''), t.amount, t.status, t.state, t.origin, t.created_at,
		coalesce(CAST((SELECT max(e.at) FROM order_events e WHERE e.order_kind = '` + kind + `' AND e.order_ref = t.id AND e.type = 'resend') AS TEXT), '')
		FROM ` + table + ` t`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	return q + ` ORDER BY t.created_at DESC, t.id DESC LIMIT ?`, append(args, f.Limit)
}

// ReconcileCandidates lists orders still waiting for an outcome (pay orders
// open in created/paying or without a status, payouts submitted in
// created/transferring) untouched for at least base and due for a
// reconcile, the longest waiting first. Orders created more than maxAge
// ago are left alone.
func (db *DB) ReconcileCandidates(ctx context.Context, now time.Time, base, maxAge time.Duration, limit int) ([]OrderSummary, error) {
	return db.reconcileCandidates(ctx, now, base, maxAge, time.Time{}, limit)
}

// ClaimReconcileCandidates is ReconcileCandidates for the reconciler of one
// of several consoles on a database: the orders are claimed until
// leaseEnd (their reconcile_due moved there, see claims.go), so that no
// other console asks about them meanwhile; asking records the next due
// time as before. They come pay orders first, in no particular order.
func (db *DB) ClaimReconcileCandidates(ctx context.Context, now time.Time, base, maxAge time.Duration, leaseEnd time.Time, limit int) ([]OrderSummary, error) {
	return db.reconcileCandidates(ctx, now, base, maxAge, leaseEnd, limit)
}

func (db *DB) reconcileCandidates(ctx context.Context, now time.Time, base, maxAge time.Duration, leaseEnd time.Time, limit int) ([]OrderSummary, error) {
	var out []OrderSummary
	for _, kind := range []string{KindPay, KindTrans} {
		table, mch, gate, state := "pay_orders", "mch_order_no", "pay_order_id", PayStateOpen
		if kind == KindTrans {
			table, mch, gate, state = "payouts", "mch_trans_order_no", "trans_order_id", PayoutSubmitted
		}
		cols := `id, account_id, ` + mch + `, coalesce(` + gate + `, ''), amount, status, state, origin, created_at, reconcile_count`
		where := ` FROM ` + table + ` WHERE state = ? AND (status IS NULL OR status IN (0, 1)) AND created_at >= ? AND updated_at < ?
			AND (reconcile_due IS NULL OR reconcile_due <= ?)
			ORDER BY coalesce(reconcile_due, updated_at) LIMIT ?`
		args := []any{state, timeText(now.Add(-maxAge)), timeText(now.Add(-base)), timeText(now), limit}
		q := `SELECT ` + cols + where
		if !leaseEnd.IsZero() {
			sel := `SELECT id` + where
			if db.pg {
				sel += ` FOR UPDATE SKIP LOCKED`
			}
			q = `UPDATE ` + table + ` SET reconcile_due = ? WHERE id IN (` + sel + `) RETURNING ` + cols
			args = append([]any{timeText(leaseEnd)}, args...)
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			o := OrderSummary{Kind: kind}
			var status sql.NullInt64
			var created string
			if err := rows.Scan(&o.ID, &o.AccountID, &o.MchNo, &o.GateNo, &o.Amount, &status, &o.State, &o.Origin, &created, &o.ReconcileCount); err != nil {
				rows.Close()
				return nil, err
			}
			if status.Valid {
				s := int(status.Int64)
				o.Status = &s
			}
			o.CreatedAt = parseTime(created)
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MarkReconciledTx records that the reconciler asked the gateway about an
// order, and when it may ask again.
func (db *DB) MarkReconciledTx(ctx context.Context, tx *sql.Tx, kind string, id int64, next time.Time) error {
	table := "pay_orders"
	if kind == KindTrans {
		table = "payouts"
	}
	_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET reconcile_due = ?, reconcile_count = reconcile_count + 1 WHERE id = ?`, timeText(next), id)
	return err
}

// LastEventAt returns the time of an order's latest event of a type (zero when none).
func (db *DB) LastEventAt(ctx context.Context, kind string, ref int64, typ string) (time.Time, error) {
	var at sql.NullString
	err := db.QueryRowContext(ctx, `SELECT max(at) FROM order_events WHERE order_kind = ? AND order_ref = ? AND type = ?`, kind, ref, typ).Scan(&at)
	return parseTime(at.String), err
}
