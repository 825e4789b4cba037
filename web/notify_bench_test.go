package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"paydesk/internal/callbackload"
	"paydesk/store"
)

// BenchmarkNotifyIngest measures inbound callbacks end to end: signed pay
// callbacks POSTed over real HTTP (keep-alive connections, one request at
// a time on each) to a console on a real SQLite file. Three loads:
//
//   - first: each callback is the first paid callback of a distinct known
//     open order (200,000 of them stored, or b.N when more): every one a
//     real state change. What the gateway mostly sends.
//   - external: each callback names an order Paydesk does not know, which
//     it records as external.
//   - duplicates: 2,000 orders, each getting its paid callback first and
//     the same again after: at 40,000 callbacks, 95 % change nothing.
//
// It reports requests per second, p50, p99 and the slowest latency and CPU
// per request,
// and checks that every request was answered success, stored and applied
// once. When the ceiling server is there (PAYDESK_CEILING_DIR, else
// ../shared/tools/ceiling beside the repository), it builds it, runs it
// on a SQLite file of its own with the same key and sends it the same
// requests from the same senders right after, and reports its rate and
// p99 and ratio (Paydesk's rate over the ceiling's).
//
//	PAYDESK_CEILING_DIR=/path/to/tools/ceiling go test ./web/ -run '^$' -bench 'NotifyIngest/first' -benchtime 60000x
func BenchmarkNotifyIngest(b *testing.B) {
	ib := &ingestBench{dir: b.TempDir()}
	for _, senders := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("first/senders=%d", senders), func(b *testing.B) { ib.run(b, ingestFirst, senders) })
	}
	b.Run("external/senders=64", func(b *testing.B) { ib.run(b, ingestExternal, 64) })
	for _, senders := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("duplicates/senders=%d", senders), func(b *testing.B) { ib.run(b, ingestDuplicates, senders) })
	}
}

// The loads of BenchmarkNotifyIngest.
const (
	ingestFirst = iota
	ingestExternal
	ingestDuplicates
)

// benchOpenOrders is how many open pay orders the first and external
// loads find stored.
const benchOpenOrders = 200_000

// ingestBench holds what the cases of BenchmarkNotifyIngest share: a
// database file with the account and the open orders, copied for each
// run, and the ceiling, built once.
type ingestBench struct {
	dir string // outlives the runs

	seedMu     sync.Mutex
	seedFile   string // the seeded database, checkpointed and closed
	seedOrders int
	seedAcct   int64

	ceilingOnce sync.Once
	ceilingBin  string // "" when the ceiling is not there
}

// seeded returns a fresh copy of a database holding one gateway account
// (testMchID, testKey) and at least orders open pay orders (seedOpenOrders).
func (ib *ingestBench) seeded(b *testing.B, orders int) (path string, acct int64) {
	b.Helper()
	ib.seedMu.Lock()
	defer ib.seedMu.Unlock()
	if ib.seedOrders < orders {
		ctx := context.Background()
		file := filepath.Join(ib.dir, fmt.Sprintf("seed%d.db", orders))
		db, err := store.Open(ctx, file, nil)
		if err != nil {
			b.Fatal(err)
		}
		ib.seedAcct = benchAccount(b, db, "Bench", testMchID, testKey)
		start := time.Now()
		seedOpenOrders(b, db, ib.seedAcct, 0, orders)
		b.Logf("seeded %d open pay orders in %s", orders, time.Since(start).Round(time.Millisecond))
		if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		ib.seedFile, ib.seedOrders = file, orders
	}
	path = filepath.Join(b.TempDir(), "bench.db")
	data, err := os.ReadFile(ib.seedFile)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path, ib.seedAcct
}

// benchAccount stores a gateway account whose key is sealed as the core
// expects, without a running console.
func benchAccount(tb testing.TB, db *store.DB, name, mchID, key string) int64 {
	tb.Helper()
	ctx := context.Background()
	var id int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{Name: name, BaseURL: "http://127.0.0.1:1", MchID: mchID, AppID: "app1",
			KeySealed: []byte{0}, NotifyBaseURL: "http://127.0.0.1:1"})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE gateway_accounts SET key_sealed = ? WHERE id = ?`, testSeal(testMasterKey, gatewayKeyContext(id), key), id)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// seedOpenOrders bulk-inserts the open pay orders from to to-1 of an
// account, as created or paying (benchOrderNos names them, benchAmount
// gives their amounts), created a second apart, in one transaction with a
// prepared statement. Unlike seedPayOrders it runs no ANALYZE, which the
// console never does: with SQLite's statistics, every cached statement
// whose plan could depend on its arguments is compiled again whenever they
// change, which is not what the console meets.
func seedOpenOrders(tb testing.TB, db *store.DB, accountID int64, from, to int) {
	tb.Helper()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO pay_orders (account_id, mch_order_no, pay_order_id, product_id, amount, currency,
			subject, body, status, state, pay_url, origin, created_by, created_at, updated_at, link_token, link_active)
			VALUES (?, ?, ?, ?, ?, 'cny', ?, '', ?, 'open', ?, 'console', 'seed', ?, ?, ?, 1)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := from; i < to; i++ {
			no, gid := benchOrderNos(i)
			at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000000Z")
			if _, err := stmt.ExecContext(ctx, accountID, no, gid, 8000+i%20, benchAmount(i), fmt.Sprintf("Order %d", i), i%2,
				"https://gw.example/pay/"+gid, at, at, fmt.Sprintf("tok%019d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// benchOrderNos are the merchant and gateway numbers of seeded order i.
func benchOrderNos(i int) (mchOrderNo, payOrderID string) {
	return fmt.Sprintf("PD%012d", i), fmt.Sprintf("P%019d", i)
}

func benchAmount(i int) int64 { return 1 + int64(i*7919)%100000 }

// ceiling builds the ceiling server once; "" when it is not there.
func (ib *ingestBench) ceiling(b *testing.B) string {
	ib.ceilingOnce.Do(func() {
		dir, ok := callbackload.CeilingDir("..", os.Getenv)
		if !ok {
			b.Logf("no ceiling server in %s (set PAYDESK_CEILING_DIR): the ratio is not measured", dir)
			return
		}
		bin := filepath.Join(ib.dir, "ceiling")
		if err := callbackload.BuildCeiling(context.Background(), dir, bin); err != nil {
			b.Fatal(err)
		}
		ib.ceilingBin = bin
	})
	return ib.ceilingBin
}

func (ib *ingestBench) run(b *testing.B, load, senders int) {
	ctx := context.Background()
	var path string
	var acct int64
	orders := 2000
	if load == ingestDuplicates {
		path = filepath.Join(b.TempDir(), "bench.db")
		db, err := store.Open(ctx, path, nil)
		if err != nil {
			b.Fatal(err)
		}
		acct = benchAccount(b, db, "Bench", testMchID, testKey)
		seedOpenOrders(b, db, acct, 0, orders)
		db.Close()
	} else {
		orders = max(benchOpenOrders, b.N)
		path, acct = ib.seeded(b, orders)
	}
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	srv, err := testServer(b, testConfig{}, db, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler(testStatic()))
	defer ts.Close()
	host := strings.TrimPrefix(ts.URL, "http://")

	n := b.N
	if load == ingestDuplicates {
		n = orders
	}
	reqs := make([][]byte, n)
	for i := range reqs {
		no, gid := benchOrderNos(i)
		amount := benchAmount(i)
		if load == ingestExternal {
			no, gid, amount = fmt.Sprintf("EX%012d", i), fmt.Sprintf("Q%019d", i), 100+int64(i%1000)
		}
		reqs[i] = callbackload.PostRequest(host, "/notify/pay", callbackload.PayFields(testMchID, "app1", testKey, gid, no, amount, 2))
	}

	b.ResetTimer()
	cpu0 := cpuTime()
	res := callbackload.Run(ctx, callbackload.Load{Addr: host, Requests: reqs, Senders: senders, Count: b.N})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if res.Failed > 0 || res.Sent != b.N {
		b.Fatalf("%d of %d callbacks answered, %d not success (first: %s)", res.Sent, b.N, res.Failed, res.First)
	}
	b.ReportMetric(res.PerSecond(), "req/s")
	b.ReportMetric(callbackload.Ms(res.Percentile(0.50)), "p50-ms")
	b.ReportMetric(callbackload.Ms(res.Percentile(0.99)), "p99-ms")
	// The slowest answer: a commit that waits for a checkpoint shows here.
	b.ReportMetric(callbackload.Ms(res.Percentile(1)), "max-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(0, "ns/op")

	// Every callback stored once and applied once.
	var stored, pending, applied int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE result = 'pending'), count(*) FILTER (WHERE result = 'applied') FROM notifications`).
		Scan(&stored, &pending, &applied)
	if stored != b.N || pending != 0 || applied != min(b.N, n) {
		b.Fatalf("stored %d (pending %d, applied %d) of %d callbacks", stored, pending, applied, b.N)
	}
	var paid, external int
	db.QueryRow(`SELECT count(*) FILTER (WHERE status = 2), count(*) FILTER (WHERE origin = 'external') FROM pay_orders`).Scan(&paid, &external)
	if paid != min(b.N, n) || (load == ingestExternal) != (external == b.N) {
		b.Fatalf("%d orders paid, %d external, after %d callbacks", paid, external, b.N)
	}

	if bin := ib.ceiling(b); bin != "" {
		c, err := callbackload.StartCeiling(ctx, bin, b.TempDir(), testKey)
		if err != nil {
			b.Fatal(err)
		}
		ceil := callbackload.Run(ctx, callbackload.Load{Addr: c.Addr, Requests: reqs, Senders: senders, Count: b.N})
		c.Stop()
		if ceil.Failed > 0 {
			b.Fatalf("the ceiling: %d of %d callbacks not success (first: %s)", ceil.Failed, b.N, ceil.First)
		}
		b.ReportMetric(ceil.PerSecond(), "ceiling-req/s")
		b.ReportMetric(callbackload.Ms(ceil.Percentile(0.99)), "ceiling-p99-ms")
		b.ReportMetric(res.PerSecond()/ceil.PerSecond(), "ratio")
	}
}

// cpuTime is the CPU time this process has used (user and system), which
// says what a request costs even when other work shares the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
