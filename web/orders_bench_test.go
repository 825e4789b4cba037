package web

import (
	"fmt"
	"testing"
)

// BenchmarkOrderLookup1M measures the orders search and order page over
// real HTTP with 1,000,000 pay orders stored (seedPayOrders). PRODUCT.md's
// target for a lookup by any order number: p99 < 5 ms, whole request.
//
//	go test ./web/ -run '^$' -bench OrderLookup1M -benchtime 2000x
func BenchmarkOrderLookup1M(b *testing.B) {
	const n = 1_000_000
	c, base := benchConsole(b, n)
	found := `data-testid="search-results"`
	b.Run("search-mchOrderNo", func(b *testing.B) {
		measure(b, c, base, func(i int) string { return fmt.Sprintf("/orders?q=PD%012d", (i*104729)%n) }, found)
	})
	b.Run("search-payOrderId", func(b *testing.B) {
		measure(b, c, base, func(i int) string { return fmt.Sprintf("/orders?q=P%019d", (i*104729)%n/100*100) }, found)
	})
	b.Run("search-not-stored", func(b *testing.B) {
		measure(b, c, base, func(i int) string { return fmt.Sprintf("/orders?q=NOPE%d", i) }, `data-testid="not-local"`)
	})
	b.Run("order-page", func(b *testing.B) {
		measure(b, c, base, func(i int) string { return fmt.Sprintf("/orders/pay/%d", 1+(i*104729)%n) }, `data-testid="timeline"`)
	})
	b.Run("orders-list", func(b *testing.B) {
		measure(b, c, base, func(int) string { return "/orders?kind=pay&status=open" }, `data-testid="order-list"`)
	})
}
