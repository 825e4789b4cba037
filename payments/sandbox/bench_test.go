package sandbox

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/payments"
)

// benchClient is the real client over HTTP with enough idle connections for
// parallel callers.
func benchClient(b *testing.B, cfg Config) (*Sandbox, *payments.Client) {
	sb, srv := startSandbox(b, cfg)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	b.Cleanup(hc.CloseIdleConnections)
	return sb, payments.NewClient(payments.Account{BaseURL: srv.URL, MchID: testMchID, AppID: testAppID, Key: testKey}, hc, 10*time.Second)
}

// BenchmarkCreateOrder measures create_order throughput: the real client,
// signing and verifying, against the sandbox over loopback HTTP.
func BenchmarkCreateOrder(b *testing.B) {
	_, c := benchClient(b, Config{})
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			r := payRequest("B-"+strconv.FormatInt(seq.Add(1), 10), "http://127.0.0.1:1/notify")
			if _, err := c.CreatePayOrder(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkCreateTransOrder is the payout submission path the console drives
// at ≥500/s; every payout also settles and notifies (to a closed port).
func BenchmarkCreateTransOrder(b *testing.B) {
	_, c := benchClient(b, Config{TimeScale: 1000})
	var seq atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			r := transRequest("BT-"+strconv.FormatInt(seq.Add(1), 10), "6214830000000001", "http://127.0.0.1:1/notify")
			if _, err := c.CreateTransOrder(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
