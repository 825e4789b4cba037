package payoutfile

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"paydesk/store"
)

// The GBK file is the UTF-8 one in another encoding: what Excel writes on
// Chinese Windows, without a BOM; both have Rows rows ended by CRLF, with
// the shares of repeats and errors the package documents.
func TestFile(t *testing.T) {
	u, st, err := File(UTF8)
	if err != nil {
		t.Fatal(err)
	}
	g, st2, err := File(GBK)
	if err != nil {
		t.Fatal(err)
	}
	if st != st2 {
		t.Fatalf("stats differ: %+v and %+v", st, st2)
	}
	if utf8.Valid(g) {
		t.Fatal("the GBK file is valid UTF-8")
	}
	text, err := simplifiedchinese.GBK.NewDecoder().Bytes(g)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(u, []byte("\ufeff")) || !bytes.Equal(text, u[3:]) {
		t.Fatal("the GBK file does not read as the UTF-8 one without its BOM")
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\r\n"), "\r\n")
	if len(lines) != Rows+1 || strings.Contains(string(text), "\n\n") || strings.Count(string(text), "\n") != Rows+1 {
		t.Fatalf("%d lines, want %d ended by CRLF", len(lines), Rows+1)
	}
	if !strings.Contains(string(text), `,"1,`) || !strings.Contains(string(text), "省,") || !strings.Contains(string(text), ",HPT000") || !strings.Contains(string(text), ",中国工商银行,") {
		t.Fatal("no quoted amount with a thousands separator, no province, or no bank by code or by name")
	}
	var accounts []string
	for _, l := range lines[1:] {
		accounts = append(accounts, strings.Split(l, ",")[1])
	}
	if slices.IsSorted(accounts) {
		t.Fatal("account numbers are in order")
	}
	between := func(n, lo, hi int) bool { return n >= lo && n <= hi }
	if st.Rows != Rows || st.ErrorRows != Rows/errorEvery || !between(st.TwinsInFile, Rows/200, Rows/50) ||
		!between(st.PayeesOfWeek, Rows/2, Rows*7/10) || !between(st.AmountsOfWeek, Rows/20, Rows*7/100) {
		t.Fatalf("stats %+v", st)
	}
}

// The history holds HistoryPayouts payouts, all within the 7 days before
// now, of historyPayees payees.
func TestSeedHistory(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var acct int64
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		acct, err = db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{Name: "a", BaseURL: "http://a", MchID: "1", AppID: "a", KeySealed: []byte{0}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := SeedHistory(ctx, db, acct, now); err != nil {
		t.Fatal(err)
	}
	var n, payees, paid int
	var oldest, newest string
	err = db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT account_no), count(*) FILTER (WHERE status = 2), min(created_at), max(created_at) FROM payouts`).
		Scan(&n, &payees, &paid, &oldest, &newest)
	if err != nil {
		t.Fatal(err)
	}
	const layout = "2006-01-02T15:04:05.000000000Z" // as the store writes times
	week := now.Add(-7 * 24 * time.Hour).UTC().Format(layout)
	if n != HistoryPayouts || payees != historyPayees || paid < n*8/10 || oldest < week || newest > now.UTC().Format(layout) {
		t.Fatalf("%d payouts to %d payees, %d paid, from %s to %s", n, payees, paid, oldest, newest)
	}
}
