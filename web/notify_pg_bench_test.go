package web

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/internal/callbackload"
	"paydesk/internal/dbtest"
	"paydesk/store"
)

// BenchmarkNotifyIngestStores measures inbound callbacks as
// BenchmarkNotifyIngest does, on SQLite and on PostgreSQL, with one console
// and (PostgreSQL) with two on the same database: b.N distinct known
// orders each get their first (paid) callback, from 64 senders spread over
// the consoles. The PostgreSQL cases need PAYDESK_TEST_DATABASE_URL.
//
//	PAYDESK_TEST_DATABASE_URL=postgres://… go test ./web/ -run '^$' -bench NotifyIngestStores -benchtime 20000x
func BenchmarkNotifyIngestStores(b *testing.B) {
	sqlite := func(b *testing.B) string { return filepath.Join(b.TempDir(), "bench.db") }
	postgres := func(b *testing.B) string { return dbtest.PostgresURL(b) }
	b.Run("sqlite/instances=1/senders=64", func(b *testing.B) { benchNotifyStores(b, sqlite(b), 1, 64) })
	for _, instances := range []int{1, 2} {
		b.Run(fmt.Sprintf("postgres/instances=%d/senders=64", instances), func(b *testing.B) { benchNotifyStores(b, postgres(b), instances, 64) })
	}
}

func benchNotifyStores(b *testing.B, u string, instances, senders int) {
	ctx := context.Background()
	var dbs []*store.DB
	var hosts []string
	var first *Server
	for range instances {
		db, err := store.Open(ctx, u, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		srv, err := testServer(b, testConfig{}, db, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler(testStatic()))
		b.Cleanup(ts.Close)
		if first == nil {
			first = srv
		}
		dbs = append(dbs, db)
		hosts = append(hosts, strings.TrimPrefix(ts.URL, "http://"))
	}
	db := dbs[0]
	acct := cbAccountTo(b, db, first, "Bench", testMchID, testKey, "http://127.0.0.1:1", "http://"+hosts[0])
	orders := b.N
	bodies := make([]string, orders)
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range orders {
			no, gid := fmt.Sprintf("BM%07d", i), fmt.Sprintf("PBM%07d", i)
			if _, err := db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: acct.ID, MchOrderNo: no, PayOrderID: gid, ProductID: 8000,
				Amount: 100 + int64(i), Status: cbIntp(1), State: store.PayStateOpen}); err != nil {
				return err
			}
			bodies[i] = cbSigned(cbPayFields(gid, no, 100+int64(i), 2), testKey).Encode()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([][]byte, orders)
	for i, body := range bodies {
		reqs[i] = []byte(fmt.Sprintf("POST /notify/pay HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
	}
	var next atomic.Int64
	lat := make([][]time.Duration, senders)
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", hosts[g%len(hosts)])
			if err != nil {
				failed.Add(1)
				return
			}
			defer conn.Close()
			rd := bufio.NewReader(conn)
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if _, err := conn.Write(reqs[i]); err != nil {
					failed.Add(1)
					return
				}
				code, body, err := callbackload.ReadResponse(rd)
				if err != nil {
					failed.Add(1)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
				if code != 200 || body != "success" {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d callbacks not answered success", n, b.N)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	p99 := all[min(len(all)-1, len(all)*99/100)]
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
	var stored, applied int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE result = 'applied') FROM notifications`).Scan(&stored, &applied)
	if stored != b.N || applied != b.N {
		b.Fatalf("stored %d (applied %d) of %d callbacks", stored, applied, b.N)
	}
}
