package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"paydesk/internal/dbtest"
	"strings"
	"testing"
	"time"
)

func insertTestOrder(t *testing.T, db *DB, o PayOrder) int64 {
	t.Helper()
	var id int64
	err := db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, err = db.InsertPayOrderTx(context.Background(), tx, o)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPayLinkAndFormToken(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	a := insertTestOrder(t, db, PayOrder{AccountID: acct, MchOrderNo: "A", ProductID: 8000, Amount: 1, State: PayStateOpen})
	b := insertTestOrder(t, db, PayOrder{AccountID: acct, MchOrderNo: "B", ProductID: 8000, Amount: 1, State: PayStateOpen})
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.SetPayLinkTx(ctx, tx, a, "tokA", "formA") }); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, func(tx *sql.Tx) error { return db.SetPayLinkTx(ctx, tx, b, "tokB", "formA") })
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("second use of a form token: %v, want ErrConflict", err)
	}
	if id, err := db.PayOrderIDByFormToken(ctx, nil, "formA"); err != nil || id != a {
		t.Fatalf("by form token: %d %v, want %d", id, err, a)
	}
	l, err := db.PayLinkByToken(ctx, "tokA")
	if err != nil || l.OrderID != a || !l.Active {
		t.Fatalf("link: %+v %v", l, err)
	}
	if _, err := db.PayLinkByToken(ctx, "tokB"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rolled-back link token found: %v", err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.SetPayLinkActiveTx(ctx, tx, a, false, "op") }); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.SetPayLinkActiveTx(ctx, tx, a, false, "op") }); !errors.Is(err, ErrConflict) {
		t.Fatalf("deactivating twice: %v", err)
	}
	if l, _ := db.PayLinkByOrder(ctx, a); l.Active || l.ChangedBy != "op" || l.ChangedAt.IsZero() {
		t.Fatalf("after deactivation: %+v", l)
	}
	if ok, _ := db.ClaimPayOrderCheck(ctx, a, time.Minute); !ok {
		t.Fatal("first check claim refused")
	}
	if ok, _ := db.ClaimPayOrderCheck(ctx, a, time.Minute); ok {
		t.Fatal("second check claim within the gap granted")
	}
}

func TestListPayOrdersFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	st := func(s int) *int { return &s }
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 30 {
		o := PayOrder{AccountID: acct, MchOrderNo: fmt.Sprintf("M%02d", i), ProductID: 8000 + i%3, Amount: int64(100 * (i + 1)), State: PayStateOpen, Status: st(i % 4)}
		if i == 29 {
			o.State, o.Status = PayStateUnknown, nil
		}
		db.now = func() time.Time { return base.Add(time.Duration(i) * time.Hour) }
		insertTestOrder(t, db, o)
	}
	numbers := func(p PayOrderPage) string {
		var s []string
		for _, o := range p.Orders {
			s = append(s, o.MchOrderNo)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		name string
		f    PayOrderFilter
		want string
	}{
		{"number", PayOrderFilter{Number: " M07 "}, "M07"},
		{"paid is 2 or 3", PayOrderFilter{Phase: "paid", Limit: 4}, "M27,M26,M23,M22"},
		{"unknown", PayOrderFilter{Phase: "unknown"}, "M29"},
		{"product", PayOrderFilter{ProductID: 8002, MaxAmount: 1200}, "M11,M08,M05,M02"},
		{"amount range", PayOrderFilter{MinAmount: 500, MaxAmount: 700}, "M06,M05,M04"},
		{"date range", PayOrderFilter{From: base.Add(3 * time.Hour), To: base.Add(5 * time.Hour)}, "M04,M03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := db.ListPayOrders(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := numbers(p); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}

	p1, _ := db.ListPayOrders(ctx, PayOrderFilter{Limit: 12})
	if p1.Newer != "" || p1.Older == "" || numbers(p1)[:3] != "M29" {
		t.Fatalf("first page: %s newer=%q older=%q", numbers(p1), p1.Newer, p1.Older)
	}
	after, ok := ParsePayCursor(p1.Older)
	if !ok {
		t.Fatalf("cursor %q does not parse", p1.Older)
	}
	p2, _ := db.ListPayOrders(ctx, PayOrderFilter{Limit: 12, After: after})
	if numbers(p2)[:3] != "M17" || p2.Newer == "" || p2.Older == "" {
		t.Fatalf("second page: %s", numbers(p2))
	}
	before, _ := ParsePayCursor(p2.Newer)
	back, _ := db.ListPayOrders(ctx, PayOrderFilter{Limit: 12, Before: before})
	if numbers(back) != numbers(p1) || back.Newer != "" {
		t.Fatalf("back to the first page: %s newer=%q", numbers(back), back.Newer)
	}
	var n int
	if err := db.EachPayOrder(ctx, PayOrderFilter{ProductID: 8001}, func(PayOrder) error { n++; return nil }); err != nil || n != 10 {
		t.Fatalf("each: %d %v", n, err)
	}
}

// TestListPayOrdersUsesIndexes checks that every single filter is served
// by an index in list order: a sort over the whole table would make the
// list slow with a million orders.
func TestListPayOrdersUsesIndexes(t *testing.T) {
	dbtest.SQLiteOnly(t, "reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's plans are measured by BenchmarkPayments1M")
	ctx := context.Background()
	db := openTest(t)
	cur := PayCursor{CreatedAt: timeText(time.Now()), ID: 5}
	for _, f := range []PayOrderFilter{
		{}, {After: cur}, {Before: cur}, {Phase: "paid", After: cur}, {ProductID: 8002}, {AccountID: 1},
		{From: time.Now().Add(-time.Hour), To: time.Now()}, {Number: "X"},
	} {
		q, args, _ := f.listQuery(db, 50)
		rows, err := db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if f.Number == "" && (strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "SCAN pay_orders") && !strings.Contains(text, "INDEX")) {
			t.Errorf("filter %+v: plan %s", f, text)
		}
		if (f.After.ID != 0 || f.Before.ID != 0) && !strings.Contains(text, "created_at<?") && !strings.Contains(text, "created_at>?") {
			t.Errorf("filter %+v: the page cursor does not seek: %s", f, text)
		}
		if f.Number != "" && !strings.Contains(text, "INDEX") {
			t.Errorf("number search without index: %s", text)
		}
	}
}

// The payments list filtered by both a status and a product reads the
// index of whichever of the two holds fewer orders (there is no index of
// the two together: every paid callback would change two of its pages),
// and finds the same rows either way.
func TestListPayOrdersStatusWithProduct(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	st := func(s int) *int { return &s }
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// 3,000 paying orders over products 8000–8009 (300 each), and 40
	// refunded orders of product 8000 and 8001.
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 3040 {
			o := PayOrder{AccountID: acct, MchOrderNo: fmt.Sprintf("M%05d", i), ProductID: 8000 + i%10, Amount: 100, State: PayStateOpen, Status: st(1)}
			if i >= 3000 {
				o.ProductID, o.Status = 8000+i%2, st(4)
			}
			db.now = func() time.Time { return base.Add(time.Duration(i) * time.Second) }
			if _, err := db.InsertPayOrderTx(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f         PayOrderFilter
		byProduct bool
		want      int
	}{
		{PayOrderFilter{Phase: "refunded", ProductID: 8000}, false, 20}, // the status is the rarer
		{PayOrderFilter{Phase: "paying", ProductID: 8003}, true, 300},   // the product is
		{PayOrderFilter{Phase: "paid", ProductID: 8003}, false, 0},      // nothing at all
	} {
		f := c.f
		if err := db.planPayList(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if !db.Postgres() {
			if f.byProduct != c.byProduct {
				t.Errorf("%+v: read by product %v, want %v", c.f, f.byProduct, c.byProduct)
			}
			q, args, _ := f.listQuery(db, 50)
			index := map[bool]string{false: "pay_orders_phase_idx", true: "pay_orders_product_idx"}[c.byProduct]
			if plan := queryPlan(t, db, q, args...); !strings.Contains(plan, index) || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("%+v: plan %s, want %s newest first", c.f, plan, index)
			}
		}
		n := 0
		if err := db.EachPayOrder(ctx, c.f, func(o PayOrder) error {
			if phase := map[int]string{1: "paying", 2: "paid", 4: "refunded"}[o.StatusOr(-9)]; o.ProductID != c.f.ProductID || phase != c.f.Phase {
				t.Errorf("%+v: order %s of product %d, %s", c.f, o.MchOrderNo, o.ProductID, phase)
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%+v: %d orders, want %d", c.f, n, c.want)
		}
	}
	// The orders whose create call ended unclear are read through the
	// index of orders that are not open.
	if !db.Postgres() {
		plan := queryPlan(t, db, `SELECT id FROM pay_orders WHERE (state = 'unknown' OR (state = 'creating' AND updated_at < ?)) AND state <> 'open' ORDER BY updated_at LIMIT 10`, timeText(base))
		if !strings.Contains(plan, "pay_orders_state_idx") {
			t.Errorf("orders to resolve: %s", plan)
		}
	}
}
