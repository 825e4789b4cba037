package web

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"paydesk/store"
)

// BenchmarkNotifyIngest measures inbound callbacks end to end: signed pay
// callbacks POSTed over real HTTP to a console on a real SQLite file, by 1,
// 8 and 64 concurrent senders. Each order gets its paid callback first and
// duplicates after. It reports requests per second and the 99th percentile
// latency, and checks that every request was answered success and stored.
//
//	go test ./web/ -run '^$' -bench NotifyIngest -benchtime 20000x
func BenchmarkNotifyIngest(b *testing.B) {
	for _, senders := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) { benchNotify(b, senders) })
	}
}

func benchNotify(b *testing.B, senders int) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	srv, err := testServer(b, testConfig{}, db, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler(testStatic()))
	defer func() {
		ts.Close()
	}()
	acct := cbAccountTo(b, db, srv, "Bench", testMchID, testKey, "http://127.0.0.1:1", ts.URL)

	const orders = 2000
	bodies := make([]string, orders)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range orders {
			no, gid := fmt.Sprintf("BM%06d", i), fmt.Sprintf("PBM%06d", i)
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
	// A lean HTTP/1.1 sender on keep-alive connections, so that the load
	// generator costs little of the machine it shares with the console.
	host := strings.TrimPrefix(ts.URL, "http://")
	reqs := make([][]byte, orders)
	for i, body := range bodies {
		reqs[i] = []byte(fmt.Sprintf("POST /notify/pay HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body))
	}
	var next atomic.Int64
	lat := make([][]time.Duration, senders)
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", host)
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
				if _, err := conn.Write(reqs[i%orders]); err != nil {
					failed.Add(1)
					return
				}
				code, body, err := readLeanResponse(rd)
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
	cpu := cpuTime() - cpu0
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
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	b.ReportMetric(0, "ns/op")
	var stored, pending int
	db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE result = 'pending') FROM notifications`).Scan(&stored, &pending)
	if stored != b.N || pending != 0 {
		b.Fatalf("stored %d (pending %d) of %d callbacks", stored, pending, b.N)
	}
}

// readLeanResponse reads one HTTP/1.1 response with a Content-Length.
func readLeanResponse(rd *bufio.Reader) (int, string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	if len(line) < 12 {
		return 0, "", fmt.Errorf("status line %q", line)
	}
	code, _ := strconv.Atoi(line[9:12])
	length := -1
	for {
		h, err := rd.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if h == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length < 0 {
		return 0, "", fmt.Errorf("no content length")
	}
	buf := make([]byte, length)
	_, err = io.ReadFull(rd, buf)
	return code, string(buf), err
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
