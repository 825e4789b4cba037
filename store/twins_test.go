package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"paydesk/internal/dbtest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recentTwinsByJoin is the twin rule as one query, as it was written before
// the lookup read recent payouts by time: the reference the lookup is
// checked against.
func recentTwinsByJoin(ctx context.Context, tx *sql.Tx, batchID int64, since time.Time) ([]RecentTwin, error) {
	rows, err := tx.QueryContext(ctx, `SELECT p.row_no, q.id, q.mch_trans_order_no, coalesce(q.batch_id, 0), q.created_at, CASE WHEN q.status IN (2, 4) THEN 1 ELSE 0 END
		FROM payouts p JOIN payouts q ON q.account_no = p.account_no AND q.amount = p.amount
		WHERE p.batch_id = ? AND q.id <> p.id AND (q.batch_id IS NULL OR q.batch_id <> p.batch_id)
		  AND q.created_at >= ? AND q.state NOT IN ('draft', 'rejected', 'expired', 'cancelled', 'refused') AND coalesce(q.status, -1) <> 3
		ORDER BY p.row_no, q.id`, batchID, timeText(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RecentTwin
	for rows.Next() {
		var t RecentTwin
		var at string
		if err := rows.Scan(&t.RowNo, &t.ID, &t.MchTransOrderNo, &t.BatchID, &at, &t.Succeeded); err != nil {
			return nil, err
		}
		t.CreatedAt = parseTime(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// The twins found by reading recent payouts by time are exactly those of
// the rule as one query: for a file stored by a BatchWriter (many payouts,
// some given their own numbers, one of them refused as used before), for a
// batch of one, and for an older batch, among earlier payouts in every
// state and status, with and without a batch, inside and outside the 7
// days.
func TestRecentTwinsAsByJoin(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	db, err := Open(ctx, dbtest.URL(t), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct := testAccount(t, db)
	since := now.Add(-7 * 24 * time.Hour)
	r := rand.New(rand.NewPCG(1, 2))
	account := func() string { return fmt.Sprintf("62220202%011d", r.IntN(300)) }
	amount := func() int64 { return 100 * int64(1+r.IntN(4)) }
	states := []string{PayoutDraft, PayoutAwaitingApproval, PayoutApproved, PayoutSubmitting, PayoutUnknown, PayoutSubmitted, PayoutRefused,
		PayoutRejected, PayoutExpired, PayoutCancelled}
	var older []int64 // earlier batches
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for b := range 3 {
			id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchApproved, CreatedBy: "a"})
			if err != nil {
				return err
			}
			older = append(older, id)
			for i := range 300 {
				var batch any = id
				if i%7 == 0 {
					batch = nil // external, or from before batches
				}
				var status any
				if s := r.IntN(6); s < 5 {
					status = s
				}
				at := timeText(now.Add(-time.Duration(r.IntN(10*24)) * time.Hour))
				_, err := tx.ExecContext(ctx, `INSERT INTO payouts (account_id, batch_id, row_no, mch_trans_order_no, amount, account_no, status, state, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, acct, batch, i+2, fmt.Sprintf("H%d-%d", b, i), amount(), account(), status, states[r.IntN(len(states))], at, at)
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, tx *sql.Tx, batchID int64, got []RecentTwin, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := recentTwinsByJoin(ctx, tx, batchID, since)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 10 && name != "one payout" {
			t.Fatalf("%s: only %d twins; the test needs more", name, len(want))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: twins differ from the rule as one query (-want +got):\n%s", name, diff)
		}
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"})
		if err != nil {
			return err
		}
		w, err := db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		for i := range 600 {
			p := Payout{AccountID: acct, BatchID: id, RowNo: i + 2, MchTransOrderNo: fmt.Sprintf("N%d", i), Amount: amount(), AccountNo: account(), State: PayoutDraft}
			if i%10 == 0 {
				if i == 300 {
					p.MchTransOrderNo = "H1-3" // used before: refused, not looked up
				}
				err = w.PayoutNow(ctx, p)
			} else {
				err = w.Payout(ctx, p)
			}
			if err != nil && i != 300 {
				return err
			}
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		got, err := w.RecentTwins(ctx, id, since)
		check("file", tx, id, got, err)
		got, err = db.RecentTwinsTx(ctx, tx, id, since)
		check("file, read back", tx, id, got, err)
		got, err = db.RecentTwinsTx(ctx, tx, older[1], since)
		check("older batch", tx, older[1], got, err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A batch of one, whose payout repeats an earlier one that may be paid.
	var twin Payout
	err = db.QueryRowContext(ctx, `SELECT account_no, amount FROM payouts WHERE state = 'submitted' AND coalesce(status, -1) <> 3 AND created_at >= ? AND batch_id IS NOT NULL LIMIT 1`,
		timeText(since)).Scan(&twin.AccountNo, &twin.Amount)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchSingle, State: BatchAwaitingApproval, CreatedBy: "a"})
		if err != nil {
			return err
		}
		if _, err := db.InsertPayoutTx(ctx, tx, Payout{AccountID: acct, BatchID: id, RowNo: 1, MchTransOrderNo: "S1", Amount: twin.Amount,
			AccountNo: twin.AccountNo, State: PayoutAwaitingApproval}); err != nil {
			return err
		}
		got, err := db.RecentTwinsTx(ctx, tx, id, since)
		if len(got) == 0 {
			t.Error("no twin for a payout repeating an earlier one")
		}
		check("one payout", tx, id, got, err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
