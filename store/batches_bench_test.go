package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"paydesk/internal/dbtest"
	"strings"
	"testing"
)

func BenchmarkBatchWriter100k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, dbtest.URL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO gateway_accounts (name, base_url, mch_id, app_id, key_sealed, notify_base_url, created_at, updated_at) VALUES ('a','u','1','2',x'00','n','t','t')`); err != nil {
		b.Fatal(err)
	}
	if q := os.Getenv("DROPIDX"); q != "" {
		for _, ix := range strings.Split(q, ",") {
			db.ExecContext(ctx, "DROP INDEX "+ix)
		}
	}
	for i := 0; i < b.N; i++ {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: 1, Kind: BatchCSV, State: BatchDraft, CreatedBy: "x"})
			if err != nil {
				return err
			}
			w, err := db.NewBatchWriter(ctx, tx)
			if err != nil {
				return err
			}
			defer w.Close()
			for r := 0; r < 100_000; r++ {
				if err := w.Payout(ctx, Payout{AccountID: 1, BatchID: id, RowNo: r + 2, MchTransOrderNo: fmt.Sprintf("PD%d%06d", id, r),
					Amount: int64(100 + r%5000), AccountName: "收款人", AccountNo: fmt.Sprintf("6222%015d", (r*7919)%1000003), BankCode: "HPT00003",
					BankName: "中国建设银行上海分行", Province: "上海", City: "上海", AccountType: "1", AccountAttr: "0", State: PayoutDraft, CreatedBy: "x"}); err != nil {
					return err
				}
			}
			return w.Flush(ctx)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendBatch100k: a draft batch of 100,000 payouts sent for
// approval (every payout moves from draft to awaiting approval), on a
// database that holds 100,000 earlier payouts (storing is not timed).
func BenchmarkSendBatch100k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, dbtest.URL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO gateway_accounts (name, base_url, mch_id, app_id, key_sealed, notify_base_url, created_at, updated_at) VALUES ('a','u','1','2',x'00','n','t','t')`); err != nil {
		b.Fatal(err)
	}
	store := func(state string, n int) int64 {
		var id int64
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if id, err = db.CreateBatchTx(ctx, tx, Batch{AccountID: 1, Kind: BatchCSV, State: BatchDraft, CreatedBy: "x"}); err != nil {
				return err
			}
			w, err := db.NewBatchWriter(ctx, tx)
			if err != nil {
				return err
			}
			defer w.Close()
			for r := range n {
				if err := w.Payout(ctx, Payout{AccountID: 1, BatchID: id, RowNo: r + 2, MchTransOrderNo: fmt.Sprintf("PD%d%06d", id, r),
					Amount: int64(100 + r%5000), AccountName: "收款人", AccountNo: fmt.Sprintf("62%017d", (uint64(r)*0x9e3779b97f4a7c15+uint64(id))%1e17),
					BankCode: "HPT00003", BankName: "中国建设银行上海分行", Province: "上海", City: "上海", AccountType: "1", AccountAttr: "0",
					State: state, CreatedBy: "x"}); err != nil {
					return err
				}
			}
			return w.Flush(ctx)
		})
		if err != nil {
			b.Fatal(err)
		}
		return id
	}
	store(PayoutSubmitted, 100_000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		id := store(PayoutDraft, 100_000)
		b.StartTimer()
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := db.SetBatchPayoutsStateTx(ctx, tx, id, PayoutDraft, PayoutAwaitingApproval)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
