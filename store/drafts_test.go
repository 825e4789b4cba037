package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Drafts stay out of the payouts list's status index and the worker's
// indexes (migration 0091), which saves an upload the cost of three index
// entries per row; every query that reads those indexes still finds what
// it looks for, and the list's draft status finds the drafts through
// their batches.
func TestDraftsStayOutOfWorkIndexes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	var draft, sent int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if draft, err = db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"}); err != nil {
			return err
		}
		if sent, err = db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"}); err != nil {
			return err
		}
		w, err := db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		for i := range 120 {
			b := draft
			if i%2 == 1 {
				b = sent
			}
			if err := w.Payout(ctx, Payout{AccountID: acct, BatchID: b, RowNo: i + 2, MchTransOrderNo: fmt.Sprintf("D%d", i), Amount: int64(100 + i),
				AccountName: "张三", AccountNo: "6222", BankCode: "HPT00003", State: PayoutDraft, CreatedBy: "a"}); err != nil {
				return err
			}
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET state = ? WHERE id = ?`, BatchAwaitingApproval, sent); err != nil {
			return err
		}
		_, err = db.SetBatchPayoutsStateTx(ctx, tx, sent, PayoutDraft, PayoutAwaitingApproval)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ps []Payout) (out []int64) {
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	byBatch := func(batch int64) []int64 {
		var out []int64
		rows, err := db.Query(`SELECT id FROM payouts WHERE batch_id = ? ORDER BY id DESC`, batch)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	for phase, want := range map[string][]int64{"draft": byBatch(draft), "awaiting_approval": byBatch(sent), "approved": nil} {
		page, err := db.ListPayouts(ctx, PayoutFilter{Phase: phase, Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(page.Payouts); !slices.Equal(got, want) {
			t.Errorf("status %s: %v, want %v", phase, got, want)
		}
		if len(want) != 60 && phase != "approved" {
			t.Fatalf("status %s: %d payouts in the batch, want 60", phase, len(want))
		}
	}
	// The worker finds only payouts of sent batches, drafts or not in its
	// index.
	if _, err := db.Exec(`UPDATE payouts SET state = ? WHERE batch_id = ?`, PayoutApproved, sent); err != nil {
		t.Fatal(err)
	}
	due, err := db.PayoutsDue(ctx, PayoutApproved, time.Now(), 500)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(due), byBatch(sent); len(got) != len(want) {
		t.Errorf("due: %d payouts, want %d", len(got), len(want))
	}
	if draftsDue, _ := db.PayoutsDue(ctx, PayoutDraft, time.Now(), 500); len(draftsDue) != 0 {
		t.Errorf("drafts due: %d", len(draftsDue))
	}
	stuck, err := db.PayoutsStuck(ctx, PayoutApproved, time.Now().Add(time.Hour), 500)
	if err != nil || len(stuck) != 60 {
		t.Errorf("stuck: %d, %v", len(stuck), err)
	}
	if db.Postgres() {
		return // SQLite's plans below; PostgreSQL plans by its statistics
	}
	for where, index := range map[string]string{payoutsDueWhere: "payouts_work_idx", payoutsUnknownWhere: "payouts_work_idx", payoutsStuckWhere: "payouts_state_idx"} {
		if plan := queryPlan(t, db, `SELECT id FROM payouts WHERE `+where, PayoutApproved, "2026", 10); !strings.Contains(plan, "INDEX "+index) {
			t.Errorf("%s: not through %s:\n%s", where, index, plan)
		}
	}
	q, args, _ := db.payoutPageQuery(PayoutFilter{Phase: "succeeded"}, 50)
	if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, "INDEX payouts_phase_idx") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("status filter: not through payouts_phase_idx:\n%s", plan)
	}
	q, args, _ = db.payoutPageQuery(PayoutFilter{Phase: "draft"}, 50)
	if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, "payout_batches_state_idx") || !strings.Contains(plan, "SEARCH payouts") {
		t.Errorf("draft filter: not through the batches in preparation:\n%s", plan)
	}
}

// An amount few payouts have is read through the amount index; one many
// have, by time; both find the newest matches first, and neither finds
// drafts unless the draft status is asked for.
func TestListPayoutsByAmount(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range nameWide + 100 {
			amount, state := int64(500), PayoutAwaitingApproval
			switch {
			case i%700 == 0:
				amount = 12345
			case i == 1:
				amount, state = 12345, PayoutDraft
			}
			at := timeText(base.Add(time.Duration(i) * time.Second))
			if _, err := tx.ExecContext(ctx, `INSERT INTO payouts (account_id, mch_trans_order_no, amount, account_name, state, created_at, updated_at)
				VALUES (?, ?, ?, 'x', ?, ?, ?)`, acct, fmt.Sprintf("A%05d", i), amount, state, at, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	few, err := db.ListPayouts(ctx, PayoutFilter{MinAmount: 12345, MaxAmount: 12345})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range few.Payouts {
		got = append(got, p.MchTransOrderNo)
	}
	if want := []string{"A01400", "A00700", "A00000"}; !slices.Equal(got, want) {
		t.Errorf("amount 123.45: %v, want %v (newest first, no draft)", got, want)
	}
	many, err := db.ListPayouts(ctx, PayoutFilter{MinAmount: 500, MaxAmount: 500})
	if err != nil || len(many.Payouts) != 50 || many.Payouts[0].MchTransOrderNo != "A02099" || many.Older == "" {
		t.Fatalf("amount 5.00: %d rows, first %+v, %v", len(many.Payouts), many.Payouts[0], err)
	}
	if db.Postgres() {
		return // SQLite's plans below; PostgreSQL plans by its statistics
	}
	for _, c := range []struct {
		f     PayoutFilter
		index string
	}{
		{PayoutFilter{MinAmount: 12345, MaxAmount: 12345, fewAmounts: true}, "payouts_amount_idx"},
		{PayoutFilter{MinAmount: 500, MaxAmount: 500}, "payouts_created_idx"},
	} {
		q, args, _ := db.payoutPageQuery(c.f, 50)
		plan := queryPlan(t, db, q, args...)
		if !strings.Contains(plan, c.index) || c.index == "payouts_created_idx" && strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%+v: plan %s, want %s", c.f, plan, c.index)
		}
	}
}
