package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"paydesk/desk"
	bt "paydesk/internal/browsertest"
	"paydesk/store"
)

// TestBrowserPayoutBatch is the batch journey in a real browser against
// the real program and its built-in sandbox: upload 50 payouts (five to
// accounts ending in 4, which the sandbox fails, and one row with an
// error), see the preview, drop the error row, match the control totals,
// send for approval, approve as a second user, watch the progress to a
// partially succeeded batch, and read the results CSV.
func TestBrowserPayoutBatch(t *testing.T) {
	// The journey runs in Chinese, as the finance staff use Paydesk.
	ctx := bt.NewIn(t, bt.Timeout, "zh-CN")
	dataDir := t.TempDir()
	const password = "browser-test-password"
	func() {
		db, err := store.Open(context.Background(), filepath.Join(dataDir, "paydesk.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		hash, _ := desk.HashPassword(password)
		for _, u := range [][2]string{{"maker", store.RoleOperator}, {"checker", store.RoleApprover}} {
			if _, err := db.CreateUser(context.Background(), u[0], u[1], hash, false); err != nil {
				t.Fatal(err)
			}
		}
	}()
	c := startConsole(t, dataDir, map[string]string{"PAYDESK_SANDBOX_TIME_SCALE": "0.01", "PAYDESK_PAYOUT_FOLLOW_UP": "500ms"})

	// 50 payouts; rows 6, 16, … go to accounts ending in 4; row 13 has an
	// unknown bank code.
	var file strings.Builder
	file.WriteString("\ufeff账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,开户支行/branch,省份/province,城市/city\r\n")
	var sum int64
	for i := 0; i < 51; i++ {
		code := fmt.Sprintf("HPT%05d", 1+i%97)
		if i == 11 {
			code = "HPT00099"
		} else {
			sum += int64(10000 + i*101)
		}
		fmt.Fprintf(&file, "收款人%02d,62220202%011d,%d.%02d,%s,,上海,上海\r\n", i, i, 100+i, i, code)
	}
	csvPath := filepath.Join(t.TempDir(), "工资 2026-11.csv")
	if err := os.WriteFile(csvPath, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	signIn := func(user string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(c.URL+"/login"),
			bt.Visible("login-form"),
			bt.Type("name=username", user),
			bt.Type("name=password", password),
			bt.Click("login-submit"),
			bt.Visible("whoami"),
		)
		if err != nil {
			t.Fatalf("sign in as %s: %v", user, err)
		}
	}
	signIn("maker")

	// The single-payout form and its bank picker: typing part of a name
	// selects the bank.
	err := chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/payouts/new"),
		bt.Visible("bank-search"),
		bt.Type("bank-search", "HPT00005 招商银行"),
	)
	if err != nil {
		t.Fatalf("payout form: %v", err)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(bt.TestID("bank-select"))); v != "HPT00005" {
		t.Errorf("bank picker selected %q after typing a bank, want HPT00005", v)
	}
	bt.Screenshot(t, ctx, "01-single-payout-form")

	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/payouts/batches"), bt.Visible("upload-form")); err != nil {
		t.Fatal(err)
	}
	bt.Screenshot(t, ctx, "01b-batches")

	// Upload and preview.
	err = chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/payouts/batches"),
		bt.Visible("upload-form"),
		chromedp.SetUploadFiles(bt.TestID("upload-file"), []string{csvPath}),
		bt.Click("upload-submit"),
		bt.Visible("row-errors"),
	)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	bt.Screenshot(t, ctx, "02-batch-preview")
	if errs, _ := bt.Text(ctx, "row-errors"); !strings.Contains(errs, "第 13 行：银行代码 HPT00099 不存在") {
		t.Errorf("preview errors: %q", errs)
	}
	if n, _ := bt.Text(ctx, "total-count"); n != "50" {
		t.Errorf("preview count %q, want 50", n)
	}

	// Drop the error row, match the control totals, send for approval.
	err = chromedp.Do(ctx,
		bt.Click("drop-errors"),
		bt.Visible("flash"),
		bt.Type("control-count", "50"),
		bt.Type("control-sum", fullWidth(fmt.Sprintf("¥%d.%02d元", sum/100, sum%100))), // typed as with a Chinese input method
		bt.Click("send-approval"),
		bt.Visible("approval"),
	)
	if err != nil {
		bt.Screenshot(t, ctx, "failed-send")
		t.Fatalf("send for approval: %v", err)
	}
	batchURL, _ := bt.Location(ctx)
	if msg, _ := bt.Text(ctx, "cannot-approve"); !strings.Contains(msg, "您的角色不能审批代付") {
		t.Errorf("maker sees %q", msg)
	}

	// A second user approves.
	if err := chromedp.Do(ctx, bt.Click("logout"), bt.Visible("login-form")); err != nil {
		t.Fatal(err)
	}
	signIn("checker")
	if err := chromedp.Do(ctx, chromedp.Navigate(batchURL), bt.Click("review-open"), bt.Visible("approve")); err != nil {
		t.Fatalf("approval page: %v", err)
	}
	bt.Screenshot(t, ctx, "03a-awaiting-approval")
	err = chromedp.Do(ctx,
		bt.Type("name=note", "checked against the payroll"),
		bt.Click("approve"),
		bt.Visible("batch-progress"),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	bt.Screenshot(t, ctx, "03-batch-progress")
	// htmx keeps the progress live until the batch is finished.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(bt.TestID("batch-outcome"))); err != nil {
		bt.Screenshot(t, ctx, "failed-progress")
		t.Fatalf("progress: %v", err)
	}
	if o, _ := bt.Text(ctx, "batch-outcome"); o != "部分成功" {
		t.Errorf("outcome %q", o)
	}
	if done, _ := bt.Text(ctx, "progress-done"); done != "50" {
		t.Errorf("%s payouts final, want 50", done)
	}
	bt.Screenshot(t, ctx, "04-batch-finished")

	// A failed payout's page tells its story.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-row="6"] a`)),
		bt.Visible("timeline"),
	)
	if err != nil {
		t.Fatalf("payout page: %v", err)
	}
	if tl, _ := bt.Text(ctx, "timeline"); !strings.Contains(tl, "网关已受理") || !strings.Contains(tl, "沙箱规则") {
		t.Errorf("failed payout's timeline: %q", tl)
	}
	bt.Screenshot(t, ctx, "05-failed-payout")
	if err := chromedp.Do(ctx, chromedp.Navigate(batchURL), bt.Visible("results-csv")); err != nil {
		t.Fatal(err)
	}

	// The results CSV, as the browser downloads it.
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("[data-testid=results-csv]").href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("results CSV: %v", err)
	}
	if len(recs) != 52 { // header, 50 payouts, the dropped row
		t.Fatalf("results CSV has %d records, want 52", len(recs))
	}
	counts := map[string]int{}
	for _, r := range recs[1:] {
		counts[r[8]]++
		if r[8] == "代付失败" && (!strings.HasSuffix(strings.TrimSpace(r[4]), "4") || !strings.Contains(r[10], "沙箱规则")) {
			t.Errorf("failed row %q", r)
		}
	}
	if counts["代付成功"] != 45 || counts["代付失败"] != 5 || counts["未发送"] != 1 {
		t.Errorf("results: %v", counts)
	}
}

// fullWidth writes s's digits and point as a Chinese input method does.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r - '0' + '０'
		case r == '.':
			return '．'
		}
		return r
	}, s)
}
