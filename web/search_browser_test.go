package web

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestBrowserTopBarSearch: from any page, the top bar's box finds payouts
// by the lowercase start of their number and by the payee's name, shows
// what matched, keeps the text in the box, and a whole number goes
// straight to the order.
func TestBrowserTopBarSearch(t *testing.T) {
	bctx := bt.NewIn(t, 2*time.Minute, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	viewer := env.addUser(store.RoleViewer)
	id := op.uploadOK("s.csv", []byte("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"+
		"欧阳锋,6222020200112233440001,1.00,HPT00003,上海,上海\r\n欧阳克,6222020200112233440002,2.00,HPT00003,上海,上海\r\n"))
	op.sendForApproval(id)
	var no string
	var pid int64
	env.db.QueryRowContext(context.Background(), `SELECT id, mch_trans_order_no FROM payouts WHERE batch_id = ? ORDER BY row_no LIMIT 1`, id).Scan(&pid, &no)

	tab := newPageTab(t, bctx, 390, 844, true)
	tab.signIn(t, base, viewer)
	search := func(from, q string) {
		t.Helper()
		err := chromedp.Do(tab.ctx, chromedp.Navigate(base+from), bt.Type("search-box", q), bt.Click("search-submit"), chromedp.WaitReady("body"))
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
	}
	marks := func() []string {
		m, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid=search-hits] mark')].map(m => m.textContent)`))
		return m
	}
	part := strings.ToLower(no[:len(no)-3])
	search("/payments", part)
	if err := chromedp.Do(tab.ctx, bt.Visible("search-hits")); err != nil {
		t.Fatal(err)
	}
	if m := marks(); len(m) != 2 || m[0] != no[:len(no)-3] {
		t.Errorf("a number's lowercase start marks %q", m)
	}
	if kept, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=search-box]').value`)); kept != part {
		t.Errorf("the box holds %q, want %q", kept, part)
	}
	search("/payouts", "欧阳")
	if err := chromedp.Do(tab.ctx, bt.Visible("search-hits")); err != nil {
		t.Fatal(err)
	}
	if m := marks(); len(m) != 2 || m[0] != "欧阳" {
		t.Errorf("a payee's name marks %q", m)
	}
	if f, _ := bt.Text(tab.ctx, "matched"); !strings.Contains(f, "收款人") {
		t.Errorf("what matched: %q", f)
	}
	search("/", strings.ToLower(no))
	want, loc := "/orders/trans/"+itoa(pid), ""
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end) && !strings.HasSuffix(loc, want); time.Sleep(100 * time.Millisecond) {
		loc, _ = bt.Location(tab.ctx)
	}
	if !strings.HasSuffix(loc, want) {
		t.Errorf("a whole number lands on %s, want %s", loc, want)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
