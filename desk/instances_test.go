package desk

import (
	"context"
	"fmt"
	"testing"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/payments/sandbox"
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

// Two consoles on one database send one batch under lost answers and
// timeouts; one of them stops mid-way (its payouts left "submitting") and
// the other takes its work over once that is older than any call: every
// payout is created at the gateway exactly once and ends final.
func TestTwoInstancesNeverPayTwice(t *testing.T) {
	fast := func(c *Config) { c.GatewayTimeout = 300 * time.Millisecond }
	e := newCoreEnv(t, fast).withSandbox(sandbox.Faults{LostAnswer: true, FaultPercent: 40})
	ctx := context.Background()
	var ps []store.Payout
	for i := range 120 {
		ps = append(ps, testPayout(fmt.Sprintf("62220202%011d", i)))
	}
	id := e.approvedBatch(ps...)
	other, _ := e.instance(fast)
	opt := PayoutOptions{Concurrency: 8, Chunk: 8, Poll: 20 * time.Millisecond, Backoff: 30 * time.Millisecond, FollowUp: 100 * time.Millisecond}
	ctxA, stopA := context.WithCancel(ctx)
	doneA := make(chan struct{})
	go func() { e.d.RunPayoutWorker(ctxA, opt); close(doneA) }()
	ctxB, stopB := context.WithCancel(ctx)
	doneB := make(chan struct{})
	go func() { other.RunPayoutWorker(ctxB, opt); close(doneB) }()
	t.Cleanup(func() { stopA(); stopB(); <-doneA; <-doneB })

	// The first console stops once a third of the batch has left "approved".
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		counts, err := e.db.BatchCounts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, c := range counts {
			if c.State != store.PayoutApproved {
				left += c.Count
			}
		}
		if left >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d payouts left approved", left)
		}
	}
	stopA()
	<-doneA
	e.clock.Advance(3 * time.Minute) // what it left "submitting" is now older than any call
	e.waitFinished(id, 60*time.Second)
	err := e.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if n := e.sb.CreateCount(p.MchTransOrderNo); n != 1 {
			t.Errorf("payout %s created %d times", p.MchTransOrderNo, n)
		}
		if !PayoutFinal(p) {
			t.Errorf("payout %s ended %s", p.MchTransOrderNo, p.State)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A bulk resend runs on the console that started it: another console
// starting on the database leaves it running (it is not abandoned), and a
// cancel on that other console stops it.
func TestResendJobSurvivesAnotherConsolesStart(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	var rows []store.OrderSummary
	for i := range 40 {
		o := e.payOrder(e.account.ID, fmt.Sprintf("R-%d", i), fmt.Sprintf("P-R-%d", i), 100, payments.PayPaid)
		rows = append(rows, store.OrderSummary{Kind: store.KindPay, ID: o.ID, Status: o.Status})
	}
	id, err := e.d.StartBulkResend(ctx, admin, i18n.M("test"), rows)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.instance()
	time.Sleep(200 * time.Millisecond)
	j, _, err := e.db.ResendJobByID(ctx, id)
	if err != nil || j.State != store.ResendRunning {
		t.Fatalf("after another console started: job %s (%v), want running", j.State, err)
	}
	if err := other.CancelResendJob(ctx, admin, id); err != nil {
		t.Fatal(err)
	}
	// The order in hand is finished; then nothing more is done, although
	// the job would run for another second or more.
	var before, after store.ResendJob
	for deadline := time.Now().Add(10 * time.Second); ; {
		before, _, _ = e.db.ResendJobByID(ctx, id)
		time.Sleep(500 * time.Millisecond)
		after, _, _ = e.db.ResendJobByID(ctx, id)
		if after.Done == before.Done || time.Now().After(deadline) {
			break
		}
	}
	if after.State != store.ResendCancelled || after.Done != before.Done || after.Done == 40 {
		t.Fatalf("after a cancel on the other console: %s, %d then %d of 40 done; want cancelled and stopped", after.State, before.Done, after.Done)
	}
}
