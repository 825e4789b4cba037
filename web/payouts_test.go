package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"paydesk/desk"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// upload posts a CSV file to /payouts/batches as the upload form does.
func (b *browser) upload(name string, data []byte) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.env.ts.URL+"/payouts/batches", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.env.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

var batchPath = regexp.MustCompile(`^/payouts/batches/(\d+)$`)

// uploadOK uploads a file and returns the new batch's id.
func (b *browser) uploadOK(name string, data []byte) int64 {
	b.t.Helper()
	res := b.upload(name, data)
	m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		b.t.Fatalf("upload %s: status %d, location %q: %s", name, res.StatusCode, res.Header.Get("Location"), res.body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// payoutCSV builds a batch file of n payouts of ¥1.00 + i fen; accounts
// ending in 4 fail in the sandbox.
func payoutCSV(n int, account func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "收款人%d,%s,%d.%02d,HPT%05d,上海,上海\r\n", i, account(i), 1+i/100, i%100, 1+i%97)
	}
	return b.Bytes()
}

func accountNo(i int) string { return fmt.Sprintf("62220202%011d", i) }

// sendForApproval posts the batch's real control totals.
func (b *browser) sendForApproval(id int64) {
	b.t.Helper()
	var n int
	var sum int64
	if err := b.env.db.QueryRowContext(context.Background(), `SELECT count(*), coalesce(sum(amount), 0) FROM payouts WHERE batch_id = ? AND state = 'draft'`, id).Scan(&n, &sum); err != nil {
		b.t.Fatal(err)
	}
	res := b.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {strconv.Itoa(n)}, "control_sum": {fmt.Sprintf("%d.%02d", sum/100, sum%100)}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("send batch %d: status %d: %s", id, res.StatusCode, res.body)
	}
}

func (e *testEnv) batch(id int64) store.Batch {
	e.t.Helper()
	b, err := e.db.BatchByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// startWorker runs the payout worker for the rest of the test.
func (e *testEnv) startWorker(opt desk.PayoutOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	if opt.Poll == 0 {
		opt.Poll = 20 * time.Millisecond
	}
	if opt.Backoff == 0 {
		opt.Backoff = 30 * time.Millisecond
	}
	if opt.FollowUp == 0 {
		opt.FollowUp = 100 * time.Millisecond
	}
	done := make(chan struct{})
	go func() { e.desk.RunPayoutWorker(ctx, opt); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// waitFinished waits until every payout of a batch is final.
func (e *testEnv) waitFinished(id int64, within time.Duration) store.Batch {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		open := 0
		err := e.db.BatchPayoutsAll(context.Background(), id, func(p store.Payout) error {
			if !desk.PayoutFinal(p) {
				open++
			}
			return nil
		})
		if err != nil {
			e.t.Fatal(err)
		}
		if open == 0 {
			// The outcome is recorded by the worker or the next page view.
			if _, err := e.desk.FinishBatch(context.Background(), id); err != nil {
				e.t.Fatal(err)
			}
			return e.batch(id)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("batch %d not finished within %s", id, within)
	return store.Batch{}
}

func TestBatchPreviewDropAndControlTotals(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	data := "户名,账号,金额,银行名称,省份,城市\r\n" +
		"张三,6222020200112233445,\"1,234.50\",中国建设银行,上海,上海\r\n" +
		"李四,6.22202E+18,10,招商银行,广东,深圳\r\n" +
		"王五,6222020200112233447,10,不存在银行,广东,深圳\r\n" +
		"张三,6222020200112233445,1234.5,中国建设银行,上海,上海\r\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	id := op.uploadOK("工资.csv", gbk)
	b := env.batch(id)
	if b.State != store.BatchDraft || b.Encoding != "GBK" || b.FileRows != 4 || b.ErrorRows != 2 || b.WarningRows != 1 {
		t.Fatalf("batch %+v", b)
	}
	page := op.get(fmt.Sprintf("/payouts/batches/%d", id))
	for _, want := range []string{
		"Row 3: The account number 6.22202E+18 was turned into scientific notation by Excel",
		"Row 4: The bank name &#34;不存在银行&#34; is not in the bank list",
		"Row 5: The same account number and amount as row 2",
		`data-testid="total-count">2<`, `data-testid="total-sum">¥2,469.00<`,
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	// Errors not dropped: refused.
	res := op.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {"2"}, "control_sum": {"2469.00"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Drop the rows with errors") {
		t.Fatalf("send with errors: %d", res.StatusCode)
	}
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/drop-errors", id), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop: %d %s", res.StatusCode, res.body)
	}
	res = op.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {"2"}, "control_sum": {"2468.00"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "The control totals do not match") {
		t.Fatalf("send with wrong totals: %d %s", res.StatusCode, res.body)
	}
	if env.batch(id).State != store.BatchDraft {
		t.Fatal("wrong totals changed the batch")
	}
	res = op.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {"2"}, "control_sum": {"2,469"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d %s", res.StatusCode, res.body)
	}
	b = env.batch(id)
	if b.State != store.BatchAwaitingApproval || b.ExpiresAt.IsZero() {
		t.Fatalf("after send: %+v", b)
	}
	var audits int
	env.db.QueryRow(`SELECT count(*) FROM audit_log WHERE subject = ? AND action IN ('payout.batch.upload', 'payout.batch.drop_errors', 'payout.batch.send')`, fmt.Sprintf("batch:%d", id)).Scan(&audits)
	if audits != 3 {
		t.Errorf("%d audit rows for the batch, want 3", audits)
	}
	// Nothing went to the gateway.
	if n := env.sb.CreateCount(mchNoOfRow(t, env, id, 2)); n != 0 {
		t.Errorf("a payout was created before approval")
	}
}

func mchNoOfRow(t *testing.T, env *testEnv, batchID int64, row int) string {
	t.Helper()
	var no string
	if err := env.db.QueryRow(`SELECT mch_trans_order_no FROM payouts WHERE batch_id = ? AND row_no = ?`, batchID, row).Scan(&no); err != nil {
		t.Fatal(err)
	}
	return no
}

func TestUploadRefusals(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	res := op.upload("x.csv", []byte("name,amount\nA,1\n"))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "no column for") {
		t.Fatalf("bad header: %d", res.StatusCode)
	}
	var n int
	env.db.QueryRow(`SELECT count(*) FROM payout_batches`).Scan(&n)
	if n != 0 {
		t.Fatalf("a refused file left %d batches", n)
	}
	viewer, _ := env.signedIn(store.RoleViewer)
	if res := viewer.upload("x.csv", payoutCSV(1, accountNo)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer upload: %d", res.StatusCode)
	}
}

func TestApprovalRules(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	maker, _ := env.signedIn(store.RoleApprover) // an approver may make batches too
	id := maker.uploadOK("a.csv", payoutCSV(3, accountNo))
	maker.sendForApproval(id)

	viewer, _ := env.signedIn(store.RoleViewer)
	op, _ := env.signedIn(store.RoleOperator)
	other, otherName := env.signedIn(store.RoleApprover)
	tests := []struct {
		name string
		b    *browser
		want int
	}{
		{"viewer", viewer, http.StatusForbidden},
		{"operator", op, http.StatusForbidden},
		{"maker", maker, http.StatusForbidden},
	}
	for _, tt := range tests {
		res := tt.b.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil)
		if res.StatusCode != tt.want {
			t.Errorf("%s approves: status %d, want %d", tt.name, res.StatusCode, tt.want)
		}
		res = tt.b.postForm(fmt.Sprintf("/payouts/batches/%d/reject", id), url.Values{"reason": {"no"}})
		if res.StatusCode != tt.want {
			t.Errorf("%s rejects: status %d, want %d", tt.name, res.StatusCode, tt.want)
		}
	}
	if st := env.batch(id).State; st != store.BatchAwaitingApproval {
		t.Fatalf("state %s after refused approvals", st)
	}
	page := maker.get(fmt.Sprintf("/payouts/batches/%d", id))
	if !strings.Contains(page.body, "you made this batch") || strings.Contains(page.body, `data-testid="approve"`) {
		t.Errorf("the maker's page offers approval")
	}
	if res := other.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), url.Values{"note": {"ok"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.StatusCode, res.body)
	}
	b := env.batch(id)
	if b.State != store.BatchApproved || b.ApprovedBy != otherName {
		t.Fatalf("after approval: %+v", b)
	}
	var approved int
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'approved'`, id).Scan(&approved)
	if approved != 3 {
		t.Errorf("%d payouts approved, want 3", approved)
	}
	if res := other.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil); res.StatusCode != http.StatusConflict {
		t.Errorf("second approval of an approved batch: %d", res.StatusCode)
	}
	page = viewer.get(fmt.Sprintf("/payouts/batches/%d", id))
	for _, want := range []string{"Uploaded a payout batch", "Sent a payout batch for approval", "Approved a payout batch", "3 payouts approved for sending; note: ok"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("batch history lacks %q", want)
		}
	}
}

func TestRejectNeedsReason(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	id := op.uploadOK("a.csv", payoutCSV(2, accountNo))
	op.sendForApproval(id)
	ap, _ := env.signedIn(store.RoleApprover)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", id), nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reject without reason: %d", res.StatusCode)
	}
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", id), url.Values{"reason": {"wrong month"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	var rejected int
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'rejected'`, id).Scan(&rejected)
	if b := env.batch(id); b.State != store.BatchRejected || b.RejectReason != "wrong month" || rejected != 2 {
		t.Fatalf("after reject: %+v, %d payouts rejected", b, rejected)
	}
}

func TestExpiredApproval(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	id := op.uploadOK("a.csv", payoutCSV(2, accountNo))
	op.sendForApproval(id)
	past := time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05.000000000Z")
	if _, err := env.db.Exec(`UPDATE payout_batches SET expires_at = ? WHERE id = ?`, past, id); err != nil {
		t.Fatal(err)
	}
	ap, _ := env.signedIn(store.RoleApprover)
	res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "the batch has expired and nothing was sent") {
		t.Fatalf("approve expired: %d %s", res.StatusCode, res.body)
	}
	var expired int
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'expired'`, id).Scan(&expired)
	if st := env.batch(id).State; st != store.BatchExpired || expired != 2 {
		t.Fatalf("state %s, %d payouts expired", st, expired)
	}
}

func TestTwoPersonRuleOffAndSecondApprover(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	admin, _ := env.signedIn(store.RoleAdmin)
	res := admin.postForm("/settings/payouts", url.Values{"expiry_days": {"2"}, "second_limit": {"10"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", res.StatusCode, res.body)
	}
	var audit string
	env.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'settings.payouts'`).Scan(&audit)
	if !strings.Contains(audit, "two-person rule true → false") {
		t.Fatalf("audit detail %q", audit)
	}
	// Two-person rule off: the maker approves alone, with a warning.
	maker, makerName := env.signedIn(store.RoleApprover)
	small := maker.uploadOK("small.csv", payoutCSV(2, accountNo)) // ¥2.01 in all
	maker.sendForApproval(small)
	if page := maker.get(fmt.Sprintf("/payouts/batches/%d", small)); !strings.Contains(page.body, "two-person rule was switched off") {
		t.Errorf("no warning on a batch made with the two-person rule off")
	}
	if res := maker.postForm(fmt.Sprintf("/payouts/batches/%d/approve", small), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("maker approves with the rule off: %d %s", res.StatusCode, res.body)
	}
	if b := env.batch(small); b.State != store.BatchApproved || b.ApprovedBy != makerName {
		t.Fatalf("small batch %+v", b)
	}
	// Above ¥10: two approvers.
	big := maker.uploadOK("big.csv", payoutCSV(12, accountNo))
	maker.sendForApproval(big)
	a2, _ := env.signedIn(store.RoleApprover)
	if res := maker.postForm(fmt.Sprintf("/payouts/batches/%d/approve", big), env.checkedForm(big)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first approval: %d", res.StatusCode)
	}
	if b := env.batch(big); b.State != store.BatchAwaitingApproval || !b.NeedsSecond {
		t.Fatalf("after one approval: %+v", b)
	}
	if res := maker.postForm(fmt.Sprintf("/payouts/batches/%d/approve", big), nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("same approver twice: %d", res.StatusCode)
	}
	if res := a2.postForm(fmt.Sprintf("/payouts/batches/%d/approve", big), env.checkedForm(big)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second approval: %d", res.StatusCode)
	}
	if b := env.batch(big); b.State != store.BatchApproved || b.SecondApprovedBy == "" {
		t.Fatalf("after two approvals: %+v", b)
	}
}

func TestRecentTwinWarning(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)
	first := op.uploadOK("a.csv", payoutCSV(2, accountNo))
	op.sendForApproval(first)
	ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", first), nil)
	second := op.uploadOK("b.csv", payoutCSV(1, accountNo))
	page := op.get(fmt.Sprintf("/payouts/batches/%d", second))
	if !strings.Contains(page.body, fmt.Sprintf("Row 2: A payout to the same account with the same amount was sent in batch #%d", first)) {
		t.Fatalf("no warning for a payout repeated within 7 days")
	}
	// A draft or rejected batch is no reason to warn.
	third := op.uploadOK("c.csv", payoutCSV(3, func(i int) string { return accountNo(100 + i) }))
	if b := env.batch(third); b.WarningRows != 0 {
		t.Fatalf("warnings for new accounts: %d", b.WarningRows)
	}
}

func TestSinglePayout(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	env.startWorker(desk.PayoutOptions{})
	op, _ := env.signedIn(store.RoleOperator)
	page := op.get("/payouts/new")
	if n := len(regexp.MustCompile(`<option value="HPT\d{5}"`).FindAllString(page.body, -1)); n != 97 || !strings.Contains(page.body, "HPT00073 浙江稠州商业银行") {
		t.Fatalf("bank picker does not list all 97 codes")
	}
	form := url.Values{"amount": {"12.345"}, "account_name": {"张三"}, "account_no": {"6222020200112233445"}, "bank_code": {"HPT00003"},
		"province": {"上海"}, "city": {"上海"}, "account_type": {"1"}, "account_attr": {"0"}}
	res := op.postForm("/payouts/new", form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "more than two decimals") {
		t.Fatalf("bad amount: %d", res.StatusCode)
	}
	form.Set("amount", "12.34")
	res = op.postForm("/payouts/new", form)
	m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s", res.StatusCode, res.body)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if b := env.batch(id); b.Kind != store.BatchSingle || b.State != store.BatchAwaitingApproval {
		t.Fatalf("single payout batch %+v", b)
	}
	ap, _ := env.signedIn(store.RoleApprover)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	b := env.waitFinished(id, 10*time.Second)
	if b.Outcome != store.OutcomeSucceeded {
		t.Fatalf("outcome %q", b.Outcome)
	}
	p, err := env.db.PayoutByMchTransOrderNo(context.Background(), env.account.ID, mchNoOfRow(t, env, id, 1))
	if err != nil || p.Amount != 1234 || p.TransOrderID == "" {
		t.Fatalf("payout %+v %v", p, err)
	}
	detail := op.get(fmt.Sprintf("/payouts/%d", p.ID))
	if !strings.Contains(detail.body, "The gateway accepted the payout") || !strings.Contains(detail.body, "paid out") {
		t.Errorf("payout page lacks its timeline")
	}
}

// TestNeverTwiceWithFaults sends a batch while the sandbox loses or holds
// 30% of its answers: every payout must end final and be created exactly
// once.
func TestNeverTwiceWithFaults(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{LostAnswer: true, Timeout: true, FaultPercent: 30}, func(c *testConfig) { c.Core.GatewayTimeout = 300 * time.Millisecond })
	env.startWorker(desk.PayoutOptions{Concurrency: 32, Chunk: 64})
	op, _ := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)
	const n = 300
	id := op.uploadOK("faults.csv", payoutCSV(n, accountNo)) // every tenth account ends in 4
	op.sendForApproval(id)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	b := env.waitFinished(id, 90*time.Second)
	ok, failed, unknownSeen := 0, 0, 0
	err := env.db.BatchPayoutsAll(context.Background(), id, func(p store.Payout) error {
		if c := env.sb.CreateCount(p.MchTransOrderNo); c != 1 {
			t.Errorf("payout %s created %d times", p.MchTransOrderNo, c)
		}
		wantFail := strings.HasSuffix(p.AccountNo, "4")
		if desk.PayoutFailed(p) != wantFail {
			t.Errorf("payout %s to %s: state %s status %v", p.MchTransOrderNo, p.AccountNo, p.State, p.Status)
		}
		if desk.PayoutFailed(p) {
			failed++
		} else {
			ok++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env.db.QueryRow(`SELECT count(DISTINCT order_ref) FROM order_events WHERE order_kind = 'trans' AND summary LIKE '{"key":"Not known whether the payout was made%'`).Scan(&unknownSeen)
	if unknownSeen == 0 {
		t.Errorf("no payout met an unclear answer: the faults did not bite")
	}
	if ok != n-n/10 || failed != n/10 || b.Outcome != store.OutcomePartiallySucceeded {
		t.Fatalf("%d succeeded, %d failed, outcome %q", ok, failed, b.Outcome)
	}
	t.Logf("%d payouts met an unclear answer and were resolved by query", unknownSeen)

	// The results CSV.
	res := op.get(fmt.Sprintf("/payouts/batches/%d/results.csv", id))
	if !strings.HasPrefix(res.body, "\ufeff") || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("results: %q", res.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != n+1 {
		t.Fatalf("results CSV: %d records, %v", len(recs), err)
	}
	fails := 0
	for _, r := range recs[1:] {
		if r[8] == "payout failed" {
			fails++
			if !strings.Contains(r[10], "账号以4结尾") {
				t.Errorf("failed row without the gateway's reason: %q", r)
			}
		}
		if r[2] == "" {
			t.Errorf("row without a gateway id: %q", r)
		}
	}
	if fails != n/10 {
		t.Errorf("%d failed rows in the results, want %d", fails, n/10)
	}

	// Retry the failed rows: a new draft batch with new numbers.
	res = op.postForm(fmt.Sprintf("/payouts/batches/%d/retry", id), nil)
	m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("retry: %d %s", res.StatusCode, res.body)
	}
	retryID, _ := strconv.ParseInt(m[1], 10, 64)
	rb := env.batch(retryID)
	if rb.Kind != store.BatchRetry || rb.RetryOf != id || rb.State != store.BatchDraft {
		t.Fatalf("retry batch %+v", rb)
	}
	var cnt, reused int
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ?`, retryID).Scan(&cnt)
	env.db.QueryRow(`SELECT count(*) FROM payouts r JOIN payouts o ON o.mch_trans_order_no = r.mch_trans_order_no AND o.id <> r.id WHERE r.batch_id = ?`, retryID).Scan(&reused)
	if cnt != n/10 || reused != 0 {
		t.Fatalf("retry batch: %d payouts, %d reused numbers", cnt, reused)
	}
}

// TestRestartResolvesBeforeSending: payouts left "submitting" by a crash
// are queried, not sent blindly; one the gateway has is not created again,
// one it lacks is created once with the same number.
func TestRestartResolvesBeforeSending(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, func(c *testConfig) { c.Core.GatewayTimeout = 300 * time.Millisecond })
	op, _ := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)
	id := op.uploadOK("a.csv", payoutCSV(2, accountNo))
	op.sendForApproval(id)
	ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), nil)
	ctx := context.Background()
	// Row 2 reached the gateway before the "crash"; row 3 did not.
	sent := mchNoOfRow(t, env, id, 2)
	p, _ := env.db.PayoutByMchTransOrderNo(ctx, env.account.ID, sent)
	c, _ := env.gatewayClient()
	if _, err := c.CreateTransOrder(ctx, payoutRequest(p, env.desk.NotifyURL(env.account, "trans"))); err != nil {
		t.Fatal(err)
	}
	if _, err := env.db.Exec(`UPDATE payouts SET state = 'submitting', submit_attempts = 1 WHERE batch_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	env.startWorker(desk.PayoutOptions{})
	env.waitFinished(id, 10*time.Second)
	for _, row := range []int{2, 3} {
		if n := env.sb.CreateCount(mchNoOfRow(t, env, id, row)); n != 1 {
			t.Errorf("row %d created %d times", row, n)
		}
	}
}

// The results CSV is safe to open in Excel: no cell starts a formula, and
// long account numbers stay text.
func TestResultsCSVIsFormulaSafe(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	id := op.uploadOK("evil.csv", []byte("account_name,account_no,amount,bank_code,province,city,param1\n\"=HYPERLINK(\"\"http://x\"\")\",6222020200112233445,1,HPT00001,@SUM(1),-2,+3\n"))
	res := op.get(fmt.Sprintf("/payouts/batches/%d/results.csv", id))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.body, "\ufeff") || !strings.Contains(res.body, "\r\n") {
		t.Fatalf("results: %d", res.StatusCode)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("results: %v %d", err, len(recs))
	}
	for _, cell := range recs[1] {
		if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
			t.Errorf("cell %q starts a formula", cell)
		}
	}
	if recs[1][3] != `'=HYPERLINK("http://x")` || recs[1][4] != "\t6222020200112233445" {
		t.Errorf("row %q", recs[1])
	}
}

// A merchant payout number given in the file that was used before is a row
// error; the other rows of the file are stored whole, and the old payout is
// left as it was.
func TestUploadReusedMerchantPayoutNumber(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	header := "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city,商户代付单号/mch_trans_order_no\r\n"
	first := op.uploadOK("a.csv", []byte(header+"甲,6222020200000000001,1.00,HPT00003,上海,上海,MINE-0001\r\n"))
	second := op.uploadOK("b.csv", []byte(header+
		"乙,6222020200000000002,2.00,HPT00003,上海,上海,MINE-0002\r\n"+
		"丙,6222020200000000003,3.00,HPT00003,上海,上海,MINE-0001\r\n"+
		"丁,6222020200000000005,5.00,HPT00005,上海,上海,\r\n"))
	b := env.batch(second)
	if b.FileRows != 3 || b.ErrorRows != 1 {
		t.Fatalf("second batch: %+v", b)
	}
	page := op.get(fmt.Sprintf("/payouts/batches/%d", second))
	if !strings.Contains(page.body, "Row 3: The merchant payout number MINE-0001 was used before") {
		t.Error("the preview does not name the reused number")
	}
	var n int
	env.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ?`, second).Scan(&n)
	if n != 2 {
		t.Errorf("second batch stored %d payouts, want the 2 good rows", n)
	}
	var owner, amount int64
	env.db.QueryRow(`SELECT batch_id, amount FROM payouts WHERE mch_trans_order_no = 'MINE-0001'`).Scan(&owner, &amount)
	if owner != first || amount != 100 {
		t.Errorf("MINE-0001 now belongs to batch %d with %d fen; want batch %d, 100 fen", owner, amount, first)
	}
}

// A payout's page keeps refreshing its timeline until the payout is settled
// and its callback has been seen; then it stops asking.
func TestPayoutTimelineRefreshesUntilSettled(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	viewer, _ := env.signedIn(store.RoleViewer)
	batchID := env.approvedBatch(testPayout("6222020200000000001"))
	var id int64
	if err := env.db.QueryRow(`SELECT id FROM payouts WHERE batch_id = ?`, batchID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	poll := fmt.Sprintf(`hx-get="/payouts/%d/timeline"`, id)
	if page := viewer.get(fmt.Sprintf("/payouts/%d", id)); page.StatusCode != 200 || !strings.Contains(page.body, poll) {
		t.Fatalf("an unsent payout's page does not refresh its timeline: %d", page.StatusCode)
	}
	env.startWorker(desk.PayoutOptions{})
	env.waitFinished(batchID, 30*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		frag := viewer.get(fmt.Sprintf("/payouts/%d/timeline", id))
		if frag.StatusCode != 200 {
			t.Fatalf("timeline fragment: %d", frag.StatusCode)
		}
		if strings.Contains(frag.body, "Gateway notification received") && !strings.Contains(frag.body, poll) {
			if !strings.Contains(frag.body, "made in batch #") {
				t.Error("the fragment lost the batch's transitions")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the timeline never settled:\n%s", frag.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// payoutRequest is the create call the console makes for payout p.
func payoutRequest(p store.Payout, notifyURL string) payments.TransOrderRequest {
	return payments.TransOrderRequest{
		MchTransOrderNo: p.MchTransOrderNo, Currency: p.Currency, Amount: p.Amount, NotifyURL: notifyURL,
		AccountAttr: p.AccountAttr, BankType: p.BankType, BankCode: p.BankCode, BankName: p.BankName, AccountType: p.AccountType,
		AccountName: p.AccountName, AccountNo: p.AccountNo, Province: p.Province, City: p.City, Param1: p.Param1, Param2: p.Param2,
	}
}

// approvedBatch stores an approved batch of payouts directly.
func (e *testEnv) approvedBatch(payouts ...store.Payout) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = e.db.CreateBatchTx(ctx, tx, store.Batch{AccountID: e.account.ID, Kind: store.BatchCSV, State: store.BatchApproved, CreatedBy: "t"}); err != nil {
			return err
		}
		bw, err := e.db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer bw.Close()
		for i, p := range payouts {
			p.AccountID, p.BatchID, p.RowNo, p.State = e.account.ID, id, i+2, store.PayoutApproved
			if p.MchTransOrderNo == "" {
				p.MchTransOrderNo = fmt.Sprintf("PD%s%d%06d", time.Now().UTC().Format("060102150405"), id, i+2)
			}
			if err := bw.Payout(ctx, p); err != nil {
				return err
			}
		}
		return bw.Flush(ctx)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

func testPayout(account string) store.Payout {
	return store.Payout{Amount: 100, AccountName: "张三", AccountNo: account, BankCode: "HPT00003", BankName: "中国建设银行",
		Province: "上海", City: "上海", AccountType: "1", AccountAttr: "0", CreatedBy: "t"}
}

// The batch page says which refused payouts a retry leaves out, and why:
// refusals of a payout sent again that no query has confirmed.
func TestBatchPageSaysWhichRefusalsRetryLeavesOut(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	id := env.approvedBatch(testPayout("6222020200000000011"), testPayout("6222020200000000012"))
	if _, err := env.db.Exec(`UPDATE payouts SET state = 'refused', submit_attempts = 2, refusal_unconfirmed = (row_no = 2), last_error = 'refused' WHERE batch_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := env.desk.FinishBatch(ctx, id); err != nil {
		t.Fatal(err)
	}
	op, _ := env.signedIn(store.RoleOperator)
	page := op.get(fmt.Sprintf("/payouts/batches/%d", id))
	if !strings.Contains(page.body, "1 refused payout is not offered for a retry") || !strings.Contains(page.body, "Retry the 1 failed payout in a new batch") {
		t.Fatalf("the batch page:\n%s", page.body)
	}
}
