package store

import (
	"context"
	"database/sql"
	"fmt"
	"paydesk/internal/dbtest"
	"testing"
	"time"
)

func TestNotificationsRawThenOutcome(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	var raws []RawNotification
	for i := range 70 { // 64 + 4 + 1 + 1 rows per insert
		st, amount := 2, int64(i)
		raws = append(raws, RawNotification{Kind: KindPay, Method: "POST", ClientAddr: "10.0.0.1", RawQuery: fmt.Sprintf("n=%d", i),
			RawBody: []byte("a=b"), OrderNo: fmt.Sprintf("P%d", i), Status: &st, Amount: &amount})
	}
	var ids []int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		ids, err = db.InsertRawNotificationsTx(ctx, tx, raws)
		return err
	})
	if err != nil || len(ids) != len(raws) {
		t.Fatalf("insert: %v, %d ids", err, len(ids))
	}
	for i, id := range ids {
		n, err := db.NotificationByID(ctx, id)
		if err != nil || n.RawQuery != raws[i].RawQuery || n.Result != NotifyPending || n.OrderNo != raws[i].OrderNo || *n.Amount != int64(i) {
			t.Fatalf("row %d (id %d): %+v %v", i, id, n, err)
		}
	}
	valid := true
	outs := []NotificationOutcome{}
	for _, id := range ids[:5] {
		outs = append(outs, NotificationOutcome{ID: id, Result: NotifyApplied, SigValid: &valid, OrderKind: KindPay, OrderRef: 7, ReplyCode: 200, ReplyBody: "success"})
	}
	for round, want := range []int{0, 5} {
		var stale int
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			stale, err = db.FinishNotificationsTx(ctx, tx, outs)
			return err
		})
		if err != nil || stale != want {
			t.Fatalf("finish round %d: %d not pending, want %d (%v)", round, stale, want, err)
		}
		outs[0].Result = NotifyDuplicate // the second round must not change anything
	}
	n, _ := db.NotificationByID(ctx, ids[0])
	if n.Result != NotifyApplied || n.OrderRef != 7 || n.SigValid == nil || !*n.SigValid || n.ProcessedAt.IsZero() {
		t.Errorf("finished row %+v", n)
	}
	pending, err := db.PendingNotifications(ctx, time.Now().Add(time.Hour), 100)
	if err != nil || len(pending) != len(raws)-5 || pending[0].ID != ids[5] {
		t.Errorf("pending %d (%v), want %d from id %d", len(pending), err, len(raws)-5, ids[5])
	}
	linked, _ := db.NotificationsForOrder(ctx, KindPay, 7)
	if len(linked) != 5 {
		t.Errorf("linked %d", len(linked))
	}
	byNo, _ := db.Notifications(ctx, NotificationFilter{OrderNos: []string{"P3"}, Orders: []OrderKey{{KindPay, 7}}})
	if len(byNo) != 5 {
		t.Errorf("by number or order: %d", len(byNo))
	}
}

func TestAlertsCountRepeatsUntilAcknowledged(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	raise := func() int64 {
		var id int64
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			id, err = db.RaiseAlertTx(ctx, tx, Alert{Kind: AlertBadSignature, DedupeKey: "20001222", Summary: "bad"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b := raise(), raise()
	if a != b {
		t.Fatalf("repeat opened a second alert: %d, %d", a, b)
	}
	if al, _ := db.AlertByID(ctx, a); al.Count != 2 {
		t.Errorf("count %d", al.Count)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.AckAlertTx(ctx, tx, a, "alice", "key rotated") }); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.AckAlertTx(ctx, tx, a, "alice", "again") }); err == nil {
		t.Error("acknowledged twice")
	}
	if c := raise(); c == a {
		t.Error("a repeat after the acknowledgement reopened the old alert")
	}
	if n, _ := db.CountOpenAlerts(ctx, 100); n != 1 {
		t.Errorf("open alerts %d", n)
	}
}

func TestCheckpointCopiesTheWAL(t *testing.T) {
	dbtest.SQLiteOnly(t, "the WAL is SQLite's; PostgreSQL checkpoints by itself")
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.InsertRawNotification(ctx, RawNotification{Kind: KindPay, Method: "GET", RawQuery: "a=1"}); err != nil {
		t.Fatal(err)
	}
	frames, copied, err := db.Checkpoint(ctx)
	if err != nil || frames == 0 || copied != frames {
		t.Errorf("checkpoint: %d frames, %d copied, %v", frames, copied, err)
	}
	var mark int
	if err := db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&mark); err != nil || mark != 10000 {
		t.Errorf("wal_autocheckpoint %d %v", mark, err)
	}
}

// With every pooled connection taken, a transaction still gets its
// statements (prepared on its own connection) instead of waiting forever.
func TestStatementsWhenThePoolIsFull(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.SetMaxOpenConns(1)
	done := make(chan error, 1)
	go func() {
		done <- db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := db.InsertRawNotificationsTx(ctx, tx, []RawNotification{{Kind: KindPay, Method: "GET", RawQuery: "a=1"}})
			return err
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the transaction waited for a second connection")
	}
}
