package desk

import (
	"context"
	"strings"
	"testing"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// sendOne runs one approved payout through a worker and returns it once
// final, with its batch.
func (e *coreEnv) sendOne(p store.Payout) (store.Payout, store.Batch) {
	e.t.Helper()
	id := e.approvedBatch(p)
	e.startWorker(PayoutOptions{})
	b := e.waitFinished(id, 20*time.Second)
	var got store.Payout
	if err := e.db.BatchPayoutsAll(context.Background(), id, func(p store.Payout) error { got = p; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return got, b
}

// A payout's first create lands late: its answer is lost, and the query
// after it says "not found", so the worker sends it again under the same
// number; by then the gateway holds the first send and refuses the
// re-send as a duplicate, in words Paydesk does not know (or with 0010).
// The refusal is not taken: a query finds the first send, whose outcome
// the payout ends with, created once, never offered for a retry.
func TestResentPayoutRefusedInNewWordsIsQueried(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults sandbox.Faults
	}{
		{"new wording", sandbox.Faults{LostAnswer: true, LateCreate: true, DuplicateMessage: "商户单号已使用"}},
		{"0010", sandbox.Faults{LostAnswer: true, LateCreate: true, DuplicateSystemError: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newCoreEnv(t, func(c *Config) { c.GatewayTimeout = 300 * time.Millisecond }).withSandbox(tt.faults)
			p, b := e.sendOne(testPayout("6222020200000000001"))
			if p.State != store.PayoutSubmitted || p.StatusOr(-1) != payments.TransSucceeded || p.RefusalUnconfirmed {
				t.Errorf("payout: state %s, status %d, unconfirmed refusal %v, error %q; want the first send's success",
					p.State, p.StatusOr(-1), p.RefusalUnconfirmed, p.LastError)
			}
			if p.SubmitAttempts != 2 {
				t.Errorf("%d create calls, want 2 (the lost one and the re-send)", p.SubmitAttempts)
			}
			if n := e.sb.CreateCount(p.MchTransOrderNo); n != 1 {
				t.Errorf("created %d times at the gateway", n)
			}
			if b.Outcome != store.OutcomeSucceeded {
				t.Errorf("batch outcome %q", b.Outcome)
			}
			if acts, _ := e.d.BatchActions(context.Background(), operator, b, nil); acts.Retry || acts.RetryCount != 0 {
				t.Errorf("offered for a retry: %+v", acts)
			}
		})
	}
}

// A re-send the gateway refuses while it holds no earlier send: the query
// confirms the refusal, and then the payout is offered for a retry.
func TestResentPayoutRefusalConfirmedByQuery(t *testing.T) {
	e := newCoreEnv(t, func(c *Config) { c.GatewayTimeout = 300 * time.Millisecond }).withSandbox(sandbox.Faults{Timeout: true})
	ctx := context.Background()
	noCity := testPayout("6222020200000000002")
	noCity.City = "" // refused by the gateway, once a create reaches its checks
	id := e.approvedBatch(noCity)
	e.startWorker(PayoutOptions{})
	// The first create times out before the gateway checks anything.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		e.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'unknown'`, id).Scan(&n)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the payout did not become unknown")
		}
	}
	e.sb.SetFaults(sandbox.Faults{})
	b := e.waitFinished(id, 20*time.Second)
	var p store.Payout
	e.db.BatchPayoutsAll(ctx, id, func(x store.Payout) error { p = x; return nil })
	if p.State != store.PayoutRefused || p.RefusalUnconfirmed || !strings.Contains(p.LastError, "city") || p.SubmitAttempts != 2 {
		t.Fatalf("payout: %s, unconfirmed %v, %q, %d attempts", p.State, p.RefusalUnconfirmed, p.LastError, p.SubmitAttempts)
	}
	evs, _ := e.db.Events(ctx, store.KindTrans, p.ID)
	var asked, stands bool
	for _, ev := range evs {
		summary := (*i18n.Printer)(nil).Text(ev.Summary)
		asked = asked || strings.Contains(summary, "before taking the refusal")
		stands = stands || strings.Contains(summary, "its refusal stands")
	}
	if !asked || !stands {
		t.Errorf("the timeline does not tell the refusal was confirmed by a query: %+v", evs)
	}
	if acts, _ := e.d.BatchActions(ctx, operator, b, nil); !acts.Retry || acts.RetryCount != 1 || acts.RetryNote.Key != "" {
		t.Errorf("a confirmed refusal is not offered for a retry: %+v", acts)
	}
}

// Payouts refused by a re-send before refusals were confirmed (marked by
// the migration) are left out of a retry, with the reason on the batch
// page, until the worker has asked about them once: one the gateway holds
// goes on with its status, one it lacks is then offered for a retry.
func TestOldUnconfirmedRefusalsAreAskedOnce(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	held, lacked := testPayout("6222020200000000003"), testPayout("6222020200000000005")
	held.MchTransOrderNo, lacked.MchTransOrderNo = "OLD-HELD-1", "OLD-LACKED-1"
	if _, err := e.client().CreateTransOrder(ctx, transRequest(held, e.d.NotifyURL(e.account, "trans"))); err != nil {
		t.Fatal(err)
	}
	id := e.approvedBatch(held, lacked)
	if _, err := e.db.Exec(`UPDATE payouts SET state = 'refused', submit_attempts = 2, refusal_unconfirmed = 1, last_error = '订单号重复使用' WHERE batch_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.FinishBatch(ctx, id); err != nil {
		t.Fatal(err)
	}
	b := e.batch(id)
	acts, err := e.d.BatchActions(ctx, operator, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acts.Retry || !strings.Contains(acts.RetryNote.String(), "2 refused payouts are not offered for a retry") {
		t.Fatalf("before the worker asked: %+v", acts)
	}
	if _, _, err := e.d.RetryBatch(ctx, operator, id); !isKind(err, Conflict) {
		t.Fatalf("retrying unconfirmed refusals: %v", err)
	}
	e.startWorker(PayoutOptions{})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _ := e.db.UnconfirmedRefusals(ctx, id); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not ask about the unconfirmed refusals")
		}
	}
	b = e.waitFinished(id, 20*time.Second)
	h, _ := e.db.PayoutByMchTransOrderNo(ctx, e.account.ID, "OLD-HELD-1")
	l, _ := e.db.PayoutByMchTransOrderNo(ctx, e.account.ID, "OLD-LACKED-1")
	if h.State != store.PayoutSubmitted || h.StatusOr(-1) != payments.TransSucceeded || h.RefusalUnconfirmed {
		t.Errorf("the payout the gateway held: %s %d %v", h.State, h.StatusOr(-1), h.RefusalUnconfirmed)
	}
	if l.State != store.PayoutRefused || l.RefusalUnconfirmed {
		t.Errorf("the payout the gateway lacked: %s %v", l.State, l.RefusalUnconfirmed)
	}
	if n := e.sb.CreateCount("OLD-HELD-1") + e.sb.CreateCount("OLD-LACKED-1"); n != 1 {
		t.Errorf("%d creates, want the one made before", n)
	}
	if b.Outcome != store.OutcomePartiallySucceeded {
		t.Errorf("outcome %q", b.Outcome)
	}
	if acts, _ := e.d.BatchActions(ctx, operator, b, nil); !acts.Retry || acts.RetryCount != 1 || acts.RetryNote.Key != "" {
		t.Errorf("after the worker asked: %+v", acts)
	}
	newID, n, err := e.d.RetryBatch(ctx, operator, id)
	if err != nil || n != 1 {
		t.Fatalf("retry: %d %d %v", newID, n, err)
	}
}
