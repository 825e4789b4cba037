package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"paydesk/store"
)

// runCmdEnv runs one subcommand with env as its environment (and the data
// folder dir) and returns its output.
func runCmdEnv(t *testing.T, dir string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string {
		if k == "PAYDESK_DATA" {
			return dir
		}
		return env[k]
	}, strings.NewReader(""), &out)
	return out.String(), err
}

func TestAuditVerifyNeedsTheMasterKey(t *testing.T) {
	dir := auditLogOfCommands(t, 3)
	key, err := os.ReadFile(filepath.Join(dir, masterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, masterKeyFile)); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, dir, "", "audit", "verify")
	if err == nil || !strings.Contains(err.Error(), "needs the master key") || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, "PAYDESK_MASTER_KEY") {
		t.Fatalf("verify without the key: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); err == nil {
		t.Fatal("audit verify created a master key")
	}
	// The key from the environment, as the console takes it.
	env := map[string]string{"PAYDESK_MASTER_KEY": strings.TrimSpace(string(key))}
	if out, err := runCmdEnv(t, dir, env, "audit", "verify"); err != nil || !strings.Contains(out, "intact: 3 rows") || !strings.Contains(out, "names row 3") {
		t.Fatalf("verify with PAYDESK_MASTER_KEY: %v\n%s", err, out)
	}
	// A user command appends to the log, so it needs the key too, and does
	// not make a new one.
	if _, err := runCmd(t, dir, "password-number-9\n", "user", "passwd", "-username", "olga"); err == nil || !strings.Contains(err.Error(), "none was found") {
		t.Fatalf("user passwd without the key: %v", err)
	}
	// Another key seals nothing and checks nothing.
	other := map[string]string{"PAYDESK_MASTER_KEY": strings.Repeat("07", 32)}
	if _, err := runCmdEnv(t, dir, other, "audit", "verify"); err == nil {
		t.Fatal("verify passed with another master key")
	}
}

// The console seals the log from its first row, anchors it, and writes the
// head to its log at start-up and shutdown.
func TestConsoleSealsAuditLog(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PAYDESK_ADMIN_PASSWORD": "first-admin-password"}
	c := startConsole(t, dir, env)
	res := signIn(t, c.URL, "admin", "first-admin-password")
	res.Body.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Rows: the first admin, the sandbox's gateway account, the sign-in.
	heads := regexp.MustCompile(`msg="audit log head" row=(\d+) mac=([0-9a-f]{16})`).FindAllStringSubmatch(c.Logs.String(), -1)
	if len(heads) != 2 || heads[0][1] != "2" || heads[1][1] != "3" {
		t.Fatalf("the head at start-up and shutdown is not in the log:\n%s", c.Logs)
	}
	st, err := os.Stat(filepath.Join(dir, auditHeadFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("anchor file: %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, auditHeadFile)); !strings.Contains(string(b), "row=3 mac="+heads[1][2]) {
		t.Fatalf("the anchor is not the head logged at shutdown: %s", b)
	}
	out, err := runCmd(t, dir, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "intact: 3 rows") || !strings.Contains(out, "Every row is sealed") || !strings.Contains(out, "names row 3") {
		t.Fatalf("verify: %v\n%s", err, out)
	}

	// A wrong or missing key stops the console before it forks the chain.
	serveArgs := []string{"-addr", "127.0.0.1:0", "-data", dir, "-sandbox-addr", "127.0.0.1:0"}
	wrong := map[string]string{"PAYDESK_MASTER_KEY": strings.Repeat("07", 32)}
	if _, err := runCmdEnv(t, dir, wrong, serveArgs...); err == nil || !strings.Contains(err.Error(), "not sealed with this master key") || !strings.Contains(err.Error(), "PAYDESK_MASTER_KEY") {
		t.Fatalf("start with another key: %v", err)
	}
	os.Rename(filepath.Join(dir, masterKeyFile), filepath.Join(dir, "kept.key"))
	if _, err := runCmdEnv(t, dir, nil, serveArgs...); err == nil || !strings.Contains(err.Error(), "none was found") {
		t.Fatalf("start without the key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, masterKeyFile)); err == nil {
		t.Fatal("a new master key was made for a sealed log")
	}
	if out, err := runCmd(t, dir, "", "audit", "verify"); err == nil {
		t.Fatalf("verify without the key passed:\n%s", out)
	}
}

// A log written before sealing keeps its rows; the console anchors it at
// its first start and records that in the log.
func TestConsoleSealsAPlainAuditLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"auth.login", "user.create", "auth.logout"} {
		if err := db.Audit(ctx, store.AuditEntry{Actor: "olga", Action: a, Subject: "user:olga"}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	c := startConsole(t, dir, map[string]string{"PAYDESK_ADMIN_PASSWORD": "first-admin-password"})
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Row 4 anchors the log, then come the first admin and the sandbox's
	// gateway account.
	if !strings.Contains(c.Logs.String(), `msg="audit log head" row=6`) {
		t.Fatalf("head:\n%s", c.Logs)
	}
	out, err := runCmd(t, dir, "", "audit", "verify")
	if err != nil || !strings.Contains(out, "intact: 6 rows") || !strings.Contains(out, "Rows 1 to 3 are chained with plain SHA-256") || !strings.Contains(out, "anchored afresh at row(s) 4") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name    string
		through int64 // the last row rechained, 0: every row
		want    string
	}{
		{"plain rows rechained", 3, "BROKEN: row 4: its link to the row before does not match"},
		{"every row rechained", 0, "BROKEN: anchor: row 6 is not the row the anchor names"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp := copyDataFolder(t, dir)
			tamper(t, cp, func(db *store.DB) {
				mustExec(t, db, `UPDATE audit_log SET actor = 'mallory' WHERE id = 2`)
				rechainPlain(t, db, 2, tt.through)
			})
			if out, err := runCmd(t, cp, "", "audit", "verify"); err == nil || !strings.Contains(out, tt.want) {
				t.Fatalf("old row rewritten: %v\n%s", err, out)
			}
		})
	}
}

// Cut while the console was stopped, the log does not get a new anchor at
// the next start: the console says so, and verify still finds the cut.
func TestConsoleKeepsAnchorOfCutLog(t *testing.T) {
	dir := auditLogOfCommands(t, 6)
	anchor, _ := os.ReadFile(filepath.Join(dir, auditHeadFile))
	tamper(t, dir, func(db *store.DB) {
		mustExec(t, db, `DELETE FROM audit_log WHERE id > 4`)
	})
	c := startConsole(t, dir, nil)
	res := signIn(t, c.URL, "olga", "password-number-05")
	res.Body.Close()
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Logs.String(), "level=ERROR") || !strings.Contains(c.Logs.String(), "row 6, which the anchor names, is no longer in the audit log") {
		t.Fatalf("no error about the cut:\n%s", c.Logs)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, auditHeadFile)); !bytes.Equal(now, anchor) {
		t.Fatalf("the anchor moved:\n%s\n%s", anchor, now)
	}
	out, err := runCmd(t, dir, "", "audit", "verify")
	// The console wrote two rows since (the sandbox's gateway account and
	// the sign-in), so a row 6 exists again, but not the anchored one.
	if err == nil || !strings.Contains(out, "row 6 is not the row the anchor names") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

// The head goes to the log when it moved, until the loop is stopped.
func TestAuditHeadLogged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if _, err := sealAudit(ctx, db, func(string) string { return "" }, dir, log); err != nil {
		t.Fatal(err)
	}
	loopCtx, stop := context.WithCancel(ctx)
	loop := auditHeadLog(db, log, 5*time.Millisecond)
	done := make(chan struct{})
	go func() { loop(loopCtx); close(done) }()
	if err := db.Audit(ctx, store.AuditEntry{Action: "auth.login"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), `msg="audit log head" row=1 mac=`); {
		if time.Now().After(deadline) {
			t.Fatalf("the head was not logged:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	<-done
	if n := strings.Count(logs.String(), "audit log head"); n != 1 {
		t.Fatalf("head logged %d times for one move:\n%s", n, logs)
	}
}
