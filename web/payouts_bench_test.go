package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// payoutBench is a console behind httptest for benchmarks (testEnv wants
// a *testing.T), optionally with a sandbox gateway.
type payoutBench struct {
	db   *store.DB
	srv  *Server
	ts   *httptest.Server
	sb   *sandbox.Sandbox
	acct store.GatewayAccount
	hc   *http.Client
}

func newPayoutBench(b *testing.B, withSandbox bool) *payoutBench {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "paydesk.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c := &payoutBench{db: db}
	c.ts = httptest.NewUnstartedServer(nil)
	srv, err := testServer(b, testConfig{Core: desk.Config{PublicURL: "http://" + c.ts.Listener.Addr().String()}}, db, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	c.srv = srv
	c.ts.Config.Handler = srv.Handler(testStatic())
	c.ts.Start()
	b.Cleanup(func() { c.ts.Close() })
	sbURL := "http://127.0.0.1:1"
	if withSandbox {
		sbts := httptest.NewUnstartedServer(nil)
		c.sb = sandbox.New(sandbox.Config{MchID: testMchID, AppID: testAppID, Key: testKey, PublicURL: "http://" + sbts.Listener.Addr().String(), TimeScale: 0.001})
		sbts.Config.Handler = c.sb
		sbts.Start()
		b.Cleanup(func() { c.sb.Close(); sbts.Close() })
		sbURL = sbts.URL
	}
	if c.acct, err = srv.desk.EnsureSandboxAccount(ctx, desk.SandboxAccount{BaseURL: sbURL, MchID: testMchID, AppID: testAppID, Key: testKey}); err != nil {
		b.Fatal(err)
	}
	hash, _ := desk.HashPassword(testPassword)
	if _, err := db.CreateUser(ctx, "maker", store.RoleOperator, hash, false); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c.hc = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.post("/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"username": {"maker"}, "password": {testPassword}}.Encode()))
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", res, err)
	}
	return c
}

func (c *payoutBench) post(path, ctype string, body io.Reader) (*http.Response, error) {
	req, _ := http.NewRequest("POST", c.ts.URL+path, body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", c.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.hc.Do(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return res, err
}

// peakMemory samples the heap while running fn and returns the highest
// HeapInuse seen above the level before fn, and the process's Sys.
func peakMemory(fn func()) (peakHeap, sys uint64) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	p := peak.Load()
	if p < base.HeapInuse {
		return 0, end.Sys
	}
	return p - base.HeapInuse, end.Sys
}

// BenchmarkBatchUpload100k: upload (multipart over HTTP), parse, validate,
// store and render the first preview page of a 100,000-row file.
func BenchmarkBatchUpload100k(b *testing.B) {
	c := newPayoutBench(b, false)
	var file bytes.Buffer
	file.WriteString("\ufeff账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,开户支行/branch,省份/province,城市/city\r\n")
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&file, "收款人%d,62220202%011d,\"%d,%03d.%02d\",HPT%05d,中国建设银行上海分行,上海,上海\r\n", i, (i*7919)%1000003, 1+i%9, i%1000, i%100, 1+i%97)
	}
	b.ReportMetric(float64(file.Len())/(1<<20), "file-MiB")
	b.ResetTimer()
	var peak, sys uint64
	for i := 0; i < b.N; i++ {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "big.csv")
		fw.Write(file.Bytes())
		mw.Close()
		var loc string
		p, s := peakMemory(func() {
			res, err := c.post("/payouts/batches", mw.FormDataContentType(), &body)
			if err != nil || res.StatusCode != http.StatusSeeOther {
				b.Fatalf("upload: %v %v", res, err)
			}
			loc = res.Header.Get("Location")
			page, err := c.hc.Get(c.ts.URL + loc)
			if err != nil || page.StatusCode != http.StatusOK {
				b.Fatalf("preview: %v %v", page, err)
			}
			io.Copy(io.Discard, page.Body)
			page.Body.Close()
		})
		peak, sys = max(peak, p), max(sys, s)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(sys)/(1<<20), "sys-MiB")
}

// BenchmarkPayoutSubmission: approved payouts sent to the sandbox gateway
// by the worker; reports payouts/s and checks that each was created once.
func BenchmarkPayoutSubmission(b *testing.B) {
	c := newPayoutBench(b, true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		c.srv.desk.RunPayoutWorker(ctx, desk.PayoutOptions{Poll: 5 * time.Millisecond, FollowUp: time.Hour})
		close(done)
	}()
	b.Cleanup(func() { cancel(); <-done })
	const perRound = 5000
	var nos []string
	b.ResetTimer()
	var active time.Duration
	total := 0
	for round := 0; round < b.N; round++ {
		b.StopTimer()
		var batchID int64
		err := c.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			batchID, err = c.db.CreateBatchTx(ctx, tx, store.Batch{AccountID: c.acct.ID, Kind: store.BatchCSV, State: store.BatchApproved, CreatedBy: "maker"})
			if err != nil {
				return err
			}
			bw, err := c.db.NewBatchWriter(ctx, tx)
			if err != nil {
				return err
			}
			defer bw.Close()
			for i := 0; i < perRound; i++ {
				no := fmt.Sprintf("PD%s%d%06d", time.Now().UTC().Format("060102150405"), batchID, i+2)
				nos = append(nos, no)
				if err := bw.Payout(ctx, store.Payout{AccountID: c.acct.ID, BatchID: batchID, RowNo: i + 2, MchTransOrderNo: no, Amount: int64(100 + i),
					AccountName: "收款人", AccountNo: fmt.Sprintf("62220202%011d", i), BankCode: "HPT00003", BankName: "中国建设银行",
					Province: "上海", City: "上海", AccountType: "1", AccountAttr: "0", State: store.PayoutApproved, CreatedBy: "maker"}); err != nil {
					return err
				}
			}
			return bw.Flush(ctx)
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		for {
			var left int
			c.db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE batch_id = ? AND state IN ('approved', 'submitting', 'unknown')`, batchID).Scan(&left)
			if left == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		active += time.Since(t0)
		total += perRound
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/active.Seconds(), "payouts/s")
	dups := 0
	for _, no := range nos {
		if c.sb.CreateCount(no) != 1 {
			dups++
		}
	}
	b.ReportMetric(float64(dups), "not-exactly-once")
	if dups > 0 {
		b.Fatalf("%d payouts not created exactly once", dups)
	}
}
