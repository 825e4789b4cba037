package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// amountsCSV is a batch file with one payout per amount (yuan text).
func amountsCSV(amounts ...string) []byte {
	var b bytes.Buffer
	b.WriteString("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n")
	for i, a := range amounts {
		fmt.Fprintf(&b, "收款人%d,%s,\"%s\",HPT00001,上海,上海\r\n", i, accountNo(i+1000), a)
	}
	return b.Bytes()
}

func (e *testEnv) approvedPayouts(id int64) int {
	e.t.Helper()
	var n int
	e.db.QueryRow(`SELECT count(*) FROM payouts WHERE batch_id = ? AND state = 'approved'`, id).Scan(&n)
	return n
}

func TestStepUpApproval(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	newBatch := func(amounts ...string) int64 {
		id := op.uploadOK("b.csv", amountsCSV(amounts...))
		op.sendForApproval(id)
		return id
	}
	big := newBatch("30,000.00", "20,000.01") // ¥50,000.01: just above the default limit
	exact := newBatch("30,000.00", "20,000.00")
	ap, apName := env.signedIn(store.RoleApprover)
	approve := func(b *browser, id int64, stepUp string) response {
		v := env.checkedForm(id)
		v.Set("note", "ok")
		if stepUp != "" {
			v.Set("step_up", stepUp)
		}
		return b.postForm(fmt.Sprintf("/payouts/batches/%d/approve", id), v)
	}

	page := ap.get(fmt.Sprintf("/payouts/batches/%d", big))
	if !strings.Contains(page.body, `data-testid="step-up"`) || !strings.Contains(page.body, "above ¥50,000.00") {
		t.Fatal("the approval form of a batch above the limit asks for no password")
	}
	if page := ap.get(fmt.Sprintf("/payouts/batches/%d", exact)); strings.Contains(page.body, `data-testid="step-up"`) {
		t.Fatal("a batch at the limit asks for the password")
	}
	// Missing or wrong: a sentence, nothing approved.
	for _, tt := range []struct{ typed, want string }{
		{"", "type your password or a current two-factor code"},
		{"wrong-password-1", "The password or code is not right"},
		{"123456", "The password or code is not right"}, // no two-factor: a code is no password
		{strings.Repeat("x", 5000), "The password or code is not right"},
	} {
		res := approve(ap, big, tt.typed)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, tt.want) || !strings.Contains(res.body, "Nothing was approved.") {
			t.Fatalf("step-up %.20q: %d", tt.typed, res.StatusCode)
		}
	}
	if b := env.batch(big); b.State != store.BatchAwaitingApproval || b.ApprovedBy != "" || env.approvedPayouts(big) != 0 {
		t.Fatalf("approved without step-up: %+v", b)
	}
	if n := env.auditCount("payout.batch.step_up_failed", "wrong password"); n != 3 {
		t.Errorf("%d failed step-ups audited, want 3", n)
	}
	if page := ap.get(fmt.Sprintf("/payouts/batches/%d", big)); !strings.Contains(page.body, "Approval refused: password or code not right") || !strings.Contains(page.body, "wrong password") {
		t.Error("the batch's history does not show the refused step-up in words")
	}
	res := approve(ap, big, testPassword)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password: %d %s", res.StatusCode, res.body)
	}
	if b := env.batch(big); b.State != store.BatchApproved || b.ApprovedBy != apName || env.approvedPayouts(big) != 2 {
		t.Fatalf("after step-up: %+v", b)
	}
	if env.auditCount("payout.batch.approve", "%approved with step-up (password)") != 1 {
		t.Error("step-up approval not audited")
	}
	// Below the limit: no step-up.
	if res := approve(ap, exact, ""); res.StatusCode != http.StatusSeeOther || env.approvedPayouts(exact) != 2 {
		t.Fatalf("batch at the limit: %d", res.StatusCode)
	}
	if env.auditCount("payout.batch.approve", "%step-up%") != 1 {
		t.Error("an approval below the limit says step-up")
	}

	// An approver with two-factor may type a current code instead.
	ap2, _ := env.signedIn(store.RoleApprover)
	secret, _ := ap2.enrol()
	env.advance(30 * time.Second)
	byCode, again := newBatch("60,000.00"), newBatch("70,000.00")
	if page := ap2.get(fmt.Sprintf("/payouts/batches/%d", byCode)); !strings.Contains(page.body, "Your password or a current two-factor code") {
		t.Error("the form does not offer the code to an approver with two-factor")
	}
	code := env.code(secret)
	wrong := fmt.Sprintf("%06d", (atoi(code)+500000)%1000000)
	if res := approve(ap2, byCode, wrong); res.StatusCode != http.StatusUnprocessableEntity || env.approvedPayouts(byCode) != 0 {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	if res := approve(ap2, byCode, code); res.StatusCode != http.StatusSeeOther || env.approvedPayouts(byCode) != 1 {
		t.Fatalf("right code: %d %s", res.StatusCode, res.body)
	}
	if env.auditCount("payout.batch.approve", "%approved with step-up (two-factor code)") != 1 {
		t.Error("step-up with a code not audited")
	}
	// The same code a second time is refused.
	if res := approve(ap2, again, code); res.StatusCode != http.StatusUnprocessableEntity || env.approvedPayouts(again) != 0 {
		t.Fatalf("replayed code: %d", res.StatusCode)
	}

	// Throttled like sign-in: after a run of wrong passwords even the right one waits.
	for range throttleFree + 1 {
		approve(ap2, again, "wrong-password-1")
	}
	if res := approve(ap2, again, testPassword); res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.body, "Too many wrong passwords or codes") {
		t.Fatalf("while throttled: %d", res.StatusCode)
	}
	if env.approvedPayouts(again) != 0 {
		t.Fatal("approved while throttled")
	}
	env.advance(3 * time.Second)
	if res := approve(ap2, again, testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", res.StatusCode)
	}
}

func TestStepUpLimitSetting(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	adm, _ := env.signedIn(store.RoleAdmin)
	if res := adm.postForm("/settings/security", url.Values{"step_up_limit": {"10"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	op, _ := env.signedIn(store.RoleOperator)
	small := op.uploadOK("s.csv", payoutCSV(2, accountNo))  // ¥2.01
	large := op.uploadOK("l.csv", payoutCSV(12, accountNo)) // ¥12.66
	op.sendForApproval(small)
	op.sendForApproval(large)
	ap, _ := env.signedIn(store.RoleApprover)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", small), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("below ¥10: %d", res.StatusCode)
	}
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", large), nil); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "above ¥10.00") {
		t.Fatalf("above ¥10: %d", res.StatusCode)
	}
	if res := adm.postForm("/settings/security", url.Values{"step_up_limit": {""}}); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/approve", large), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("step-up switched off: %d", res.StatusCode)
	}
}

func TestSecuritySettingsRefuseBadLimits(t *testing.T) {
	env := newTestEnv(t)
	adm, _ := env.signedIn(store.RoleAdmin)
	for _, limit := range []string{"1e3", "-5", "1.234", "abc", strings.Repeat("9", 5000), "\xff\xfe"} {
		res := adm.postForm("/settings/security", url.Values{"require_two_factor": {"1"}, "step_up_limit": {limit}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error-step_up_limit"`) {
			t.Errorf("limit %.20q: %d", limit, res.StatusCode)
		}
	}
	if v, _ := env.db.Setting(context.Background(), "auth.require_two_factor", "0"); v != "0" {
		t.Fatal("a refused form changed the setting")
	}
	page := adm.get("/settings/security")
	if !strings.Contains(page.body, `value="50,000.00"`) && !strings.Contains(page.body, `value="50000.00"`) {
		t.Errorf("default step-up limit not shown: %s", page.body)
	}
	if res := adm.postForm("/settings/security", url.Values{"step_up_limit": {""}}); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	if env.auditCount("settings.security", "%step-up when approving above ¥50,000.00 → never") != 1 {
		t.Error("step-up change not audited")
	}
}
