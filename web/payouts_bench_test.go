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
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/internal/payoutfile"
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

// peakMemory samples the Go heap in use (HeapInuse) every 5 ms while
// running fn and returns its highest level above the level before fn. It
// reads runtime/metrics, which does not stop the world as
// runtime.ReadMemStats does (every 5 ms, that would slow fn down).
func peakMemory(fn func()) uint64 {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	inuse := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	runtime.GC()
	base := inuse()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			if n := inuse(); n > peak.Load() {
				peak.Store(n)
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
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkBatchUpload100k: upload (multipart over HTTP), parse, validate,
// store and render the first preview page of a 100,000-row file as Excel
// saves it (see internal/payoutfile), in GBK and in UTF-8, into a console
// whose database holds the 100,000 payouts of the week before (so the
// warnings about payouts of the last 7 days have something to find) and
// whose audit log is sealed and anchored, as the program runs it.
//
// It reports seconds per upload (to the preview page's last byte), the
// process's CPU time per upload (both cores; the checkpointer included), and two
// memory figures: peak-heap-MiB, the Go heap in use at its highest above
// what it was before the upload (sampled every 5 ms; SQLite's page cache
// is in it, the client's copy of the file is not); and peak-RSS-MiB, how far
// the process's peak resident memory (VmHWM, reset before each upload)
// rose above its resident memory before the upload, after the runtime gave
// back what it could: the console, the SQLite library's memory and the Go
// runtime's own, but also the client side of the test (its two copies of
// the file are resident before and not counted).
func BenchmarkBatchUpload100k(b *testing.B) {
	c := newPayoutBench(b, false)
	ctx := context.Background()
	if err := c.db.SetAuditKey(store.AuditKey{Key: bytes.Repeat([]byte{7}, 32), HeadFile: filepath.Join(b.TempDir(), "audit.head")}); err != nil {
		b.Fatal(err)
	}
	if err := c.db.ResumeAuditChain(ctx); err != nil {
		b.Fatal(err)
	}
	if err := payoutfile.SeedHistory(ctx, c.db, c.acct.ID, time.Now()); err != nil {
		b.Fatal(err)
	}
	for _, enc := range []string{payoutfile.GBK, payoutfile.UTF8} {
		b.Run(enc, func(b *testing.B) {
			file, st, err := payoutfile.File(enc)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(file))/(1<<20), "file-MiB")
			var peak uint64
			var peakRSS int64
			var elapsed, cpu time.Duration
			b.ResetTimer()
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("file", "代付"+enc+".csv")
				fw.Write(file)
				mw.Close()
				debug.FreeOSMemory()
				resetPeakRSS()
				rss := vmRSS()
				var loc string
				cpu0 := cpuTime()
				b.StartTimer()
				t0 := time.Now()
				p := peakMemory(func() {
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
				elapsed += time.Since(t0)
				b.StopTimer()
				cpu += cpuTime() - cpu0
				peak, peakRSS = max(peak, p), max(peakRSS, vmHWM()-rss)
				id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/payouts/batches/"), 10, 64)
				c.checkUpload(b, id, st)
			}
			b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/upload")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/upload")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MiB")
		})
	}
}

// checkUpload checks that a benchmark's upload found what the file holds,
// then removes its payouts and issues, so that every upload meets the same
// database.
func (c *payoutBench) checkUpload(b *testing.B, id int64, st payoutfile.Stats) {
	b.Helper()
	ctx := context.Background()
	bt, err := c.db.BatchByID(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	var payouts, twins int
	c.db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE batch_id = ?`, id).Scan(&payouts)
	c.db.QueryRowContext(ctx, `SELECT count(DISTINCT row_no) FROM payout_batch_issues WHERE batch_id = ? AND message LIKE '%the same amount was%'`, id).Scan(&twins)
	if bt.FileRows != st.Rows || bt.ErrorRows != st.ErrorRows || payouts != st.Rows-st.ErrorRows {
		b.Fatalf("batch %d: %d rows, %d with errors, %d payouts; the file has %d rows, %d with errors", id, bt.FileRows, bt.ErrorRows, payouts, st.Rows, st.ErrorRows)
	}
	// Rows with the amount of a payout of the week before are warned
	// about, unless that payout failed or was refused (about one in 30).
	if twins < st.AmountsOfWeek*9/10 || twins > st.AmountsOfWeek || bt.WarningRows < twins+st.TwinsInFile*9/10 {
		b.Fatalf("batch %d: %d rows with warnings, %d about the last 7 days; the file has %d rows with an amount of the week before and %d twins within",
			id, bt.WarningRows, twins, st.AmountsOfWeek, st.TwinsInFile)
	}
	err = c.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM payout_batch_issues WHERE batch_id = ?`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM payouts WHERE batch_id = ?`, id)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
}

// vmRSS is the process's resident memory in bytes (VmRSS).
func vmRSS() int64 { return procStatus("VmRSS:") }

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
