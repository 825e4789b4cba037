package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/payments"
	"paydesk/store"
)

// sendRaw sends one request to /notify/{kind} as it is given; from, when
// set, is the client address (the console trusts X-Forwarded-For).
func (e *testEnv) sendRaw(kind, method, query, contentType, body, from string, header ...string) response {
	e.t.Helper()
	target := e.ts.URL + "/notify/" + kind
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	return response{res, cbReadAll(res)}
}

func trustProxy(c *testConfig) { c.TrustProxy = true }

// forgedBody is a pay callback for a known merchant with a wrong signature,
// padded to size bytes.
func forgedBody(size int, no string) string {
	s := cbSigned(cbPayFields("P-"+no, no, 100, 2), "NOT-THE-KEY").Encode() + "&padding="
	return s + strings.Repeat("x", max(0, size-len(s)))
}

func (e *testEnv) countRows(where string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM notifications WHERE `+where, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *testEnv) alertCount(kind string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT coalesce(sum(count), 0) FROM alerts WHERE kind = ?`, kind).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// A request that fails verification or parsing keeps only the start of its
// query and body, with the lengths received; the values read from it, its
// headers and the alert it raises are bounded too. A verified callback is
// kept whole, however large.
func TestNotifyRejectedKeepsOnlyAPrefix(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	env.cbAccount("Main", testMchID, testKey)
	long := strings.Repeat("9", 5000)
	cases := []struct {
		name, method, query, body string
		wantCode                  int
	}{
		{"forged 64 KiB body", "POST", "", forgedBody(64<<10, "F-1"), 403},
		{"unknown merchant with a long id in a long query", "GET", "mchId=" + long + "&payOrderId=" + long + "&mchOrderNo=M&amount=1&status=2&x=" + strings.Repeat("y", 20000), "", 403},
		{"oversized body", "POST", "", forgedBody(100<<10, "F-2"), 400},
		{"unreadable", "POST", "", "params=%7B" + strings.Repeat("z", 30000), 400},
	}
	for i, c := range cases {
		from := fmt.Sprintf("198.51.100.%d", i+1)
		res := env.sendRaw("pay", c.method, c.query, "application/x-www-form-urlencoded", c.body, from, "User-Agent", strings.Repeat("u", 8000))
		if res.StatusCode != c.wantCode || res.body == "success" {
			t.Errorf("%s: reply %d %q", c.name, res.StatusCode, res.body)
		}
		n := env.lastNotification()
		if n.Result != store.NotifyRejected || n.ClientAddr != from {
			t.Fatalf("%s: stored %s from %s", c.name, n.Result, n.ClientAddr)
		}
		if len(n.RawQuery) > 4096 || len(n.RawBody) > 4096 || !n.Cut() || n.QueryLen != len(c.query) || n.BodyLen != len(c.body) {
			t.Errorf("%s: kept %d of %d query bytes and %d of %d body bytes (cut %v)", c.name, len(n.RawQuery), n.QueryLen, len(n.RawBody), n.BodyLen, n.Cut())
		}
		if len(n.Headers) > 1024 || len(n.MchID) > 64 || len(n.OrderNo) > 64 || len(n.Reason) > 400 || len(n.ReplyBody) > 400 {
			t.Errorf("%s: headers %d, mchId %d, order %d, reason %d, reply %d bytes", c.name, len(n.Headers), len(n.MchID), len(n.OrderNo), len(n.Reason), len(n.ReplyBody))
		}
	}
	// The log says what was kept.
	var firstID int64
	env.db.QueryRow(`SELECT id FROM notifications WHERE client_addr = '198.51.100.1'`).Scan(&firstID)
	viewer, _ := env.signedIn(store.RoleViewer)
	page := viewer.get(fmt.Sprintf("/notifications/%d", firstID))
	if !strings.Contains(page.body, "only the first 4,096 of its 65,536 bytes are kept") {
		t.Errorf("the callback's page does not say it was cut:\n%s", page.body)
	}
	alerts, _ := env.db.Alerts(context.Background(), true, 100)
	for _, a := range alerts {
		if len(a.Summary) > 500 || len(a.DedupeKey) > 64 {
			t.Errorf("alert %s: summary %d bytes, key %d bytes", a.Kind, len(a.Summary), len(a.DedupeKey))
		}
	}

	// A correctly signed callback is kept whole, large or not.
	f := cbPayFields("P-BIG-OK", "M-BIG-OK", 100, 2)
	f["param2"] = strings.Repeat("p", 20000)
	body := cbSigned(f, testKey).Encode()
	if res := env.sendRaw("pay", "POST", "", "application/x-www-form-urlencoded", body, "198.51.100.99"); res.body != "success" {
		t.Fatalf("signed callback: %d %q", res.StatusCode, res.body)
	}
	if n := env.lastNotification(); string(n.RawBody) != body || n.Cut() || n.Result != store.NotifyApplied {
		t.Errorf("signed callback stored %d of %d bytes, %s", len(n.RawBody), len(body), n.Result)
	}
}

// Rejected requests store rows up to a budget per client address and hour;
// beyond it only the alert's count moves, and the reply stays a failure.
// Another address has its own budget; an IPv6 /64 is one address.
func TestNotifyRejectedBudgetPerAddress(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M-BUD-1", "P-BUD-1", 100, payments.PayPaying)
	send := func(from string, n int) {
		t.Helper()
		for i := range n {
			res := env.sendRaw("pay", "POST", "", "application/x-www-form-urlencoded", forgedBody(2000, fmt.Sprintf("B-%d", i)), from)
			if res.StatusCode != 403 || res.body == "success" {
				t.Fatalf("forged %d from %s: %d %q", i, from, res.StatusCode, res.body)
			}
		}
	}
	send("192.0.2.7", 50)
	if n := env.countRows(`client_addr = '192.0.2.7'`); n != 20 {
		t.Errorf("stored %d rows for 50 forged callbacks from one address, want 20", n)
	}
	if c := env.alertCount(store.AlertBadSignature); c != 50 {
		t.Errorf("bad-signature alerts count %d, want 50", c)
	}
	// A genuine callback from the same address is not held back.
	if res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-BUD-1", "M-BUD-1", 100, 2), testKey)); res.body != "success" {
		t.Fatalf("genuine callback: %d %q", res.StatusCode, res.body)
	}
	if got, _ := env.db.PayOrderByID(context.Background(), o.ID); got.StatusOr(-1) != payments.PayPaid {
		t.Errorf("order status %d", got.StatusOr(-1))
	}
	send("2001:db8:1:2::1", 15)
	send("2001:db8:1:2:ffff::9", 15)
	if n := env.countRows(`client_addr LIKE '2001:db8:1:2:%'`); n != 20 {
		t.Errorf("stored %d rows for 30 forged callbacks from one /64, want 20", n)
	}
	env.advance(time.Hour)
	send("192.0.2.7", 5)
	if n := env.countRows(`client_addr = '192.0.2.7'`); n != 25 {
		t.Errorf("an hour later: %d rows, want 25", n)
	}
	if c := env.alertCount(store.AlertBadSignature); c != 85 {
		t.Errorf("bad-signature alerts count %d, want 85", c)
	}
}

// Many addresses share an overall hourly budget, and those that stored
// nothing count on one alert.
func TestNotifyRejectedOverallBudget(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	env.cbAccount("Main", testMchID, testKey)
	for i := range 300 {
		from := fmt.Sprintf("10.%d.%d.1", i/250, i%250)
		if res := env.sendRaw("pay", "GET", "mchId=1&payOrderId=P&amount=1&status=2", "", "", from); res.StatusCode != 403 {
			t.Fatalf("from %s: %d %q", from, res.StatusCode, res.body)
		}
	}
	var alerts int
	env.db.QueryRow(`SELECT count(*) FROM alerts`).Scan(&alerts)
	if n := env.countRows(`1`); n != 200 || alerts != 201 || env.alertCount(store.AlertUnknownMerchant) != 300 {
		t.Errorf("%d rows and %d alerts counting %d for 300 addresses, want 200 rows, 201 alerts counting 300", n, alerts, env.alertCount(store.AlertUnknownMerchant))
	}
}

// The budget and the prefix also hold for unreadable requests and for the
// payout endpoint; sending at the wrong endpoint counts as rejected.
func TestNotifyRejectedBudgetAcrossKinds(t *testing.T) {
	env := newTestEnv(t, trustProxy)
	env.cbAccount("Main", testMchID, testKey)
	signedPay := cbSigned(cbPayFields("P-WK-1", "M-WK-1", 100, 2), testKey).Encode()
	for i := range 30 {
		env.sendRaw("trans", "GET", signedPay, "", "", "192.0.2.50")
		env.sendRaw("trans", "POST", "", "application/json", "{broken"+strings.Repeat(" ", i), "192.0.2.50")
	}
	if n := env.countRows(`client_addr = '192.0.2.50'`); n != 20 {
		t.Errorf("stored %d rows, want 20", n)
	}
	if c := env.alertCount(store.AlertWrongEndpoint) + env.alertCount(store.AlertUnreadable); c != 60 {
		t.Errorf("alerts count %d, want 60", c)
	}
}

// The core's limits on callbacks, as the tests check them over HTTP.
const (
	maxNotifyBody = desk.MaxCallbackBytes
	rejectedKeep  = 4 << 10 // what a rejected, unverified request keeps of its query and body
)
