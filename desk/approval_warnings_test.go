package desk

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// checked is the number of rows with warnings of batch id, as the approver
// who read them would confirm it.
func (e *coreEnv) checked(id int64) string {
	e.t.Helper()
	n, err := e.db.WarningRows(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return strconv.Itoa(n)
}

// Approving a batch with warnings needs the number of rows with warnings
// the approver checked: missing, malformed or different (a warning added
// since the page was read), nothing is approved.
func TestApprovalNeedsWarningsChecked(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	first := e.sentBatch(maker, 3)
	if w := e.checked(first.ID); w != "0" {
		t.Fatalf("the first batch has %s rows with warnings", w)
	}
	if _, err := e.d.ApproveBatch(ctx, approver1, first.ID, "ok", "", ""); err != nil {
		t.Fatalf("a batch without warnings needs no confirmation: %v", err)
	}
	b := e.sentBatch(maker, 3) // the same payees and amounts: each row warns
	n, _ := strconv.Atoi(e.checked(b.ID))
	if n == 0 {
		t.Fatal("the test batch has no warnings")
	}
	acts, err := e.d.BatchActions(ctx, approver1, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if acts.ConfirmWarnings != n || len(acts.Warnings) != n || acts.Warnings[0].Severity != store.IssueWarning {
		t.Fatalf("the warnings the approver is shown: %d, %+v", acts.ConfirmWarnings, acts.Warnings)
	}
	if acts, _ := e.d.BatchActions(ctx, maker, b, nil); acts.ConfirmWarnings != 0 || acts.Warnings != nil {
		t.Errorf("warnings to confirm for someone who cannot approve: %+v", acts)
	}
	for _, tc := range []struct {
		typed string
		kind  Kind
	}{
		{"", Invalid}, {"  ", Invalid}, {"all", Invalid}, {"-1", Invalid}, {"1e3", Invalid},
		{strconv.Itoa(n - 1), Conflict}, {strconv.Itoa(n + 1), Conflict}, {"99999999999999999999", Invalid},
	} {
		_, err := e.d.ApproveBatch(ctx, approver1, b.ID, "ok", "", tc.typed)
		r, ok := AsRefusal(err)
		if !ok || r.Kind != tc.kind || r.Field != "checked_warnings" || !strings.Contains(r.Error(), "Nothing was approved.") {
			t.Errorf("checked %q: %v", tc.typed, err)
		}
	}
	if st := e.batch(b.ID).State; st != store.BatchAwaitingApproval {
		t.Fatalf("a refused approval left the batch %s", st)
	}

	// A warning added after the approver read the page: the old count is
	// refused, even when it passed the check before the transaction.
	if err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		return e.db.AddBatchWarningTx(ctx, tx, b.ID, 99, "Row 99: added later")
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.ApproveBatch(ctx, approver1, b.ID, "ok", "", strconv.Itoa(n)); !isKind(err, Conflict) {
		t.Fatalf("approved with a stale count: %v", err)
	}
	got, err := e.d.ApproveBatch(ctx, approver1, b.ID, "ok", "", strconv.Itoa(n+1))
	if err != nil || got.State != store.BatchApproved {
		t.Fatalf("approve with the warnings checked: %+v %v", got, err)
	}
	var detail string
	e.db.QueryRow(`SELECT detail FROM audit_log WHERE action = 'payout.batch.approve' AND subject = ?`, fmt.Sprintf("batch:%d", b.ID)).Scan(&detail)
	if !strings.Contains(detail, fmt.Sprintf("confirmed checking the %d rows with warnings", n+1)) {
		t.Errorf("audit detail %q", detail)
	}
}

// The rule itself: a batch without warnings needs no confirmation (an
// empty or zero count), and BatchActionsFor offers the count only to
// someone who may approve.
func TestCheckedWarningsRule(t *testing.T) {
	if r := checkedWarnings(0, ""); r != nil {
		t.Errorf("no warnings, nothing typed: %v", r)
	}
	if r := checkedWarnings(0, "0"); r != nil {
		t.Errorf("no warnings, 0 typed: %v", r)
	}
	if r := checkedWarnings(0, "2"); r == nil || r.Kind != Conflict {
		t.Errorf("no warnings, 2 typed: %v", r)
	}
	if r := checkedWarnings(2, " 2 "); r != nil {
		t.Errorf("2 warnings, 2 typed: %v", r)
	}
	b := store.Batch{State: store.BatchAwaitingApproval, CreatedBy: "mia", SentBy: "mia", TwoPerson: true}
	if acts := BatchActionsFor(approver1, b, BatchFacts{WarningRows: 4}, time.Time{}); acts.ConfirmWarnings != 4 {
		t.Errorf("approver: %+v", acts)
	}
	if acts := BatchActionsFor(maker, b, BatchFacts{WarningRows: 4}, time.Time{}); acts.ConfirmWarnings != 0 {
		t.Errorf("maker: %+v", acts)
	}
}

// Which batches may be copied into a new draft, and by whom.
func TestCopyRule(t *testing.T) {
	facts := BatchFacts{Count: 2}
	for _, tc := range []struct {
		name string
		a    Actor
		b    store.Batch
		f    BatchFacts
		ok   bool
		note string
	}{
		{"rejected", operator, store.Batch{State: store.BatchRejected}, facts, true, ""},
		{"expired", operator, store.Batch{State: store.BatchExpired}, facts, true, ""},
		{"failed", operator, store.Batch{State: store.BatchApproved, Outcome: store.OutcomeFailed}, facts, true, ""},
		{"partly paid", operator, store.Batch{State: store.BatchApproved, Outcome: store.OutcomePartiallySucceeded}, facts, false, ""},
		{"sending", operator, store.Batch{State: store.BatchApproved}, facts, false, ""},
		{"draft", operator, store.Batch{State: store.BatchDraft}, facts, false, ""},
		{"waiting", operator, store.Batch{State: store.BatchAwaitingApproval}, facts, false, ""},
		{"viewer", Actor{Username: "vera", Role: store.RoleViewer}, store.Batch{State: store.BatchRejected}, facts, false, ""},
		{"copied", operator, store.Batch{State: store.BatchRejected}, BatchFacts{Count: 2, CopiedTo: 9}, false, "copied into batch #9"},
		{"refusal unconfirmed", operator, store.Batch{State: store.BatchApproved, Outcome: store.OutcomeFailed}, BatchFacts{Count: 2, Unconfirmed: 1}, false, "asking it whether"},
	} {
		acts := BatchActionsFor(tc.a, tc.b, tc.f, time.Time{})
		if acts.Copy != tc.ok || !strings.Contains(acts.CopyNote.String(), tc.note) {
			t.Errorf("%s: copy %v %q", tc.name, acts.Copy, acts.CopyNote)
		}
	}
}

// An expired batch is copied once; the copy is a draft with new numbers.
func TestCopyExpiredBatch(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	b := e.sentBatch(maker, 2)
	e.clock.Advance(3*24*time.Hour + time.Second)
	if err := e.d.expireDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.d.CopyBatch(ctx, Actor{Username: "vera", Role: store.RoleViewer}, b.ID); !isKind(err, Forbidden) {
		t.Fatalf("a viewer copies: %v", err)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	e.d.cfg.Location = shanghai // eight hours from the clock's UTC: the numbers tell which zone dated them
	id, n, err := e.d.CopyBatch(ctx, operator, b.ID)
	if err != nil || n != 2 {
		t.Fatalf("copy: %d %d %v", id, n, err)
	}
	if c := e.batch(id); c.State != store.BatchDraft || c.RetryOf != b.ID || c.CreatedBy != operator.Username {
		t.Fatalf("copy %+v", c)
	}
	// New numbers, dated in the console's zone like every other.
	want := fmt.Sprintf("PD%s%d", e.d.now().In(e.d.cfg.Location).Format("060102150405"), id)
	if err := e.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if !strings.HasPrefix(p.MchTransOrderNo, want) {
			t.Errorf("copied payout number %s, want it to start %s", p.MchTransOrderNo, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.d.CopyBatch(ctx, operator, b.ID); !isKind(err, Conflict) {
		t.Fatalf("copied twice: %v", err)
	}
}
