package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// Rejected callbacks are deleted once older than the retention setting
// (90 days unless an admin sets another); verified ones, the alerts and
// their counts stay.
func TestHousekeepingPrunesRejectedCallbacks(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	ctx := context.Background()
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M-HK-1", "P-HK-1", 100, payments.PayPaying)
	if res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-HK-1", "M-HK-1", 100, 2), testKey)); res.body != "success" {
		t.Fatalf("genuine callback: %d %q", res.StatusCode, res.body)
	}
	forge := func(n int, from string) {
		for i := range n {
			if res := env.sendRaw("pay", "POST", "", "application/x-www-form-urlencoded", forgedBody(3000, fmt.Sprintf("HK-%d", i)), from); res.StatusCode != 403 {
				t.Fatalf("forged: %d %q", res.StatusCode, res.body)
			}
		}
	}
	forge(5, "192.0.2.10")
	rejected := func() int { return env.countRows(`result = 'rejected'`) }
	housekeep := func() {
		t.Helper()
		if _, err := env.desk.Housekeep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ := env.signedIn(store.RoleAdmin)
	if page := admin.get("/settings/gateways"); !strings.Contains(page.body, `name="rejected_retention_days" value="90"`) {
		t.Errorf("the gateway settings do not show 90 days:\n%s", page.body)
	}

	env.advance(89 * 24 * time.Hour)
	housekeep()
	if n := rejected(); n != 5 {
		t.Errorf("after 89 days: %d rejected rows, want 5", n)
	}
	env.advance(2 * 24 * time.Hour)
	housekeep()
	if n := rejected(); n != 0 {
		t.Errorf("after 91 days: %d rejected rows, want 0", n)
	}
	if n := env.countRows(`result = 'applied'`); n != 1 {
		t.Errorf("verified callbacks left: %d, want 1", n)
	}
	if ns, _ := env.db.NotificationsForOrder(ctx, store.KindPay, o.ID); len(ns) != 1 {
		t.Errorf("the order's callbacks: %d", len(ns))
	}
	alerts, _ := env.db.Alerts(ctx, false, 10)
	if len(alerts) != 1 || alerts[0].Count != 5 || alerts[0].NotificationID != 0 {
		t.Errorf("alerts after pruning: %+v", alerts)
	}

	// An admin keeps them 30 days instead.
	admin, _ = env.signedIn(store.RoleAdmin)
	for _, bad := range []string{"0", "3651", "ninety", ""} {
		if res := admin.postForm("/settings/notifications", url.Values{"rejected_retention_days": {bad}}); res.StatusCode != 422 {
			t.Errorf("%q: %d", bad, res.StatusCode)
		}
	}
	if res := admin.postForm("/settings/notifications", url.Values{"rejected_retention_days": {"30"}}); res.StatusCode != 303 {
		t.Fatalf("save 30 days: %d %s", res.StatusCode, res.body)
	}
	var audited int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'settings.rejected_callback_retention' AND detail = 'from 90 to 30 days'`).Scan(&audited)
	if audited != 1 {
		t.Errorf("audit entries: %d", audited)
	}
	forge(3, "192.0.2.11")
	env.advance(29 * 24 * time.Hour)
	housekeep()
	if n := rejected(); n != 3 {
		t.Errorf("after 29 days: %d rejected rows, want 3", n)
	}
	env.advance(2 * 24 * time.Hour)
	housekeep()
	if n := rejected(); n != 0 {
		t.Errorf("after 31 days: %d rejected rows, want 0", n)
	}
}

// Many rejected rows are deleted in batches, all of them.
func TestHousekeepingPrunesInBatches(t *testing.T) {
	env := newTestEnv(t)
	const rows = 1234
	old := env.now().Add(-100 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000000Z")
	if _, err := env.db.Exec(`INSERT INTO notifications (received_at, kind, method, client_addr, result)
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		SELECT ?, 'pay', 'POST', '192.0.2.1', 'rejected' FROM n`, rows, old); err != nil {
		t.Fatal(err)
	}
	if n := env.countRows(`result = 'rejected'`); n != rows {
		t.Fatalf("%d rows", n)
	}
	n, err := env.desk.Housekeep(context.Background())
	if err != nil || n != rows || env.countRows(`1`) != 0 {
		t.Errorf("deleted %d (%v), left %d", n, err, env.countRows(`1`))
	}
}
