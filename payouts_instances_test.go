package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/internal/dbtest"
	"paydesk/store"
)

// roundRobin passes each request to the next of targets, trying the
// others when one does not answer: the gateway's callbacks spread over
// every console, as a load balancer would.
type roundRobin struct {
	mu      sync.Mutex
	targets []*url.URL
	next    atomic.Int64
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	rr.mu.Lock()
	n := len(rr.targets)
	rr.mu.Unlock()
	for range n {
		rr.mu.Lock()
		u := rr.targets[int(rr.next.Add(1))%n]
		rr.mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String()+r.URL.RequestURI(), bytes.NewReader(body.Bytes()))
		if err != nil {
			break
		}
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			continue // that console is down: the next one
		}
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		res.Body.Close()
		w.Write(b.Bytes())
		return
	}
	http.Error(w, "no console answers", http.StatusBadGateway)
}

// TestThreeConsolesCrashMidBatch runs three console processes on one
// PostgreSQL database and the sandbox gateway as its own process with lost
// answers and timeouts; a batch of 1,000 payouts is approved, one console
// is killed with SIGKILL mid-way and another restarted. The sandbox's
// counters show every payout created exactly once, every payout ends
// final, and the callbacks, sent round-robin to the consoles, are each
// stored and applied once.
func TestThreeConsolesCrashMidBatch(t *testing.T) {
	u := dbtest.PostgresURL(t)
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildPaydesk(t)
	dir := t.TempDir()
	var logs bytes.Buffer
	defer func() {
		if t.Failed() {
			var errs []string
			for _, l := range strings.Split(logs.String(), "\n") {
				if !strings.Contains(l, "level=INFO") {
					errs = append(errs, l)
				}
			}
			t.Logf("process output other than INFO (tail):\n%s", tail(strings.Join(errs, "\n"), 6000))
		}
	}()

	const mchID, appID, key = "20001222", "0ae8be35ff634e2abe94f5f32f6d5c4f", "crash-test-key"
	sbAddr := freeAddr(t)
	startProcess(t, bin, []string{"sandbox", "-addr", sbAddr, "-key", key, "-data", dir, "-time-scale", "0.01",
		"-faults", "lost-answer,timeout,percent=30"}, nil, &logs)
	sbURL := "http://" + sbAddr
	waitHTTP(t, sbURL+"/sandbox/api/faults")

	// The gateway reaches the consoles through a round-robin balancer.
	rr := &roundRobin{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb := &http.Server{Handler: rr}
	go lb.Serve(ln)
	t.Cleanup(func() { lb.Close() })
	lbURL := "http://" + ln.Addr().String()

	masterKey := bytes.Repeat([]byte{7}, 32)
	ctx := context.Background()
	db, err := store.Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const password = "crash-test-password"
	hash, _ := desk.HashPassword(password)
	for _, usr := range [][2]string{{"maker", store.RoleOperator}, {"checker", store.RoleApprover}} {
		if _, err := db.CreateUser(ctx, usr[0], usr[1], hash, false); err != nil {
			t.Fatal(err)
		}
	}
	d, err := desk.New(desk.Config{MasterKey: masterKey, PublicURL: lbURL}, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnsureSandboxAccount(ctx, desk.SandboxAccount{BaseURL: sbURL, MchID: mchID, AppID: appID, Key: key}); err != nil {
		t.Fatal(err)
	}

	type consoleProc struct {
		url  string
		args []string
		env  []string
		cmd  *exec.Cmd
	}
	var consoles []*consoleProc
	for i := range 3 {
		addr := freeAddr(t)
		dataDir := filepath.Join(dir, fmt.Sprintf("data%d", i))
		os.MkdirAll(dataDir, 0o700)
		c := &consoleProc{url: "http://" + addr, args: []string{"-addr", addr, "-data", dataDir},
			env: []string{"PAYDESK_DATABASE_URL=" + u, "PAYDESK_MASTER_KEY=" + hex.EncodeToString(masterKey), "PAYDESK_SANDBOX=off",
				"PAYDESK_GATEWAY_TIMEOUT=300ms", "PAYDESK_PAYOUT_FOLLOW_UP=300ms", "PAYDESK_PAYOUT_BACKOFF=100ms", "PAYDESK_PUBLIC_URL=" + lbURL}}
		c.cmd = startProcess(t, bin, c.args, c.env, &logs)
		consoles = append(consoles, c)
		target, _ := url.Parse(c.url)
		rr.mu.Lock()
		rr.targets = append(rr.targets, target)
		rr.mu.Unlock()
	}
	for _, c := range consoles {
		waitHTTP(t, c.url+"/healthz")
	}

	// Upload and send on the first console, approve on the second.
	const n = 1000
	var file bytes.Buffer
	file.WriteString("account_name,account_no,amount,bank_code,province,city\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&file, "payee %d,62220202%011d,%d.%02d,HPT00003,上海,上海\n", i, i, 1+i/100, i%100)
	}
	maker := crashSignIn(t, consoles[0].url, "maker", password)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "crash.csv")
	fw.Write(file.Bytes())
	mw.Close()
	res := maker.post("/payouts/batches", mw.FormDataContentType(), &body)
	m := regexp.MustCompile(`/payouts/batches/(\d+)$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("upload: %d", res.StatusCode)
	}
	batchID, _ := strconv.ParseInt(m[1], 10, 64)
	var sum int64
	for i := 0; i < n; i++ {
		sum += int64(100 + i/100*100 + i%100)
	}
	if res := maker.form(fmt.Sprintf("/payouts/batches/%d/send", batchID), url.Values{"control_count": {strconv.Itoa(n)},
		"control_sum": {fmt.Sprintf("%d.%02d", sum/100, sum%100)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d", res.StatusCode)
	}
	checker := crashSignIn(t, consoles[1].url, "checker", password)
	if res := checker.form(fmt.Sprintf("/payouts/batches/%d/approve", batchID), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.StatusCode)
	}

	count := func(where string) int {
		var c int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE batch_id = ? AND `+where, batchID).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	deadline := time.Now().Add(90 * time.Second)
	// Some payouts through, others in flight or waiting.
	for count("state NOT IN ('approved', 'submitting')") < n/4 {
		if time.Now().After(deadline) {
			t.Fatal("the batch does not progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The third console dies (SIGKILL); the second is restarted.
	if err := consoles[2].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	consoles[2].cmd.Wait()
	left := count("state IN ('approved', 'submitting', 'unknown')")
	t.Logf("killed a console with %d of %d payouts not yet known to be at the gateway (%d marked submitting, %d unknown)",
		left, n, count("state = 'submitting'"), count("state = 'unknown'"))
	if left == 0 {
		t.Fatal("the console was killed too late to test anything")
	}
	consoles[1].cmd.Process.Signal(syscall.SIGTERM)
	consoles[1].cmd.Wait()
	consoles[1].cmd = startProcess(t, bin, consoles[1].args, consoles[1].env, &logs)

	final := `(state IN ('refused') OR (state = 'submitted' AND status IN (2, 3, 4)))`
	// What the dead console left "submitting" is taken over once older than
	// any gateway call (2 timeouts + 1 minute): allow for that.
	deadline = time.Now().Add(150 * time.Second)
	for count(final) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d payouts final", count(final), n)
		}
		time.Sleep(200 * time.Millisecond)
	}

	rows, err := db.QueryContext(ctx, `SELECT id, mch_trans_order_no, account_no, coalesce(status, -1) FROM payouts WHERE batch_id = ?`, batchID)
	if err != nil {
		t.Fatal(err)
	}
	type payout struct {
		id          int64
		no, account string
		status      int
	}
	var all []payout
	for rows.Next() {
		var p payout
		rows.Scan(&p.id, &p.no, &p.account, &p.status)
		all = append(all, p)
	}
	rows.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, p := range all {
		res, err := hc.Get(sbURL + "/sandbox/api/counts?no=" + url.QueryEscape(p.no))
		if err != nil {
			t.Fatal(err)
		}
		var c struct{ Creates int }
		json.NewDecoder(res.Body).Decode(&c)
		res.Body.Close()
		if c.Creates != 1 {
			t.Errorf("payout %s was created %d times at the gateway", p.no, c.Creates)
		}
		if want := map[bool]int{true: 3, false: 2}[strings.HasSuffix(p.account, "4")]; p.status != want {
			t.Errorf("payout %s to %s ended with status %d, want %d", p.no, p.account, p.status, want)
		}
	}
	// Callbacks: each stored row processed once, and no status applied
	// twice to a payout.
	var callbacks, pending, twice int
	db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE result = 'pending') FROM notifications WHERE kind = 'trans'`).Scan(&callbacks, &pending)
	db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT order_ref, status FROM notifications WHERE result = 'applied' AND order_kind = 'trans'
		GROUP BY order_ref, status HAVING count(*) > 1) AS twice`).Scan(&twice)
	t.Logf("%d payout callbacks stored, %d pending, %d statuses applied twice", callbacks, pending, twice)
	if callbacks == 0 || pending != 0 || twice != 0 {
		t.Errorf("callbacks: %d stored, %d left pending, %d statuses applied twice", callbacks, pending, twice)
	}
}
