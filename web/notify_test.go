package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// cbAccount stores a gateway account with a sealed key.
func (e *testEnv) cbAccount(name, mchID, key string) store.GatewayAccount {
	e.t.Helper()
	return cbAccountTo(e.t, e.db, e.srv, name, mchID, key, "http://127.0.0.1:1", e.ts.URL)
}

func cbAccountTo(tb testing.TB, db *store.DB, srv *Server, name, mchID, key, baseURL, notifyBase string) store.GatewayAccount {
	tb.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{Name: name, BaseURL: baseURL, MchID: mchID, AppID: "app1",
			KeySealed: []byte{0}, NotifyBaseURL: notifyBase})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE gateway_accounts SET key_sealed = ? WHERE id = ?`, testSeal(testMasterKey, gatewayKeyContext(id), key), id)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv.desk.GatewayAccountsChanged()
	g, err := db.GatewayAccount(ctx, id)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func cbIntp(i int) *int { return &i }

// cbPayOrder stores a console pay order the gateway has accepted.
func (e *testEnv) cbPayOrder(acct int64, mchOrderNo, payOrderID string, amount int64, status int) store.PayOrder {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: acct, MchOrderNo: mchOrderNo, PayOrderID: payOrderID, ProductID: 8000,
			Amount: amount, Subject: "s", Body: "b", Status: cbIntp(status), State: store.PayStateOpen, CreatedBy: "tester"})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := e.db.PayOrderByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func (e *testEnv) cbPayout(acct int64, no, transOrderID string, amount int64, status int) store.Payout {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.db.InsertPayoutTx(ctx, tx, store.Payout{AccountID: acct, MchTransOrderNo: no, TransOrderID: transOrderID, Amount: amount,
			AccountName: "张三", AccountNo: "6222000011112222", BankCode: "HPT00001", Status: cbIntp(status), State: store.PayoutSubmitted, CreatedBy: "tester"})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.db.PayoutByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func cbPayFields(payOrderID, mchOrderNo string, amount int64, status int) payments.Params {
	return payments.Params{"payOrderId": payOrderID, "mchId": testMchID, "appId": "app1", "productId": "8000", "mchOrderNo": mchOrderNo,
		"amount": fmt.Sprint(amount), "status": fmt.Sprint(status), "channelOrderNo": "CH" + payOrderID, "paySuccTime": "1764115200000",
		"backType": "2", "param1": "", "param2": ""}
}

func cbTransFields(transOrderID, no string, amount int64, status int) payments.Params {
	return payments.Params{"transOrderId": transOrderID, "mchId": testMchID, "mchTransOrderNo": no, "amount": fmt.Sprint(amount),
		"status": fmt.Sprint(status), "channelOrderNo": "", "transSuccTime": "1764115200000", "backType": "2"}
}

func cbSigned(p payments.Params, key string) url.Values {
	v := url.Values{}
	for k, x := range p {
		v.Set(k, payments.ValueString(x))
	}
	v.Set("sign", payments.Sign(p, key))
	return v
}

// sendNotify sends a callback as the gateway would: pay by POST form, trans by GET.
func (e *testEnv) sendNotify(kind, method string, v url.Values) response {
	e.t.Helper()
	var req *http.Request
	if method == "GET" {
		req, _ = http.NewRequest("GET", e.ts.URL+"/notify/"+kind+"?"+v.Encode(), nil)
	} else {
		req, _ = http.NewRequest("POST", e.ts.URL+"/notify/"+kind, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, cbReadAll(res))
	return response{res, b.String()}
}

func cbReadAll(res *http.Response) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String()
		}
	}
}

func (e *testEnv) lastNotification() store.Notification {
	e.t.Helper()
	ns, err := e.db.Notifications(context.Background(), store.NotificationFilter{Limit: 1})
	if err != nil || len(ns) == 0 {
		e.t.Fatalf("no notification stored: %v", err)
	}
	return ns[0]
}

func (e *testEnv) statusEvents(kind string, ref int64) int {
	e.t.Helper()
	evs, err := e.db.Events(context.Background(), kind, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == store.EventStatus {
			n++
		}
	}
	return n
}

func TestNotifyPaySequence(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M100", "P100", 1234, payments.PayCreated)
	ctx := context.Background()

	steps := []struct {
		name       string
		status     int
		wantResult string
		wantStatus int
	}{
		{"paid applies", 2, store.NotifyApplied, 2},
		{"same again is a duplicate", 2, store.NotifyDuplicate, 2},
		{"acknowledged after paid applies", 3, store.NotifyApplied, 3},
		{"paying after paid is stale", 1, store.NotifyStale, 3},
		{"paid after acknowledged is stale", 2, store.NotifyStale, 3},
	}
	for _, st := range steps {
		res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P100", "M100", 1234, st.status), testKey))
		if res.StatusCode != 200 || res.body != "success" {
			t.Fatalf("%s: reply %d %q, want 200 success", st.name, res.StatusCode, res.body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: content type %q", st.name, ct)
		}
		n := env.lastNotification()
		if n.Result != st.wantResult || n.OrderRef != o.ID || n.OrderKind != store.KindPay || n.SigValid == nil || !*n.SigValid {
			t.Errorf("%s: stored %+v", st.name, n.NotificationOutcome)
		}
		got, _ := env.db.PayOrderByID(ctx, o.ID)
		if got.StatusOr(-99) != st.wantStatus {
			t.Errorf("%s: order status %d, want %d", st.name, got.StatusOr(-99), st.wantStatus)
		}
	}
	if n := env.statusEvents(store.KindPay, o.ID); n != 2 {
		t.Errorf("status changes on the timeline: %d, want 2", n)
	}
}

func TestNotifyRejectsAndAlerts(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M200", "P200", 5000, payments.PayCreated)
	ctx := context.Background()

	tamperedAmount := cbSigned(cbPayFields("P200", "M200", 5000, 2), testKey)
	tamperedAmount.Set("amount", "1")
	addedField := cbSigned(cbPayFields("P200", "M200", 5000, 2), testKey)
	addedField.Set("income", "4990")
	otherMch := cbPayFields("P200", "M200", 5000, 2)
	otherMch["mchId"] = "99999999"

	cases := []struct {
		name       string
		v          url.Values
		body       string // raw body instead of v
		wantCode   int
		wantResult string
		wantAlert  string
	}{
		{"forged signature", cbSigned(cbPayFields("P200", "M200", 5000, 2), "WRONGKEY"), "", 403, store.NotifyRejected, store.AlertBadSignature},
		{"field changed after signing", tamperedAmount, "", 403, store.NotifyRejected, store.AlertBadSignature},
		{"field added after signing", addedField, "", 403, store.NotifyRejected, store.AlertBadSignature},
		{"unknown merchant", cbSigned(otherMch, testKey), "", 403, store.NotifyRejected, store.AlertUnknownMerchant},
		{"mismatched amount, correctly signed", cbSigned(cbPayFields("P200", "M200", 4000, 2), testKey), "", 409, store.NotifyAlert, store.AlertMismatch},
		{"mismatched order number, correctly signed", cbSigned(cbPayFields("P200", "M999", 5000, 2), testKey), "", 409, store.NotifyAlert, store.AlertMismatch},
		{"unreadable body", nil, "params=%7Bbroken", 400, store.NotifyRejected, store.AlertUnreadable},
		{"empty body", nil, " ", 400, store.NotifyRejected, store.AlertUnreadable},
	}
	for _, c := range cases {
		var res response
		if c.v != nil {
			res = env.sendNotify("pay", "POST", c.v)
		} else {
			req, _ := http.NewRequest("POST", env.ts.URL+"/notify/pay", strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res = response{r, cbReadAll(r)}
			r.Body.Close()
		}
		if res.StatusCode != c.wantCode || res.body == "success" {
			t.Errorf("%s: reply %d %q, want %d and not success", c.name, res.StatusCode, res.body, c.wantCode)
		}
		n := env.lastNotification()
		if n.Result != c.wantResult || n.ReplyCode != c.wantCode {
			t.Errorf("%s: stored result %q reply %d (%s)", c.name, n.Result, n.ReplyCode, n.Reason)
		}
		alerts, err := env.db.Alerts(ctx, false, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range alerts {
			found = found || a.Kind == c.wantAlert
		}
		if !found {
			t.Errorf("%s: no open %s alert in %+v", c.name, c.wantAlert, alerts)
		}
	}
	got, _ := env.db.PayOrderByID(ctx, o.ID)
	if got.StatusOr(-99) != payments.PayCreated || env.statusEvents(store.KindPay, o.ID) != 0 {
		t.Errorf("the order changed: status %d", got.StatusOr(-99))
	}
	// Every request was stored, none dropped.
	all, _ := env.db.Notifications(ctx, store.NotificationFilter{Limit: 100})
	if len(all) != len(cases) {
		t.Errorf("stored %d notifications, sent %d", len(all), len(cases))
	}
}

func TestNotifyUnknownFieldsSigned(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M300", "P300", 100, payments.PayPaying)
	f := cbPayFields("P300", "M300", 100, 2)
	f["income"] = "99"
	f["param10"] = "x"
	f["zzNewField"] = "a b&c=d"
	res := env.sendNotify("pay", "POST", cbSigned(f, testKey))
	if res.StatusCode != 200 || res.body != "success" {
		t.Fatalf("reply %d %q", res.StatusCode, res.body)
	}
	got, _ := env.db.PayOrderByID(context.Background(), o.ID)
	if got.StatusOr(-1) != 2 {
		t.Errorf("status %d, want 2", got.StatusOr(-1))
	}
	// The params-JSON encoding is read too.
	o2 := env.cbPayOrder(acct.ID, "M301", "P301", 100, payments.PayPaying)
	p := cbPayFields("P301", "M301", 100, 2)
	p["sign"] = payments.Sign(p, testKey)
	var js strings.Builder
	js.WriteString("{")
	first := true
	for k, v := range p {
		if !first {
			js.WriteString(",")
		}
		first = false
		fmt.Fprintf(&js, "%q:%q", k, payments.ValueString(v))
	}
	js.WriteString("}")
	res = env.sendNotify("pay", "POST", url.Values{"params": {js.String()}})
	if res.StatusCode != 200 || res.body != "success" {
		t.Fatalf("params JSON: reply %d %q", res.StatusCode, res.body)
	}
	got, _ = env.db.PayOrderByID(context.Background(), o2.ID)
	if got.StatusOr(-1) != 2 {
		t.Errorf("params JSON: status %d, want 2", got.StatusOr(-1))
	}
}

func TestNotifyPayoutByGET(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	p := env.cbPayout(acct.ID, "T-M1", "T100", 88800, payments.TransTransferring)
	ctx := context.Background()
	for _, step := range []struct {
		status     int
		wantResult string
		wantCode   int
		want       int
	}{
		{2, store.NotifyApplied, 200, 2},
		{2, store.NotifyDuplicate, 200, 2},
		{1, store.NotifyStale, 200, 2},
		{3, store.NotifyAlert, 200, 2}, // contradicts the success: alert, nothing changes
	} {
		res := env.sendNotify("trans", "GET", cbSigned(cbTransFields("T100", "T-M1", 88800, step.status), testKey))
		if res.StatusCode != step.wantCode {
			t.Fatalf("status %d: reply %d %q", step.status, res.StatusCode, res.body)
		}
		n := env.lastNotification()
		if n.Result != step.wantResult || n.Method != "GET" || n.RawQuery == "" {
			t.Errorf("status %d: stored %s %s (%s)", step.status, n.Method, n.Result, n.Reason)
		}
		got, _ := env.db.PayoutByID(ctx, p.ID)
		if got.StatusOr(-1) != step.want {
			t.Errorf("status %d: payout status %d, want %d", step.status, got.StatusOr(-1), step.want)
		}
	}
	alerts, _ := env.db.AlertsForOrder(ctx, store.KindTrans, p.ID)
	if len(alerts) != 1 || alerts[0].Kind != store.AlertContradiction {
		t.Errorf("alerts %+v", alerts)
	}
}

func TestNotifyExternalOrder(t *testing.T) {
	env := newTestEnv(t)
	env.cbAccount("Main", testMchID, testKey)
	ctx := context.Background()
	res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-EXT-1", "SHOP-77", 990, 2), testKey))
	if res.StatusCode != 200 || res.body != "success" {
		t.Fatalf("reply %d %q", res.StatusCode, res.body)
	}
	o, err := env.db.PayOrderByNumber(ctx, "SHOP-77")
	if err != nil {
		t.Fatal(err)
	}
	if o.Origin != "external" || o.PayOrderID != "P-EXT-1" || o.Amount != 990 || o.StatusOr(-1) != 2 {
		t.Errorf("external order %+v", o)
	}
	// The same callback again is a duplicate of that order, not a second order.
	res = env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-EXT-1", "SHOP-77", 990, 2), testKey))
	if res.body != "success" || env.lastNotification().Result != store.NotifyDuplicate {
		t.Errorf("repeat: %q %s", res.body, env.lastNotification().Result)
	}
	res = env.sendNotify("trans", "GET", cbSigned(cbTransFields("T-EXT-1", "SHOP-T-1", 5000, 2), testKey))
	if res.body != "success" {
		t.Fatalf("payout reply %d %q", res.StatusCode, res.body)
	}
	p, err := env.db.PayoutByNumber(ctx, "T-EXT-1")
	if err != nil || p.Origin != "external" || p.StatusOr(-1) != 2 || p.Amount != 5000 {
		t.Errorf("external payout %+v %v", p, err)
	}
}

// A crash after the raw row was committed and before it was applied leaves
// it pending; the sweep applies it, once.
func TestNotifySweepAppliesPendingOnce(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M400", "P400", 700, payments.PayPaying)
	ctx := context.Background()
	body := cbSigned(cbPayFields("P400", "M400", 700, 2), testKey).Encode()
	raw := store.RawNotification{Kind: store.KindPay, Method: "POST", ClientAddr: "10.0.0.1",
		Headers: "Content-Type: application/x-www-form-urlencoded\n", RawBody: []byte(body)}
	id, err := env.db.InsertRawNotification(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := env.db.InsertRawNotification(ctx, raw) // the gateway's retry, also cut short
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := env.desk.SweepPendingCallbacks(ctx); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := env.db.NotificationByID(ctx, id)
	n2, _ := env.db.NotificationByID(ctx, id2)
	if n.Result != store.NotifyApplied || n2.Result != store.NotifyDuplicate || n.OrderRef != o.ID {
		t.Errorf("after sweep: %s, %s", n.Result, n2.Result)
	}
	got, _ := env.db.PayOrderByID(ctx, o.ID)
	if got.StatusOr(-1) != 2 || env.statusEvents(store.KindPay, o.ID) != 1 {
		t.Errorf("status %d with %d status events, want 2 with 1", got.StatusOr(-1), env.statusEvents(store.KindPay, o.ID))
	}
	pending, _ := env.db.PendingNotifications(ctx, env.srv.now().Add(1e9), 10)
	if len(pending) != 0 {
		t.Errorf("still pending: %d", len(pending))
	}
}

// FuzzNotify sends arbitrary requests to the notify endpoints: never a
// panic, never a 5xx while the database works, always a stored row or,
// for rejected requests beyond the budget, a counted alert.
func FuzzNotify(f *testing.F) {
	db, err := store.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	srv, err := testServer(f, testConfig{}, db, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	handler := srv.Handler(testStatic())
	cbAccountTo(f, db, srv, "Main", testMchID, testKey, "http://127.0.0.1:1", "http://127.0.0.1:2")

	f.Add("POST", "pay", "", "application/x-www-form-urlencoded", []byte("mchId=20001222&status=2&sign=00"))
	f.Add("GET", "trans", "mchId=20001222&transOrderId=T1&status=2&amount=1&sign=x", "", []byte(nil))
	f.Add("POST", "pay", "params=%7B%22a%22%3A1%7D", "text/plain", []byte(`{"mchId":"20001222","amount":1.5}`))
	f.Add("POST", "trans", "%zz", "application/json", []byte("{\x00"))
	f.Add("POST", "pay", "", "multipart/form-data; boundary=x", []byte("--x--"))
	f.Add("POST", "pay", "", "application/x-www-form-urlencoded", []byte(cbSigned(cbPayFields("P9", "M9", 10, 2), testKey).Encode()))
	f.Add("GET", "pay", cbSigned(cbPayFields("P9", "M9", 0, 2), testKey).Encode(), "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, kind, query, contentType string, body []byte) {
		if method != "GET" {
			method = "POST"
		}
		if kind != "trans" {
			kind = "pay"
		}
		target := "/notify/" + kind
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.URL.RawQuery = query
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		counted := func() (n int) {
			db.QueryRow(`SELECT coalesce(sum(count), 0) FROM alerts`).Scan(&n)
			return n
		}
		before, _ := db.Notifications(context.Background(), store.NotificationFilter{Limit: 1})
		countedBefore := counted()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%q: %d %s", method, target, query, rec.Code, rec.Body)
		}
		after, _ := db.Notifications(context.Background(), store.NotificationFilter{Limit: 1})
		if len(after) == 0 || (len(before) > 0 && after[0].ID == before[0].ID) {
			if rec.Code < 400 || counted() != countedBefore+1 {
				t.Fatalf("nothing stored or counted for %s %s?%q: %d", method, target, query, rec.Code)
			}
			return
		}
		if rec.Body.String() == "success" && after[0].Result == store.NotifyRejected {
			t.Fatalf("answered success to a rejected callback")
		}
		if after[0].Result == store.NotifyRejected && (after[0].SigValid == nil || !*after[0].SigValid) && (len(after[0].RawQuery) > rejectedKeep || len(after[0].RawBody) > rejectedKeep) {
			t.Fatalf("a rejected, unsigned request stored %d+%d bytes", len(after[0].RawQuery), len(after[0].RawBody))
		}
		if rec.Body.String() != "success" && rec.Code == 200 {
			t.Fatalf("200 with body %q", rec.Body)
		}
	})
}

// Concurrent identical callbacks share commits: one applies (here: records
// the external order), the others are duplicates, all are answered success.
func TestNotifyConcurrentDuplicates(t *testing.T) {
	env := newTestEnv(t)
	env.cbAccount("Main", testMchID, testKey)
	body := cbSigned(cbPayFields("P-CONC-1", "SHOP-CONC-1", 700, 2), testKey)
	const n = 32
	var wg sync.WaitGroup
	replies := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.PostForm(env.ts.URL+"/notify/pay", body)
			if err != nil {
				replies[i] = err.Error()
				return
			}
			replies[i] = cbReadAll(res)
			res.Body.Close()
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if r != "success" {
			t.Errorf("reply %d: %q", i, r)
		}
	}
	ctx := context.Background()
	applied, _ := env.db.Notifications(ctx, store.NotificationFilter{Result: store.NotifyApplied, Limit: 100})
	dups, _ := env.db.Notifications(ctx, store.NotificationFilter{Result: store.NotifyDuplicate, Limit: 100})
	if len(applied) != 1 || len(dups) != n-1 {
		t.Errorf("%d applied, %d duplicates; want 1 and %d", len(applied), len(dups), n-1)
	}
	var orders int
	env.db.QueryRow(`SELECT count(*) FROM pay_orders WHERE mch_order_no = 'SHOP-CONC-1'`).Scan(&orders)
	if orders != 1 {
		t.Errorf("%d orders recorded, want 1", orders)
	}
}

// The sandbox sends every attempt twice and an older status after the
// newer one: the order ends paid, once, and every delivery is answered success.
func TestNotifySandboxDuplicatesAndOutOfOrder(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{DuplicateNotify: true, OutOfOrder: true})
	payID, o := env.cbSandboxPay("M-OOO-1", 321, env.desk.NotifyURL(env.account, "pay"), true)
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "three deliveries", 5*time.Second, func() bool {
		n := 0
		for _, a := range env.sb.Attempts(payID) {
			if a.HTTPStatus != 0 {
				n++
			}
		}
		return n == 3
	})
	for _, a := range env.sb.Attempts(payID) {
		if !a.OK {
			t.Errorf("delivery not acknowledged: %+v", a)
		}
	}
	ctx := context.Background()
	ns, _ := env.db.NotificationsForOrder(ctx, store.KindPay, o.ID)
	results := map[string]int{}
	for _, n := range ns {
		results[n.Result]++
	}
	if results[store.NotifyApplied] != 1 || results[store.NotifyDuplicate] != 1 || results[store.NotifyStale] != 1 {
		t.Errorf("results %v, want one applied, one duplicate, one stale", results)
	}
	if env.cbPayStatus(o.ID) != payments.PayPaid || env.statusEvents(store.KindPay, o.ID) != 1 {
		t.Errorf("status %d with %d changes", env.cbPayStatus(o.ID), env.statusEvents(store.KindPay, o.ID))
	}
}

// With the database gone, a callback is answered with a failure (so the
// gateway sends it again), never with success.
func TestNotifyDatabaseDownIsNotSuccess(t *testing.T) {
	env := newTestEnv(t)
	env.cbAccount("Main", testMchID, testKey)
	env.db.Close()
	res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-DOWN", "M-DOWN", 100, 2), testKey))
	if res.StatusCode != http.StatusServiceUnavailable || res.body == "success" {
		t.Errorf("reply %d %q", res.StatusCode, res.body)
	}
}

// A key changed in the gateway settings verifies callbacks at once: the
// cached keys are dropped.
func TestNotifyKeyChangeTakesEffectAtOnce(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	env.cbPayOrder(acct.ID, "M-KEY-1", "P-KEY-1", 100, payments.PayPaying)
	fields := cbPayFields("P-KEY-1", "M-KEY-1", 100, 2)
	if res := env.sendNotify("pay", "POST", cbSigned(fields, "rotated-key")); res.StatusCode != 403 {
		t.Fatalf("new key before the change: %d %q", res.StatusCode, res.body)
	}
	admin, _ := env.signedIn(store.RoleAdmin)
	res := admin.postForm(fmt.Sprintf("/settings/gateways/%d", acct.ID), url.Values{"name": {acct.Name}, "base_url": {"http://127.0.0.1:1"},
		"notify_base_url": {env.ts.URL}, "mch_id": {testMchID}, "app_id": {"app1"}, "key": {"rotated-key"}})
	if res.StatusCode != 303 {
		t.Fatalf("save the key: %d %s", res.StatusCode, res.body)
	}
	if res := env.sendNotify("pay", "POST", cbSigned(fields, "rotated-key")); res.StatusCode != 200 || res.body != "success" {
		t.Errorf("new key after the change: %d %q", res.StatusCode, res.body)
	}
}

// An oversized callback is stored (its start, with the length received)
// and rejected, not dropped.
func TestNotifyOversizedIsStoredAndRejected(t *testing.T) {
	env := newTestEnv(t)
	env.cbAccount("Main", testMchID, testKey)
	v := cbSigned(cbPayFields("P-BIG", "M-BIG", 100, 2), testKey)
	v.Set("padding", strings.Repeat("x", 100<<10))
	for _, method := range []string{"POST", "GET"} {
		res := env.sendNotify("pay", method, v)
		n := env.lastNotification()
		if res.StatusCode != 400 || n.Result != store.NotifyRejected || n.Method != method || len(n.RawBody)+len(n.RawQuery) != rejectedKeep ||
			n.QueryLen+n.BodyLen != len(v.Encode()) || !n.Cut() {
			t.Errorf("%s: reply %d, stored %s with %d+%d bytes of %d+%d", method, res.StatusCode, n.Result, len(n.RawQuery), len(n.RawBody), n.QueryLen, n.BodyLen)
		}
	}
}
