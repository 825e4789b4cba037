package web

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"paydesk/store"
)

// seedPayouts bulk-inserts n payouts for one account in one transaction:
// in batches of 1,000 rows created together, a batch every 8 hours from
// base, newest last; 70 % succeeded, 8 % failed, 5 % transferring, 5 % refused, 2 %
// unclear, 10 % in draft, awaiting approval, rejected or expired; payees
// named with 20 surnames and a number (Chinese) or "Payee n"; the 97 banks
// in turn; amounts from ¥0.01 to ¥1,000.00.
func seedPayouts(tb testing.TB, db *store.DB, accountID int64, n int, base time.Time) {
	tb.Helper()
	ctx := context.Background()
	surnames := []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO payouts (account_id, batch_id, row_no, mch_trans_order_no, trans_order_id, amount,
			account_name, account_no, bank_code, bank_name, province, city, status, state, created_by, created_at, updated_at, trans_succ_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '上海', '上海', ?, ?, 'seed', ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range n {
			var status, transID, succ any
			state := store.PayoutSubmitted
			switch r := i % 100; {
			case r < 70:
				status = 2
			case r < 78:
				status = 3
			case r < 83:
				status = 1
			case r < 88:
				state = store.PayoutRefused
			case r < 90:
				state = store.PayoutUnknown
			case r < 93:
				state = store.PayoutDraft
			case r < 96:
				state = store.PayoutAwaitingApproval
			case r < 98:
				state = store.PayoutRejected
			default:
				state = store.PayoutExpired
			}
			batch := i/1000 + 1
			created := base.Add(time.Duration(batch) * 8 * time.Hour)
			at := created.Format("2006-01-02T15:04:05.000000000Z")
			if status != nil {
				transID = fmt.Sprintf("T%019d", i)
			}
			if status == 2 {
				succ = created.Add(time.Minute).Format("2006-01-02T15:04:05.000000000Z")
			}
			name := fmt.Sprintf("%c%d", surnames[i%len(surnames)], i%5000)
			if i%10 == 7 {
				name = fmt.Sprintf("Payee %d", i)
			}
			_, err := stmt.ExecContext(ctx, accountID, batch, 2+i%1000, fmt.Sprintf("PO%012d", i), transID, 1+(i*7919)%100000,
				name, fmt.Sprintf("62220202%011d", (i*104729)%n), fmt.Sprintf("HPT%05d", 1+i%97), status, state, at, at, succ)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPayouts1M measures, over real HTTP with 1,000,000 payouts
// stored, 50-row pages of the payouts list with each filter. The target,
// as for the payments list: p99 < 30 ms.
//
//	go test ./web/ -run '^$' -bench Payouts1M -benchtime 500x
func BenchmarkPayouts1M(b *testing.B) {
	const n = 1_000_000
	c, base, _ := benchConsoleSeeded(b, func(db *store.DB, accountID int64) {
		start := time.Now()
		seedPayouts(b, db, accountID, n, time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
		b.Logf("seeded %d payouts in %s", n, time.Since(start).Round(time.Millisecond))
	})
	rows := `data-row=`
	lists := []struct{ name, query string }{
		{"all", ""},
		{"succeeded", "status=succeeded"},
		{"unclear-rare", "status=unclear"},
		{"batch", "batch=500"},
		{"batch-and-failed", "batch=500&status=failed"},
		{"date-range", "from=2026-03-01&to=2026-03-31"},
		{"name-prefix-full", "name=%E7%8E%8B120"}, // 王120: 王120, 王1200…王1209
		{"name-prefix-surname", "name=%E7%8E%8B"}, // 王: 5 % of all
		{"name-latin-any-case", "name=payee%20997"},
		{"bank", "bank=HPT00042"},
		{"account-no-prefix", "account_no=6222020200000012"},
		{"amount-range", "min=500&max=600"},
		{"exact-amount", "min=123.45&max=123.45"},
		{"succeeded-and-date-range", "status=succeeded&from=2026-03-01&to=2026-03-31"},
		{"deep-page", "status=succeeded&after=2026-06-01T00:00:00.000000000Z_500000"},
	}
	for _, l := range lists {
		b.Run(l.name, func(b *testing.B) {
			measure(b, c, base, func(int) string { return "/payouts?" + l.query }, rows)
		})
	}
}
