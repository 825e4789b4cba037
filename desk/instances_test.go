package desk

import (
	"context"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// instance starts another core on the database of e (its own handle, as a
// second console on the same database would have), sharing e's clock and
// master key, with its loops running; edit adjusts its Config.
func (e *coreEnv) instance(edit ...func(*Config)) (*Desk, *store.DB) {
	e.t.Helper()
	db, err := store.Open(context.Background(), e.db.Path(), e.clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := Config{MasterKey: testMasterKey, PublicURL: "http://127.0.0.1:1", GatewayTimeout: time.Second}
	for _, f := range edit {
		f(&cfg)
	}
	d, err := New(cfg, db, nil, e.clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("Run: %v", err)
		}
		db.Close()
	})
	return d, db
}

// A callback stored by one console and swept by another while the first is
// about to apply it is applied once: the first finds it processed and
// answers as the sweep recorded. (A callback for the wrong amount, whose
// every application would count once more on its alert.)
func TestCallbackSweptByAnotherInstanceIsAppliedOnce(t *testing.T) {
	e := newCoreEnv(t)
	ctx := context.Background()
	acct := e.accountFor("Main", testMchID, "app1", testKey)
	o := e.payOrder(acct.ID, "M-1", "P-1", 500, payments.PayPaying)
	raw := store.RawNotification{Kind: store.KindPay, Method: "GET", ClientAddr: "192.0.2.9",
		RawQuery: signedQuery(payFields(testMchID, "app1", "P-1", "M-1", 501, payments.PayPaid), testKey)}
	id, err := e.db.InsertRawNotification(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	// The first console has the row in hand...
	j := &notifyJob{raw: raw, id: id}
	e.d.prepareNotify(ctx, j)
	// ...when the second one's sweep applies it.
	other, _ := e.instance()
	if err := other.SweepPendingCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	replies := e.d.notifier.process(ctx, []*notifyJob{j})
	n, err := e.db.NotificationByID(ctx, id)
	if err != nil || n.Result != store.NotifyAlert {
		t.Fatalf("notification: %s %v, want alert", n.Result, err)
	}
	if replies[0].Code != n.ReplyCode || replies[0].Body != n.ReplyBody {
		t.Errorf("the first console answered %d %q, want the sweep's %d %q", replies[0].Code, replies[0].Body, n.ReplyCode, n.ReplyBody)
	}
	alerts := e.alerts()
	if len(alerts) != 1 || alerts[0].Count != 1 {
		t.Fatalf("alerts %+v, want one counted once", alerts)
	}
	if got, _ := e.db.PayOrderByID(ctx, o.ID); got.StatusOr(-1) != payments.PayPaying {
		t.Errorf("the order moved to %d on a callback for another amount", got.StatusOr(-1))
	}
}
