package store

import (
	"context"
	"slices"
	"time"
)

// Several consoles may run on one database (PostgreSQL). Work a loop does
// outside a transaction (asking the gateway about a payout) is claimed
// first: the rows are taken with a lease, next_try_at moved to the lease's
// end, in one statement that skips rows another console is taking at that
// moment (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer at a
// time). A console that dies mid-way leaves rows that fall due again when
// their lease ends, and another takes them over. What the loop then
// records moves next_try_at on as before (a backoff, a follow-up time).

// claimPayouts takes the payouts whose ids the query sel (one column: id,
// with its ORDER BY and LIMIT) selects, leasing them until leaseEnd, and
// returns them by id.
func (db *DB) claimPayouts(ctx context.Context, leaseEnd time.Time, sel string, args ...any) ([]Payout, error) {
	if db.pg {
		sel += ` FOR UPDATE SKIP LOCKED`
	}
	list, err := db.payoutList(ctx, `UPDATE payouts SET next_try_at = ? WHERE id IN (`+sel+`) RETURNING `+payoutCols,
		append([]any{timeText(leaseEnd)}, args...)...)
	slices.SortFunc(list, func(a, b Payout) int { return int(a.ID - b.ID) })
	return list, err
}

// ClaimPayoutsDue is PayoutsDue, claimed until leaseEnd.
func (db *DB) ClaimPayoutsDue(ctx context.Context, state string, now, leaseEnd time.Time, limit int) ([]Payout, error) {
	return db.claimPayouts(ctx, leaseEnd, `SELECT id FROM payouts WHERE `+payoutsDueWhere,
		state, timeText(now), limit)
}

// ClaimPayoutsUnsettled is PayoutsUnsettled, claimed until leaseEnd.
func (db *DB) ClaimPayoutsUnsettled(ctx context.Context, now, before, leaseEnd time.Time, limit int) ([]Payout, error) {
	return db.claimPayouts(ctx, leaseEnd, `SELECT id FROM payouts `+db.indexedBy("payouts_unsettled_idx")+` WHERE state = 'submitted' AND (status IS NULL OR status IN (0, 1))
		AND updated_at <= ? AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY updated_at, id LIMIT ?`, timeText(before), timeText(now), limit)
}

// ClaimUnconfirmedRefusals is PayoutsUnconfirmedRefusals, claimed until
// leaseEnd.
func (db *DB) ClaimUnconfirmedRefusals(ctx context.Context, now, leaseEnd time.Time, limit int) ([]Payout, error) {
	return db.claimPayouts(ctx, leaseEnd, `SELECT id FROM payouts WHERE refusal_unconfirmed = 1 AND state = ?
		AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY id LIMIT ?`, PayoutRefused, timeText(now), limit)
}
