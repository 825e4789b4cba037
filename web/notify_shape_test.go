package web

import (
	"context"
	"testing"

	"paydesk/store"
)

// A correctly signed pay callback replayed to /notify/trans (and a payout
// callback to /notify/pay) is rejected: no payout or pay order is recorded,
// the reply is not success, an alert is raised.
func TestNotifyWrongEndpointRejected(t *testing.T) {
	env := newTestEnv(t)
	env.cbAccount("Main", testMchID, testKey)
	ctx := context.Background()
	cases := []struct {
		name, endpoint, method string
		fields                 map[string]any
	}{
		{"pay callback at /notify/trans", "trans", "GET", cbPayFields("P-X-1", "SHOP-X-1", 990, 2)},
		{"pay callback POSTed at /notify/trans", "trans", "POST", cbPayFields("P-X-2", "SHOP-X-2", 990, 2)},
		{"payout callback at /notify/pay", "pay", "POST", cbTransFields("T-X-1", "SHOP-T-X-1", 5000, 2)},
	}
	for _, c := range cases {
		res := env.sendNotify(c.endpoint, c.method, cbSigned(c.fields, testKey))
		if res.StatusCode != 400 || res.body == "success" {
			t.Errorf("%s: reply %d %q, want 400 and not success", c.name, res.StatusCode, res.body)
		}
		n := env.lastNotification()
		if n.Result != store.NotifyRejected || n.Kind != c.endpoint {
			t.Errorf("%s: stored %s at %s (%s)", c.name, n.Result, n.Kind, n.Reason)
		}
	}
	var payouts, orders int
	env.db.QueryRow(`SELECT count(*) FROM payouts`).Scan(&payouts)
	env.db.QueryRow(`SELECT count(*) FROM pay_orders`).Scan(&orders)
	if payouts != 0 || orders != 0 {
		t.Errorf("%d payouts and %d pay orders recorded, want none", payouts, orders)
	}
	alerts, _ := env.db.Alerts(ctx, false, 10)
	found := false
	for _, a := range alerts {
		found = found || a.Kind == store.AlertWrongEndpoint
	}
	if !found {
		t.Errorf("no wrong-endpoint alert in %+v", alerts)
	}
}
