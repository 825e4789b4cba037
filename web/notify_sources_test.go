package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"paydesk/payments"
	"paydesk/store"
)

// saveSources sets an account's gateway source addresses through the
// admin form and returns the response.
func (e *testEnv) saveSources(admin *browser, g store.GatewayAccount, sources string) response {
	e.t.Helper()
	return admin.postForm(fmt.Sprintf("/settings/gateways/%d", g.ID), url.Values{"name": {g.Name}, "base_url": {g.BaseURL},
		"notify_base_url": {g.NotifyBaseURL}, "mch_id": {g.MchID}, "app_id": {g.AppID}, "notify_sources": {sources}})
}

func TestGatewaySourcesForm(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	admin, _ := env.signedIn(store.RoleAdmin)
	for _, bad := range []string{"203.0.113.0/33", "0.0.0.0/0", "gateway.example.com", "fe80::1%eth0", strings.Repeat("10.0.0.1, ", 33)} {
		res := env.saveSources(admin, acct, bad)
		if res.StatusCode != 422 || !strings.Contains(res.body, `data-testid="error-notify_sources"`) {
			t.Errorf("%.40q: status %d", bad, res.StatusCode)
		}
	}
	if res := env.saveSources(admin, acct, " 203.0.113.9/24,198.51.100.7 ; 2001:db8::/48 "); res.StatusCode != 303 {
		t.Fatalf("save: %d %s", res.StatusCode, res.body)
	}
	g, _ := env.db.GatewayAccount(context.Background(), acct.ID)
	if g.NotifySources != "203.0.113.0/24 198.51.100.7/32 2001:db8::/48" {
		t.Errorf("stored %q", g.NotifySources)
	}
	if page := admin.get(fmt.Sprintf("/settings/gateways/%d", acct.ID)); !strings.Contains(page.body, "203.0.113.0/24, 198.51.100.7/32, 2001:db8::/48") {
		t.Errorf("the form does not show the stored addresses")
	}
	var detail string
	env.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'gateway.update' ORDER BY id DESC LIMIT 1`).Scan(&detail)
	if !strings.Contains(detail, "gateway source addresses 203.0.113.0/24, 198.51.100.7/32, 2001:db8::/48") {
		t.Errorf("audit detail %q", detail)
	}
}

// With gateway source addresses set, a callback from elsewhere is refused
// (403) even when correctly signed: stored whole then, since it verifies,
// and never applied. Unsigned ones from elsewhere fall under the budget.
func TestNotifyFromOutsideTheGatewaySourcesIsRefused(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	ctx := context.Background()
	a, b := env.twoAccountsOneMch("key-of-a", "key-of-b")
	admin, _ := env.signedIn(store.RoleAdmin)
	if res := env.saveSources(admin, a, "203.0.113.0/24"); res.StatusCode != 303 {
		t.Fatalf("save: %d %s", res.StatusCode, res.body)
	}
	payA := env.cbPayOrder(a.ID, "M-SRC-A", "P-M-SRC-A", 100, payments.PayPaying)
	payB := env.cbPayOrder(b.ID, "M-SRC-B", "P-M-SRC-B", 100, payments.PayPaying)
	fields := func(no string) payments.Params {
		f := cbPayFields("P-"+no, no, 100, 2)
		f["appId"] = map[string]string{"M-SRC-A": "appA", "M-SRC-B": "appB"}[no]
		return f
	}
	body := func(no, key string) string { return cbSigned(fields(no), key).Encode() }
	const form = "application/x-www-form-urlencoded"

	res := env.sendRaw("pay", "POST", "", form, body("M-SRC-A", "key-of-a"), "192.0.2.1")
	if res.StatusCode != 403 || res.body == "success" {
		t.Errorf("A's callback from outside: %d %q", res.StatusCode, res.body)
	}
	if n := env.lastNotification(); n.Result != store.NotifyRejected || n.Cut() || n.SigValid == nil || !*n.SigValid {
		t.Errorf("A's callback from outside stored %s, cut %v", n.Result, n.Cut())
	}
	if got, _ := env.db.PayOrderByID(ctx, payA.ID); got.StatusOr(-1) != payments.PayPaying {
		t.Errorf("A's order changed from outside: %d", got.StatusOr(-1))
	}
	if env.alertCount(store.AlertForbiddenSource) != 1 {
		t.Errorf("no forbidden-source alert")
	}
	// B lists no addresses: its callbacks come from anywhere.
	if res := env.sendRaw("pay", "POST", "", form, body("M-SRC-B", "key-of-b"), "192.0.2.1"); res.body != "success" {
		t.Errorf("B's callback: %d %q", res.StatusCode, res.body)
	}
	if got, _ := env.db.PayOrderByID(ctx, payB.ID); got.StatusOr(-1) != payments.PayPaid {
		t.Errorf("B's order: %d", got.StatusOr(-1))
	}
	// From the gateway's range, A's callback applies.
	if res := env.sendRaw("pay", "POST", "", form, body("M-SRC-A", "key-of-a"), "203.0.113.77"); res.body != "success" {
		t.Errorf("A's callback from the gateway: %d %q", res.StatusCode, res.body)
	}
	if got, _ := env.db.PayOrderByID(ctx, payA.ID); got.StatusOr(-1) != payments.PayPaid {
		t.Errorf("A's order after its callback: %d", got.StatusOr(-1))
	}
	// With every account of the merchant id listing sources, unsigned
	// requests from elsewhere are refused without a signature check and
	// stored only within the budget.
	if res := env.saveSources(admin, b, "198.51.100.0/24"); res.StatusCode != 303 {
		t.Fatalf("save B: %d", res.StatusCode)
	}
	for i := range 30 {
		res := env.sendRaw("pay", "POST", "", form, forgedBody(8000, fmt.Sprintf("FS-%d", i)), "192.0.2.200")
		if res.StatusCode != 403 || !strings.Contains(res.body, "not among the gateway source addresses") {
			t.Fatalf("forged %d: %d %q", i, res.StatusCode, res.body)
		}
	}
	if n := env.countRows(`client_addr = '192.0.2.200'`); n != 20 {
		t.Errorf("stored %d forged rows from outside, want 20", n)
	}
	if env.alertCount(store.AlertForbiddenSource) != 31 {
		t.Errorf("forbidden-source alerts count %d, want 31", env.alertCount(store.AlertForbiddenSource))
	}
}
