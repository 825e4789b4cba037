package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// checkedForm is an approval form that confirms the batch's rows with
// warnings, as an approver who read them sends it.
func (e *testEnv) checkedForm(id int64) url.Values {
	e.t.Helper()
	n, err := e.db.WarningRows(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return url.Values{"checked_warnings": {strconv.Itoa(n)}}
}

// Through HTTP: a batch with warnings is approved only with the number of
// rows with warnings checked; missing or stale, the batch page comes back
// with the sentence and nothing is approved.
func TestApproveBatchWithWarningsHTTP(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	op, _ := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)
	first := op.uploadOK("first.csv", payoutCSV(2, accountNo))
	op.sendForApproval(first)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", first), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a batch without warnings: %d %s", res.StatusCode, res.body)
	}
	again := op.uploadOK("again.csv", payoutCSV(2, accountNo)) // repeats the first: warnings
	op.sendForApproval(again)
	n, _ := env.db.WarningRows(ctx, again)
	if n == 0 {
		t.Fatal("the repeated batch has no warnings")
	}
	// The page's approval form asks for the tick, carrying the count.
	page := ap.get(fmt.Sprintf("/payouts/batches/%d", again))
	if tick := fmt.Sprintf(`name="checked_warnings" value="%d" required data-testid="checked-warnings"`, n); !strings.Contains(page.body, tick) {
		t.Fatalf("the approval form has no tick for %d rows: %s", n, page.body)
	}
	path := fmt.Sprintf("/payouts/batches/%d/approve", again)
	res := ap.postForm(path, url.Values{"note": {"ok"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "rows with warnings: check them") {
		t.Fatalf("approve without confirming the warnings: %d %s", res.StatusCode, res.body)
	}
	if err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		return env.db.AddBatchWarningTx(ctx, tx, again, 50, "Row 50: a warning added after the page was read")
	}); err != nil {
		t.Fatal(err)
	}
	res = ap.postForm(path, url.Values{"note": {"ok"}, "checked_warnings": {strconv.Itoa(n)}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, fmt.Sprintf("has %d rows with warnings now, not the %d you checked", n+1, n)) {
		t.Fatalf("approve with a stale count: %d %s", res.StatusCode, res.body)
	}
	if b := env.batch(again); b.State != store.BatchAwaitingApproval || b.ApprovedBy != "" {
		t.Fatalf("after refused approvals: %+v", b)
	}
	if res := ap.postForm(path, env.checkedForm(again)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve with the warnings checked: %d %s", res.StatusCode, res.body)
	}
	if b := env.batch(again); b.State != store.BatchApproved {
		t.Fatalf("batch %+v", b)
	}
}
