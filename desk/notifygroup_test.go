package desk

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// groupJob is a pay callback as the HTTP side hands it to the writer,
// received two seconds ago (so that a sweep takes it when left pending).
func groupJob(t *testing.T, d *Desk, body string) *notifyJob {
	t.Helper()
	j := &notifyJob{raw: store.RawNotification{ReceivedAt: time.Now().Add(-2 * time.Second), Kind: store.KindPay, Method: "POST",
		ClientAddr: "203.0.113.9", Headers: "Content-Type: application/x-www-form-urlencoded\n", RawBody: []byte(body), BodyLen: len(body)},
		reply: make(chan CallbackReply, 1)}
	d.prepareNotify(context.Background(), j)
	return j
}

// TestCallbackGroupOneApplyFails stores and applies a group of callbacks in
// one writer transaction, one of whose applies fails (the database refuses
// that order's update): its raw row is stored pending and it is answered
// "not recorded", while the others of the group (first callbacks, a
// repeat of one of them, an unknown order, a forged one with its alert) are
// stored with their outcomes and applied once. The sweep then applies the
// pending one.
func TestCallbackGroupOneApplyFails(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The writer is driven here, on this goroutine: the desk's loops do
	// not run, so that the callbacks below are one group.
	d, err := New(Config{MasterKey: testMasterKey, PublicURL: "http://127.0.0.1:1"}, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &coreEnv{t: t, db: db, d: d}
	acct := e.accountFor("Main", testMchID, "app1", testKey)
	var orders []store.PayOrder
	for i := range 4 {
		orders = append(orders, e.payOrder(acct.ID, fmt.Sprintf("M-%d", i), fmt.Sprintf("P-%d", i), 100+int64(i), payments.PayPaying))
	}
	if _, err := db.ExecContext(ctx, `CREATE TRIGGER refuse_one BEFORE UPDATE ON pay_orders WHEN old.mch_order_no = 'M-2'
		BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`); err != nil {
		t.Fatal(err)
	}
	paid := func(i int) string {
		return signedQuery(payFields(testMchID, "app1", fmt.Sprintf("P-%d", i), fmt.Sprintf("M-%d", i), 100+int64(i), payments.PayPaid), testKey)
	}
	jobs := []*notifyJob{
		groupJob(t, d, paid(0)),
		groupJob(t, d, paid(1)),
		groupJob(t, d, paid(2)), // its update fails
		groupJob(t, d, paid(0)), // the same again: a duplicate within the group
		groupJob(t, d, signedQuery(payFields(testMchID, "app1", "P-X", "M-X", 500, payments.PayPaid), testKey)),
		groupJob(t, d, signedQuery(payFields(testMchID, "app1", "P-3", "M-3", 103, payments.PayPaid), "forged")),
		groupJob(t, d, paid(3)),
		// The unknown order's gateway number again, under another merchant
		// number: it finds the order recorded just before, which does not
		// match.
		groupJob(t, d, signedQuery(payFields(testMchID, "app1", "P-X", "M-Y", 500, payments.PayPaid), testKey)),
	}
	d.notifier.cycle(ctx, jobs)

	want := []struct {
		code   int
		result string
	}{
		{http.StatusOK, store.NotifyApplied}, {http.StatusOK, store.NotifyApplied}, {http.StatusServiceUnavailable, store.NotifyPending},
		{http.StatusOK, store.NotifyDuplicate}, {http.StatusOK, store.NotifyApplied}, {http.StatusForbidden, store.NotifyRejected},
		{http.StatusOK, store.NotifyApplied}, {http.StatusConflict, store.NotifyAlert},
	}
	for i, j := range jobs {
		rep := <-j.reply
		n, err := db.NotificationByID(ctx, j.id)
		if err != nil {
			t.Fatalf("callback %d: its row: %v", i, err)
		}
		if rep.Code != want[i].code || n.Result != want[i].result {
			t.Errorf("callback %d: answered %d %q, stored %s; want %d, %s", i, rep.Code, rep.Body, n.Result, want[i].code, want[i].result)
		}
		if string(n.RawBody) != string(j.raw.RawBody) {
			t.Errorf("callback %d: raw body not stored whole", i)
		}
		if (n.Result == store.NotifyPending) != n.ProcessedAt.IsZero() {
			t.Errorf("callback %d: %s, processed at %v", i, n.Result, n.ProcessedAt)
		}
	}
	for i, o := range orders {
		got, err := db.PayOrderByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus, wantEvents := payments.PayPaid, 1
		if i == 2 {
			wantStatus, wantEvents = payments.PayPaying, 0
		}
		if got.StatusOr(-1) != wantStatus || e.events(store.KindPay, o.ID, store.EventStatus) != wantEvents {
			t.Errorf("order %d: status %d, %d status events; want %d, %d", i, got.StatusOr(-1), e.events(store.KindPay, o.ID, store.EventStatus), wantStatus, wantEvents)
		}
	}
	if n, _ := db.NotificationByID(ctx, jobs[3].id); n.OrderRef != orders[0].ID {
		t.Errorf("the repeat is linked to order %d, want %d", n.OrderRef, orders[0].ID)
	}
	if a, b := must(db.NotificationByID(ctx, jobs[4].id)), must(db.NotificationByID(ctx, jobs[7].id)); a.OrderRef == 0 || b.OrderRef != a.OrderRef {
		t.Errorf("the unknown order's callbacks are linked to orders %d and %d", a.OrderRef, b.OrderRef)
	}
	named := map[int64]bool{}
	for _, a := range e.alerts() {
		named[a.NotificationID] = true
	}
	if len(named) != 2 || !named[jobs[5].id] || !named[jobs[7].id] {
		t.Errorf("alerts name callbacks %v; want the forged one %d and the mismatch %d", named, jobs[5].id, jobs[7].id)
	}

	if _, err := db.ExecContext(ctx, `DROP TRIGGER refuse_one`); err != nil {
		t.Fatal(err)
	}
	if err := d.notifier.sweepPending(ctx); err != nil {
		t.Fatal(err)
	}
	n, _ := db.NotificationByID(ctx, jobs[2].id)
	got, _ := db.PayOrderByID(ctx, orders[2].ID)
	if n.Result != store.NotifyApplied || got.StatusOr(-1) != payments.PayPaid || e.events(store.KindPay, orders[2].ID, store.EventStatus) != 1 {
		t.Errorf("after the sweep: %s, order %d, %d status events", n.Result, got.StatusOr(-1), e.events(store.KindPay, orders[2].ID, store.EventStatus))
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
