package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

var nextPayoutsPage = regexp.MustCompile(`href="(/payouts\?[^"]*after=[^"]*)"`)

// The payouts list filters by status, batch, dates, payee name (prefix,
// any case, Chinese too), bank, account number (prefix) and amount, pages
// by keyset, and exports the same selection as CSV.
func TestPayoutsListFiltersAndCSV(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	op, _ := env.signedIn(store.RoleOperator)
	viewer, _ := env.signedIn(store.RoleViewer)
	big := op.uploadOK("big.csv", payoutCSV(120, accountNo)) // 收款人0…119, ¥1.00…¥2.19, HPT00001…
	file := "account_name,account_no,amount,bank_code,province,city\r\n" +
		"Alice Wong,6217000011112222,10.00,HPT00003,上海,上海\r\n" +
		"alfred lee,6217000099998888,20.50,HPT00005,上海,上海\r\n" +
		"张三,6222999900001111,30.00,HPT00003,上海,上海\r\n"
	small := op.uploadOK("small.csv", []byte(file))
	op.sendForApproval(small)
	// A payee name that is a formula, stored as an external payout could be
	// (one the gateway told of: submitted).
	if _, err := env.db.Exec(`INSERT INTO payouts (account_id, mch_trans_order_no, amount, account_name, account_no, bank_code, state, origin, created_at, updated_at)
		VALUES (?, 'EXT-1', 4200, '=HYPERLINK("http://x")', '6222000000000001', 'HPT00009', 'submitted', 'external', ?, ?)`,
		env.account.ID, env.now().UTC().Format("2006-01-02T15:04:05.000000000Z"), env.now().UTC().Format("2006-01-02T15:04:05.000000000Z")); err != nil {
		t.Fatal(err)
	}
	count := func(query string) int {
		t.Helper()
		res := viewer.get("/payouts" + query)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", query, res.StatusCode)
		}
		return strings.Count(res.body, "data-row=")
	}
	today := env.now().In(env.srv.loc).Format("2006-01-02")
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 50},
		{"?status=awaiting_approval", 3},
		{"?status=draft&batch=" + fmt.Sprint(big), 50},
		{"?batch=" + fmt.Sprint(small), 3},
		{"?batch=%23" + fmt.Sprint(small), 3},
		{"?name=al", 2},
		{"?name=ALI", 1},
		{"?name=%E5%BC%A0", 1},                                   // 张
		{"?status=draft&name=%E6%94%B6%E6%AC%BE%E4%BA%BA11", 11}, // 收款人11: 11, 110…119
		{"?name=%E6%94%B6%E6%AC%BE%E4%BA%BA11", 0},               // drafts: only with the draft status
		{"?bank=hpt00003", 2 + 2},                                // two of the big batch (HPT00003 is every 97th from 3) and two here
		{"?account_no=62170000", 2},
		{"?account_no=6217%200000%209999", 1},
		{"?min=10&max=20.50", 2},
		{"?min=2.19", 3 + 1}, // drafts (¥2.19 in the big batch): only with the draft status
		{"?status=draft&min=2.19", 1},
		{"?from=" + today + "&to=" + today + "&name=al", 2},
		{"?from=2000-01-01&to=2000-01-02", 0},
		{"?status=succeeded", 0},
	} {
		if got := count(tc.query); got != tc.want {
			t.Errorf("%s: %d rows, want %d", tc.query, got, tc.want)
		}
	}

	// Keyset paging through the big batch: 50 + 50 + 20, no row twice.
	seen := map[string]bool{}
	next := "/payouts?batch=" + fmt.Sprint(big)
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("more than three pages")
		}
		res := viewer.get(next)
		for _, m := range regexp.MustCompile(`data-row="(\d+)"`).FindAllStringSubmatch(res.body, -1) {
			if seen[m[1]] {
				t.Fatalf("row %s twice", m[1])
			}
			seen[m[1]] = true
		}
		next = ""
		if m := nextPayoutsPage.FindStringSubmatch(res.body); m != nil {
			next = html.UnescapeString(m[1])
			if !strings.Contains(next, "batch=") {
				t.Fatalf("the next page loses the filter: %s", next)
			}
		}
	}
	if len(seen) != 120 {
		t.Fatalf("%d rows seen over the pages", len(seen))
	}

	// Hostile or malformed filters: a sentence, not a 500.
	for _, bad := range []string{"?status=nope", "?batch=x", "?from=yesterday", "?min=5万"} {
		if res := viewer.get("/payouts.csv" + bad); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("CSV %s: %d", bad, res.StatusCode)
		}
		if res := viewer.get("/payouts" + bad); res.StatusCode != http.StatusOK {
			t.Errorf("list %s: %d", bad, res.StatusCode)
		}
	}

	// The CSV: the same selection, BOM, yuan with two decimals, the
	// account number kept as text, formula-safe, audited, not cached.
	recs := readCSV(t, viewer.get("/payouts.csv?name=al"))
	if len(recs) != 3 || recs[0][7] != "Account name" {
		t.Fatalf("CSV of name=al: %q", recs)
	}
	byName := map[string][]string{}
	for _, r := range recs[1:] {
		byName[r[7]] = r
	}
	if r := byName["alfred lee"]; r == nil || r[13] != "20.50" || r[8] != "\t6217000099998888" || r[9] != "HPT00005" || r[15] != "awaiting approval" || r[1] != fmt.Sprint(small) {
		t.Fatalf("CSV row %q", r)
	}
	recs = readCSV(t, viewer.get("/payouts.csv?bank=HPT00009&min=42&max=42"))
	if len(recs) != 2 || recs[1][7] != `'=HYPERLINK("http://x")` || recs[1][13] != "42.00" {
		t.Fatalf("formula payee: %q", recs)
	}
	if n := len(readCSV(t, viewer.get("/payouts.csv"))); n != 1+120+3+1 {
		t.Fatalf("the whole export: %d lines", n)
	}
	var audited int
	env.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'payout.export'`).Scan(&audited)
	if audited != 3 {
		t.Errorf("%d exports audited, want 3", audited)
	}
}
