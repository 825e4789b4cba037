package web

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestBrowserApprovalShowsTheRisk: a batch with a warning shows it inside
// the approval card and marks the flagged row; the review step repeats
// count, total and the total in capitals (大写); the approval does not go
// through until the "I have checked these N rows" tick is set.
func TestBrowserApprovalShowsTheRisk(t *testing.T) {
	bctx := bt.NewIn(t, 2*time.Minute, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	apName := env.addUser(store.RoleApprover)
	head := "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"
	row := "张三,6222020200112233440001,1234.50,HPT00003,上海,上海\r\n"
	id := op.uploadOK("重复.csv", []byte(head+row+row+"李四,6222020200112233440002,10.00,HPT00003,上海,上海\r\n"))
	op.sendForApproval(id)

	tab := newPageTab(t, bctx, 390, 844, true)
	tab.signIn(t, base, apName)
	batchURL := fmt.Sprintf("%s/payouts/batches/%d", base, id)
	if err := chromedp.Do(tab.ctx, chromedp.Navigate(batchURL), bt.Visible("approval-warnings")); err != nil {
		t.Fatal(err)
	}
	if w, _ := bt.Text(tab.ctx, "approval-warnings"); !strings.Contains(w, "1 行有警告") {
		t.Errorf("warnings in the card: %q", w)
	}
	flagged, err := chromedp.Run(tab.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr.flagged")].map(r => r.dataset.row)`))
	if err != nil || len(flagged) != 1 || flagged[0] != "3" {
		t.Errorf("flagged rows %v, %v; want the second payee row (row 3 of the file)", flagged, err)
	}
	// The approve button is inside the review step.
	if err := chromedp.Do(tab.ctx, bt.Click("review-open"), bt.Visible("review-capitals")); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"review-count": "3", "review-sum": "¥2,479.00", "review-capitals": "贰仟肆佰柒拾玖元整", "review-warnings": "1"} {
		if got, _ := bt.Text(tab.ctx, id); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	// Without the tick the browser keeps the form, and nothing is approved.
	if err := chromedp.Do(tab.ctx, bt.Click("approve")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if b := env.batch(id); b.State != store.BatchAwaitingApproval {
		t.Fatalf("approved without the tick: %s", b.State)
	}
	invalid, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="checked-warnings"]').matches(":invalid")`))
	if !invalid {
		t.Error("the tick is not marked as missing")
	}
	if err := chromedp.Do(tab.ctx, bt.Click("checked-warnings"), bt.Click("approve"), bt.Visible("batch-progress")); err != nil {
		t.Fatalf("approve with the tick: %v", err)
	}
	ctx := context.Background()
	if b, err := env.db.BatchByID(ctx, id); err != nil || b.ApprovedBy != apName {
		t.Errorf("approved by %q, %v", b.ApprovedBy, err)
	}
}

// TestBrowserErrorsCSVFixedAndUploadedAgain: on a draft with a row in
// error the maker downloads the rows with errors from the button, fixes
// the cell and uploads the file again through the upload form: the new
// batch has no errors.
func TestBrowserErrorsCSVFixedAndUploadedAgain(t *testing.T) {
	bctx := bt.NewIn(t, 2*time.Minute, "zh-CN")
	env, base := newBrowserEnv(t, sandbox.Faults{})
	opName := env.addUser(store.RoleOperator)
	tab := newPageTab(t, bctx, 1440, 900, false)
	tab.signIn(t, base, opName)
	dir := t.TempDir()
	first := dir + "/付款.csv"
	head := "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"
	if err := os.WriteFile(first, []byte(head+"张三,6222020200112233440001,12.00,HPT00003,上海,上海\r\n李四,6222020200112233440002,10.00,HPT99999,上海,上海\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	upload := func(path string) {
		t.Helper()
		err := chromedp.Do(tab.ctx, chromedp.Navigate(base+"/payouts/batches"),
			chromedp.SetUploadFiles(bt.TestID("upload-file"), []string{path}), bt.Click("upload-submit"), bt.Visible("batch-totals"))
		if err != nil {
			t.Fatalf("upload %s: %v", path, err)
		}
	}
	upload(first)
	if n, _ := bt.Text(tab.ctx, "error-count"); n != "1" {
		t.Fatalf("rows with errors: %q", n)
	}
	body, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("[data-testid=errors-csv]").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "HPT99999") || strings.Contains(body, "张三") {
		t.Fatalf("errors CSV: %q", body)
	}
	fixed := dir + "/付款-改.csv"
	if err := os.WriteFile(fixed, []byte(strings.Replace(body, "HPT99999", "HPT00003", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	upload(fixed)
	if n, _ := bt.Text(tab.ctx, "error-count"); n != "0" {
		t.Errorf("rows with errors after the fix: %q", n)
	}
	if n, _ := bt.Text(tab.ctx, "total-count"); n != "1" {
		t.Errorf("payouts after the fix: %q", n)
	}
	if has, _ := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](`!!document.querySelector("[data-testid=errors-csv]")`)); has {
		t.Error("a batch without errors offers the rows with errors")
	}
}
