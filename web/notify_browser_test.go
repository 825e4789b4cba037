package web

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"paydesk/desk"
	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// cbBrowserEnv is a console with the real static files (htmx) on a sandbox
// whose schedule runs at scale, with predictions scaled alike.
func cbBrowserEnv(t *testing.T, faults sandbox.Faults, scale float64) *testEnv {
	t.Helper()
	ctx := context.Background()
	sbts := httptest.NewUnstartedServer(nil)
	sb := sandbox.New(sandbox.Config{MchID: testMchID, AppID: testAppID, Key: testKey, PublicURL: "http://" + sbts.Listener.Addr().String(),
		TimeScale: scale, Faults: faults})
	sbts.Config.Handler = sb
	sbts.Start()
	env := &testEnv{t: t, logs: &bytes.Buffer{}}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "paydesk.db"), env.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	env.db = db
	loc, _ := time.LoadLocation("Asia/Shanghai")
	env.ts = httptest.NewUnstartedServer(nil)
	log := slog.New(slog.NewTextHandler(env.logs, nil))
	cfg := testConfig{Config: Config{SandboxURL: sbts.URL, GatewayRetryScale: scale}, Core: desk.Config{PublicURL: "http://" + env.ts.Listener.Addr().String()}}
	env.desk = startCore(t, cfg.coreConfig(loc), db, log, env.now)
	srv, err := New(cfg.Config, env.desk, db, log)
	if err != nil {
		t.Fatal(err)
	}
	watchKeys(t, srv)
	env.srv = srv
	env.ts.Config.Handler = srv.Handler(os.DirFS("../static"))
	env.ts.Start()
	t.Cleanup(func() {
		sb.Close()
		sbts.Close()
		env.ts.Close()
	})
	acct, err := srv.desk.EnsureSandboxAccount(ctx, desk.SandboxAccount{BaseURL: sbts.URL, MchID: testMchID, AppID: testAppID, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	env.sb, env.sbURL, env.account = sb, sbts.URL, acct
	return env
}

// TestBrowserCallbackRetriesAndResend pays an order while the sandbox
// refuses the first two deliveries of every callback chain: the console
// learns the payment by query, its timeline predicts the gateway's next
// attempts, then shows the callback that gets through; a resend brings a
// new callback, shown live.
func TestBrowserCallbackRetriesAndResend(t *testing.T) {
	ctx := bt.New(t)
	// Retries at +1.2 s and +2.4 s: the third attempt arrives 3.6 s after payment.
	env := cbBrowserEnv(t, sandbox.Faults{RefuseNotifies: 2}, 0.02)
	payID, o := env.cbSandboxPay("M-BROWSER-1", 12345, env.desk.NotifyURL(env.account, "pay"), true)
	user := env.addUser(store.RoleOperator)
	page := env.ts.URL + orderHref(store.KindPay, o.ID)

	err := chromedp.Do(ctx,
		chromedp.Navigate(env.ts.URL+"/login"),
		bt.Type("name=username", user),
		bt.Type("name=password", testPassword),
		bt.Click("login-submit"),
		chromedp.WaitVisible(bt.TestID("whoami")),
		chromedp.Navigate(page),
		bt.Visible("timeline"),
	)
	if err != nil {
		t.Fatalf("sign in and open the order: %v", err)
	}
	if err := env.sb.Pay(payID); err != nil {
		t.Fatal(err)
	}
	// The console hears nothing yet (deliveries refused); a query tells it.
	err = chromedp.Do(ctx, bt.Click("query"), chromedp.WaitVisible(`[data-testid="timeline"] li[data-type="pending"]`))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	pending, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="timeline"] li[data-type="pending"]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pending, "No notification of this outcome has reached Paydesk yet") || !strings.Contains(pending, "of 6 is expected around") {
		t.Errorf("prediction: %q", pending)
	}
	bt.Screenshot(t, ctx, "01-paid-by-query-awaiting-callback")

	// The third attempt gets through; the polled timeline shows it and stops predicting.
	err = chromedp.Do(ctx, chromedp.WaitVisible(`[data-testid="timeline"] li[data-type="callback"]`))
	if err != nil {
		t.Fatalf("callback never shown: %v", err)
	}
	text, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid="timeline"]`))
	// The signature and the reply are technical details: in the page's
	// text, not in what it shows before the disclosure is opened.
	all, _ := chromedp.Run(ctx, chromedp.TextContent(`[data-testid="timeline"]`))
	if !strings.Contains(text, "Gateway notification received") || !strings.Contains(all, "sign=valid") || !strings.Contains(all, "reply=200 success") ||
		strings.Contains(text, "sign=valid") || strings.Contains(text, "No notification of this outcome") {
		t.Errorf("timeline after the callback:\n%s", text)
	}
	attempts := env.sb.Attempts(payID)
	if len(attempts) != 3 || attempts[0].Delivered || attempts[1].Delivered || !attempts[2].OK {
		t.Errorf("sandbox attempts %+v", attempts)
	}
	bt.Screenshot(t, ctx, "02-callback-arrived")

	// Resend: the new chain's callback arrives (again after two refusals) and shows up live.
	err = chromedp.Do(ctx,
		bt.Click("resend"),
		chromedp.WaitVisible(bt.TestID("flash")),
		chromedp.WaitVisible(`[data-testid="timeline"] li[data-type="resend"]`),
	)
	if err != nil {
		t.Fatalf("resend: %v", err)
	}
	bt.Screenshot(t, ctx, "03-resend-asked")
	deadline := time.Now().Add(20 * time.Second)
	for {
		text, _ = chromedp.Run(ctx, chromedp.Text(`[data-testid="timeline"]`))
		if strings.Contains(text, "The notification asked for by the resend arrived") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resent callback never showed:\n%s", text)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(text, "Gateway notification received"); n != 2 {
		t.Errorf("%d callbacks on the timeline, want 2:\n%s", n, text)
	}
	bt.Screenshot(t, ctx, "04-resent-callback-arrived")
}

// TestBrowserNotificationLog shows the log with an alert, opens the stored
// request, and acknowledges the alert with a note.
func TestBrowserNotificationLog(t *testing.T) {
	ctx := bt.New(t)
	env := cbBrowserEnv(t, sandbox.Faults{}, 0.001)
	o := env.cbPayOrder(env.account.ID, "M-LOG-1", "P-LOG-1", 990, 1)
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-LOG-1", "M-LOG-1", 990, 2), testKey))
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P-LOG-1", "M-LOG-1", 990, 2), "forged-key"))
	env.sendNotify("trans", "GET", cbSigned(cbTransFields("T-LOG-1", "SHOP-T-LOG", 5000, 2), testKey))
	user := env.addUser(store.RoleOperator)
	err := chromedp.Do(ctx,
		chromedp.Navigate(env.ts.URL+"/login"),
		bt.Type("name=username", user),
		bt.Type("name=password", testPassword),
		bt.Click("login-submit"),
		chromedp.WaitVisible(bt.TestID("whoami")),
		chromedp.Navigate(env.ts.URL+"/notifications"),
		bt.Visible("alerts"),
	)
	if err != nil {
		t.Fatalf("open the log: %v", err)
	}
	rows, _ := chromedp.Run(ctx, chromedp.Text(bt.TestID("notifications")))
	if !strings.Contains(rows, "rejected") || !strings.Contains(rows, "applied") || !strings.Contains(rows, "SHOP-T-LOG") {
		t.Errorf("log rows:\n%s", rows)
	}
	bt.Screenshot(t, ctx, "01-log-with-alert")
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="notification"][data-result="rejected"] a`),
		bt.Visible("notification-detail"),
		// The raw request is a technical detail: shown once asked for.
		chromedp.Click(`[data-testid="notification-tech"] summary`),
		bt.Visible("raw-body"),
	)
	if err != nil {
		t.Fatalf("open the stored request: %v", err)
	}
	body, _ := bt.Text(ctx, "raw-body")
	if !strings.Contains(body, "mchOrderNo=M-LOG-1") {
		t.Errorf("raw body %q", body)
	}
	bt.Screenshot(t, ctx, "02-stored-request")
	err = chromedp.Do(ctx,
		chromedp.Navigate(env.ts.URL+"/notifications"),
		chromedp.SendKeys(`[data-kind="bad_signature"] input[name="note"]`, "Test callback from the shop's staging system"),
		chromedp.Click(`[data-kind="bad_signature"] [data-testid="ack"]`),
		bt.Visible("no-alerts"),
	)
	if err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	bt.Screenshot(t, ctx, "03-acknowledged")
	err = chromedp.Do(ctx, chromedp.Navigate(env.ts.URL+orderHref(store.KindPay, o.ID)), bt.Visible("timeline"))
	if err != nil {
		t.Fatal(err)
	}
	bt.Screenshot(t, ctx, "04-order")
	err = chromedp.Do(ctx, chromedp.Navigate(env.ts.URL+"/orders"), bt.Visible("order-list"))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := bt.Text(ctx, "order-list")
	if !strings.Contains(list, "M-LOG-1") || !strings.Contains(list, "SHOP-T-LOG") {
		t.Errorf("orders list:\n%s", list)
	}
	bt.Screenshot(t, ctx, "05-orders")
}

// TestBrowserBulkResend previews and runs a resend of every paid order
// from the orders list, and follows its progress.
func TestBrowserBulkResend(t *testing.T) {
	ctx := bt.NewIn(t, bt.Timeout, "zh-CN")
	env := cbBrowserEnv(t, sandbox.Faults{}, 0.001)
	notify := env.desk.NotifyURL(env.account, "pay")
	for i := range 5 {
		payID, o := env.cbSandboxPay(fmt.Sprintf("M-BULK-%d", i), int64(100+i), notify, true)
		if i < 4 {
			if err := env.sb.Pay(payID); err != nil {
				t.Fatal(err)
			}
			cbWait(t, "paid", 5*time.Second, func() bool { return env.cbPayStatus(o.ID) == 2 })
		}
	}
	user := env.addUser(store.RoleOperator)
	err := chromedp.Do(ctx,
		chromedp.Navigate(env.ts.URL+"/login"),
		bt.Type("name=username", user),
		bt.Type("name=password", testPassword),
		bt.Click("login-submit"),
		chromedp.WaitVisible(bt.TestID("whoami")),
		chromedp.Navigate(env.ts.URL+"/orders?kind=pay"),
		bt.Visible("order-list"),
		bt.Click("bulk-resend"),
		bt.Visible("resend-preview"),
	)
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	total, _ := bt.Text(ctx, "preview-total")
	eligible, _ := bt.Text(ctx, "preview-eligible")
	if total != "5" || eligible != "4" {
		t.Errorf("preview: %s orders, %s eligible; want 5 and 4", total, eligible)
	}
	bt.Screenshot(t, ctx, "01-preview")
	err = chromedp.Do(ctx, bt.Click("confirm-resend"), chromedp.WaitVisible(`[data-testid="resend-progress"][data-state="finished"]`))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	bt.Screenshot(t, ctx, "02-finished")
	text, _ := bt.Text(ctx, "resend-progress")
	if !strings.Contains(text, "已处理 4 / 4：4 笔已请求重发") {
		t.Errorf("progress: %q", text)
	}
}
