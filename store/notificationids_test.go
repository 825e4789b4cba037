package store

import (
	"context"
	"database/sql"
	"testing"
)

// Rows written with ids taken up front (the callback writer's group path)
// leave the next row stored without an id (the raw store of the fallback
// path, a sweep, another console) a free id: on PostgreSQL an explicit id
// does not advance the identity's sequence by itself.
func TestNotificationIDsThenRawInsertDoNotCollide(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.InsertRawNotification(ctx, RawNotification{Kind: KindPay, Method: "GET", RawQuery: "a=0"}); err != nil {
		t.Fatal(err)
	}
	taken := map[int64]bool{}
	for round := range 3 {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			ids, err := db.NotificationIDsTx(ctx, tx, 5)
			if err != nil {
				return err
			}
			if len(ids) != 5 {
				t.Fatalf("round %d: %d ids, want 5", round, len(ids))
			}
			rows := make([]Notification, len(ids))
			for i, id := range ids {
				if taken[id] {
					t.Fatalf("round %d: id %d given twice", round, id)
				}
				taken[id] = true
				rows[i].RawNotification = RawNotification{Kind: KindPay, Method: "GET", RawQuery: "a=1"}
				rows[i].NotificationOutcome = NotificationOutcome{ID: id, Result: NotifyApplied, ReplyCode: 200, ReplyBody: "success"}
			}
			return db.InsertNotificationsTx(ctx, tx, rows)
		})
		if err != nil {
			t.Fatalf("round %d: group insert: %v", round, err)
		}
		id, err := db.InsertRawNotification(ctx, RawNotification{Kind: KindPay, Method: "GET", RawQuery: "a=2"})
		if err != nil {
			t.Fatalf("round %d: raw insert after the group: %v", round, err)
		}
		if taken[id] {
			t.Fatalf("round %d: raw insert took id %d of the group", round, id)
		}
		taken[id] = true
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE result = 'applied'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 15 {
		t.Fatalf("%d applied rows, want 15", n)
	}
}
