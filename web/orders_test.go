package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// cbWait polls cond until it holds or the time is up.
func cbWait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cbSandboxPay creates a pay order at the sandbox with notify as its
// notifyUrl; with keep, the console holds it as its own order.
func (e *testEnv) cbSandboxPay(no string, amount int64, notify string, keep bool) (string, store.PayOrder) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.gatewayClient()
	if err != nil {
		e.t.Fatal(err)
	}
	created, err := c.CreatePayOrder(ctx, payments.PayOrderRequest{ProductID: 8000, MchOrderNo: no, Amount: amount, NotifyURL: notify,
		Subject: "test", Body: "test", ClientIP: "127.0.0.1"})
	if err != nil {
		e.t.Fatal(err)
	}
	if !keep {
		return created.PayOrderID, store.PayOrder{}
	}
	var id int64
	err = e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: e.account.ID, MchOrderNo: no, PayOrderID: created.PayOrderID, ProductID: 8000,
			Amount: amount, Subject: "test", Body: "test", Status: cbIntp(0), State: store.PayStateOpen, CreatedBy: "tester"})
		if err != nil {
			return err
		}
		return e.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: id, Type: store.EventCreated, Actor: "tester", Summary: "Created"})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	o, _ := e.db.PayOrderByID(ctx, id)
	return created.PayOrderID, o
}

func (e *testEnv) cbPayStatus(id int64) int {
	o, err := e.db.PayOrderByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o.StatusOr(-99)
}

func TestLookupKeepsExternalOrders(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	// Orders made by the merchant's other systems, notified elsewhere.
	payID, _ := env.cbSandboxPay("SHOP-1001", 2500, "http://127.0.0.1:9/notify", false)
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	c, _ := env.gatewayClient()
	tr, err := c.CreateTransOrder(ctx, payments.TransOrderRequest{MchTransOrderNo: "SHOP-T-9", Amount: 10000, ClientIP: "127.0.0.1",
		NotifyURL: "http://127.0.0.1:9/notify", AccountAttr: "0", BankCode: "HPT00001", BankName: "中国工商银行", AccountType: "1",
		AccountName: "张三", AccountNo: "6222000011112222", Province: "广东", City: "深圳"})
	if err != nil {
		t.Fatal(err)
	}
	// A viewer searches what is stored, but asking the gateway (and
	// keeping its answer) needs an operator: no button, and 403.
	viewer, _ := env.signedIn(store.RoleViewer)
	res := viewer.get("/orders?q=SHOP-1001")
	if !strings.Contains(res.body, `data-testid="not-local"`) || strings.Contains(res.body, `data-testid="ask-gateway"`) ||
		!strings.Contains(res.body, `data-testid="ask-operator"`) {
		t.Fatalf("viewer's search page offers the lookup, or does not say who can: %s", res.body)
	}
	res = viewer.postForm("/orders/lookup", url.Values{"q": {"SHOP-1001"}, "account": {strconv.FormatInt(env.account.ID, 10)}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer's lookup answered %d", res.StatusCode)
	}
	if _, err := env.db.PayOrderByNumber(ctx, "SHOP-1001"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a viewer's lookup kept an order: %v", err)
	}
	b, _ := env.signedIn(store.RoleOperator)
	if res := b.get("/orders?q=SHOP-1001"); !strings.Contains(res.body, `data-testid="ask-gateway"`) {
		t.Fatalf("operator's search page lacks the lookup: %s", res.body)
	}
	for _, c := range []struct {
		q, kind string
	}{
		{"SHOP-1001", store.KindPay}, // by merchant order number
		{tr.TransOrderID, store.KindTrans},
	} {
		res := b.get("/orders?q=" + url.QueryEscape(c.q))
		if res.StatusCode != 200 || !strings.Contains(res.body, `data-testid="not-local"`) {
			t.Fatalf("%s: search page %d without the not-stored note", c.q, res.StatusCode)
		}
		res = b.postForm("/orders/lookup", url.Values{"q": {c.q}, "account": {strconv.FormatInt(env.account.ID, 10)}})
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/orders/"+c.kind+"/") {
			t.Fatalf("%s: lookup answered %d %s: %s", c.q, res.StatusCode, res.Header.Get("Location"), res.body)
		}
		page := b.get(res.Header.Get("Location"))
		if !strings.Contains(page.body, `data-testid="order-external"`) || !strings.Contains(page.body, "Found at the gateway by the number") {
			t.Errorf("%s: order page lacks the external badge or the lookup entry", c.q)
		}
		// Found locally now: the search lists it.
		if res := b.get("/orders?q=" + url.QueryEscape(c.q)); !strings.Contains(res.body, `data-testid="search-results"`) {
			t.Errorf("%s: not found locally after the lookup", c.q)
		}
	}
	o, err := env.db.PayOrderByNumber(ctx, "SHOP-1001")
	if err != nil || o.Origin != "external" || o.StatusOr(-1) != payments.PayPaid || o.Amount != 2500 || o.PayOrderID != payID {
		t.Fatalf("kept pay order %+v %v", o, err)
	}
	evs, _ := env.db.Events(ctx, store.KindPay, o.ID)
	if len(evs) == 0 || evs[0].Type != store.EventQuery {
		t.Errorf("first timeline event %+v, want the lookup query", evs)
	}
	res = b.postForm("/orders/lookup", url.Values{"q": {"NOPE-404"}, "account": {strconv.FormatInt(env.account.ID, 10)}})
	if res.StatusCode != 422 || !strings.Contains(res.body, "knows no pay order and no payout") {
		t.Errorf("unknown number: %d", res.StatusCode)
	}
}

func TestResendAndTimeline(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	notify := env.desk.NotifyURL(env.account, "pay")
	payID, o := env.cbSandboxPay("M-RS-1", 4200, notify, true)
	_, unpaid := env.cbSandboxPay("M-RS-2", 100, notify, true)
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "the paid callback", 5*time.Second, func() bool { return env.cbPayStatus(o.ID) == payments.PayPaid })

	b, _ := env.signedIn(store.RoleOperator)
	page := b.get(orderHref(store.KindPay, o.ID))
	if page.StatusCode != 200 || !strings.Contains(page.body, "Gateway notification received and applied: the order is paid.") || strings.Contains(page.body, `data-testid="resend-warning"`) {
		t.Fatalf("order page %d:\n%s", page.StatusCode, page.body)
	}
	res := b.postForm(orderHref(store.KindPay, o.ID)+"/resend", nil)
	if res.StatusCode != 303 {
		t.Fatalf("resend: %d %s", res.StatusCode, res.body)
	}
	cbWait(t, "the resent callback", 5*time.Second, func() bool {
		ns, _ := env.db.NotificationsForOrder(context.Background(), store.KindPay, o.ID)
		return len(ns) == 2
	})
	tl := b.get(orderHref(store.KindPay, o.ID) + "/timeline")
	for _, want := range []string{"Asked the gateway to send its notification again.", "the gateway sends its notification again", "The notification asked for by the resend arrived", "Gateway notification received again"} {
		if !strings.Contains(tl.body, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl.body)
		}
	}
	// At once again: the cooldown refuses.
	b.postForm(orderHref(store.KindPay, o.ID)+"/resend", nil)
	page = b.get(orderHref(store.KindPay, o.ID))
	if n := strings.Count(page.body, "Asked the gateway to send its notification again."); n != 1 {
		t.Errorf("%d resends on the timeline, want 1 (cooldown)", n)
	}
	if !strings.Contains(page.body, "Wait") {
		t.Errorf("no cooldown message")
	}

	// An unpaid order: warned before, and nothing expected after.
	page = b.get(orderHref(store.KindPay, unpaid.ID))
	if !strings.Contains(page.body, `data-testid="resend-warning"`) {
		t.Errorf("no warning on an unpaid order")
	}
	b.postForm(orderHref(store.KindPay, unpaid.ID)+"/resend", nil)
	tl = b.get(orderHref(store.KindPay, unpaid.ID) + "/timeline")
	if !strings.Contains(tl.body, "so no notification is sent") || !strings.Contains(tl.body, "no callback is expected from this resend") {
		t.Errorf("unpaid resend timeline:\n%s", tl.body)
	}
	var audits int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'order.resend'`).Scan(&audits)
	if audits != 2 {
		t.Errorf("%d resend audit rows, want 2", audits)
	}
	// A viewer may not resend.
	vb, _ := env.signedIn(store.RoleViewer)
	if res := vb.postForm(orderHref(store.KindPay, o.ID)+"/resend", nil); res.StatusCode != 403 {
		t.Errorf("viewer resend: %d", res.StatusCode)
	}
}

func TestTimelinePredictsGatewayRetries(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	o := env.cbPayOrder(acct.ID, "M-PR-1", "P-PR-1", 500, payments.PayPaying)
	ctx := context.Background()
	// Correctly signed, wrong amount: answered 409, so the gateway retries.
	bad := cbSigned(cbPayFields("P-PR-1", "M-PR-1", 499, 2), testKey)
	env.sendNotify("pay", "POST", bad)
	entries, err := env.srv.timelineEntries(ctx, store.KindPay, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if last.Type != "pending" || !strings.Contains(last.Summary, "attempt 2 of 6") {
		t.Fatalf("last entry %+v", last)
	}
	for range 5 {
		env.sendNotify("pay", "POST", bad)
	}
	entries, _ = env.srv.timelineEntries(ctx, store.KindPay, o.ID)
	if last := entries[len(entries)-1]; !strings.Contains(last.Summary, "The gateway has stopped retrying") {
		t.Fatalf("after six: %+v", last)
	}
	// Paid learned without a callback: the next attempt of the chain is predicted.
	o2 := env.cbPayOrder(acct.ID, "M-PR-2", "P-PR-2", 500, payments.PayPaying)
	err = env.db.InTx(ctx, func(tx *sql.Tx) error {
		// As a query would record it.
		st := payments.PayPaid
		next := o2
		next.Status, next.PaySuccAt = &st, env.now().Add(-90*time.Second)
		if err := env.db.UpdatePayOrderTx(ctx, tx, o2, next); err != nil {
			return err
		}
		return env.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o2.ID, Type: store.EventStatus, Actor: "t", Status: &st,
			Summary: "Status paying → paid (from query)"})
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ = env.srv.timelineEntries(ctx, store.KindPay, o2.ID)
	if last := entries[len(entries)-1]; !strings.Contains(last.Summary, "attempt 3 of 6") {
		t.Fatalf("paid without callback: %+v", last)
	}
	if res := env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-PR-2", "M-PR-2", 500, 2), testKey)); res.body != "success" {
		t.Fatal(res.body)
	}
	entries, _ = env.srv.timelineEntries(ctx, store.KindPay, o2.ID)
	for _, e := range entries {
		if e.Type == "pending" {
			t.Errorf("still expecting after the callback: %+v", e)
		}
	}
}

func TestReconcilerFlagsMissedCallbacks(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{RefuseNotifies: 6})
	ctx := context.Background()
	payID, o := env.cbSandboxPay("M-RC-1", 800, env.desk.NotifyURL(env.account, "pay"), true)
	_, open := env.cbSandboxPay("M-RC-2", 800, env.desk.NotifyURL(env.account, "pay"), true)
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "the refused chain", 5*time.Second, func() bool { return len(env.sb.Attempts(payID)) == 6 })
	if env.cbPayStatus(o.ID) != payments.PayCreated {
		t.Fatal("a refused callback arrived")
	}
	env.advance(11 * time.Minute) // past the reconciler's 10 minutes without news
	n, err := env.desk.Reconcile(ctx)
	if err != nil || n != 2 {
		t.Fatalf("reconciled %d: %v", n, err)
	}
	if env.cbPayStatus(o.ID) != payments.PayPaid || env.cbPayStatus(open.ID) != payments.PayCreated {
		t.Fatalf("statuses after reconcile: %d %d", env.cbPayStatus(o.ID), env.cbPayStatus(open.ID))
	}
	alerts, _ := env.db.AlertsForOrder(ctx, store.KindPay, o.ID)
	if len(alerts) != 1 || alerts[0].Kind != store.AlertMissedCallback {
		t.Fatalf("alerts %+v", alerts)
	}
	// The unpaid order is not asked again at once (backoff).
	if n, _ := env.desk.Reconcile(ctx); n != 0 {
		t.Errorf("asked again: %d", n)
	}
	b, _ := env.signedIn(store.RoleOperator)
	page := b.get("/notifications")
	if !strings.Contains(page.body, `data-kind="missed_callback"`) {
		t.Fatalf("notifications page lacks the missed callback:\n%s", page.body)
	}
	if !strings.Contains(b.get("/orders").body, `data-testid="open-alerts" title="Alerts to acknowledge">1<`) {
		t.Error("the navigation does not count the open alert")
	}
	res := b.postForm(fmt.Sprintf("/alerts/%d/ack", alerts[0].ID), url.Values{"note": {"Shop told by phone"}})
	if res.StatusCode != 303 {
		t.Fatalf("ack: %d", res.StatusCode)
	}
	if page := b.get("/notifications"); strings.Contains(page.body, `data-kind="missed_callback"`) || strings.Contains(page.body, `data-testid="open-alerts"`) {
		t.Error("acknowledged alert still listed or counted")
	}
	var audits int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'alert.ack' AND detail LIKE '%Shop told by phone%'`).Scan(&audits)
	if audits != 1 {
		t.Errorf("ack audit rows %d", audits)
	}
}

func TestNotificationLogFilters(t *testing.T) {
	env := newTestEnv(t)
	acct := env.cbAccount("Main", testMchID, testKey)
	env.cbPayOrder(acct.ID, "M-NL-1", "P-NL-1", 100, payments.PayPaying)
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-NL-1", "M-NL-1", 100, 2), testKey))
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-NL-1", "M-NL-1", 100, 2), "FORGED"))
	env.sendNotify("trans", "GET", cbSigned(cbTransFields("T-NL-1", "MT-NL-1", 300, 2), testKey))
	b, _ := env.signedIn(store.RoleViewer)
	for _, c := range []struct {
		query string
		want  int
	}{
		{"", 3},
		{"?kind=trans", 1},
		{"?result=rejected", 1},
		{"?result=applied&kind=pay", 1},
		{"?order=M-NL-1", 2},
		{"?from=2000-01-01&to=2000-01-02", 0},
	} {
		res := b.get("/notifications" + c.query)
		if got := strings.Count(res.body, `data-testid="notification"`); res.StatusCode != 200 || got != c.want {
			t.Errorf("%q: %d rows (status %d), want %d", c.query, got, res.StatusCode, c.want)
		}
	}
	n := env.lastNotification()
	res := b.get(fmt.Sprintf("/notifications/%d", n.ID))
	if !strings.Contains(res.body, `data-testid="raw-query"`) || !strings.Contains(res.body, "MT-NL-1") {
		t.Errorf("raw request page:\n%s", res.body)
	}
	if !strings.Contains(b.get("/notifications").body, `data-kind="bad_signature"`) {
		t.Error("no bad signature alert listed")
	}
}

func TestBulkResend(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	notify := env.desk.NotifyURL(env.account, "pay")
	var paid []store.PayOrder
	for i := range 3 {
		id, o := env.cbSandboxPay(fmt.Sprintf("M-BR-%d", i), 100, notify, true)
		if err := env.sb.Pay(id); err != nil {
			t.Fatal(err)
		}
		paid = append(paid, o)
	}
	env.cbSandboxPay("M-BR-open", 100, notify, true)
	for _, o := range paid {
		cbWait(t, "paid", 5*time.Second, func() bool { return env.cbPayStatus(o.ID) == payments.PayPaid })
	}
	b, _ := env.signedIn(store.RoleOperator)
	form := url.Values{"kind": {"pay"}}
	res := b.postForm("/orders/resend", form)
	if !strings.Contains(res.body, `data-testid="preview-total">4<`) || !strings.Contains(res.body, `data-testid="preview-eligible">3<`) {
		t.Fatalf("preview:\n%s", res.body)
	}
	form.Set("confirm", "1")
	res = b.postForm("/orders/resend", form)
	if res.StatusCode != 303 {
		t.Fatalf("confirm: %d %s", res.StatusCode, res.body)
	}
	job := res.Header.Get("Location")
	cbWait(t, "the job", 10*time.Second, func() bool {
		return strings.Contains(b.get(job).body, `data-state="finished"`)
	})
	page := b.get(job)
	if !strings.Contains(page.body, "3 of 3 done: 3 asked to notify") {
		t.Errorf("job page:\n%s", page.body)
	}
	var audits int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'order.resend'`).Scan(&audits)
	if audits != 3 {
		t.Errorf("%d resend audit rows, want 3", audits)
	}
	// Right after, every order is cooling down.
	form.Del("confirm")
	if res := b.postForm("/orders/resend", form); !strings.Contains(res.body, `data-testid="preview-eligible">0<`) {
		t.Errorf("second preview:\n%s", res.body)
	}
}

func TestBulkResendCancel(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	const n = 60 // 3 s of queries at the job's pace: the cancel comes first
	for i := range n {
		o := env.cbPayOrder(env.account.ID, fmt.Sprintf("M-BC-%d", i), fmt.Sprintf("P-BC-%d", i), 100, payments.PayPaid)
		_ = o
	}
	b, _ := env.signedIn(store.RoleOperator)
	res := b.postForm("/orders/resend", url.Values{"status": {"success"}, "confirm": {"1"}})
	if res.StatusCode != 303 {
		t.Fatalf("start: %d %s", res.StatusCode, res.body)
	}
	job := res.Header.Get("Location")
	if res := b.postForm(job+"/cancel", nil); res.StatusCode != 303 {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	cbWait(t, "the cancelled job", 5*time.Second, func() bool { return strings.Contains(b.get(job).body, `data-state="cancelled"`) })
	id, _ := strconv.ParseInt(strings.TrimPrefix(job, "/orders/resend/"), 10, 64)
	j, _, err := env.db.ResendJobByID(ctx, id)
	if err != nil || j.Done >= n || j.Total != n {
		t.Errorf("job after cancel %+v %v", j, err)
	}
	var audits int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'resend.cancel'`).Scan(&audits)
	if audits != 1 {
		t.Errorf("cancel audit rows %d", audits)
	}
}

func TestReconcilerPayouts(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{RefuseNotifies: 6})
	ctx := context.Background()
	c, _ := env.gatewayClient()
	var ids []int64
	for _, no := range []string{"6222000011112222", "6222000011112224"} { // ends in 4: the sandbox fails it
		mch := "MT-RC-" + no[len(no)-1:]
		tr, err := c.CreateTransOrder(ctx, payments.TransOrderRequest{MchTransOrderNo: mch, Amount: 5000, ClientIP: "127.0.0.1",
			NotifyURL: env.desk.NotifyURL(env.account, "trans"), AccountAttr: "0", BankCode: "HPT00001", BankName: "中国工商银行",
			AccountType: "1", AccountName: "张三", AccountNo: no, Province: "广东", City: "深圳"})
		if err != nil {
			t.Fatal(err)
		}
		p := env.cbPayout(env.account.ID, mch, tr.TransOrderID, 5000, payments.TransTransferring)
		ids = append(ids, p.ID)
		cbWait(t, "the refused chain", 5*time.Second, func() bool { return len(env.sb.Attempts(tr.TransOrderID)) == 6 })
	}
	env.advance(11 * time.Minute)
	if n, err := env.desk.Reconcile(ctx); err != nil || n != 2 {
		t.Fatalf("reconciled %d: %v", n, err)
	}
	ok, _ := env.db.PayoutByID(ctx, ids[0])
	failed, _ := env.db.PayoutByID(ctx, ids[1])
	if ok.StatusOr(-1) != payments.TransSucceeded || failed.StatusOr(-1) != payments.TransFailed || !strings.Contains(failed.LastError, "账号以4结尾") {
		t.Errorf("payouts after reconcile: %d, %d %q", ok.StatusOr(-1), failed.StatusOr(-1), failed.LastError)
	}
	for _, id := range ids {
		if alerts, _ := env.db.AlertsForOrder(ctx, store.KindTrans, id); len(alerts) != 1 || alerts[0].Kind != store.AlertMissedCallback {
			t.Errorf("payout %d alerts %+v", id, alerts)
		}
	}
}

// A paid callback's income reaches the pay order (for the home page's
// fees), also when the order was already known paid from a query, and a
// malformed income never makes the callback unreadable.
func TestCallbackIncomeKept(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	notify := env.desk.NotifyURL(env.account, "pay")
	payID, o := env.cbSandboxPay("M-INC-1", 4200, notify, true)
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "the paid callback", 5*time.Second, func() bool { return env.cbPayStatus(o.ID) == payments.PayPaid })
	got, err := env.db.PayOrderByID(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Income <= 0 || got.Income >= got.Amount {
		t.Fatalf("income %d of an order of %d", got.Income, got.Amount)
	}

	// Known paid without income (as a query leaves it), then a callback
	// that repeats the status with income: the income is kept, the
	// callback counts as a repeat.
	acct := env.cbAccount("Second", "20009999", "k2-0123456789abcdef0123456789abcdef")
	q := env.cbPayOrder(acct.ID, "M-INC-2", "P-INC-2", 1000, payments.PayPaid)
	fields := cbPayFields("P-INC-2", "M-INC-2", 1000, payments.PayPaid)
	fields["mchId"] = "20009999"
	fields["income"] = "x9" // malformed: ignored, the callback is still read
	if res := env.sendNotify("pay", "POST", cbSigned(fields, "k2-0123456789abcdef0123456789abcdef")); res.body != "success" {
		t.Fatalf("callback with a malformed income: %d %q", res.StatusCode, res.body)
	}
	fields["income"] = "990"
	if res := env.sendNotify("pay", "POST", cbSigned(fields, "k2-0123456789abcdef0123456789abcdef")); res.body != "success" {
		t.Fatalf("callback with income: %d %q", res.StatusCode, res.body)
	}
	cbWait(t, "the income", 5*time.Second, func() bool {
		got, err := env.db.PayOrderByID(context.Background(), q.ID)
		return err == nil && got.Income == 990
	})
}
