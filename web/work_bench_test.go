package web

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

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
	c, base, _ := benchConsoleSeeded(b, func(db *store.DB, accountID int64) {
		start := time.Now()
		seedPayOrders(b, db, accountID, n)
		seedPayouts(b, db, accountID, n)
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
		{"payee-chinese", func(i int) string { return fmt.Sprintf("/search?q=%%E7%%8E%%8B%d", 100+i%900) }, http.StatusOK, found},
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
}
