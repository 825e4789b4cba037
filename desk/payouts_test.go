package desk

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// client is a protocol client of the sandbox's merchant, for tests that
// act as the merchant's other systems.
func (e *coreEnv) client() *payments.Client {
	return payments.NewClient(payments.Account{BaseURL: e.sbURL, MchID: testMchID, AppID: testAppID, Key: testKey}, http.DefaultClient, 5*time.Second)
}

// startWorker runs a payout worker for the rest of the test, polling
// often and backing off briefly.
func (e *coreEnv) startWorker(opt PayoutOptions) {
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
	go func() { e.d.RunPayoutWorker(ctx, opt); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// waitFinished waits until every payout of a batch is final and returns
// the batch with its outcome.
func (e *coreEnv) waitFinished(id int64, within time.Duration) store.Batch {
	e.t.Helper()
	ctx := context.Background()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		outcome, err := e.d.FinishBatch(ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if outcome != "" {
			return e.batch(id)
		}
	}
	e.t.Fatalf("batch %d not finished within %s", id, within)
	return store.Batch{}
}

func (e *coreEnv) batch(id int64) store.Batch {
	e.t.Helper()
	b, err := e.db.BatchByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *coreEnv) mchNoOfRow(batchID int64, row int) string {
	e.t.Helper()
	var no string
	if err := e.db.QueryRow(`SELECT mch_trans_order_no FROM payouts WHERE batch_id = ? AND row_no = ?`, batchID, row).Scan(&no); err != nil {
		e.t.Fatal(err)
	}
	return no
}

// approvedBatch stores an approved batch of payouts directly.
func (e *coreEnv) approvedBatch(payouts ...store.Payout) int64 {
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
				p.MchTransOrderNo = mchNo(e.clock.Now(), id, i+2)
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

// payoutFile is a batch file of n payouts of ¥1.00 + i fen each.
func payoutFile(n int) string {
	var b strings.Builder
	b.WriteString("account_name,account_no,amount,bank_code,province,city\n")
	for i := range n {
		fmt.Fprintf(&b, "payee %d,62220202%011d,%d.%02d,HPT00003,上海,上海\n", i, i, 1+i/100, i%100)
	}
	return b.String()
}

// sentBatch uploads a file of n payouts as maker and sends it for
// approval with the right control totals.
func (e *coreEnv) sentBatch(maker Actor, n int) store.Batch {
	e.t.Helper()
	ctx := context.Background()
	id, err := e.d.ImportBatch(ctx, maker, BatchFile{Name: "batch.csv", File: strings.NewReader(payoutFile(n))})
	if err != nil {
		e.t.Fatal(err)
	}
	var sum int64
	for i := range n {
		sum += int64(100 + i/100*100 + i%100)
	}
	b, err := e.d.SendBatch(ctx, maker, id, fmt.Sprint(n), money.Plain(sum))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// A definite FAIL refuses the payout with the gateway's words; a FAIL that
// says the number exists already is resolved by query, not by refusing.
func TestDefiniteRefusalAndDuplicateNumber(t *testing.T) {
	env := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	noCity := testPayout("6222020200000000001")
	noCity.City = ""
	known := testPayout("6222020200000000002")
	known.MchTransOrderNo = "PDKNOWN0001"
	c := env.client()
	if _, err := c.CreateTransOrder(ctx, transRequest(known, env.d.NotifyURL(env.account, "trans"))); err != nil {
		t.Fatal(err)
	}
	id := env.approvedBatch(noCity, known)
	env.startWorker(PayoutOptions{})
	b := env.waitFinished(id, 10*time.Second)
	refused, err := env.db.PayoutByMchTransOrderNo(ctx, env.account.ID, env.mchNoOfRow(id, 2))
	if err != nil {
		t.Fatal(err)
	}
	if refused.State != store.PayoutRefused || !strings.Contains(refused.LastError, "city") {
		t.Errorf("payout without a city: state %s, error %q", refused.State, refused.LastError)
	}
	got, _ := env.db.PayoutByMchTransOrderNo(ctx, env.account.ID, "PDKNOWN0001")
	if got.State != store.PayoutSubmitted || got.TransOrderID == "" || env.sb.CreateCount("PDKNOWN0001") != 1 {
		t.Errorf("payout the gateway had already: %+v, created %d times", got, env.sb.CreateCount("PDKNOWN0001"))
	}
	if b.Outcome != store.OutcomePartiallySucceeded {
		t.Errorf("outcome %q", b.Outcome)
	}
}

// Two workers on one database never send the same payout twice.
func TestTwoWorkers(t *testing.T) {
	env := newCoreEnv(t).withSandbox(sandbox.Faults{})
	var ps []store.Payout
	for i := 0; i < 200; i++ {
		ps = append(ps, testPayout(fmt.Sprintf("62220202%011d", i)))
	}
	id := env.approvedBatch(ps...)
	env.startWorker(PayoutOptions{Chunk: 16})
	env.startWorker(PayoutOptions{Chunk: 16})
	env.waitFinished(id, 30*time.Second)
	err := env.db.BatchPayoutsAll(context.Background(), id, func(p store.Payout) error {
		if n := env.sb.CreateCount(p.MchTransOrderNo); n != 1 || p.SubmitAttempts != 1 {
			t.Errorf("payout %s: created %d times, %d attempts", p.MchTransOrderNo, n, p.SubmitAttempts)
			evs, _ := env.db.Events(context.Background(), store.KindTrans, p.ID)
			for _, e := range evs {
				t.Logf("  %s %s %s", e.At.Format("15:04:05.000000"), e.Type, e.Summary)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A merchant payout number another system already used at the gateway, for
// another amount: the payout is refused as not sent, an alert is raised, and
// the other system's payout is not adopted as ours.
func TestPayoutNumberTakenElsewhere(t *testing.T) {
	env := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	c := env.client()
	other := testPayout("6222020200000000009")
	_, err := c.CreateTransOrder(ctx, payments.TransOrderRequest{MchTransOrderNo: "SHARED-0001", Amount: 99900, NotifyURL: "http://127.0.0.1:9/other-system/notify",
		BankCode: other.BankCode, BankName: other.BankName, AccountType: "1", AccountName: "其他系统", AccountNo: other.AccountNo, Province: "上海", City: "上海"})
	if err != nil {
		t.Fatal(err)
	}
	p := testPayout("6222020200000000001")
	p.MchTransOrderNo = "SHARED-0001"
	batchID := env.approvedBatch(p)
	env.startWorker(PayoutOptions{})
	env.waitFinished(batchID, 30*time.Second)
	got, err := env.db.PayoutByMchTransOrderNo(ctx, env.account.ID, "SHARED-0001")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.PayoutRefused || got.Status != nil || !strings.Contains(got.LastError, "another payout") {
		t.Fatalf("payout %+v", got)
	}
	if n := env.sb.CreateCount("SHARED-0001"); n != 1 {
		t.Fatalf("the gateway accepted %d creates for the number, want the other system's 1", n)
	}
	var alerts int
	env.db.QueryRow(`SELECT count(*) FROM alerts WHERE kind = ? AND order_ref = ?`, store.AlertMismatch, got.ID).Scan(&alerts)
	if alerts != 1 {
		t.Fatalf("%d alerts, want 1", alerts)
	}
}

// approvers and makers of the approval rule tests
var (
	maker     = Actor{UserID: 10, Username: "mia", Role: store.RoleApprover, ClientAddr: "192.0.2.10"}
	approver1 = Actor{UserID: 11, Username: "ann", Role: store.RoleApprover, ClientAddr: "192.0.2.11"}
	approver2 = Actor{UserID: 12, Username: "bo", Role: store.RoleApprover, ClientAddr: "192.0.2.12"}
)

// The maker of a batch may not approve it while the two-person rule is on,
// and may once it is off (the approval then says so); operators and
// viewers never approve. The batch page's answer is the action's.
func TestMakerIsNotApprover(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	b := e.sentBatch(maker, 2)
	for _, a := range []Actor{maker, operator, {Username: "vera", Role: store.RoleViewer}} {
		acts, err := e.d.BatchActions(ctx, a, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if acts.Approve || acts.Reject || acts.ApproveNote.Key == "" {
			t.Errorf("%s (%s) may approve: %+v", a.Username, a.Role, acts)
		}
		if _, err := e.d.ApproveBatch(ctx, a, b.ID, "", "", ""); !isKind(err, Forbidden) {
			t.Errorf("%s (%s) approves: %v", a.Username, a.Role, err)
		}
		if _, err := e.d.RejectBatch(ctx, a, b.ID, "no"); !isKind(err, Forbidden) {
			t.Errorf("%s (%s) rejects: %v", a.Username, a.Role, err)
		}
	}
	if acts, _ := e.d.BatchActions(ctx, approver1, b, nil); !acts.Approve {
		t.Errorf("another approver may not approve: %+v", acts)
	}
	if got, err := e.d.ApproveBatch(ctx, approver1, b.ID, "ok", "", e.checked(b.ID)); err != nil || got.State != store.BatchApproved {
		t.Fatalf("another approver: %+v %v", got, err)
	}

	// The rule off: the maker approves alone, and the audit row says so.
	if err := e.d.SetPayoutRules(ctx, admin, false, "", "3"); err != nil {
		t.Fatal(err)
	}
	b2 := e.sentBatch(maker, 1)
	if b2.TwoPerson {
		t.Fatal("a batch made with the rule off keeps it on")
	}
	if got, err := e.d.ApproveBatch(ctx, maker, b2.ID, "", "", e.checked(b2.ID)); err != nil || got.State != store.BatchApproved {
		t.Fatalf("the maker with the rule off: %+v %v", got, err)
	}
	var detail string
	e.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'payout.batch.approve' AND subject = ?`, fmt.Sprintf("batch:%d", b2.ID)).Scan(&detail)
	if !strings.Contains(detail, "approved by its maker: two-person rule off") {
		t.Errorf("audit detail %q", detail)
	}
}

// Above the second-approver limit a batch needs two approvals by two
// people; the first does not approve its payouts.
func TestSecondApproverAboveTheLimit(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	if err := e.d.SetPayoutRules(ctx, admin, true, "10", "3"); err != nil {
		t.Fatal(err)
	}
	small := e.sentBatch(maker, 2) // ¥2.01
	big := e.sentBatch(maker, 12)  // ¥12.66
	if small.NeedsSecond || !big.NeedsSecond {
		t.Fatalf("needs a second approver: small %v, big %v", small.NeedsSecond, big.NeedsSecond)
	}
	first, err := e.d.ApproveBatch(ctx, approver1, big.ID, "one", "", e.checked(big.ID))
	if err != nil || first.State != store.BatchAwaitingApproval || first.ApprovedBy != approver1.Username {
		t.Fatalf("first approval: %+v %v", first, err)
	}
	var approved int
	e.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'approved'`, big.ID).Scan(&approved)
	if approved != 0 {
		t.Fatalf("%d payouts approved after one approval", approved)
	}
	if acts, _ := e.d.BatchActions(ctx, approver1, first, nil); acts.Approve {
		t.Error("the first approver is offered a second approval")
	}
	if _, err := e.d.ApproveBatch(ctx, approver1, big.ID, "", "", ""); !isKind(err, Forbidden) {
		t.Errorf("the same approver twice: %v", err)
	}
	second, err := e.d.ApproveBatch(ctx, approver2, big.ID, "", "", e.checked(big.ID))
	if err != nil || second.State != store.BatchApproved || second.SecondApprovedBy != approver2.Username {
		t.Fatalf("second approval: %+v %v", second, err)
	}
	if got, err := e.d.ApproveBatch(ctx, approver1, small.ID, "", "", e.checked(small.ID)); err != nil || got.State != store.BatchApproved {
		t.Fatalf("below the limit one approval is enough: %+v %v", got, err)
	}
}

// A batch not approved in time expires: the approval is refused, the
// expiry committed, and the worker expires the others.
func TestApprovalExpires(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	b := e.sentBatch(maker, 2)
	other := e.sentBatch(maker, 1)
	e.clock.Advance(3*24*time.Hour + time.Second) // the default expiry: 3 days
	if acts, _ := e.d.BatchActions(ctx, approver1, b, nil); acts.Approve || !strings.Contains(acts.ApproveNote.String(), "run out") {
		t.Errorf("an expired batch is offered for approval: %+v", acts)
	}
	_, err := e.d.ApproveBatch(ctx, approver1, b.ID, "", "", e.checked(b.ID))
	if r, ok := AsRefusal(err); !ok || r.Kind != Conflict || !strings.Contains(r.Error(), "the batch has expired and nothing was sent") {
		t.Fatalf("approving an expired batch: %v", err)
	}
	var expired int
	e.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'expired'`, b.ID).Scan(&expired)
	if e.batch(b.ID).State != store.BatchExpired || expired != 2 {
		t.Fatalf("after the refused approval: %s, %d payouts expired", e.batch(b.ID).State, expired)
	}
	if err := e.d.expireDue(ctx); err != nil {
		t.Fatal(err)
	}
	if st := e.batch(other.ID).State; st != store.BatchExpired {
		t.Errorf("the worker's expiry left the other batch %s", st)
	}
}

// Above the step-up limit the approver types their password again:
// missing or wrong, nothing is approved (and a wrong one is audited).
func TestStepUpAboveTheLimit(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	ap := actorOf(e.addUser("ann", store.RoleApprover))
	if err := e.d.SetSecurity(ctx, admin, false, "10"); err != nil {
		t.Fatal(err)
	}
	small, big := e.sentBatch(maker, 2), e.sentBatch(maker, 12)
	if acts, _ := e.d.BatchActions(ctx, ap, big, nil); acts.StepUp != 1000 {
		t.Errorf("the big batch's step-up: %+v", acts)
	}
	if acts, _ := e.d.BatchActions(ctx, ap, small, nil); acts.StepUp != 0 {
		t.Errorf("the small batch asks for a step-up: %+v", acts)
	}
	for _, typed := range []string{"", "wrong-password-1"} {
		if _, err := e.d.ApproveBatch(ctx, ap, big.ID, "", typed, e.checked(big.ID)); !isKind(err, Invalid) {
			t.Errorf("step-up %q: %v", typed, err)
		}
	}
	if st := e.batch(big.ID).State; st != store.BatchAwaitingApproval {
		t.Fatalf("a refused step-up left the batch %s", st)
	}
	var failed int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'payout.batch.step_up_failed'`).Scan(&failed)
	if failed != 1 {
		t.Errorf("%d step-up failures audited, want 1", failed)
	}
	got, err := e.d.ApproveBatch(ctx, ap, big.ID, "", "test-password-123", e.checked(big.ID))
	if err != nil || got.State != store.BatchApproved {
		t.Fatalf("with the password: %+v %v", got, err)
	}
	var detail string
	e.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'payout.batch.approve' AND subject = ?`, fmt.Sprintf("batch:%d", big.ID)).Scan(&detail)
	if !strings.Contains(detail, "approved with step-up (password)") {
		t.Errorf("audit detail %q", detail)
	}
	if _, err := e.d.ApproveBatch(ctx, ap, small.ID, "", "", e.checked(small.ID)); err != nil {
		t.Errorf("below the limit: %v", err)
	}
}

// Every create answer lost: each payout is still created exactly once,
// its outcome learned by query, never by sending blindly again.
func TestNeverTwiceUnderLostAnswers(t *testing.T) {
	e := newCoreEnv(t, func(c *Config) { c.GatewayTimeout = 300 * time.Millisecond }).withSandbox(sandbox.Faults{LostAnswer: true, FaultPercent: 50})
	ctx := context.Background()
	var ps []store.Payout
	for i := range 60 {
		ps = append(ps, testPayout(fmt.Sprintf("62220202%011d", i))) // every tenth ends in 4: the sandbox fails it
	}
	id := e.approvedBatch(ps...)
	e.startWorker(PayoutOptions{Concurrency: 16, Chunk: 16})
	b := e.waitFinished(id, 60*time.Second)
	unclear := 0
	err := e.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if n := e.sb.CreateCount(p.MchTransOrderNo); n != 1 {
			t.Errorf("payout %s created %d times", p.MchTransOrderNo, n)
		}
		if PayoutFailed(p) != strings.HasSuffix(p.AccountNo, "4") {
			t.Errorf("payout to %s: state %s status %v", p.AccountNo, p.State, p.Status)
		}
		if e.events(store.KindTrans, p.ID, store.EventError) > 0 {
			unclear++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if unclear == 0 {
		t.Error("no answer was lost: the fault did not bite")
	}
	if b.Outcome != store.OutcomePartiallySucceeded {
		t.Errorf("outcome %q", b.Outcome)
	}
}
