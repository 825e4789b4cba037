package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestBatchPagesOfferRepairs: the batch list has rows, total, the
// succeeded and failed amounts, maker and approver; a draft with errors
// offers its errors CSV; an approver sees the errors folded away; a
// rejected batch offers its results and a copy into a new draft.
func TestBatchPagesOfferRepairs(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	env.startWorker(desk.PayoutOptions{})
	op, opName := env.signedIn(store.RoleOperator)
	ap, apName := env.signedIn(store.RoleApprover)

	// Finished: ¥1.00 and ¥2.00 succeed, the account ending in 4 fails (¥3.00).
	done := op.uploadOK("done.csv", []byte("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"+
		"甲,6222020200112233440001,1.00,HPT00003,上海,上海\r\n乙,6222020200112233440002,2.00,HPT00003,上海,上海\r\n丙,6222020200112233440004,3.00,HPT00003,上海,上海\r\n"))
	op.sendForApproval(done)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", done), url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.StatusCode, res.body)
	}
	env.waitFinished(done, 20*time.Second)
	list := op.get("/payouts/batches").body
	row := between(list, fmt.Sprintf(`href="/payouts/batches/%d"`, done), "</tr>")
	for _, want := range []string{">3<", "¥6.00", `data-testid="batch-succeeded">¥3.00`, `data-testid="batch-failed">¥3.00`, opName, apName} {
		if !strings.Contains(row, want) {
			t.Errorf("batch list row lacks %q: %s", want, row)
		}
	}

	// A draft with a row in error: the maker gets the errors CSV.
	head := "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"
	bad := op.uploadOK("bad.csv", []byte(head+"甲,6222020200112233440001,1.00,HPT00003,上海,上海\r\n乙,6222020200112233440002,2.00,HPT99999,上海,上海\r\n"))
	page := op.get(fmt.Sprintf("/payouts/batches/%d", bad)).body
	if !strings.Contains(page, fmt.Sprintf(`href="/payouts/batches/%d/errors.csv"`, bad)) || strings.Contains(page, `data-testid="errors-folded"`) {
		t.Error("the maker's draft does not offer its errors CSV, or folds its errors")
	}
	op.postForm(fmt.Sprintf("/payouts/batches/%d/drop-errors", bad), url.Values{})
	op.sendForApproval(bad)
	page = ap.get(fmt.Sprintf("/payouts/batches/%d", bad)).body
	if !strings.Contains(page, `data-testid="errors-folded"`) {
		t.Error("the approver's page does not fold the rows with errors away")
	}
	if !strings.Contains(page, `data-testid="review-capitals"`) || !strings.Contains(page, "壹元整") {
		t.Error("the review step lacks the total in capitals")
	}
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", bad), url.Values{"reason": {"no"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	page = op.get(fmt.Sprintf("/payouts/batches/%d", bad)).body
	for _, want := range []string{`data-testid="copy-batch"`, fmt.Sprintf(`/payouts/batches/%d/results.csv"`, bad), fmt.Sprintf(`action="/payouts/batches/%d/copy"`, bad)} {
		if !strings.Contains(page, want) {
			t.Errorf("the rejected batch's page lacks %q", want)
		}
	}
	// A viewer sees no copy button: the rule says operators copy.
	vw, _ := env.signedIn(store.RoleViewer)
	if strings.Contains(vw.get(fmt.Sprintf("/payouts/batches/%d", bad)).body, `data-testid="copy-batch"`) {
		t.Error("a viewer is offered the copy")
	}
	res := op.postForm(fmt.Sprintf("/payouts/batches/%d/copy", bad), url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("copy: %d", res.StatusCode)
	}
	page = op.get(fmt.Sprintf("/payouts/batches/%d", bad)).body
	if strings.Contains(page, `data-testid="copy-batch"`) || !strings.Contains(page, `data-testid="copy-note"`) {
		t.Error("a copied batch still offers the copy, or does not say where it went")
	}
	// The upload form says the template's # row is an example.
	if !strings.Contains(op.get("/payouts/batches").body, `data-testid="template-example"`) {
		t.Error("the upload form does not say the # row is an example")
	}
}
