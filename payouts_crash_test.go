package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// freeAddr returns a local address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// buildPaydesk builds the binary into a temporary folder.
func buildPaydesk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "paydesk")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// startProcess starts bin with args and env; its output goes to log.
func startProcess(t *testing.T, bin string, args, env []string, log io.Writer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func waitHTTP(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s does not answer", u)
}

// client is a signed-in browser of the console process.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func crashSignIn(t *testing.T, base, user, password string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res := c.post("/login", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"username": {user}, "password": {password}}.Encode()))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d", user, res.StatusCode)
	}
	return c
}

func (c *client) post(path, ctype string, body io.Reader) *http.Response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (c *client) form(path string, v url.Values) *http.Response {
	return c.post(path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
}

// TestCrashMidBatch runs the console and the sandbox gateway as separate
// processes, kills the console with SIGKILL while a batch of 1,000 payouts
// is being sent through lost answers and timeouts, starts it again, and
// checks from the sandbox's own counters that every payout was created
// exactly once and ended final.
func TestCrashMidBatch(t *testing.T) {
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

	// The console's database: two users and a gateway account pointing at
	// the sandbox process.
	masterKey := bytes.Repeat([]byte{7}, 32)
	dataDir := filepath.Join(dir, "data")
	os.MkdirAll(dataDir, 0o700)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dataDir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	const password = "crash-test-password"
	hash, _ := desk.HashPassword(password)
	for _, u := range [][2]string{{"maker", store.RoleOperator}, {"checker", store.RoleApprover}} {
		if _, err := db.CreateUser(ctx, u[0], u[1], hash, false); err != nil {
			t.Fatal(err)
		}
	}
	d, err := desk.New(desk.Config{MasterKey: masterKey}, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	consoleAddr := freeAddr(t)
	consoleURL := "http://" + consoleAddr
	if _, err := d.EnsureSandboxAccount(ctx, desk.SandboxAccount{BaseURL: sbURL, MchID: mchID, AppID: appID, Key: key}); err != nil {
		t.Fatal(err)
	}

	env := []string{"PAYDESK_MASTER_KEY=" + hex.EncodeToString(masterKey), "PAYDESK_SANDBOX=off", "PAYDESK_GATEWAY_TIMEOUT=300ms",
		"PAYDESK_PAYOUT_FOLLOW_UP=300ms", "PAYDESK_PAYOUT_BACKOFF=100ms", "PAYDESK_PUBLIC_URL=" + consoleURL}
	args := []string{"-addr", consoleAddr, "-data", dataDir}
	console := startProcess(t, bin, args, env, &logs)
	waitHTTP(t, consoleURL+"/healthz")

	// Upload, send and approve a batch of 1,000.
	const n = 1000
	var file bytes.Buffer
	file.WriteString("account_name,account_no,amount,bank_code,province,city\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&file, "payee %d,62220202%011d,%d.%02d,HPT00003,上海,上海\n", i, i, 1+i/100, i%100)
	}
	maker := crashSignIn(t, consoleURL, "maker", password)
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
	checker := crashSignIn(t, consoleURL, "checker", password)
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
	// Kill the console once some payouts are through and others are not.
	deadline := time.Now().Add(60 * time.Second)
	for count("state <> 'approved'") < n/4 {
		if time.Now().After(deadline) {
			t.Fatal("the batch does not progress")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := console.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	console.Wait()
	left := count("state IN ('approved', 'submitting', 'unknown')")
	t.Logf("killed the console with %d of %d payouts not yet known to be at the gateway (%d marked submitting, %d unknown)",
		left, n, count("state = 'submitting'"), count("state = 'unknown'"))
	if left == 0 {
		t.Fatal("the console was killed too late to test anything")
	}

	startProcess(t, bin, args, env, &logs)
	final := `(state IN ('refused') OR (state = 'submitted' AND status IN (2, 3, 4)))`
	deadline = time.Now().Add(40 * time.Second)
	for count(final) < n {
		if time.Now().After(deadline) {
			rows, _ := db.QueryContext(ctx, `SELECT id, state, coalesce(status, -1), last_error, coalesce(next_try_at, ''), updated_at FROM payouts WHERE batch_id = ? AND NOT `+final+` LIMIT 10`, batchID)
			for rows.Next() {
				var id int64
				var st, le, nt, up string
				var status int
				rows.Scan(&id, &st, &status, &le, &nt, &up)
				t.Logf("payout %d: %s %d %q next %s updated %s", id, st, status, le, nt, up)
			}
			rows.Close()
			t.Fatalf("only %d of %d payouts final after the restart", count(final), n)
		}
		time.Sleep(100 * time.Millisecond)
	}

	rows, err := db.QueryContext(ctx, `SELECT mch_trans_order_no, account_no, coalesce(status, -1) FROM payouts WHERE batch_id = ?`, batchID)
	if err != nil {
		t.Fatal(err)
	}
	type payout struct {
		no, account string
		status      int
	}
	var all []payout
	for rows.Next() {
		var p payout
		rows.Scan(&p.no, &p.account, &p.status)
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
	db.Close()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
