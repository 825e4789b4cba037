package store

import (
	"context"
	"database/sql"
	"errors"
	"paydesk/internal/dbtest"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), dbtest.URL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testAccount(t *testing.T, db *DB) int64 {
	t.Helper()
	var id int64
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = db.CreateGatewayAccountTx(context.Background(), tx, GatewayAccount{Name: "A", BaseURL: "http://gw", MchID: "20001222", AppID: "app", KeySealed: []byte{1}, NotifyBaseURL: "http://me"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPayOrderConditionalUpdate(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: "M1", ProductID: 8000, Amount: 100, State: PayStateCreating, Subject: "s", Body: "b"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: "M1", ProductID: 8000, Amount: 100, State: PayStateCreating})
		return err
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate merchant order number: %v", err)
	}
	prev, err := db.PayOrderByID(ctx, id)
	if err != nil || prev.Status != nil || prev.Amount != 100 {
		t.Fatalf("read back: %+v %v", prev, err)
	}
	next := prev
	two := 2
	next.Status, next.State, next.PayOrderID = &two, PayStateOpen, "P1"
	next.PaySuccAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.UpdatePayOrderTx(ctx, tx, prev, next) }); err != nil {
		t.Fatal(err)
	}
	// A second writer that read the old row must lose.
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.UpdatePayOrderTx(ctx, tx, prev, next) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	for _, n := range []string{"P1", "M1"} {
		got, err := db.PayOrderByNumber(ctx, n)
		if err != nil || got.ID != id || got.StatusOr(-9) != 2 || !got.PaySuccAt.Equal(next.PaySuccAt) {
			t.Fatalf("by number %s: %+v %v", n, got, err)
		}
	}
	if _, err := db.PayOrderByNumber(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown number: %v", err)
	}
}

func TestPayoutConditionalUpdate(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.InsertPayoutTx(ctx, tx, Payout{AccountID: acct, MchTransOrderNo: "T1", Amount: 5000, State: PayoutApproved, AccountNo: "6222"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	prev, _ := db.PayoutByID(ctx, id)
	next := prev
	next.State, next.SubmitAttempts = PayoutSubmitting, 1
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.UpdatePayoutTx(ctx, tx, prev, next) }); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.UpdatePayoutTx(ctx, tx, prev, next) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("second submitter was not stopped: %v", err)
	}
	got, err := db.PayoutByNumber(ctx, "T1")
	if err != nil || got.State != PayoutSubmitting || got.SubmitAttempts != 1 {
		t.Fatalf("%+v %v", got, err)
	}
}
