package web

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/internal/callbackload"
	"paydesk/store"
)

// BenchmarkSignInStorm fires 200 sign-ins at once (200 users, each with
// the right password, each from its own address behind the proxy) at a
// console on a real SQLite file while 4 senders keep posting signed
// callbacks, and reports the process's peak resident memory during the
// storm (VmHWM, reset before it), the callbacks' 99th percentile latency
// during the storm, and how the sign-ins were answered (signed in, or
// busy: no hashing slot within HashWait).
//
//	go test ./web/ -run '^$' -bench SignInStorm -benchtime 3x
func BenchmarkSignInStorm(b *testing.B) {
	const signIns, senders = 200, 4
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	srv, err := testServer(b, testConfig{Config: Config{TrustProxy: true}}, db, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler(testStatic()))
	defer func() {
		ts.Close()
	}()
	hash, err := desk.HashPassword(testPassword)
	if err != nil {
		b.Fatal(err)
	}
	for i := range signIns {
		if _, err := db.CreateUser(ctx, fmt.Sprintf("storm%03d", i), store.RoleViewer, hash, false); err != nil {
			b.Fatal(err)
		}
	}
	acct := cbAccountTo(b, db, srv, "Bench", testMchID, testKey, "http://127.0.0.1:1", ts.URL)
	const orders = 200
	host := strings.TrimPrefix(ts.URL, "http://")
	reqs := make([][]byte, orders)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range orders {
			no, gid := fmt.Sprintf("ST%06d", i), fmt.Sprintf("PST%06d", i)
			if _, err := db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: acct.ID, MchOrderNo: no, PayOrderID: gid, ProductID: 8000,
				Amount: 100 + int64(i), Status: cbIntp(1), State: store.PayStateOpen}); err != nil {
				return err
			}
			body := cbSigned(cbPayFields(gid, no, 100+int64(i), 2), testKey).Encode()
			reqs[i] = []byte(fmt.Sprintf("POST /notify/pay HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body))
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{
		Transport:     &http.Transport{MaxIdleConnsPerHost: signIns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	var peakRSS int64
	var cbLat []time.Duration
	var signedIn, busy, other atomic.Int64
	var cbFailed atomic.Int64
	b.ResetTimer()
	for range b.N {
		resetPeakRSS()
		stop := make(chan struct{})
		var cbWG sync.WaitGroup
		lat := make([][]time.Duration, senders)
		for g := range senders {
			cbWG.Add(1)
			go func() {
				defer cbWG.Done()
				conn, err := net.Dial("tcp", host)
				if err != nil {
					cbFailed.Add(1)
					return
				}
				defer conn.Close()
				rd := bufio.NewReader(conn)
				for i := g; ; i += senders {
					select {
					case <-stop:
						return
					default:
					}
					t0 := time.Now()
					if _, err := conn.Write(reqs[i%orders]); err != nil {
						cbFailed.Add(1)
						return
					}
					code, body, err := callbackload.ReadResponse(rd)
					if err != nil {
						cbFailed.Add(1)
						return
					}
					lat[g] = append(lat[g], time.Since(t0))
					if code != 200 || body != "success" {
						cbFailed.Add(1)
					}
				}
			}()
		}
		var wg sync.WaitGroup
		for i := range signIns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := "username=" + fmt.Sprintf("storm%03d", i) + "&password=" + testPassword
				req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(form))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.18.%d.%d", i/250, i%250+1))
				res, err := client.Do(req)
				if err != nil {
					other.Add(1)
					return
				}
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusSeeOther:
					signedIn.Add(1)
				case http.StatusServiceUnavailable:
					busy.Add(1)
				default:
					other.Add(1)
				}
			}()
		}
		wg.Wait()
		close(stop)
		cbWG.Wait()
		peakRSS = max(peakRSS, vmHWM())
		for _, l := range lat {
			cbLat = append(cbLat, l...)
		}
	}
	b.StopTimer()
	if n := cbFailed.Load(); n > 0 {
		b.Fatalf("%d callbacks not answered success", n)
	}
	if n := other.Load(); n > 0 {
		b.Fatalf("%d sign-ins answered neither signed in nor busy", n)
	}
	if len(cbLat) == 0 {
		b.Fatal("no callback was answered during the storm")
	}
	slices.Sort(cbLat)
	b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(cbLat[min(len(cbLat)-1, len(cbLat)*99/100)].Microseconds())/1000, "callback-p99-ms")
	b.ReportMetric(float64(len(cbLat))/float64(b.N), "callbacks/storm")
	b.ReportMetric(float64(signedIn.Load())/float64(b.N), "signed-in/storm")
	b.ReportMetric(float64(busy.Load())/float64(b.N), "busy/storm")
	_, peak, _ := srv.desk.HashStats()
	b.ReportMetric(float64(peak), "peak-hashes")
	b.ReportMetric(0, "ns/op")
}

// resetPeakRSS resets the process's VmHWM to its current resident size.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// vmHWM is the process's peak resident memory in bytes (VmHWM).
func vmHWM() int64 { return procStatus("VmHWM:") }

// procStatus reads one size in kB from /proc/self/status, in bytes.
func procStatus(key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
