package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The orders list, filtered by a pay order status group, reads each status
// newest first through an index: no query sorts the group's orders, so a
// page costs the same whether the group is most of the orders (open,
// while callbacks are on their way) or a handful. Without statistics
// (the console runs no ANALYZE), one query ORing the group's statuses
// sorted every open order: 160 ms for a page with 150,000 of them.
func TestOrdersListReadsNoWholeStatusGroup(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	statuses := []any{nil, 0, 1, 2, 3, 5, -1, -2}
	for i := range 400 {
		at := timeText(base.Add(time.Duration(i/2) * time.Second)) // two orders a second: ties
		if _, err := db.Exec(`INSERT INTO pay_orders (account_id, mch_order_no, pay_order_id, product_id, amount, subject, status, state,
			created_at, updated_at) VALUES (?, ?, ?, 8000, 100, 'x', ?, 'open', ?, ?)`,
			acct, fmt.Sprintf("M%d", i), fmt.Sprintf("P%d", i), statuses[i%len(statuses)], at, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, group := range []string{"open", "success", "failed"} {
		for _, f := range []OrderFilter{{}, {Origin: "console"}, {Before: base.Add(100 * time.Second)}, {From: base, To: base.Add(time.Hour)}} {
			f.Status, f.Kind, f.Limit = group, KindPay, 50
			for _, clause := range payStatusesOf(group) {
				q, args := orderPageQuery(KindPay, clause, f)
				if db.Postgres() {
					continue // SQLite's plans (PostgreSQL plans by its statistics)
				}
				if plan := queryPlan(t, db, q, args...); strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("%s %+v, %s: the query sorts its rows:\n%s", group, f, clause, plan)
				}
			}
			// The same rows, in the same order, as one query over the group.
			got, err := db.Orders(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			q, args := orderPageQuery(KindPay, statusClause(KindPay, group), f)
			rows, err := db.Query(q, args...)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for rows.Next() {
				var id int64
				var skip [9]any
				if err := rows.Scan(&id, &skip[0], &skip[1], &skip[2], &skip[3], &skip[4], &skip[5], &skip[6], &skip[7], &skip[8]); err != nil {
					t.Fatal(err)
				}
				want = append(want, id)
			}
			rows.Close()
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s %+v: %d orders, want %d", group, f, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i] {
					t.Fatalf("%s %+v: order %d is %d, want %d", group, f, i, got[i].ID, want[i])
				}
			}
		}
	}
}
