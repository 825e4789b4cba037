package web

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestBrowserApproverHome: an approver signs in and sees, in Chinese, the
// badge on the Payouts tab and the batch waiting on the home page, with
// its total, and reaches it in one click.
func TestBrowserApproverHome(t *testing.T) {
	bctx := bt.NewIn(t, 2*time.Minute, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	apName := env.addUser(store.RoleApprover)
	id := op.uploadOK("工资.csv", payoutCSV(2, accountNo))
	op.sendForApproval(id)

	tab := newPageTab(t, bctx, 390, 844, true)
	tab.signIn(t, base, apName)
	if err := chromedp.Do(tab.ctx, chromedp.Navigate(base+"/"), bt.Visible("queue")); err != nil {
		t.Fatal(err)
	}
	badge, err := bt.Text(tab.ctx, "awaiting-approval")
	if err != nil || strings.TrimSpace(badge) != "1" {
		t.Errorf("badge %q, %v; want 1", badge, err)
	}
	tile, err := bt.Text(tab.ctx, "queue-awaiting")
	if err != nil || !strings.Contains(tile, "个批次待您审批") || !strings.Contains(tile, "¥2.01") {
		t.Errorf("queue tile %q, %v", tile, err)
	}
	link := fmt.Sprintf(`[data-testid="awaiting-list"] a[href="/payouts/batches/%d"]`, id)
	if err := chromedp.Do(tab.ctx, chromedp.Click(link), bt.Visible("approval")); err != nil {
		t.Fatalf("open the waiting batch: %v", err)
	}
	if loc, _ := bt.Location(tab.ctx); !strings.HasSuffix(loc, fmt.Sprintf("/payouts/batches/%d", id)) {
		t.Errorf("landed on %s", loc)
	}
}
