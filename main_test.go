package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// console is the real program started in-process by run().
type console struct {
	URL     string
	DataDir string
	Logs    *syncBuffer
	stop    context.CancelFunc
	done    chan error
}

var listeningURL = regexp.MustCompile(`msg="paydesk is listening" url=(\S+)`)

// startConsole runs `paydesk` (serve) with a fresh data folder (or dataDir
// when given) on a free port, waits until it listens, and stops it at the
// end of the test, checking that it shut down cleanly. env adds environment
// variables.
func startConsole(t testing.TB, dataDir string, env map[string]string) *console {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	c := &console{DataDir: dataDir, Logs: &syncBuffer{}, stop: cancel, done: make(chan error, 1)}
	args := []string{"-addr", "127.0.0.1:0", "-data", dataDir, "-sandbox-addr", "127.0.0.1:0"}
	go func() { c.done <- run(ctx, args, getenv, strings.NewReader(""), c.Logs) }()
	deadline := time.Now().Add(30 * time.Second)
	for c.URL == "" {
		if m := listeningURL.FindStringSubmatch(c.Logs.String()); m != nil {
			c.URL = m[1]
			break
		}
		select {
		case err := <-c.done:
			t.Fatalf("paydesk stopped at start: %v\n%s", err, c.Logs)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("paydesk did not start listening:\n%s", c.Logs)
		}
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return c
}

// Stop shuts the console down as SIGINT would and returns run's error.
func (c *console) Stop() error {
	if c.stop == nil {
		return nil
	}
	c.stop()
	c.stop = nil
	select {
	case err := <-c.done:
		return err
	case <-time.After(20 * time.Second):
		return errors.New("paydesk did not stop within 20 s")
	}
}

var generatedPassword = regexp.MustCompile(`username=admin password=(\S+)`)

// AdminPassword reads the first admin's generated password from the log.
func (c *console) AdminPassword(t testing.TB) string {
	t.Helper()
	m := generatedPassword.FindStringSubmatch(c.Logs.String())
	if m == nil {
		t.Fatalf("no generated admin password in the log:\n%s", c.Logs)
	}
	return m[1]
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func signIn(t *testing.T, baseURL, username, password string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", baseURL+"/login", strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", baseURL)
	res, err := noRedirects().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestFirstStartCreatesAdminWithGeneratedPassword(t *testing.T) {
	c := startConsole(t, "", nil)
	pw := c.AdminPassword(t)
	if !strings.Contains(c.Logs.String(), c.URL+"/login") {
		t.Error("the log does not say where to sign in")
	}
	res := signIn(t, c.URL, "admin", pw)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/password" {
		t.Fatalf("first sign-in: %d → %q, want the password page", res.StatusCode, res.Header.Get("Location"))
	}
	res, err := http.Get(c.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "master.key")); err != nil {
		t.Errorf("no master key file: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// A second start keeps the admin and prints no password.
	again := startConsole(t, c.DataDir, nil)
	if strings.Contains(again.Logs.String(), "password=") || strings.Contains(again.Logs.String(), pw) {
		t.Fatalf("second start printed a password:\n%s", again.Logs)
	}
	if res := signIn(t, again.URL, "admin", pw); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in after restart: %d", res.StatusCode)
	}
}

func TestFirstStartWithAdminPasswordFromEnvironment(t *testing.T) {
	const pw = "chosen-admin-password"
	c := startConsole(t, "", map[string]string{"PAYDESK_ADMIN_PASSWORD": pw})
	if strings.Contains(c.Logs.String(), pw) {
		t.Fatal("the log shows the password from the environment")
	}
	res := signIn(t, c.URL, "admin", pw)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d → %q (a chosen password need not be changed)", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestFirstStartRefusesAWeakAdminPassword(t *testing.T) {
	var out syncBuffer
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", t.TempDir()},
		func(k string) string { return map[string]string{"PAYDESK_ADMIN_PASSWORD": "short"}[k] }, nil, &out)
	if err == nil || !strings.Contains(err.Error(), "PAYDESK_ADMIN_PASSWORD") {
		t.Fatalf("weak admin password: %v", err)
	}
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, nil, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	fset, _, _ := serveFlags(func(string) string { return "" }, &bytes.Buffer{})
	fset.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(out.String(), "-"+f.Name) {
			t.Errorf("-h does not explain -%s", f.Name)
		}
	})
	for _, want := range []string{"PAYDESK_ADDR", "PAYDESK_DATA", "PAYDESK_ADMIN_PASSWORD", "PAYDESK_MASTER_KEY", "user add", "user passwd", "audit verify", "backup", "127.0.0.1:8080", "127.0.0.1:3020", "./data"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h does not mention %s", want)
		}
	}
}

func TestFlagsFallBackToEnvironment(t *testing.T) {
	env := map[string]string{"PAYDESK_ADDR": "0.0.0.0:9000", "PAYDESK_DATA": "/srv/pd", "PAYDESK_IDLE_TIMEOUT": "5m", "PAYDESK_SECURE_COOKIES": "true"}
	fset, c, _ := serveFlags(func(k string) string { return env[k] }, &bytes.Buffer{})
	if err := fset.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.DataDir != "/srv/pd" || c.IdleTimeout != 5*time.Minute || !c.SecureCookies || c.SandboxAddr != "127.0.0.1:3020" {
		t.Fatalf("from the environment: %+v", c)
	}
	fset, c, _ = serveFlags(func(k string) string { return env[k] }, &bytes.Buffer{})
	if err := fset.Parse([]string{"-addr", "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:1" {
		t.Fatalf("a flag does not win over the environment: %s", c.Addr)
	}
}

// runCmd runs one subcommand with stdin and returns its output.
func runCmd(t *testing.T, dataDir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string {
		if k == "PAYDESK_DATA" {
			return dataDir
		}
		return ""
	}, strings.NewReader(stdin), &out)
	return out.String(), err
}

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	if out, err := runCmd(t, dir, "first-password-1\n", "user", "add", "-username", "olga", "-role", "operator"); err != nil || !strings.Contains(out, "created user olga") {
		t.Fatalf("user add: %v %s", err, out)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.UserByName(context.Background(), "olga")
	if err != nil || u.Role != store.RoleOperator || u.MustChangePassword || !desk.CheckPassword(u.PasswordHash, "first-password-1") {
		t.Fatalf("added user: %+v %v", u, err)
	}
	// -data names the folder as well as the environment does.
	other := t.TempDir()
	if _, err := runCmd(t, dir, "other-password-1", "user", "add", "-data", other, "-username", "pia", "-role", "viewer"); err != nil {
		t.Fatalf("user add -data (no final newline): %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "paydesk.db")); err != nil {
		t.Fatal("-data was not used")
	}

	if out, err := runCmd(t, dir, "second-password-2\r\n", "user", "passwd", "-username", "olga"); err != nil || !strings.Contains(out, "password of olga changed") {
		t.Fatalf("user passwd: %v %s", err, out)
	}
	u2, _ := db.UserByName(context.Background(), "olga")
	if !desk.CheckPassword(u2.PasswordHash, "second-password-2") || u2.SessionGen == u.SessionGen {
		t.Fatalf("after passwd: %+v", u2)
	}

	bad := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"taken", "first-password-1\n", []string{"user", "add", "-username", "OLGA", "-role", "viewer"}, "taken"},
		{"unknown role", "first-password-1\n", []string{"user", "add", "-username", "quinn", "-role", "root"}, "-role must be one of"},
		{"no username", "first-password-1\n", []string{"user", "add", "-role", "viewer"}, "-username"},
		{"empty stdin", "", []string{"user", "add", "-username", "quinn", "-role", "viewer"}, "standard input"},
		{"short password", "short\n", []string{"user", "add", "-username", "quinn", "-role", "viewer"}, "at least 10"},
		{"unknown user", "first-password-1\n", []string{"user", "passwd", "-username", "nobody"}, "no user nobody"},
		{"unknown command", "", []string{"user", "delete"}, "unknown user command"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := runCmd(t, dir, tt.stdin, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
	es, _ := db.AuditEntries(context.Background(), store.AuditFilter{Actor: cliActor})
	if len(es) != 2 {
		t.Fatalf("%d audit rows from the command line, want 2 (add, passwd)", len(es))
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "first-password-1\n", "user", "add", "-username", "olga", "-role", "admin"); err != nil {
		t.Fatal(err)
	}
	runCmd(t, dir, "second-password-2\n", "user", "passwd", "-username", "olga")
	runCmd(t, dir, "third-password-3\n", "user", "passwd", "-username", "olga")
	out, err := runCmd(t, dir, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "intact: 3 rows") {
		t.Fatalf("intact log: %v %s", err, out)
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'someone else' WHERE id = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out, err = runCmd(t, dir, "", "audit", "verify")
	if err == nil || !strings.Contains(out, "BROKEN: row 2") || !strings.Contains(err.Error(), "row 2") {
		t.Fatalf("tampered log: %v %s", err, out)
	}
	if _, err := runCmd(t, t.TempDir(), "", "audit", "verify"); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("no database: %v", err)
	}
}

func TestBackupCommand(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"olga", "pia", "quinn"} {
		if _, err := runCmd(t, dir, fmt.Sprintf("password-number-%d\n", i), "user", "add", "-username", name, "-role", "viewer"); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, dir, "", "backup", file)
	if err != nil || !strings.Contains(out, "backup written to") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if _, err := runCmd(t, dir, "", "backup", file); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if _, err := runCmd(t, dir, "", "backup"); err == nil {
		t.Fatal("backup without a file name succeeded")
	}
	live, _ := store.Open(context.Background(), filepath.Join(dir, "paydesk.db"), nil)
	defer live.Close()
	copyDB, err := store.Open(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	want, _ := live.Users(context.Background())
	got, _ := copyDB.Users(context.Background())
	if len(got) != 3 || len(got) != len(want) {
		t.Fatalf("backup has %d users, live %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Username != want[i].Username || got[i].PasswordHash != want[i].PasswordHash {
			t.Errorf("user %d differs", i)
		}
	}
	rep, _ := copyDB.VerifyAudit(context.Background())
	if !rep.Intact() || rep.Rows != 3 {
		t.Fatalf("backup audit: %+v", rep)
	}
}

// TestShutdownOnCancel checks that serving stops cleanly when the context
// ends (SIGINT/SIGTERM in main) and the port is released.
func TestShutdownOnCancel(t *testing.T) {
	c := startConsole(t, "", nil)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(c.URL + "/healthz"); err == nil {
		t.Fatal("still answering after shutdown")
	}
	sc := bufio.NewScanner(strings.NewReader(c.Logs.String()))
	var sawShutdown bool
	for sc.Scan() {
		sawShutdown = sawShutdown || strings.Contains(sc.Text(), "shutting down")
	}
	if !sawShutdown {
		t.Error("no shutdown line in the log")
	}
}

// The "Sandbox" gateway account is enabled exactly while the built-in
// sandbox runs: a real account switches both off at the next start, and
// without one both come back.
func TestSandboxAccountFollowsTheSandbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"PAYDESK_ADMIN_PASSWORD": "first-admin-password"}
	sandboxState := func() (disabled bool, audits int) {
		t.Helper()
		db, err := store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		g, err := db.SandboxAccount(ctx)
		if err != nil {
			t.Fatal(err)
		}
		db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'gateway.disable' AND subject = ?`, fmt.Sprintf("gateway:%d", g.ID)).Scan(&audits)
		return g.Disabled, audits
	}
	c := startConsole(t, dir, env)
	if !strings.Contains(c.Logs.String(), "built-in sandbox gateway is running") {
		t.Fatalf("first start without the sandbox:\n%s", c.Logs)
	}
	c.Stop()
	if disabled, _ := sandboxState(); disabled {
		t.Fatal("the sandbox account is disabled while the sandbox runs")
	}

	db, err := store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var realID int64
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		realID, err = db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{Name: "Real", BaseURL: "http://127.0.0.1:9", MchID: "1", AppID: "a", KeySealed: []byte{1}, NotifyBaseURL: "http://127.0.0.1:8080"})
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c = startConsole(t, dir, env)
	if strings.Contains(c.Logs.String(), "built-in sandbox gateway is running") {
		t.Fatal("the sandbox started although a real gateway account exists")
	}
	c.Stop()
	if disabled, audits := sandboxState(); !disabled || audits != 1 {
		t.Fatalf("with a real account: sandbox account disabled=%v, %d audit rows; want disabled, 1", disabled, audits)
	}

	db, _ = store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		g, err := db.GatewayAccount(ctx, realID)
		if err != nil {
			return err
		}
		g.Disabled, g.KeySealed = true, nil
		return db.UpdateGatewayAccountTx(ctx, tx, g)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c = startConsole(t, dir, env)
	c.Stop()
	if disabled, _ := sandboxState(); disabled {
		t.Fatal("the sandbox runs again but its account stayed disabled")
	}
}

// A backup is readable by its owner only and holds no session.
func TestBackupHasNoSessionsAndIsOwnerOnly(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "password-number-1\n", "user", "add", "-username", "olga", "-role", "admin"); err != nil {
		t.Fatal(err)
	}
	live, err := store.Open(context.Background(), filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	const marker = "session-data-that-must-not-be-copied"
	if _, err := live.Exec(`INSERT INTO sessions (token, data, expiry) VALUES ('live-session-key', ?, julianday('now') + 1)`, []byte(marker)); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	file := filepath.Join(out, "copy.db")
	if _, err := runCmd(t, dir, "", "backup", file); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if m := st.Mode().Perm(); m != 0o600 {
		t.Errorf("backup file mode %v, want 0600", m)
	}
	raw, _ := os.ReadFile(file)
	if bytes.Contains(raw, []byte(marker)) || bytes.Contains(raw, []byte("live-session-key")) {
		t.Fatal("the backup file contains a session")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Fatalf("the backup left %d files in its folder, want only the backup", len(entries))
	}
	copyDB, err := store.Open(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if n := countRows(t, copyDB, "sessions"); n != 0 {
		t.Fatalf("%d sessions in the backup", n)
	}
	if u, err := copyDB.UserByName(context.Background(), "olga"); err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("the backup lost a user: %+v %v", u, err)
	}
	if n := countRows(t, live, "sessions"); n != 1 {
		t.Fatalf("the live database has %d sessions after the backup, want 1", n)
	}
}

func countRows(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The data folder is the owner's only (0700) and every file in it 0600:
// the database with its -wal and -shm, the master key, the sandbox key.
// A database left readable by others is made the owner's at start.
func TestDataFilesAreOwnerOnly(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := filepath.Join(t.TempDir(), "data")
	check := func(when string) {
		t.Helper()
		want := map[string]os.FileMode{"": 0o700, "paydesk.db": 0o600, "paydesk.db-wal": 0o600, "paydesk.db-shm": 0o600, "master.key": 0o600, "sandbox.key": 0o600}
		for name, mode := range want {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if got := st.Mode().Perm(); got != mode {
				t.Errorf("%s: %s has mode %v, want %v", when, filepath.Join("data", name), got, mode)
			}
		}
	}
	c := startConsole(t, dir, nil)
	check("first start")
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "paydesk.db"), 0o644)
	startConsole(t, dir, nil)
	check("start with a database readable by others")
}

func TestTrustedProxiesFlag(t *testing.T) {
	env := map[string]string{"PAYDESK_TRUST_PROXY": "on", "PAYDESK_TRUSTED_PROXIES": "10.0.0.0/8, fd00::/8,192.0.2.7"}
	fset, c, _ := serveFlags(func(k string) string { return env[k] }, &bytes.Buffer{})
	if err := fset.Parse(nil); err != nil {
		t.Fatal(err)
	}
	got, err := parseTrustedProxies(c.TrustedProxies, c.TrustProxy)
	if err != nil || fmt.Sprint(got) != "[10.0.0.0/8 fd00::/8 192.0.2.7/32]" {
		t.Fatalf("from the environment: %v %v", got, err)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-trust-proxy", "-trusted-proxies", "10.0.0.0/33"}, `-trusted-proxies: "10.0.0.0/33" is not an address range`},
		{[]string{"-trust-proxy", "-trusted-proxies", "10.0.0.0/8,proxy.example"}, `"proxy.example" is not an address range`},
		{[]string{"-trusted-proxies", "10.0.0.0/8"}, "-trust-proxy is off"},
	}
	for _, tt := range bad {
		var out syncBuffer
		args := append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-sandbox-addr", "127.0.0.1:0"}, tt.args...)
		err := run(context.Background(), args, func(string) string { return "" }, nil, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want start-up stopped saying %q", tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "listening") {
			t.Errorf("%v: the console started", tt.args)
		}
	}
}
