package store

import (
	"context"
	"strings"
	"testing"
)

// Every field the search reads is an index range or an index lookup:
// EXPLAIN QUERY PLAN shows no full scan of pay_orders or payouts.
func TestSearchUsesIndexes(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, f := range []searchField{
		{"pay_orders", "lower(mch_order_no)", MatchMchOrderNo},
		{"pay_orders", "lower(pay_order_id)", MatchPayOrderID},
		{"pay_orders", "lower(channel_order_no)", MatchChannelOrderNo},
		{"pay_orders", "lower(subject)", MatchSubject},
		{"payouts", "lower(mch_trans_order_no)", MatchMchTransOrderNo},
		{"payouts", "lower(trans_order_id)", MatchTransOrderID},
		{"payouts", "lower(channel_order_no)", MatchChannelOrderNo},
		{"payouts", "lower(account_name)", MatchPayee},
	} {
		cond, args := prefixRange(f.expr, "ab")
		for _, q := range []string{
			`SELECT 1 FROM ` + f.table + ` WHERE ` + cond + ` LIMIT 501`,
			`SELECT id FROM ` + f.table + ` WHERE ` + cond + ` ORDER BY created_at DESC, id DESC LIMIT 20`,
			`SELECT id FROM ` + f.table + ` WHERE id IN (SELECT id FROM ` + f.table + ` ORDER BY created_at DESC, id DESC LIMIT 5000) AND ` + cond + ` ORDER BY created_at DESC, id DESC LIMIT 20`,
		} {
			plan := queryPlan(t, db, q, args...)
			if strings.Contains(plan, "SCAN "+f.table+"\n") || strings.Contains(plan, "SCAN "+f.table+" ") && !strings.Contains(plan, "USING") {
				t.Errorf("%s: %s\n%s", f.match, q, plan)
			}
		}
	}
	for _, table := range []string{"pay_orders", "payouts"} {
		plan := queryPlan(t, db, `SELECT id FROM `+table+` WHERE amount = ? ORDER BY created_at DESC, id DESC LIMIT 20`, 1250)
		if !strings.Contains(plan, "amount_idx") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s amount: %s", table, plan)
		}
	}
	_ = ctx
}

func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

func TestPrefixEnd(t *testing.T) {
	for in, want := range map[string]string{"": "", "ab": "ac", "张": "弡", "a\U0010FFFF": "a\U0010FFFF\U0010FFFF"} {
		if got := prefixEnd(in); got != want {
			t.Errorf("prefixEnd(%q) = %q, want %q", in, got, want)
		}
	}
}
