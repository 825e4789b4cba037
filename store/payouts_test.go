package store

import (
	"context"
	"database/sql"
	"paydesk/internal/dbtest"
	"testing"
)

// Migration 0054 marks the payouts refused when they were sent again as
// refusals no query has confirmed; a first send's refusal and every other
// payout stay as they were.
func TestMigrationMarksRefusalsOfResentPayouts(t *testing.T) {
	dbtest.SQLiteOnly(t, "replays SQLite migration 0054 on older rows; PostgreSQL starts from the 0060 baseline")
	ctx := context.Background()
	path := dbtest.URL(t)
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	acct := testAccount(t, db)
	ids := map[string]int64{}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for _, p := range []Payout{
			{MchTransOrderNo: "RESENT-REFUSED", State: PayoutRefused, SubmitAttempts: 2},
			{MchTransOrderNo: "FIRST-REFUSED", State: PayoutRefused, SubmitAttempts: 1},
			{MchTransOrderNo: "RESENT-PAID", State: PayoutSubmitted, SubmitAttempts: 2},
		} {
			p.AccountID, p.Amount = acct, 100
			id, err := db.InsertPayoutTx(ctx, tx, p)
			if err != nil {
				return err
			}
			ids[p.MchTransOrderNo] = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0054, as an older console left it.
	for _, q := range []string{`DROP INDEX payouts_unconfirmed_refusal_idx`, `ALTER TABLE payouts DROP COLUMN refusal_unconfirmed`,
		`DELETE FROM schema_migrations WHERE version = 54`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for no, want := range map[string]bool{"RESENT-REFUSED": true, "FIRST-REFUSED": false, "RESENT-PAID": false} {
		p, err := db.PayoutByID(ctx, ids[no])
		if err != nil || p.RefusalUnconfirmed != want {
			t.Errorf("%s: unconfirmed refusal %v (%v), want %v", no, p.RefusalUnconfirmed, err, want)
		}
	}
}
