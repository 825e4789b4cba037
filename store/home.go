package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SetBatchSentTx records what a batch holds as it is sent for approval:
// its payouts and their total (fen).
func (db *DB) SetBatchSentTx(ctx context.Context, tx *sql.Tx, batchID int64, count int, sum int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE payout_batches SET sent_count = ?, sent_sum = ? WHERE id = ?`, count, sum, batchID)
	return err
}

// SentBatch is a batch with what it held when it was sent for approval.
type SentBatch struct {
	Batch
	Count int
	Sum   int64
}

// BatchesInState lists the batches in state, oldest first, with their
// sent totals, at most limit.
func (db *DB) BatchesInState(ctx context.Context, state string, limit int) ([]SentBatch, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+batchCols+`, sent_count, sent_sum FROM payout_batches WHERE state = ? ORDER BY id LIMIT ?`, state, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SentBatch
	for rows.Next() {
		var sb SentBatch
		var sent, expires, approved, second, rejected, finished, created, updated string
		b := &sb.Batch
		if err := rows.Scan(&b.ID, &b.AccountID, &b.Kind, &b.RetryOf, &b.FileName, &b.Encoding, &b.State, &b.FileRows, &b.ErrorRows, &b.WarningRows, &b.ErrorsDropped,
			&b.TwoPerson, &b.NeedsSecond, &b.CreatedBy, &b.SentBy, &sent, &expires, &b.ApprovedBy, &approved, &b.ApprovalNote,
			&b.SecondApprovedBy, &second, &b.RejectedBy, &rejected, &b.RejectReason, &b.Outcome, &finished, &created, &updated, &sb.Count, &sb.Sum); err != nil {
			return nil, err
		}
		b.SentAt, b.ExpiresAt, b.ApprovedAt, b.SecondApprovedAt = parseTime(sent), parseTime(expires), parseTime(approved), parseTime(second)
		b.RejectedAt, b.FinishedAt, b.CreatedAt, b.UpdatedAt = parseTime(rejected), parseTime(finished), parseTime(created), parseTime(updated)
		out = append(out, sb)
	}
	return out, rows.Err()
}

// SentBack lists the batches made or sent by user that were rejected or
// expired and not copied into a new batch yet, newest first, at most
// limit, and how many there are.
func (db *DB) SentBack(ctx context.Context, user string, limit int) ([]SentBatch, int, error) {
	const where = ` FROM payout_batches b WHERE b.state IN ('rejected', 'expired') AND (b.created_by = ? OR b.sent_by = ?)
		AND NOT EXISTS (SELECT 1 FROM payout_batches c WHERE c.retry_of = b.id)`
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*)`+where, user, user).Scan(&n); err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT b.id, b.state, b.file_name, b.rejected_by, b.reject_reason, coalesce(b.rejected_at, b.expires_at, b.updated_at), b.sent_count, b.sent_sum`+
		where+` ORDER BY b.id DESC LIMIT ?`, user, user, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []SentBatch
	for rows.Next() {
		var sb SentBatch
		var at string
		if err := rows.Scan(&sb.ID, &sb.State, &sb.FileName, &sb.RejectedBy, &sb.RejectReason, &at, &sb.Count, &sb.Sum); err != nil {
			return nil, 0, err
		}
		sb.RejectedAt = parseTime(at)
		out = append(out, sb)
	}
	return out, n, rows.Err()
}

// UnclearPayouts counts the payouts whose outcome only a query can tell:
// an unclear create answer, or a refusal of a re-send not yet confirmed.
func (db *DB) UnclearPayouts(ctx context.Context) (int, error) {
	var a, b int
	// The worker's index by state holds the count without reading a row.
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE state = 'unknown' AND `+payoutSent).Scan(&a); err != nil {
		return 0, err
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE refusal_unconfirmed = 1 AND state = 'refused'`).Scan(&b); err != nil {
		return 0, err
	}
	return a + b, nil
}

// OpenAlerts counts the alerts nobody has acknowledged.
func (db *DB) OpenAlerts(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM alerts WHERE acked_at IS NULL`).Scan(&n)
	return n, err
}

// ReasonCount is how many callbacks were rejected for one reason.
type ReasonCount struct {
	Reason string
	Count  int
}

// RejectedCallbacksSince counts the callbacks rejected since since, by
// reason, most first.
func (db *DB) RejectedCallbacksSince(ctx context.Context, since time.Time) ([]ReasonCount, error) {
	// Callbacks are stored in the order they arrive: the first id since
	// then bounds the rare results' index, instead of reading every
	// callback of the day by time.
	var first int64
	err := db.QueryRowContext(ctx, `SELECT coalesce((SELECT id FROM notifications WHERE received_at >= ? ORDER BY received_at LIMIT 1), 0)`,
		timeText(since)).Scan(&first)
	if err != nil || first == 0 {
		return nil, err
	}
	// The partial index's own condition, repeated, lets SQLite use it.
	rows, err := db.QueryContext(ctx, `SELECT reason, count(*) FROM notifications
		WHERE result IN ('pending', 'rejected', 'alert') AND result = 'rejected' AND id >= ? AND received_at >= ?
		GROUP BY reason ORDER BY count(*) DESC, reason`, first, timeText(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReasonCount
	for rows.Next() {
		var rc ReasonCount
		if err := rows.Scan(&rc.Reason, &rc.Count); err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, rows.Err()
}

// Rate is successes out of final outcomes for one pay product or bank.
type Rate struct {
	Key       string // product id or bank code
	Successes int
	Finals    int
}

// DayFigures are one stretch of time's money and outcomes, to be added
// up into the home page's periods.
type DayFigures struct {
	PaidCount   int   // pay orders paid (by the gateway's success time)
	PaidSum     int64 // their amounts
	FeeCount    int   // of them, those whose callback gave income
	FeeSum      int64 // amount − income over those
	PayoutCount int   // payouts succeeded (by the gateway's success time)
	PayoutSum   int64
	Products    map[string]*Rate // pay orders made in the stretch that are final, by product
	Banks       map[string]*Rate // payouts made in the stretch that are final, by bank code
	Delays      []time.Duration  // paid callbacks: receipt − the gateway's success time
	DelayCount  int              // for the caller that keeps the delays otherwise
}

// DayFigures reads the figures of [from, to).
func (db *DB) DayFigures(ctx context.Context, from, to time.Time) (DayFigures, error) {
	f := DayFigures{Products: map[string]*Rate{}, Banks: map[string]*Rate{}}
	a, b := timeText(from), timeText(to)
	err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount), 0), count(income), coalesce(sum(amount - income), 0)
		FROM pay_orders WHERE pay_succ_at >= ? AND pay_succ_at < ?`, a, b).Scan(&f.PaidCount, &f.PaidSum, &f.FeeCount, &f.FeeSum)
	if err != nil {
		return f, fmt.Errorf("paid: %w", err)
	}
	err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(amount), 0) FROM payouts WHERE trans_succ_at >= ? AND trans_succ_at < ?`,
		a, b).Scan(&f.PayoutCount, &f.PayoutSum)
	if err != nil {
		return f, fmt.Errorf("paid out: %w", err)
	}
	rate := func(m map[string]*Rate, q string) error {
		rows, err := db.QueryContext(ctx, q, a, b)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r Rate
			if err := rows.Scan(&r.Key, &r.Successes, &r.Finals); err != nil {
				return err
			}
			m[r.Key] = &r
		}
		return rows.Err()
	}
	if err := rate(f.Products, `SELECT CAST(product_id AS TEXT), sum(CASE WHEN phase = 'paid' THEN 1 ELSE 0 END), count(*) FROM pay_orders
		WHERE created_at >= ? AND created_at < ? AND phase IN ('paid', 'failed') GROUP BY product_id`); err != nil {
		return f, fmt.Errorf("product rates: %w", err)
	}
	if err := rate(f.Banks, `SELECT bank_code, sum(CASE WHEN phase = 'succeeded' THEN 1 ELSE 0 END), count(*) FROM payouts
		WHERE created_at >= ? AND created_at < ? AND phase IN ('succeeded', 'failed', 'refused') GROUP BY bank_code`); err != nil {
		return f, fmt.Errorf("bank rates: %w", err)
	}
	// The first callback that told us of the payment, for each order paid
	// in the stretch.
	rows, err := db.QueryContext(ctx, `SELECT o.pay_succ_at, (SELECT min(n.received_at) FROM notifications n
			WHERE n.order_kind = 'pay' AND n.order_ref = o.id AND n.result = 'applied')
		FROM pay_orders o WHERE o.pay_succ_at >= ? AND o.pay_succ_at < ?`, a, b)
	if err != nil {
		return f, fmt.Errorf("callback delay: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var succ string
		var recv sql.NullString
		if err := rows.Scan(&succ, &recv); err != nil {
			return f, err
		}
		if recv.Valid {
			if d := parseTime(recv.String).Sub(parseTime(succ)); d >= 0 {
				f.Delays = append(f.Delays, d)
			}
		}
	}
	return f, rows.Err()
}
