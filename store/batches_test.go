package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// A BatchWriter stores every column of every payout as given: full
// statements of many payouts, the rest one by one, payouts given at once,
// and payouts whose shared columns (account, batch, currency, state,
// maker) change from one to the next.
func TestBatchWriterStoresEveryColumn(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	var want []Payout
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var batches []int64
		for range 2 {
			id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"})
			if err != nil {
				return err
			}
			batches = append(batches, id)
		}
		w, err := db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		for i := range 2*writerRows + 7 {
			p := Payout{AccountID: acct, BatchID: batches[0], RowNo: i + 2, MchTransOrderNo: fmt.Sprintf("N%d", i), Amount: int64(100 + i),
				Currency: "cny", AccountName: fmt.Sprintf("名%d", i), AccountNo: fmt.Sprintf("6222%d", i), BankCode: fmt.Sprintf("HPT%05d", 1+i%97),
				BankName: fmt.Sprintf("支行%d", i), Province: fmt.Sprintf("省%d", i), City: fmt.Sprintf("市%d", i), AccountType: fmt.Sprint(1 + i%4),
				AccountAttr: fmt.Sprint(i % 2), BankType: fmt.Sprint(i), Param1: fmt.Sprintf("p1-%d", i), Param2: fmt.Sprintf("p2-%d", i),
				State: PayoutDraft, Origin: "console", CreatedBy: "maker"}
			switch {
			case i >= writerRows+20 && i < writerRows+30:
				p.BatchID, p.State, p.CreatedBy = batches[1], PayoutAwaitingApproval, "other"
			case i%13 == 0:
				p.CreatedBy = "someone"
			}
			if i%17 == 0 {
				err = w.PayoutNow(ctx, p)
			} else {
				err = w.Payout(ctx, p)
			}
			if err != nil {
				return err
			}
			want = append(want, p)
		}
		return w.Flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := collect(ctx, db, scanPayout, `SELECT `+payoutCols+` FROM payouts ORDER BY row_no`)
	if err != nil {
		t.Fatal(err)
	}
	now := db.Now()
	for i := range got {
		if got[i].CreatedAt.IsZero() || got[i].CreatedAt != got[i].UpdatedAt || got[i].CreatedAt.After(now) {
			t.Fatalf("row %d: created %v, updated %v", got[i].RowNo, got[i].CreatedAt, got[i].UpdatedAt)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Payout{}, "ID", "CreatedAt", "UpdatedAt")); diff != "" {
		t.Fatalf("stored payouts differ (-want +got):\n%s", diff)
	}
}
