package web

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// newBrowserEnv is a sandbox console whose public URL serves the real
// static files (htmx, app.js, app.css), for journeys in a real browser.
func newBrowserEnv(t *testing.T, faults sandbox.Faults) (*testEnv, string) {
	t.Helper()
	bts := httptest.NewUnstartedServer(nil)
	base := "http://" + bts.Listener.Addr().String()
	env := newSandboxEnv(t, faults, fastGateway, func(c *testConfig) { c.Core.PublicURL = base })
	bts.Config.Handler = env.srv.Handler(os.DirFS("../static"))
	bts.Start()
	t.Cleanup(bts.Close)
	return env, base
}

// waitText polls an element's text until it contains want.
func waitBrowserText(t *testing.T, ctx context.Context, sel, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var got string
	for time.Now().Before(deadline) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		txt, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		got = txt
		if err == nil && strings.Contains(txt, want) {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s says %q, never %q", sel, got, want)
}

func TestBrowserPaymentJourney(t *testing.T) {
	// Staff and customer both read Chinese (their browsers ask for it).
	bctx := browsertest.NewIn(t, browsertest.Timeout, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	name := env.addUser(store.RoleOperator)

	staff, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	err := chromedp.Do(staff,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		chromedp.Navigate(base+"/payments/new"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=payment-form]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid=amount]`), "￥８８．８０元"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=subject]`), "乌龙茶 Oolong tea, 2 boxes"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=body]`), "Order for table 12"),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, staff, "payment-new")
	err = chromedp.Do(staff,
		chromedp.Click(chromedp.CSS(`[data-testid=payment-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=payment-qr]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitBrowserText(t, staff, `[data-testid=payment-status]`, "待支付", 5*time.Second)
	waitBrowserText(t, staff, `[data-testid=payment-amount]`, "¥88.80", time.Second)
	browsertest.Screenshot(t, staff, "payment-page")
	link, err := chromedp.Run(staff, chromedp.Value(chromedp.CSS(`#paylink-url`)))
	if err != nil || !strings.HasPrefix(link, base+"/pay/") {
		t.Fatalf("payment link %q: %v", link, err)
	}

	// The customer, in a browser context of their own.
	customer, cancel2 := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel2()
	err = chromedp.Do(customer,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=pay-button]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-qr]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, customer, "public-page")
	newTab := chromedp.WaitNewTarget(customer, func(i *target.Info) bool { return strings.Contains(i.URL, "/sandbox/pay/") })
	if err := chromedp.Do(customer, chromedp.Click(chromedp.CSS(`[data-testid=pay-button]`))); err != nil {
		t.Fatal(err)
	}
	var tabID target.ID
	select {
	case tabID = <-newTab:
	case <-time.After(15 * time.Second):
		t.Fatal("the pay button did not open the cashier")
	}
	cashier, cancel3 := chromedp.NewContext(customer, chromedp.WithTargetID(tabID))
	defer cancel3()
	err = chromedp.Do(cashier,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=pay]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=pay]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitBrowserText(t, cashier, `[data-testid=status]`, "paid", 10*time.Second)

	// Both pages learn it without a reload.
	waitBrowserText(t, customer, `[data-testid=public-live]`, "已支付", 20*time.Second)
	waitBrowserText(t, staff, `[data-testid=payment-status]`, "已支付", 20*time.Second)
	browsertest.Screenshot(t, customer, "public-page-paid")
	browsertest.Screenshot(t, staff, "payment-page-paid")

	// The list with the payment, and the printable card.
	err = chromedp.Do(staff,
		chromedp.Navigate(base+"/payments"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=payment-row]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, staff, "payments-list")
	if err := chromedp.Do(staff, chromedp.Click(chromedp.CSS(`[data-testid=payment-row] a`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=payment-card]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=payment-card]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=print-card]`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, staff, "payment-card")
}

func TestBrowserGatewayAccounts(t *testing.T) {
	bctx := browsertest.New(t)
	env, base := newBrowserEnv(t, sandbox.Faults{})
	name := env.addUser(store.RoleAdmin)
	admin, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	err := chromedp.Do(admin,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		chromedp.Navigate(base+"/settings/gateways"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=gateway-row]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, admin, "gateways")
	err = chromedp.Do(admin,
		chromedp.Click(chromedp.CSS(`[data-testid=gateway-row] a`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=gateway-test]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=gateway-test]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=gateway-test-result]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitBrowserText(t, admin, `[data-testid=gateway-test-result]`, "The connection works", 5*time.Second)
	browsertest.Screenshot(t, admin, "gateway-edit")
}

// TestBrowserPostFormPayURL follows a "POST;url" payUrl: the pay button's
// page posts its form by itself (static/app.js) and the customer lands on
// the cashier.
func TestBrowserPostFormPayURL(t *testing.T) {
	bctx := browsertest.New(t)
	env, base := newBrowserEnv(t, sandbox.Faults{PostFormProducts: []int{8007}})
	op, _ := env.signedIn(store.RoleOperator)
	_, link := publicLink(t, env, op, func(v url.Values) { v.Set("product", "8007") })
	customer, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	err := chromedp.Do(customer,
		chromedp.Navigate(base+link+"/go"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=cashier]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(customer, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/sandbox/pay/") {
		t.Fatalf("after the pay form: %q %v", loc, err)
	}
}

// TestBrowserPaymentStates shows a payment whose create answer was lost
// ("unknown — checking"), its public page meanwhile, and the public page
// of a deactivated link.
func TestBrowserPaymentStates(t *testing.T) {
	bctx := browsertest.New(t)
	env, base := newBrowserEnv(t, sandbox.Faults{LostAnswer: true})
	name := env.addUser(store.RoleOperator)
	staff, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel()
	err := chromedp.Do(staff,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), name),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), testPassword),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=whoami]`)),
		chromedp.Navigate(base+"/payments/new"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=amount]`), "5"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=subject]`), "Lost answer"),
		chromedp.Click(chromedp.CSS(`[data-testid=payment-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=payment-live]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitBrowserText(t, staff, `[data-testid=payment-status]`, "unclear — checking", 5*time.Second)
	browsertest.Screenshot(t, staff, "payment-unknown")
	link, err := chromedp.Run(staff, chromedp.Value(`#paylink-url`))
	if err != nil {
		t.Fatal(err)
	}
	customer, cancel2 := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancel2()
	if err := chromedp.Do(customer, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`[data-testid=public-live]`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, customer, "public-preparing")

	// The gateway answers again: the pages settle by query by themselves.
	// The order exists, but its payUrl was in the lost answer, so the
	// customer is told it cannot be paid through this link.
	env.sb.SetFaults(sandbox.Faults{})
	waitBrowserText(t, staff, `[data-testid=payment-status]`, "awaiting payment", 15*time.Second)
	waitBrowserText(t, staff, `[data-testid=payment-note]`, "pay link was lost", 5*time.Second)
	waitBrowserText(t, customer, `[data-testid=public-live]`, "cannot be paid online", 15*time.Second)
	browsertest.Screenshot(t, staff, "payment-resolved")

	// Staff deactivate the link, accepting the confirmation.
	if _, err := chromedp.Run(staff, chromedp.Evaluate[bool](`window.confirm = function () { return true; }; true`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(staff, chromedp.Click(chromedp.CSS(`[data-testid=deactivate-link]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid=reactivate-link]`))); err != nil {
		t.Fatal(err)
	}
	waitBrowserText(t, customer, `[data-testid=public-live]`, "Cancelled", 15*time.Second)
	browsertest.Screenshot(t, customer, "public-cancelled")
}
