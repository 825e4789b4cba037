package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// The search box: a whole number (any case) goes to its order; the start
// of a number, a payee name (Chinese or Latin, any case), a subject, or an
// amount in yuan lists the matching orders; LIKE's wildcards are plain
// characters; nothing found offers the gateway lookup.
func TestSearchBox(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	ctx := context.Background()
	op, _ := env.signedIn(store.RoleOperator)
	viewer, _ := env.signedIn(store.RoleViewer)
	payID := paymentID(t, op.postForm("/payments", paymentForm(t, env, op))) // ¥12.50, "Green tea"
	pay, err := env.db.PayOrderByID(ctx, payID)
	if err != nil {
		t.Fatal(err)
	}
	file := "account_name,account_no,amount,bank_code,province,city\r\n" +
		"Alice Wong,6217000011112222,10.00,HPT00003,上海,上海\r\n" +
		"张三丰,6222999900001111,30.00,HPT00003,上海,上海\r\n" +
		"张无忌,6222999900001112,12.50,HPT00003,上海,上海\r\n"
	batch := op.uploadOK("search.csv", []byte(file))
	op.sendForApproval(batch) // a draft is found by its whole number only (below)
	var payoutID int64
	var payoutNo string
	env.db.QueryRow(`SELECT id, mch_trans_order_no FROM payouts WHERE batch_id = ? AND row_no = 2`, batch).Scan(&payoutID, &payoutNo)

	search := func(q string) response {
		t.Helper()
		return viewer.get("/search?q=" + url.QueryEscape(q))
	}
	for _, q := range []string{payoutNo, strings.ToLower(payoutNo), " " + payoutNo + " "} {
		if res := search(q); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/orders/trans/%d", payoutID) {
			t.Errorf("%q: %d %q", q, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if res := search(strings.ToLower(pay.MchOrderNo)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/orders/pay/%d", payID) {
		t.Errorf("pay order number: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	results := func(q string) int {
		t.Helper()
		res := search(q)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%q: %d", q, res.StatusCode)
		}
		return strings.Count(res.body, `href="/orders/`)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{
		{payoutNo[:len(payoutNo)-3], 3}, // the batch's numbers share their start
		{"张", 2},
		{"张三", 1},
		{"alice", 1},
		{"ALI", 1},
		{"green", 1},
		{"12.50", 2},  // the payment and 张无忌's payout
		{"¥12.50", 2}, // the one amount parser takes the sign
		{"%", 0},
		{"_", 0},
		{"' OR 1=1 --", 0},
		{strings.Repeat("x", 5000), 0},
	} {
		if got := results(tc.q); got != tc.want {
			t.Errorf("%q: %d results, want %d", tc.q, got, tc.want)
		}
	}
	// A draft's whole number goes to it; its start and payee name find
	// nothing until the batch is sent for approval.
	draft := op.uploadOK("draft.csv", []byte("account_name,account_no,amount,bank_code,province,city\r\n"+
		"草稿人,6222999900009999,1.00,HPT00003,上海,上海\r\n"))
	var draftID int64
	var draftNo string
	env.db.QueryRow(`SELECT id, mch_trans_order_no FROM payouts WHERE batch_id = ?`, draft).Scan(&draftID, &draftNo)
	if res := search(strings.ToLower(draftNo)); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != fmt.Sprintf("/orders/trans/%d", draftID) {
		t.Errorf("a draft's whole number: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := results("草稿"); got != 0 {
		t.Errorf("a draft's payee: %d results", got)
	}
	if res := search("NOTHING-LIKE-IT"); !strings.Contains(res.body, `data-testid="not-local"`) {
		t.Error("nothing found does not offer the gateway lookup")
	}
	// The old exact lookup on the orders page still works.
	if res := viewer.get("/orders?q=" + url.QueryEscape(payoutNo)); res.StatusCode != http.StatusOK || !strings.Contains(res.body, fmt.Sprintf(`href="/orders/trans/%d"`, payoutID)) {
		t.Errorf("orders lookup: %d", res.StatusCode)
	}
}
