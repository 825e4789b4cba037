package desk

import (
	"context"
	"testing"

	"paydesk/payments"
	"paydesk/store"
)

// What a correctly signed callback does to the order it names, decided by
// the core alone: forward moves apply once, a repeat is a duplicate, an
// older status is stale, a payout's contradiction and a wrong amount only
// raise alerts.
func TestCallbackApplication(t *testing.T) {
	e := newCoreEnv(t)
	ctx := context.Background()
	acct := e.accountFor("Main", testMchID, "app1", testKey)
	o := e.payOrder(acct.ID, "M-1", "P-1", 500, payments.PayPaying)
	p := e.payout(acct.ID, "T-M-1", "T-1", 700, payments.TransTransferring)

	steps := []struct {
		name   string
		kind   payments.NotifyKind
		fields payments.Params
		code   int
		result string
	}{
		{"paid", payments.NotifyPay, payFields(testMchID, "app1", "P-1", "M-1", 500, payments.PayPaid), 200, store.NotifyApplied},
		{"paid again", payments.NotifyPay, payFields(testMchID, "app1", "P-1", "M-1", 500, payments.PayPaid), 200, store.NotifyDuplicate},
		{"paying after paid", payments.NotifyPay, payFields(testMchID, "app1", "P-1", "M-1", 500, payments.PayPaying), 200, store.NotifyStale},
		{"another amount", payments.NotifyPay, payFields(testMchID, "app1", "P-1", "M-1", 501, payments.PayDone), 409, store.NotifyAlert},
		{"payout succeeded", payments.NotifyTrans, transFields(testMchID, "T-1", "T-M-1", 700, payments.TransSucceeded), 200, store.NotifyApplied},
		{"payout failed after success", payments.NotifyTrans, transFields(testMchID, "T-1", "T-M-1", 700, payments.TransFailed), 200, store.NotifyAlert},
	}
	for _, st := range steps {
		rep := e.notify(st.kind, signedQuery(st.fields, testKey))
		n, err := e.db.Notifications(ctx, store.NotificationFilter{Limit: 1})
		if err != nil || len(n) != 1 {
			t.Fatalf("%s: %v %d", st.name, err, len(n))
		}
		if rep.Code != st.code || n[0].Result != st.result {
			t.Errorf("%s: answered %d %q, recorded %s (%s); want %d, %s", st.name, rep.Code, rep.Body, n[0].Result, n[0].Reason, st.code, st.result)
		}
		if (st.code == 200) != (rep.Body == payments.NotifyReply) {
			t.Errorf("%s: body %q", st.name, rep.Body)
		}
	}
	got, _ := e.db.PayOrderByID(ctx, o.ID)
	if got.StatusOr(-1) != payments.PayPaid || e.events(store.KindPay, o.ID, store.EventStatus) != 1 {
		t.Errorf("pay order: status %d with %d status events, want %d with 1", got.StatusOr(-1), e.events(store.KindPay, o.ID, store.EventStatus), payments.PayPaid)
	}
	gp, _ := e.db.PayoutByID(ctx, p.ID)
	if gp.StatusOr(-1) != payments.TransSucceeded {
		t.Errorf("payout: status %d, want it left succeeded", gp.StatusOr(-1))
	}
	kinds := map[string]int{}
	for _, a := range e.alerts() {
		kinds[a.Kind]++
	}
	if kinds[store.AlertMismatch] != 1 || kinds[store.AlertContradiction] != 1 {
		t.Errorf("alerts: %v, want one mismatch and one contradiction", kinds)
	}
}

// A callback signed with one account's key never changes an order of
// another account on the same merchant id, found by either number.
func TestCallbackOfAnotherAccountsKey(t *testing.T) {
	e := newCoreEnv(t)
	ctx := context.Background()
	e.accountFor("Shop A", testMchID, "appA", "key-of-a")
	b := e.accountFor("Shop B", testMchID, "appB", "key-of-b")
	o := e.payOrder(b.ID, "M-B-1", "P-B-1", 500, payments.PayPaying)

	byGateNo := payFields(testMchID, "appA", "P-B-1", "M-B-1", 500, payments.PayPaid)
	byMchNo := payFields(testMchID, "appA", "P-UNKNOWN", "M-B-1", 500, payments.PayPaid)
	for _, f := range []payments.Params{byGateNo, byMchNo} {
		if rep := e.notify(payments.NotifyPay, signedQuery(f, "key-of-a")); rep.Code != 409 {
			t.Errorf("signed by A for B's order (%s): %d %q", f["payOrderId"], rep.Code, rep.Body)
		}
	}
	if got, _ := e.db.PayOrderByID(ctx, o.ID); got.StatusOr(-1) != payments.PayPaying {
		t.Errorf("B's order changed to %d", got.StatusOr(-1))
	}
	if rep := e.notify(payments.NotifyPay, signedQuery(payFields(testMchID, "appB", "P-B-1", "M-B-1", 500, payments.PayPaid), "key-of-b")); rep.Code != 200 {
		t.Errorf("signed by B: %d %q", rep.Code, rep.Body)
	}
	if got, _ := e.db.PayOrderByID(ctx, o.ID); got.StatusOr(-1) != payments.PayPaid {
		t.Errorf("B's own callback did not apply: %d", got.StatusOr(-1))
	}
}

// A callback with a bad signature is rejected and changes nothing, and a
// stored callback left pending (a failed apply, or a crash between the
// commits of a group retried apart) is applied once by the sweep.
func TestCallbackRejectedAndSwept(t *testing.T) {
	e := newCoreEnv(t)
	ctx := context.Background()
	acct := e.accountFor("Main", testMchID, "app1", testKey)
	o := e.payOrder(acct.ID, "M-2", "P-2", 300, payments.PayPaying)
	if rep := e.notify(payments.NotifyPay, signedQuery(payFields(testMchID, "app1", "P-2", "M-2", 300, payments.PayPaid), "forged")); rep.Code != 403 {
		t.Errorf("forged: %d %q", rep.Code, rep.Body)
	}
	if got, _ := e.db.PayOrderByID(ctx, o.ID); got.StatusOr(-1) != payments.PayPaying {
		t.Fatalf("a forged callback changed the order: %d", got.StatusOr(-1))
	}
	body := signedQuery(payFields(testMchID, "app1", "P-2", "M-2", 300, payments.PayPaid), testKey)
	id, err := e.db.InsertRawNotification(ctx, store.RawNotification{Kind: store.KindPay, Method: "POST", ClientAddr: "203.0.113.9",
		Headers: "Content-Type: application/x-www-form-urlencoded\n", RawBody: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2e9) // the sweep takes rows older than a second
	for range 2 {
		if err := e.d.SweepPendingCallbacks(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := e.db.NotificationByID(ctx, id)
	got, _ := e.db.PayOrderByID(ctx, o.ID)
	if n.Result != store.NotifyApplied || got.StatusOr(-1) != payments.PayPaid || e.events(store.KindPay, o.ID, store.EventStatus) != 1 {
		t.Errorf("after the sweep: %s, order %d, %d status events", n.Result, got.StatusOr(-1), e.events(store.KindPay, o.ID, store.EventStatus))
	}
}
