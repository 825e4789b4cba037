package web

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"paydesk/desk"
	bt "paydesk/internal/browsertest"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// pageWidths are the windows every page must fit: a phone held upright and
// a desktop screen.
var pageWidths = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"phone-390", 390, 844, true},
	{"desktop-1440", 1440, 900, false},
}

// notPages are the GET routes that answer no HTML page a person reads, and
// why each is left out of TestBrowserEveryPageFits. The fragments that
// htmx polls are added from fragmentRoutes.
var notPages = map[string]string{
	"/healthz":                          "plain text for monitoring",
	"/payments.csv":                     "CSV download",
	"/payouts/template.csv":             "CSV download",
	"/payouts/batches/{id}/results.csv": "CSV download",
	"/payouts/batches/{id}/errors.csv":  "CSV download",
	"/payouts.csv":                      "CSV download",
	"/settings/audit.csv":               "CSV download",
	"/payments/{id}/qr.png":             "image",
	"/payments/{id}/qr.svg":             "image",
	"/pay/{token}/qr.png":               "image",
	"/pay/{token}/go":                   "a redirect to the gateway's cashier",
	"/notify/pay":                       "the gateway's callback endpoint",
	"/notify/trans":                     "the gateway's callback endpoint",
}

// mustReach names, by visit, the buttons and links a page exists for: each
// must be shown whole inside the window at every width (inside its
// <details> step, once opened).
var mustReach = map[string][]string{
	"batch-awaiting-approval": {"review-open", "approve", "step-up", "review-capitals", "reject"},
	"batch-draft":             {"drop-errors", "send-approval", "discard", "errors-csv"},
	"batch-finished":          {"results-csv", "retry"},
	"batch-rejected":          {"copy-batch", "results-csv"},
	"payment-new":             {"payment-submit"},
	"payment-open":            {"payment-qr", "copy-link", "deactivate-link", "check-status"},
	"payout-new":              {"payout-submit"},
	"payment-paid":            {"resend", "payment-card"},
	"order-trans":             {"query", "resend"},
	"notifications":           {"ack"},
	"users":                   {"create-user"},
}

// reachJS, given a data-testid and the window's width, says why that
// element is not shown whole inside the window, or "" when it is.
const reachJS = `((id, width) => {
	const el = document.querySelector('[data-testid="' + id + '"]');
	if (!el) return "missing";
	// A step folded away (the review before approving) is opened first,
	// as the user would.
	for (let d = el.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) d.open = true;
	if (!el.checkVisibility()) return "hidden";
	const r = el.getBoundingClientRect(), w = Math.min(window.innerWidth, width);
	if (r.width === 0 || r.left < 0 || r.right > w + 0.5) return "from " + Math.round(r.left) + " to " + Math.round(r.right) + " px of " + w;
	return "";
})`

// pageVisit is one page to open: the route it belongs to and its address.
type pageVisit struct {
	route string
	path  string
	name  string // screenshot name
}

// TestBrowserEveryPageFits opens every GET page of the route table, signed
// in as an admin (the sign-in pages and the public payment page signed
// out), at a phone's width and at a desktop's, with records of every kind
// behind them. A page fails when it is wider than the window (the phone
// would scroll sideways); when the browser logs an error: a failed load, a
// script error, or anything the Content-Security-Policy blocked; when it
// names no icon that loads; when a console page does not start with a
// link to its content; when a field's border contrasts less than 3:1; or
// when a button it exists for (mustReach) is not shown whole. Screenshots
// of the start page, a batch awaiting approval and an order page are kept
// at both widths; with PAYDESK_SCREENSHOTS set, of every page.
func TestBrowserEveryPageFits(t *testing.T) {
	if bt.ExecPath() == "" || testing.Short() {
		bt.New(t) // skips, or fails when browser tests are required
	}
	env, base := newBrowserEnv(t, sandbox.Faults{})
	env.startWorker(desk.PayoutOptions{})
	f := seedEveryPage(t, env)

	visits := f.adminPages()
	public := f.publicPages()
	covered := map[string]bool{}
	for _, v := range append(slices.Clone(visits), public...) {
		covered[v.route] = true
	}
	// The code step of a two-factor sign-in is opened through the password
	// step before it, at the end of each width's run.
	covered["/login/two-factor"] = true
	skipped := maps.Clone(notPages)
	for _, p := range fragmentRoutes() {
		skipped[p] = "a fragment polled by htmx"
	}
	routes := map[string]bool{}
	for _, rt := range env.srv.routes() {
		if rt.method != http.MethodGet {
			continue
		}
		routes[rt.pattern] = true
		if !covered[rt.pattern] && skipped[rt.pattern] == "" {
			t.Errorf("GET %s is neither visited nor listed in notPages: give it a visit with a real record", rt.pattern)
		}
	}
	for p := range skipped {
		if !routes[p] {
			t.Errorf("notPages lists %s, which is no GET route", p)
		}
	}
	for p := range covered {
		if !routes[p] {
			t.Errorf("a visit names route %s, which is no GET route", p)
		}
	}

	keep := map[string]bool{"home": true, "batch-awaiting-approval": true, "payment-paid": true}
	all := os.Getenv(bt.ScreenshotEnv) != ""
	for _, w := range pageWidths {
		t.Run(w.name, func(t *testing.T) {
			// Every page as the finance staff read it: in Chinese.
			bctx := bt.NewIn(t, 6*time.Minute, "zh-CN")
			admin := newPageTab(t, bctx, w.width, w.height, w.mobile)
			admin.signIn(t, base, f.admin)
			for _, v := range visits {
				admin.check(t, base, v, all || keep[v.name])
			}
			anon := newPageTab(t, bctx, w.width, w.height, w.mobile)
			for _, v := range public {
				anon.check(t, base, v, all)
			}
			// The code step of a two-factor sign-in is reached only by the
			// password step before it.
			anon.console.Take()
			err := chromedp.Do(anon.ctx,
				chromedp.Navigate(base+"/login"),
				bt.Type("name=username", f.twoFactorUser),
				bt.Type("name=password", testPassword),
				bt.Click("login-submit"),
				bt.Visible("code-form"),
			)
			if err != nil {
				t.Fatalf("password step of %s: %v", f.twoFactorUser, err)
			}
			anon.measure(t, pageVisit{route: "/login/two-factor", path: "/login/two-factor", name: "login-two-factor"}, all)
		})
	}
}

// everyPageFixture holds the records whose pages are visited.
type everyPageFixture struct {
	admin         string
	payment       int64  // a paid payment, console-made
	openPayment   int64  // a payment still payable
	payLink       string // /pay/{token} of openPayment
	payout        int64
	batchDraft    int64 // uploaded, with rows in error and warnings
	batchAwaiting int64 // awaiting approval, above the step-up limit
	batchFinished int64 // sent, one payout failed
	batchRejected int64
	notification  int64
	resendJob     string // /orders/resend/{job}
	gateway       int64
	twoFactorID   int64
	twoFactorUser string
}

func (f everyPageFixture) adminPages() []pageVisit {
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	return []pageVisit{
		{"/", "/", "home"},
		{"/account", "/account", "account"},
		{"/account/password", "/account/password", "account-password"},
		{"/account/two-factor", "/account/two-factor", "account-two-factor"},
		{"/settings/users/{id}/two-factor-reset", "/settings/users/" + id(f.twoFactorID) + "/two-factor-reset", "two-factor-reset"},
		{"/settings/security", "/settings/security", "settings-security"},
		{"/payments", "/payments", "payments"},
		{"/payments/new", "/payments/new", "payment-new"},
		{"/payments/{id}", "/payments/" + id(f.payment), "payment-paid"},
		{"/payments/{id}", "/payments/" + id(f.openPayment), "payment-open"},
		{"/payments/{id}/card", "/payments/" + id(f.openPayment) + "/card", "payment-card"},
		{"/payouts", "/payouts", "payouts"},
		{"/payouts/new", "/payouts/new", "payout-new"},
		{"/payouts/batches", "/payouts/batches", "batches"},
		{"/payouts/batches/{id}", "/payouts/batches/" + id(f.batchDraft), "batch-draft"},
		{"/payouts/batches/{id}", "/payouts/batches/" + id(f.batchAwaiting), "batch-awaiting-approval"},
		{"/payouts/batches/{id}", "/payouts/batches/" + id(f.batchFinished), "batch-finished"},
		{"/payouts/batches/{id}", "/payouts/batches/" + id(f.batchRejected), "batch-rejected"},
		{"/payouts/{id}", "/payouts/" + id(f.payout), "payout"},
		{"/settings/payouts", "/settings/payouts", "settings-payouts"},
		{"/orders", "/orders", "orders"},
		{"/orders", "/orders?q=NO-SUCH-ORDER-0000000000000000000000000001", "orders-not-found"},
		{"/search", "/search?q=pd", "search"},
		{"/orders/{kind}/{id}", "/orders/trans/" + id(f.payout), "order-trans"},
		{"/orders/resend/{job}", f.resendJob, "resend-job"},
		{"/notifications", "/notifications", "notifications"},
		{"/notifications/{id}", "/notifications/" + id(f.notification), "notification"},
		{"/settings", "/settings", "settings"},
		{"/settings/gateways", "/settings/gateways", "gateways"},
		{"/settings/gateways/new", "/settings/gateways/new", "gateway-new"},
		{"/settings/gateways/{id}", "/settings/gateways/" + id(f.gateway), "gateway-edit"},
		{"/settings/users", "/settings/users", "users"},
		{"/settings/audit", "/settings/audit", "audit"},
	}
}

// publicPages are opened signed out.
func (f everyPageFixture) publicPages() []pageVisit {
	return []pageVisit{
		{"/login", "/login", "login"},
		{"/pay/{token}", f.payLink, "public-pay"},
	}
}

// seedEveryPage makes a record of every kind a page shows, with long
// Chinese names and long numbers where staff would have them.
func seedEveryPage(t *testing.T, env *testEnv) everyPageFixture {
	t.Helper()
	ctx := context.Background()
	var f everyPageFixture
	f.gateway = env.account.ID
	admin, adminName := env.signedIn(store.RoleAdmin)
	f.admin = adminName
	op, _ := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)

	// A payment that gets paid (its callback is a notification), and one
	// still payable, whose link is the public page.
	paid, _ := publicLink(t, env, op, func(v url.Values) {
		v.Set("subject", "乌龙茶 Oolong tea, 2 boxes — 上海静安区南京西路旗舰店")
		v.Set("amount", "987654.32")
		v.Set("param1", "customer-reference-0123456789012345678901234567890123456789")
	})
	f.payment = paid
	o, err := env.db.PayOrderByID(ctx, paid)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.sb.Pay(o.PayOrderID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "the payment paid", 10*time.Second, func() bool { return env.cbPayStatus(paid) == payments.PayPaid })
	f.notification = env.lastNotification().ID
	f.openPayment, f.payLink = publicLink(t, env, op, func(v url.Values) { v.Set("subject", "季度会员费 Quarterly membership") })
	// A callback nobody can verify: an alert to acknowledge.
	env.sendNotify("pay", "POST", url.Values{"mchId": {"99999999"}, "payOrderId": {"P0000000000000000000000000000001"}, "sign": {"00"}})

	longName := "上海浦东新区张江高科技园区某某某某信息科技发展有限公司"
	csvRows := func(rows ...string) []byte {
		return []byte("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n" + strings.Join(rows, "\r\n") + "\r\n")
	}
	file := "2026年11月供应商付款_第二批_财务部整理_final_v3.csv"

	f.batchDraft = op.uploadOK(file, csvRows(
		longName+",6222020200112233445566,1234.50,HPT00003,上海,上海",
		"李四,6.22202E+18,10,HPT00003,广东,深圳",
		"王五,6222020200112233447,10,HPT99999,广东,深圳",
		longName+",6222020200112233445566,1234.50,HPT00003,上海,上海",
	))

	f.batchAwaiting = op.uploadOK(file, csvRows(
		longName+",6222020200112233445566,28000.00,HPT00003,上海,上海",
		"张三,6222020200112233440001,30000.50,HPT00005,北京,北京",
	))
	op.sendForApproval(f.batchAwaiting)

	f.batchFinished = op.uploadOK("工资.csv", csvRows(
		longName+",6222020200112233445561,1.00,HPT00003,上海,上海",
		"张三,6222020200112233440004,2.00,HPT00005,北京,北京", // ends in 4: the sandbox fails it
		"李四,6222020200112233440007,3.00,HPT00001,广东,深圳",
	))
	op.sendForApproval(f.batchFinished)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", f.batchFinished), url.Values{"note": {"对账无误，同意付款 checked against the ledger"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.StatusCode, res.body)
	}
	env.waitFinished(f.batchFinished, 20*time.Second)
	if err := env.db.QueryRowContext(ctx, `SELECT id FROM payouts WHERE batch_id = ? ORDER BY row_no LIMIT 1`, f.batchFinished).Scan(&f.payout); err != nil {
		t.Fatal(err)
	}

	f.batchRejected = op.uploadOK("a.csv", csvRows("赵六,6222020200112233440002,5.00,HPT00003,上海,上海"))
	op.sendForApproval(f.batchRejected)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", f.batchRejected), url.Values{"reason": {"金额与合同不符 the amount differs from the contract"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d %s", res.StatusCode, res.body)
	}

	// A resend job of the paid pay orders.
	res := admin.postForm("/orders/resend", url.Values{"kind": {"pay"}, "status": {"success"}, "confirm": {"1"}})
	if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/orders/resend/\d+$`).MatchString(res.Header.Get("Location")) {
		t.Fatalf("resend job: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	f.resendJob = res.Header.Get("Location")

	// A user with two-factor sign-in, whose reset page has its form.
	tf, tfName := env.signedIn(store.RoleViewer)
	tf.enrol()
	u, err := env.db.UserByName(ctx, tfName)
	if err != nil {
		t.Fatal(err)
	}
	f.twoFactorID, f.twoFactorUser = u.ID, tfName
	return f
}

// pageTab is one browser tab at one window size, with its console watched.
type pageTab struct {
	ctx     context.Context
	console *bt.Console
	width   int64
	icons   map[string]bool // icon address: it loads
}

// iconLoads fetches an icon once and says whether it is an image.
func (p *pageTab) iconLoads(u string) bool {
	if ok, seen := p.icons[u]; seen {
		return ok
	}
	res, err := http.Get(u)
	ok := err == nil && res.StatusCode == http.StatusOK && strings.HasPrefix(res.Header.Get("Content-Type"), "image/")
	if err == nil {
		res.Body.Close()
	}
	p.icons[u] = ok
	return ok
}

func newPageTab(t *testing.T, bctx context.Context, width, height int64, mobile bool) *pageTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	console, err := bt.WatchConsole(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height, opts...)); err != nil {
		t.Fatal(err)
	}
	return &pageTab{ctx: ctx, console: console, width: width, icons: map[string]bool{}}
}

func (p *pageTab) signIn(t *testing.T, base, user string) {
	t.Helper()
	err := chromedp.Do(p.ctx,
		chromedp.Navigate(base+"/login"),
		bt.Type("name=username", user),
		bt.Type("name=password", testPassword),
		bt.Click("login-submit"),
		chromedp.WaitReady(bt.TestID("whoami")),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
	p.console.Take()
}

// check opens v and measures it.
func (p *pageTab) check(t *testing.T, base string, v pageVisit, screenshot bool) {
	t.Helper()
	res, err := chromedp.RunResponse(p.ctx, chromedp.Navigate(base+v.path))
	if err != nil {
		t.Errorf("%s: %v", v.path, err)
		return
	}
	if res.Status != http.StatusOK {
		t.Errorf("%s: status %d", v.path, res.Status)
	}
	if u, err := url.Parse(res.URL); err != nil || u.RequestURI() != v.path {
		t.Errorf("%s: ended at %s", v.path, res.URL)
	}
	p.measure(t, v, screenshot)
}

// pageWidth is what the page measures after it loaded.
type pageWidth struct {
	ScrollWidth int      `json:"scrollWidth"`
	InnerWidth  int      `json:"innerWidth"`
	Overflowing []string `json:"overflowing"`
	Icon        string   `json:"icon"`
	SkipLink    string   `json:"skipLink"`
	LowContrast []string `json:"lowContrast"`
}

// measureJS, given the window's width, reports the page's width and, when it is too wide, the
// outermost elements that stick out of the window (not counting those
// inside a box that scrolls or clips them); the favicon; whether a console
// page starts with a working skip link; and the form fields whose border
// contrasts less than 3:1 with what surrounds them (WCAG 1.4.11).
const measureJS = `((width) => {
	const w = Math.min(window.innerWidth, width), out = [];
	const name = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().replace(/\s+/g, ".") : "") +
		(el.dataset.testid ? "[" + el.dataset.testid + "]" : el.name ? "[name=" + el.name + "]" : "");
	if (document.documentElement.scrollWidth > w) {
		const clipped = el => {
			for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
				if (getComputedStyle(a).overflowX !== "visible") return true;
			}
			return false;
		};
		for (const el of document.body.querySelectorAll("*")) {
			const r = el.getBoundingClientRect();
			if (r.right > w + 1 && !clipped(el) && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 1)) {
				out.push(name(el) + " right=" + Math.round(r.right));
				if (out.length >= 8) break;
			}
		}
	}
	const icon = document.querySelector("link[rel~=icon]");
	let skip = "";
	if (document.querySelector("header.topbar")) {
		const first = document.body.querySelector("a[href], button, input, select, textarea, summary");
		const target = first && first.getAttribute("href") && first.getAttribute("href").startsWith("#") && document.getElementById(first.getAttribute("href").slice(1));
		if (!target) skip = "the first thing to focus is " + (first ? name(first) : "nothing") + ", not a link to the content";
	}
	const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = c => {
		const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
	};
	const around = el => {
		for (let a = el.parentElement; a; a = a.parentElement) {
			const c = rgb(getComputedStyle(a).backgroundColor);
			if (c.length === 3 || c[3] > 0) return c;
		}
		return [255, 255, 255];
	};
	const low = [];
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (["hidden", "checkbox", "radio", "submit", "button", "reset", "image", "range", "color"].includes(el.type) || !el.getClientRects().length) continue;
		const st = getComputedStyle(el);
		const a = lum(rgb(st.borderTopColor)), b = lum(around(el));
		const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
		if (parseFloat(st.borderTopWidth) === 0 || ratio < 3) low.push(name(el) + " " + ratio.toFixed(2) + ":1");
	}
	return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, overflowing: out,
		icon: icon ? icon.href : "", skipLink: skip, lowContrast: low};
})`

func (p *pageTab) measure(t *testing.T, v pageVisit, screenshot bool) {
	t.Helper()
	// Let htmx start and anything deferred report.
	time.Sleep(150 * time.Millisecond)
	m, err := chromedp.Run(p.ctx, chromedp.Evaluate[pageWidth](fmt.Sprintf("%s(%d)", measureJS, p.width)))
	if err != nil {
		t.Errorf("%s: measure: %v", v.path, err)
		return
	}
	// A phone zooms out to show a page wider than its screen, and then
	// reports the wider page as its window: compare with the width asked
	// for too.
	if m.ScrollWidth > m.InnerWidth || m.ScrollWidth > int(p.width) {
		t.Errorf("%s is %d px wide in a %d px window (it scrolls sideways); sticking out: %s", v.path, m.ScrollWidth, p.width, strings.Join(m.Overflowing, ", "))
	}
	if m.Icon == "" {
		t.Errorf("%s names no icon (the browser asks for /favicon.ico and gets a 404)", v.path)
	} else if !p.iconLoads(m.Icon) {
		t.Errorf("%s: its icon %s does not load as an image", v.path, m.Icon)
	}
	if m.SkipLink != "" {
		t.Errorf("%s: %s", v.path, m.SkipLink)
	}
	for _, f := range m.LowContrast {
		t.Errorf("%s: the border of %s is too faint to see (WCAG asks 3:1)", v.path, f)
	}
	for _, msg := range p.console.Take() {
		t.Errorf("%s: the browser reports: %s", v.path, msg)
	}
	for _, id := range mustReach[v.name] {
		why, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf("%s(%q, %d)", reachJS, id, p.width)))
		if err != nil || why != "" {
			t.Errorf("%s: %s is not within reach: %s %v", v.path, id, why, err)
		}
	}
	if screenshot {
		bt.Screenshot(t, p.ctx, v.name)
	}
}
