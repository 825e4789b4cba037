package web

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestPayoutFilterFormKeepsTheSelection: the form shows the filters of
// the address, and the export link carries the same selection.
func TestPayoutFilterFormKeepsTheSelection(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	id := op.uploadOK("f.csv", payoutCSV(3, accountNo))
	op.sendForApproval(id)
	q := url.Values{"status": {"awaiting_approval"}, "name": {"收款人1"}, "bank": {"HPT00002"}, "min": {"1.00"}, "max": {"9"}, "from": {"2026-01-01"}}
	res := op.get("/payouts?" + q.Encode())
	body := html.UnescapeString(res.body)
	for _, want := range []string{`value="收款人1"`, `<option value="awaiting_approval" selected>`, `<option value="HPT00002" selected>`, `value="1.00"`, `value="2026-01-01"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	href := between(body, `href="/payouts.csv?`, `"`)
	got, _ := url.ParseQuery(href)
	for k := range q {
		if got.Get(k) != q.Get(k) {
			t.Errorf("export link %s=%q, want %q", k, got.Get(k), q.Get(k))
		}
	}
	// 收款人1 on HPT00002 is row 2's payee (payoutCSV): one payout.
	if rows := strings.Count(between(res.body, `data-testid="payout-rows"`, "</table>"), "<tr data-row="); rows != 1 {
		t.Errorf("%d rows, want 1", rows)
	}
	if res := op.get("/payouts?name=nobody-like-this"); !strings.Contains(res.body, `data-testid="no-match"`) {
		t.Error("no match says nothing")
	}
	if res := op.get("/payouts?min=abc"); !strings.Contains(res.body, `data-testid="filter-errors"`) {
		t.Error("a bad amount says nothing")
	}
}

// TestBrowserPayoutFilters: the filter form, used in a browser, puts the
// selection into the address and the export link.
func TestBrowserPayoutFilters(t *testing.T) {
	bctx := bt.NewIn(t, 2*time.Minute, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	viewer := env.addUser(store.RoleViewer)
	id := op.uploadOK("f.csv", payoutCSV(3, accountNo))
	op.sendForApproval(id)
	tab := newPageTab(t, bctx, 390, 844, true)
	tab.signIn(t, base, viewer)
	err := chromedp.Do(tab.ctx, chromedp.Navigate(base+"/payouts"),
		bt.Type("filter-name", "收款人2"),
		chromedp.SetValue(bt.TestID("filter-status"), "awaiting_approval"),
		bt.Click("filter-submit"),
		chromedp.WaitVisible(`input[name=name][value="收款人2"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := bt.Location(tab.ctx)
	u, _ := url.Parse(loc)
	if u.Query().Get("name") != "收款人2" || u.Query().Get("status") != "awaiting_approval" {
		t.Errorf("the address %s does not keep the filters", loc)
	}
	csvHref, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=payouts-csv]').href`))
	cu, _ := url.Parse(csvHref)
	if cu.Path != "/payouts.csv" || cu.Query().Get("name") != "收款人2" || cu.Query().Get("status") != "awaiting_approval" {
		t.Errorf("export link %s", csvHref)
	}
	rows, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=payout-rows] tbody tr').length`))
	if rows != 1 {
		t.Errorf("%d rows shown, want 1", rows)
	}
}
