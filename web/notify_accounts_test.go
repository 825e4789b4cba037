package web

import (
	"context"
	"testing"

	"paydesk/payments"
	"paydesk/store"
)

// twoAccountsOneMch stores accounts A and B on the same merchant id with
// their own appId and key.
func (e *testEnv) twoAccountsOneMch(keyA, keyB string) (a, b store.GatewayAccount) {
	e.t.Helper()
	a = e.cbAccount("Shop A", testMchID, keyA)
	b = e.cbAccount("Shop B", testMchID, keyB)
	if _, err := e.db.Exec(`UPDATE gateway_accounts SET app_id = CASE id WHEN ? THEN 'appA' ELSE 'appB' END WHERE id IN (?, ?)`, a.ID, a.ID, b.ID); err != nil {
		e.t.Fatal(err)
	}
	e.desk.GatewayAccountsChanged()
	return a, b
}

// A callback signed with account A's key never changes an order of
// account B, even when both accounts share the merchant id: by the
// gateway's order number, nor by the merchant order number.
func TestNotifyAccountKeyAppliesOnlyToItsOrders(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	a, b := env.twoAccountsOneMch("key-of-a", "key-of-b")
	pay := env.cbPayOrder(b.ID, "M-B-1", "P-B-1", 500, payments.PayPaying)
	payout := env.cbPayout(b.ID, "T-M-B-1", "T-B-1", 700, payments.TransTransferring)

	payByA := cbPayFields("P-B-1", "M-B-1", 500, 2)
	payByA["appId"] = "appA"
	byMchNo := cbPayFields("P-UNKNOWN-9", "M-B-1", 500, 2)
	byMchNo["appId"] = "appA"
	for _, c := range []struct {
		name, kind, method string
		fields             payments.Params
	}{
		{"pay order by payOrderId", "pay", "POST", payByA},
		{"pay order by mchOrderNo", "pay", "POST", byMchNo},
		{"payout by transOrderId", "trans", "GET", cbTransFields("T-B-1", "T-M-B-1", 700, 3)},
		{"payout by mchTransOrderNo", "trans", "GET", cbTransFields("T-UNKNOWN-9", "T-M-B-1", 700, 3)},
	} {
		res := env.sendNotify(c.kind, c.method, cbSigned(c.fields, "key-of-a"))
		if res.body == "success" || res.StatusCode != 409 {
			t.Errorf("%s: reply %d %q, want 409 and not success", c.name, res.StatusCode, res.body)
		}
		if n := env.lastNotification(); n.Result != store.NotifyAlert {
			t.Errorf("%s: stored %s (%s)", c.name, n.Result, n.Reason)
		}
	}
	if got, _ := env.db.PayOrderByID(ctx, pay.ID); got.StatusOr(-1) != payments.PayPaying || env.statusEvents(store.KindPay, pay.ID) != 0 {
		t.Errorf("B's pay order changed: status %d", got.StatusOr(-1))
	}
	if got, _ := env.db.PayoutByID(ctx, payout.ID); got.StatusOr(-1) != payments.TransTransferring || env.statusEvents(store.KindTrans, payout.ID) != 0 {
		t.Errorf("B's payout changed: status %d", got.StatusOr(-1))
	}
	var orders, payouts int
	env.db.QueryRow(`SELECT count(*) FROM pay_orders WHERE account_id = ?`, a.ID).Scan(&orders)
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE account_id = ?`, a.ID).Scan(&payouts)
	if orders != 0 || payouts != 0 {
		t.Errorf("recorded %d pay orders and %d payouts for A from B's numbers", orders, payouts)
	}
	if alerts, _ := env.db.AlertsForOrder(ctx, store.KindPay, pay.ID); len(alerts) == 0 || alerts[0].Kind != store.AlertMismatch {
		t.Errorf("alerts on B's pay order: %+v", alerts)
	}

	// B's own key applies to B's orders.
	payByB := cbPayFields("P-B-1", "M-B-1", 500, 2)
	payByB["appId"] = "appB"
	if res := env.sendNotify("pay", "POST", cbSigned(payByB, "key-of-b")); res.body != "success" {
		t.Fatalf("B's callback: %d %q", res.StatusCode, res.body)
	}
	if res := env.sendNotify("trans", "GET", cbSigned(cbTransFields("T-B-1", "T-M-B-1", 700, 2), "key-of-b")); res.body != "success" {
		t.Fatalf("B's payout callback: %d %q", res.StatusCode, res.body)
	}
	if got, _ := env.db.PayOrderByID(ctx, pay.ID); got.StatusOr(-1) != payments.PayPaid {
		t.Errorf("B's pay order after B's callback: status %d", got.StatusOr(-1))
	}
	if got, _ := env.db.PayoutByID(ctx, payout.ID); got.StatusOr(-1) != payments.TransSucceeded {
		t.Errorf("B's payout after B's callback: status %d", got.StatusOr(-1))
	}
	if n := env.lastNotification(); n.AccountID != b.ID {
		t.Errorf("B's callback recorded for account %d, want %d", n.AccountID, b.ID)
	}
}

// Two accounts sharing the merchant id and the key (the gateway's key is
// per merchant): a payout callback, which names no appId, applies to the
// account that holds the payout, whichever is listed first.
func TestNotifySharedKeyAppliesToTheOwningAccount(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	_, b := env.twoAccountsOneMch(testKey, testKey)
	payout := env.cbPayout(b.ID, "T-M-S-1", "T-S-1", 900, payments.TransTransferring)
	if res := env.sendNotify("trans", "GET", cbSigned(cbTransFields("T-S-1", "T-M-S-1", 900, 2), testKey)); res.body != "success" {
		t.Fatalf("reply %d %q", res.StatusCode, res.body)
	}
	if got, _ := env.db.PayoutByID(ctx, payout.ID); got.StatusOr(-1) != payments.TransSucceeded {
		t.Errorf("payout status %d, want succeeded", got.StatusOr(-1))
	}
	if n := env.lastNotification(); n.AccountID != b.ID || n.Result != store.NotifyApplied {
		t.Errorf("stored %s for account %d, want applied for %d", n.Result, n.AccountID, b.ID)
	}
}
