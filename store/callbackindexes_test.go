package store

import (
	"context"
	"database/sql"
	"strings"
	"testing"
)

// TestPaidCallbackChannelIndexes: a paid callback writes its order's
// channel number into one index only (the search index on its lower-cased
// form), and the exact lookups by channel number still find the order,
// through that index, exactly (case counts).
func TestPaidCallbackChannelIndexes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	var n int
	indexes := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pay_orders'
		AND (sql LIKE '%(channel_order_no%' OR sql LIKE '%(lower(channel_order_no)%')`
	if db.Postgres() {
		indexes = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'pay_orders'
		AND indexdef LIKE '%channel_order_no%'`
	}
	if err := db.QueryRowContext(ctx, indexes).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d indexes on pay_orders.channel_order_no, want 1 (each costs every paid callback)", n)
	}
	ids := map[string]int64{}
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for _, no := range []string{"CHabc", "chABC"} {
			id, err := db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: "M-" + no, ChannelOrderNo: no, ProductID: 8000, Amount: 100,
				State: PayStateOpen})
			if err != nil {
				return err
			}
			ids[no] = id
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for no, id := range ids {
		o, err := db.PayOrderByNumber(ctx, no)
		if err != nil || o.ID != id {
			t.Errorf("PayOrderByNumber(%q): order %d, %v; want %d", no, o.ID, err, id)
		}
		page, err := db.ListPayOrders(ctx, PayOrderFilter{Number: no})
		if err != nil || len(page.Orders) != 1 || page.Orders[0].ID != id {
			t.Errorf("ListPayOrders(Number %q): %+v, %v; want order %d alone", no, page.Orders, err, id)
		}
	}
	if _, err := db.PayOrderByNumber(ctx, "CHABC"); err == nil {
		t.Error("PayOrderByNumber found an order by a channel number of another case")
	}
	where, args := PayOrderFilter{Number: "CHabc"}.where(db)
	if db.Postgres() {
		// A handful of rows: the planner would read the table whatever the
		// indexes; with sequential scans off it still does when no index
		// serves the channel number.
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			plan, err := pgPlan(ctx, tx, `SELECT id FROM pay_orders WHERE `+where, args...)
			if err != nil {
				return err
			}
			// The index searched by the lower-cased number (an Index Cond),
			// not merely read whole for its partial rule: that needs the
			// lookup in the index's "C" collation when the database's
			// collation is another.
			if !strings.Contains(plan, "pay_orders_search_channel_idx") || !strings.Contains(plan, "Index Cond: ((lower(channel_order_no))") ||
				strings.Contains(plan, "Seq Scan") {
				t.Errorf("the list's number filter: %s", plan)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM pay_orders WHERE `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "pay_orders_search_channel_idx") || strings.Contains(p, "SCAN pay_orders") {
		t.Errorf("the list's number filter: %s", p)
	}
}

func pgPlan(ctx context.Context, tx *sql.Tx, q string, args ...any) (string, error) {
	rows, err := tx.QueryContext(ctx, `EXPLAIN `+q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", err
		}
		plan = append(plan, line)
	}
	return strings.Join(plan, "; "), rows.Err()
}
