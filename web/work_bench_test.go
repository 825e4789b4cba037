package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// measureStatus GETs path(i) b.N times, wanting status and, in the body,
// want, and reports the latency percentiles of the whole HTTP request.
func measureStatus(b *testing.B, c *http.Client, base string, path func(i int) string, status int, want string) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Get(base + path(i))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d = append(d, time.Since(start))
		if res.StatusCode != status || !bytes.Contains(body, []byte(want)) && !bytes.Contains([]byte(res.Header.Get("Location")), []byte(want)) {
			b.Fatalf("GET %s: %d %q, %q missing", path(i), res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	b.StopTimer()
	slices.Sort(d)
	pct := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkWork1M measures, over real HTTP with 1,000,000 pay orders and
// 1,000,000 payouts stored (seedPayOrders, seedPayouts), the search box
// for every kind of match. Target: p99 < 30 ms.
//
//	go test ./web/ -run '^$' -bench Work1M -benchtime 300x
func BenchmarkWork1M(b *testing.B) {
	const n = 1_000_000
	now := time.Now()
	c, base, srv := benchConsoleSeeded(b, func(db *store.DB, accountID int64) {
		start := time.Now()
		// The newest orders are of now, so that the home page's 30 days
		// hold about 86,000 pay orders and 90,000 payouts.
		seedPayOrdersFrom(b, db, accountID, n, now.Add(-time.Duration(n)*30*time.Second))
		seedPayouts(b, db, accountID, n, now.Add(-time.Duration(n/1000+1)*8*time.Hour))
		seedPaidCallbacks(b, db, now.Add(-40*24*time.Hour))
		b.Logf("seeded %d pay orders and %d payouts in %s", n, n, time.Since(start).Round(time.Millisecond))
	})
	found := `href="/orders/`
	searches := []struct {
		name   string
		path   func(i int) string
		status int
		want   string
	}{
		{"exact-mchTransOrderNo", func(i int) string { return fmt.Sprintf("/search?q=po%012d", (i*104729)%n) }, http.StatusSeeOther, "/orders/trans/"},
		{"exact-payOrderId", func(i int) string { return fmt.Sprintf("/search?q=P%019d", (i*104729)%n/100*100) }, http.StatusSeeOther, "/orders/pay/"},
		{"prefix-100-numbers", func(i int) string { return fmt.Sprintf("/search?q=PD%010d", (i*104729)%(n/100)) }, http.StatusOK, found},
		{"prefix-everything", func(int) string { return "/search?q=p" }, http.StatusOK, found},
		{"payee-chinese", func(i int) string { return fmt.Sprintf("/search?q=%%E7%%8E%%8B%d", 20*(5+i%245)) }, http.StatusOK, found},
		{"payee-latin-any-case", func(i int) string { return fmt.Sprintf("/search?q=PAYEE%%20%d", (i*104729)%n/10*10+7) }, http.StatusOK, found},
		{"subject", func(i int) string { return fmt.Sprintf("/search?q=order%%20%d", (i*104729)%n) }, http.StatusOK, found},
		{"amount", func(i int) string { return fmt.Sprintf("/search?q=%d.%02d", 1+i%999, i%100) }, http.StatusOK, found},
		{"nothing", func(i int) string { return fmt.Sprintf("/search?q=NOPE-%d", i) }, http.StatusOK, `data-testid="not-local"`},
	}
	for _, s := range searches {
		b.Run("search-"+s.name, func(b *testing.B) {
			measureStatus(b, c, base, s.path, s.status, s.want)
		})
	}

	// The home page's data: one desk.HomeFor per page view, for an
	// approver, with the past days' figures kept (the steady state), and
	// the first call after a start, which reads all 30 days.
	ctx := context.Background()
	ap := desk.Actor{Username: "approver", Role: store.RoleApprover}
	first := time.Now()
	h, err := srv.desk.HomeFor(ctx, ap)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("home, first call (30 days read): %s; 30 days: %d paid, %d paid out, %d callback delays",
		time.Since(first).Round(time.Microsecond), h.Periods[2].CollectedCount, h.Periods[2].PaidOutCount, h.Periods[2].DelayCount)
	if h.Periods[2].CollectedCount == 0 || h.Periods[2].PaidOutCount == 0 || h.Periods[2].DelayCount == 0 {
		b.Fatalf("the home page's 30 days are empty: %+v", h.Periods[2])
	}
	b.Run("home", func(b *testing.B) {
		d := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := srv.desk.HomeFor(ctx, ap); err != nil {
				b.Fatal(err)
			}
			d = append(d, time.Since(start))
		}
		b.StopTimer()
		slices.Sort(d)
		b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(d[min(len(d)-1, len(d)*99/100)].Microseconds())/1000, "p99-ms")
	})
	// The whole home page over HTTP, as an approver with batches waiting
	// (seedPayouts leaves some awaiting approval) and as a viewer; and the
	// payouts list with its filter form and several filters at once.
	apc := signInAs(b, srv, base, "approver", store.RoleApprover)
	b.Run("home-page-approver", func(b *testing.B) {
		measureStatus(b, apc, base, func(i int) string { return []string{"/", "/?days=1", "/?days=30"}[i%3] }, http.StatusOK, `data-testid="money-chart"`)
	})
	b.Run("home-page-viewer", func(b *testing.B) {
		measureStatus(b, c, base, func(int) string { return "/" }, http.StatusOK, `data-testid="queue"`)
	})
	b.Run("payouts-filtered", func(b *testing.B) {
		queries := []string{"status=succeeded&bank=HPT00003", "status=failed&from=2026-01-01", "name=%E7%8E%8B12&status=succeeded",
			"batch=5&min=1&max=500", "account_no=62220"}
		measureStatus(b, c, base, func(i int) string { return "/payouts?" + queries[i%len(queries)] }, http.StatusOK, `data-testid="payout-filters"`)
	})
	b.Run("approval-badge", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := srv.desk.ApprovalBadge(ctx, ap); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// seedPaidCallbacks gives the pay orders marked paid their success time
// (a minute after they were made) and, from since on, the callback that
// told of it (one to five seconds later).
func seedPaidCallbacks(tb testing.TB, db *store.DB, since time.Time) {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `UPDATE pay_orders SET pay_succ_at = strftime('%Y-%m-%dT%H:%M:%S.000000000Z', created_at, '+1 minute') WHERE status = 2`); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO notifications (received_at, kind, method, client_addr, result, order_kind, order_ref, status)
		SELECT strftime('%Y-%m-%dT%H:%M:%S.000000000Z', pay_succ_at, '+' || (1 + id % 5) || ' seconds'), 'pay', 'POST', '127.0.0.1', 'applied', 'pay', id, 2
		FROM pay_orders WHERE pay_succ_at >= ?`, since.UTC().Format("2006-01-02T15:04:05.000000000Z")); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// signInAs adds a user with role to srv's console and signs them in.
func signInAs(b *testing.B, srv *Server, base, name, role string) *http.Client {
	b.Helper()
	hash, _ := desk.HashPassword(testPassword)
	if _, err := srv.db.CreateUser(context.Background(), name, role, hash, false); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"username": {name}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err := c.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in as %s: %v %v", name, res, err)
	}
	res.Body.Close()
	return c
}
