package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"paydesk/internal/dbtest"
)

// Every field the search reads is an index range or an index lookup:
// EXPLAIN QUERY PLAN shows no full scan of pay_orders or payouts.
func TestSearchUsesIndexes(t *testing.T) {
	dbtest.SQLiteOnly(t, "EXPLAIN QUERY PLAN is SQLite's; TestSearchUsesIndexesPostgres checks PostgreSQL's plans")
	db := openTest(t)
	ctx := context.Background()
	for _, f := range searchFields() {
		cond, args := f.cond(db, "ab")
		for _, q := range []string{
			`SELECT 1 FROM ` + f.table + ` WHERE ` + cond + ` LIMIT 501`,
			`SELECT id FROM ` + f.table + ` WHERE ` + cond + ` ORDER BY created_at DESC, id DESC LIMIT 20`,
			`SELECT id FROM ` + f.table + ` WHERE id IN (SELECT id FROM ` + f.table + ` ORDER BY created_at DESC, id DESC LIMIT 1000) AND ` + cond + ` ORDER BY created_at DESC, id DESC LIMIT 20`,
			`SELECT id FROM ` + f.table + ` WHERE ` + cond + ` ORDER BY ` + f.expr + ` LIMIT 20`,
		} {
			plan := queryPlan(t, db, q, args...)
			if !strings.Contains(plan, "SEARCH "+f.table) {
				t.Errorf("%s: no index range: %s\n%s", f.match, q, plan)
			}
			if strings.Contains(plan, "SCAN "+f.table+"\n") || strings.Contains(plan, "SCAN "+f.table+" ") && !strings.Contains(plan, "USING") ||
				strings.HasSuffix(q, f.expr+" LIMIT 20") && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("%s: %s\n%s", f.match, q, plan)
			}
		}
	}
	plan := queryPlan(t, db, `SELECT id FROM pay_orders WHERE amount = ? ORDER BY created_at DESC, id DESC LIMIT 20`, 1250)
	if !strings.Contains(plan, "amount_idx") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("pay_orders amount: %s", plan)
	}
	plan = queryPlan(t, db, `SELECT id FROM payouts WHERE created_at >= ? AND amount = ? ORDER BY created_at DESC, id DESC LIMIT 20`, "2026", 1250)
	if !strings.Contains(plan, "COVERING INDEX payouts_created_idx (created_at>?)") && !strings.Contains(plan, "USING INDEX payouts_created_idx (created_at>?)") {
		t.Errorf("payouts amount: %s", plan)
	}
	_ = ctx
}

// On PostgreSQL too every prefix the search and the payee name filter
// look for is a range on its own index: the ranges compare byte by byte
// (COLLATE "C"), as the indexes of migrations 0081 and 0082 are built, so
// the planner can seek them (with sequential scans priced out, as a table
// of a few rows would otherwise be read whole).
func TestSearchUsesIndexesPostgres(t *testing.T) {
	if !dbtest.Postgres() {
		t.Skip("PostgreSQL's plans; TestSearchUsesIndexes checks SQLite's")
	}
	db := openTest(t)
	ctx := context.Background()
	indexes := map[string]string{
		"pay_orders lower(mch_order_no)":     "pay_orders_search_mch_idx",
		"pay_orders lower(pay_order_id)":     "pay_orders_search_gate_idx",
		"pay_orders lower(channel_order_no)": "pay_orders_search_channel_idx",
		"pay_orders lower(subject)":          "pay_orders_search_subject_idx",
		"payouts lower(mch_trans_order_no)":  "payouts_search_mch_idx",
		"payouts lower(trans_order_id)":      "payouts_search_gate_idx",
		"payouts lower(channel_order_no)":    "payouts_search_channel_idx",
		"payouts lower(account_name)":        "payouts_name_idx",
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	plan := func(q string, args ...any) string {
		t.Helper()
		rows, err := tx.QueryContext(ctx, `EXPLAIN `+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	for _, f := range searchFields() {
		index := indexes[f.table+" "+f.expr]
		if index == "" {
			t.Fatalf("no index named for %s %s", f.table, f.expr)
		}
		cond, args := f.cond(db, "ab")
		for _, q := range []string{
			`SELECT 1 FROM ` + f.table + ` WHERE ` + cond + ` LIMIT 501`,
			`SELECT id FROM ` + f.table + ` WHERE ` + cond + ` ORDER BY ` + db.bytewise(f.expr) + ` LIMIT 20`,
		} {
			if p := plan(q, args...); !strings.Contains(p, " using "+index+" ") || strings.Contains(p, "Seq Scan") {
				t.Errorf("%s: not a range on %s: %s\n%s", f.match, index, q, p)
			}
		}
	}
	where, args := PayoutFilter{Name: "Ab"}.where(db)
	if p := plan(`SELECT 1 FROM payouts WHERE `+where, args...); !strings.Contains(p, " using payouts_name_idx ") {
		t.Errorf("payee name: not a range on payouts_name_idx: %s\n%s", where, p)
	}
}

// queryPlan is SQLite's plan for q, one step a line.
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

// A start that more than 500 orders share is looked for among the newest
// orders, topped up with the first in the index's order, and the result
// says it is partial; a rarer one finds every match, newest first.
func TestSearchWidePrefix(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	acct := testAccount(t, db)
	base := timeText(db.now().Add(-48 * time.Hour))
	insert := func(no, subject string, at string, amount int64) {
		t.Helper()
		if _, err := db.Exec(`INSERT INTO pay_orders (account_id, mch_order_no, product_id, amount, subject, state, created_by, created_at, updated_at)
			VALUES (?, ?, 8000, ?, ?, 'open', 't', ?, ?)`, acct, no, amount, subject, at, at); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 700 {
		insert(fmt.Sprintf("OLD%04d", i), fmt.Sprintf("Tea %d", i), base, 100)
	}
	for i := range 2100 {
		insert(fmt.Sprintf("NEW%04d", i), fmt.Sprintf("Coffee %d", i), timeText(db.now().Add(time.Duration(i)*time.Millisecond)), 200)
	}
	res, err := db.Search(ctx, SearchQuery{Text: "TEA"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || len(res.Hits) != 20 || res.Hits[0].Matched != MatchSubject || !strings.HasPrefix(res.Hits[0].Subject, "Tea ") {
		t.Fatalf("wide prefix: partial %v, %d hits, %+v", res.Partial, len(res.Hits), res.Hits)
	}
	res, err = db.Search(ctx, SearchQuery{Text: "new209"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial || len(res.Hits) != 10 || res.Hits[0].MchNo != "NEW2099" || res.Hits[9].MchNo != "NEW2090" {
		t.Fatalf("narrow prefix: %+v", res)
	}
	if res, _ := db.Search(ctx, SearchQuery{Text: "new2099"}); len(res.Hits) != 1 || !res.Hits[0].Exact {
		t.Fatalf("whole number: %+v", res)
	}
	if res, _ := db.Search(ctx, SearchQuery{Amount: 100, Limit: 5}); len(res.Hits) != 5 || res.Hits[0].Matched != MatchAmount || res.Hits[0].Amount != 100 {
		t.Fatalf("amount: %+v", res)
	}
}

// A payee-name start shared by more than nameWide payouts is read by
// time: the page is still the newest matches, newest first.
func TestListPayoutsCommonName(t *testing.T) {
	db := openTest(t)
	acct := testAccount(t, db)
	for i := range nameWide + 300 {
		name := fmt.Sprintf("王%d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("李%d", i)
		}
		at := timeText(db.now().Add(time.Duration(i) * time.Second))
		if _, err := db.Exec(`INSERT INTO payouts (account_id, mch_trans_order_no, amount, account_name, state, created_at, updated_at)
			VALUES (?, ?, 100, ?, 'awaiting_approval', ?, ?)`, acct, fmt.Sprintf("N%05d", i), name, at, at); err != nil {
			t.Fatal(err)
		}
	}
	// A draft is outside the name index: the name filter finds it only
	// together with the draft status filter.
	at := timeText(db.now().Add(time.Hour))
	var batch int64
	if err := db.InTx(context.Background(), func(tx *sql.Tx) (err error) {
		batch, err = db.CreateBatchTx(context.Background(), tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO payouts (account_id, batch_id, mch_trans_order_no, amount, account_name, state, created_at, updated_at)
		VALUES (?, ?, 'DRAFT1', 100, '王草稿', 'draft', ?, ?)`, acct, batch, at, at); err != nil {
		t.Fatal(err)
	}
	drafts, err := db.ListPayouts(context.Background(), PayoutFilter{Name: "王", Phase: "draft"})
	if err != nil || len(drafts.Payouts) != 1 || drafts.Payouts[0].AccountName != "王草稿" {
		t.Fatalf("drafts named 王: %+v %v", drafts.Payouts, err)
	}
	if !db.Postgres() { // SQLite's plan (PostgreSQL plans by its statistics)
		plan := queryPlan(t, db, `SELECT id FROM payouts WHERE (lower(account_name) || '') >= ? AND (lower(account_name) || '') < ? ORDER BY created_at DESC, id DESC LIMIT 51`, "王", "王\U0010FFFF")
		if strings.Contains(plan, "payouts_name_idx") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("a common name is read by name: %s", plan)
		}
	}
	for _, name := range []string{"王", "李1"} {
		page, err := db.ListPayouts(context.Background(), PayoutFilter{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Payouts) != 50 || page.Older == "" {
			t.Fatalf("%s: %d rows", name, len(page.Payouts))
		}
		for i, p := range page.Payouts {
			if !strings.HasPrefix(p.AccountName, name) || i > 0 && !p.CreatedAt.Before(page.Payouts[i-1].CreatedAt) {
				t.Fatalf("%s: row %d %s %s", name, i, p.AccountName, p.CreatedAt)
			}
		}
		if name == "王" && page.Payouts[0].AccountName != fmt.Sprintf("王%d", nameWide+298) {
			t.Fatalf("the newest 王 is %s", page.Payouts[0].AccountName)
		}
	}
}
