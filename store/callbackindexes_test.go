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
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pay_orders'
		AND (sql LIKE '%(channel_order_no%' OR sql LIKE '%(lower(channel_order_no)%')`).Scan(&n); err != nil {
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
	where, args := PayOrderFilter{Number: "CHabc"}.where()
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
