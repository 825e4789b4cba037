package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestHomeQueueAndBadge: an approver's home page and Payouts tab show the
// batches waiting for them, with count and total; the maker's do not
// (two-person rule), and once rejected the batch is on the maker's home
// page as sent back, with the reason.
func TestHomeQueueAndBadge(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	ap, apName := env.signedIn(store.RoleApprover)
	id := op.uploadOK("home.csv", payoutCSV(3, accountNo))
	op.sendForApproval(id)

	res := ap.get("/")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("home: %d", res.StatusCode)
	}
	for _, want := range []string{
		`data-testid="awaiting-approval"`,       // the badge on the Payouts tab
		fmt.Sprintf(`/payouts/batches/%d"`, id), // the batch, linked
		"Awaiting your approval: 1 batch, ¥3.03",
		`href="/payouts?status=awaiting_approval"`,
		`data-testid="money-chart"`,
		"<title>Collected, paid out and fees: Last 7 days</title>",
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("approver's home lacks %q", want)
		}
	}
	if badge := between(res.body, `data-testid="awaiting-approval"`, "</span>"); !strings.HasSuffix(badge, ">1") {
		t.Errorf("badge %q, want 1", badge)
	}
	// Every page carries the badge, not only home.
	if res := ap.get("/payments"); !strings.Contains(res.body, `data-testid="awaiting-approval"`) {
		t.Error("the payments page has no approval badge")
	}
	// The maker may not approve their own batch: no badge, no list.
	if res := op.get("/"); strings.Contains(res.body, `data-testid="awaiting-approval"`) || strings.Contains(res.body, `data-testid="awaiting-list"`) {
		t.Error("the maker sees their own batch as awaiting their approval")
	}
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", id), url.Values{"reason": {"wrong amounts"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	res = op.get("/")
	sent := between(res.body, `data-testid="sent-back-list"`, "</table>")
	if !strings.Contains(sent, fmt.Sprintf("/payouts/batches/%d", id)) || !strings.Contains(sent, "wrong amounts") || !strings.Contains(sent, "rejected by "+apName) {
		t.Errorf("maker's sent-back list: %q", sent)
	}
	if res := ap.get("/"); strings.Contains(res.body, `data-testid="awaiting-approval"`) {
		t.Error("the badge stays after the batch was rejected")
	}
	// The period is picked in the address; an unknown one shows 7 days.
	if res := ap.get("/?days=30"); !strings.Contains(res.body, "<title>Collected, paid out and fees: Last 30 days</title>") {
		t.Error("?days=30 does not show 30 days")
	}
	if res := ap.get("/?days=x"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Last 7 days</title>") {
		t.Errorf("?days=x: %d", res.StatusCode)
	}
}

// between is the text of s after the first from, up to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}
