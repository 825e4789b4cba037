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

// A callback that moves an order from paying to paid writes the status,
// the channel number, the success time and updated_at, and no other
// column: every index on a column named in the UPDATE is rewritten,
// whether its value changed or not. A trigger on the unchanged columns,
// which fires when an UPDATE names them, must stay silent.
func TestPayOrderUpdateWritesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	one := 1
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: "M1", PayOrderID: "P1", ProductID: 8000, Amount: 100,
			Status: &one, State: PayStateOpen, PayURL: "https://gw/pay/P1"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	triggers := `CREATE TABLE written (id INTEGER PRIMARY KEY, col TEXT);
		CREATE TRIGGER written_unchanged AFTER UPDATE OF pay_order_id, state, pay_url, expires_at, last_error ON pay_orders
		BEGIN INSERT INTO written (col) VALUES ('unchanged'); END;
		CREATE TRIGGER written_status AFTER UPDATE OF status ON pay_orders BEGIN INSERT INTO written (col) VALUES ('status'); END;`
	if db.Postgres() {
		// The same triggers: PostgreSQL's also fire when the UPDATE names
		// one of their columns.
		triggers = `CREATE TABLE written (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, col TEXT);
		CREATE FUNCTION written() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN INSERT INTO written (col) VALUES (TG_ARGV[0]); RETURN NULL; END';
		CREATE TRIGGER written_unchanged AFTER UPDATE OF pay_order_id, state, pay_url, expires_at, last_error ON pay_orders
		FOR EACH ROW EXECUTE FUNCTION written('unchanged');
		CREATE TRIGGER written_status AFTER UPDATE OF status ON pay_orders FOR EACH ROW EXECUTE FUNCTION written('status');`
	}
	if _, err := db.ExecContext(ctx, triggers); err != nil {
		t.Fatal(err)
	}
	prev, err := db.PayOrderByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	next := prev
	two := 2
	next.Status, next.ChannelOrderNo, next.PaySuccAt = &two, "CH1", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.UpdatePayOrderTx(ctx, tx, prev, next) }); err != nil {
		t.Fatal(err)
	}
	var cols []string
	rows, err := db.QueryContext(ctx, `SELECT col FROM written ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) != 1 || cols[0] != "status" {
		t.Errorf("columns written: %v, want the status alone among the watched ones", cols)
	}
	got, err := db.PayOrderByID(ctx, id)
	if err != nil || got.StatusOr(-1) != 2 || got.ChannelOrderNo != "CH1" || !got.PaySuccAt.Equal(next.PaySuccAt) ||
		got.PayOrderID != "P1" || got.PayURL != "https://gw/pay/P1" || got.State != PayStateOpen || !got.UpdatedAt.After(prev.UpdatedAt.Add(-time.Nanosecond)) {
		t.Fatalf("after the update: %+v %v", got, err)
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
