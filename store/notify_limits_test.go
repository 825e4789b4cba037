package store

import (
	"context"
	"database/sql"
	"paydesk/internal/dbtest"
	"strings"
	"testing"
	"time"
)

func insertRaw(t *testing.T, db *DB, raws ...RawNotification) []int64 {
	t.Helper()
	var ids []int64
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		ids, err = db.InsertRawNotificationsTx(context.Background(), tx, raws)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func finish(t *testing.T, db *DB, outs ...NotificationOutcome) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		_, err := db.FinishNotificationsTx(context.Background(), tx, outs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A row keeps the lengths received, so that a cut one says so.
func TestNotificationCutLengths(t *testing.T) {
	db := openTest(t)
	ids := insertRaw(t, db,
		RawNotification{Kind: KindPay, Method: "POST", ClientAddr: "192.0.2.1", RawQuery: "a=1", RawBody: []byte("b=2"), QueryLen: 3, BodyLen: 65536},
		RawNotification{Kind: KindPay, Method: "POST", ClientAddr: "192.0.2.1", RawQuery: "a=1", RawBody: []byte("b=2"), QueryLen: 3, BodyLen: 3})
	cut, _ := db.NotificationByID(context.Background(), ids[0])
	whole, _ := db.NotificationByID(context.Background(), ids[1])
	if !cut.Cut() || cut.BodyLen != 65536 || whole.Cut() {
		t.Errorf("cut %v (%d), whole %v", cut.Cut(), cut.BodyLen, whole.Cut())
	}
}

// Pruning deletes rejected rows older than the cut only; the alerts that
// pointed at them stay, with their counts.
func TestPruneRejectedNotifications(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	db, err := Open(ctx, dbtest.URL(t), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old, recent := now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
	raw := func(at time.Time) RawNotification {
		return RawNotification{ReceivedAt: at, Kind: KindPay, Method: "POST", ClientAddr: "192.0.2.1", RawBody: []byte("x")}
	}
	ids := insertRaw(t, db, raw(old), raw(old), raw(old), raw(recent), raw(old))
	outs := []NotificationOutcome{
		{ID: ids[0], Result: NotifyRejected}, {ID: ids[1], Result: NotifyRejected}, {ID: ids[2], Result: NotifyApplied},
		{ID: ids[3], Result: NotifyRejected}, {ID: ids[4], Result: NotifyAlert},
	}
	finish(t, db, outs...)
	var alertID int64
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		alertID, err = db.RepeatAlertTx(ctx, tx, Alert{Kind: AlertBadSignature, DedupeKey: "192.0.2.1", NotificationID: ids[0], Summary: "bad"}, 7)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneRejectedNotifications(ctx, now.Add(-90*24*time.Hour), 1)
	if err != nil || n != 1 {
		t.Fatalf("first batch: %d, %v", n, err)
	}
	if n, err = db.PruneRejectedNotifications(ctx, now.Add(-90*24*time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("second batch: %d, %v", n, err)
	}
	if n, _ = db.PruneRejectedNotifications(ctx, now.Add(-90*24*time.Hour), 100); n != 0 {
		t.Errorf("third batch deleted %d", n)
	}
	for i, want := range []bool{false, false, true, true, true} {
		_, err := db.NotificationByID(ctx, ids[i])
		if (err == nil) != want {
			t.Errorf("row %d (%s): kept %v, want %v", i, outs[i].Result, err == nil, want)
		}
	}
	a, err := db.AlertByID(ctx, alertID)
	if err != nil || a.Count != 7 || a.NotificationID != 0 {
		t.Errorf("alert after pruning: %+v %v", a, err)
	}
}

// The migration cuts rejected rows stored whole before it (the database a
// flood of forged callbacks left behind) and nothing else.
func TestMigrationCutsOldRejectedRows(t *testing.T) {
	dbtest.SQLiteOnly(t, "replays SQLite migration 0050 on older rows; PostgreSQL starts from the 0060 baseline")
	ctx := context.Background()
	path := dbtest.URL(t)
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 64<<10)
	ids := insertRaw(t, db,
		RawNotification{Kind: KindPay, Method: "POST", ClientAddr: "192.0.2.1", RawQuery: big, RawBody: []byte(big)},
		RawNotification{Kind: KindPay, Method: "POST", ClientAddr: "192.0.2.1", RawBody: []byte(big)})
	finish(t, db, NotificationOutcome{ID: ids[0], Result: NotifyRejected}, NotificationOutcome{ID: ids[1], Result: NotifyApplied})
	for _, q := range []string{
		`ALTER TABLE notifications DROP COLUMN query_len`, `ALTER TABLE notifications DROP COLUMN body_len`,
		`ALTER TABLE gateway_accounts DROP COLUMN notify_sources`, `DELETE FROM schema_migrations WHERE version = 50`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	if db, err = Open(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cut, _ := db.NotificationByID(ctx, ids[0])
	kept, _ := db.NotificationByID(ctx, ids[1])
	if len(cut.RawQuery) != 4096 || len(cut.RawBody) != 4096 || cut.QueryLen != 64<<10 || cut.BodyLen != 64<<10 || !cut.Cut() {
		t.Errorf("rejected row: %d of %d query bytes, %d of %d body bytes", len(cut.RawQuery), cut.QueryLen, len(cut.RawBody), cut.BodyLen)
	}
	if len(kept.RawBody) != 64<<10 || kept.Cut() {
		t.Errorf("applied row cut to %d bytes", len(kept.RawBody))
	}
}
