package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

func TestGatewayAccountAdmin(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	admin, _ := env.signedIn(store.RoleAdmin)
	const secret = "SECRETKEY-0123456789abcdef"
	form := url.Values{
		"name": {"Main"}, "merchant_name": {"Tea House"}, "base_url": {"https://gw.example/"},
		"mch_id": {"20001222"}, "app_id": {"0ae8be35ff634e2abe94f5f32f6d5c4f"}, "key": {secret},
		"notify_base_url": {"https://paydesk.example"},
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("notify_base_url", "https://paydesk.example/?x=1")
	bad.Set("key", "")
	res := admin.postForm("/settings/gateways", bad)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error-notify_base_url"`) || !strings.Contains(res.body, `data-testid="error-key"`) {
		t.Fatalf("invalid form: %d", res.StatusCode)
	}
	if strings.Contains(res.body, secret) {
		t.Fatal("the key is echoed back")
	}

	res = admin.postForm("/settings/gateways", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.StatusCode, res.body)
	}
	accts, err := env.db.GatewayAccounts(ctx, true)
	if err != nil || len(accts) != 1 {
		t.Fatalf("accounts: %v %v", accts, err)
	}
	g := accts[0]
	if g.BaseURL != "https://gw.example" || g.MerchantName != "Tea House" {
		t.Fatalf("stored: %+v", g)
	}
	if strings.Contains(string(g.KeySealed), secret) {
		t.Fatal("the key is stored in clear")
	}
	if key, err := testOpen(testMasterKey, gatewayKeyContext(g.ID), g.KeySealed); err != nil || key != secret {
		t.Fatalf("sealed key opens to %q, %v", key, err)
	}
	page := admin.get(res.Header.Get("Location"))
	if page.StatusCode != 200 || strings.Contains(page.body, secret) || !strings.Contains(page.body, "leave empty to keep it") {
		t.Fatalf("edit page: %d", page.StatusCode)
	}

	// Saving with the key left empty keeps it.
	form.Set("key", "")
	form.Set("name", "Main shop")
	if res := admin.postForm(res.Header.Get("Location"), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("update: %d %s", res.StatusCode, res.body)
	}
	g2, _ := env.db.GatewayAccount(ctx, g.ID)
	if key, err := testOpen(testMasterKey, gatewayKeyContext(g.ID), g2.KeySealed); err != nil || key != secret || g2.Name != "Main shop" {
		t.Fatalf("after update: %q %v %q", key, err, g2.Name)
	}
	if res := admin.postForm(res.Header.Get("Location")+"/disable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	if g3, _ := env.db.GatewayAccount(ctx, g.ID); !g3.Disabled || len(g3.KeySealed) == 0 {
		t.Fatalf("after disable: %+v", g3)
	}

	entries, err := env.db.AuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.Contains(e.Detail, secret) {
			t.Fatalf("audit entry %s holds the key", e.Action)
		}
		if strings.HasPrefix(e.Action, "gateway.") {
			actions = append(actions, e.Action)
		}
	}
	if got := strings.Join(actions, ","); got != "gateway.disable,gateway.update,gateway.create" && got != "gateway.create,gateway.update,gateway.disable" {
		t.Fatalf("audit actions: %v", actions)
	}
	if strings.Contains(env.logs.String(), secret) {
		t.Fatal("the key is in the log")
	}

	if res := admin.postForm("/settings/payments", url.Values{"max_amount": {"1,000.00"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the payment limit: %d %s", res.StatusCode, res.body)
	}
	if v, _ := env.db.Setting(ctx, "payments.max_amount_fen", ""); v != "100000" {
		t.Fatalf("payment limit stored as %q", v)
	}
	if res := admin.postForm("/settings/payments", url.Values{"max_amount": {"1e3"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a limit in scientific notation: %d", res.StatusCode)
	}

	op, _ := env.signedIn(store.RoleOperator)
	if res := op.postForm("/settings/payments", url.Values{"max_amount": {"5"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator sets the payment limit: %d", res.StatusCode)
	}
	if res := op.get("/settings/gateways"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator sees gateway accounts: %d", res.StatusCode)
	}
	if res := op.postForm("/settings/gateways", form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator adds a gateway account: %d", res.StatusCode)
	}
}

func TestGatewayTestConnection(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	admin, _ := env.signedIn(store.RoleAdmin)
	path := "/settings/gateways/" + strconv.FormatInt(env.account.ID, 10)
	res := admin.postForm(path+"/test", nil)
	if res.StatusCode != 200 || !strings.Contains(res.body, "The connection works") {
		t.Fatalf("test with the right key: %d %s", res.StatusCode, res.body)
	}
	form := url.Values{"name": {"Sandbox"}, "base_url": {env.sbURL}, "mch_id": {testMchID}, "app_id": {testAppID},
		"key": {"wrong-key"}, "notify_base_url": {env.ts.URL}}
	if res := admin.postForm(path, form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, res.body)
	}
	if res := admin.postForm(path+"/test", nil); !strings.Contains(res.body, "merchant key is wrong") {
		t.Fatalf("test with a wrong key: %s", res.body)
	}
	form.Set("key", testKey)
	form.Set("mch_id", "99999999")
	admin.postForm(path, form)
	if res := admin.postForm(path+"/test", nil); !strings.Contains(res.body, "does not know this merchant") {
		t.Fatalf("test with an unknown merchant: %s", res.body)
	}
	form.Set("mch_id", testMchID)
	form.Set("base_url", "http://127.0.0.1:1")
	admin.postForm(path, form)
	if res := admin.postForm(path+"/test", nil); !strings.Contains(res.body, "cannot be reached") {
		t.Fatalf("test of an unreachable gateway: %s", res.body)
	}
}
