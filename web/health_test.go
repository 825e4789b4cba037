package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"paydesk/store"
)

// /healthz proves the database takes writes (without an audit row), says
// how many callbacks wait, and answers 503 with a sentence when writes
// fail.
func TestHealthz(t *testing.T) {
	env := newTestEnv(t)
	b := env.browser()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := env.db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	audits := count(`SELECT count(*) FROM audit_log`)
	check := func(status int, body string) {
		t.Helper()
		env.advance(2 * healthTTL) // past the cached answer
		res := b.get("/healthz")
		if res.StatusCode != status || res.body != body {
			t.Fatalf("got %d %q, want %d %q", res.StatusCode, res.body, status, body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
	}
	check(http.StatusOK, "ok\ndatabase: takes writes\ncallbacks waiting: 0\n")
	var beat string
	if err := env.db.QueryRow(`SELECT value FROM settings WHERE key = 'health.heartbeat'`).Scan(&beat); err != nil {
		t.Fatalf("no heartbeat written: %v", err)
	}

	for i := 0; i < 2; i++ {
		if _, err := env.db.Exec(`INSERT INTO notifications (received_at, kind, method, client_addr) VALUES (?, 'pay', 'POST', '127.0.0.1')`,
			time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
	}
	check(http.StatusOK, "ok\ndatabase: takes writes\ncallbacks waiting: 2\n")
	var beat2 string
	env.db.QueryRow(`SELECT value FROM settings WHERE key = 'health.heartbeat'`).Scan(&beat2)
	if beat2 == beat {
		t.Error("the heartbeat was not written again")
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != audits {
		t.Errorf("health checks added %d audit rows", n-audits)
	}

	// A database that refuses writes (as a read-only file does): one
	// connection, made read-only.
	const down = "The database does not take writes: payments, payouts and callbacks cannot be recorded. See the console's log.\n"
	env.db.SetMaxOpenConns(1)
	if _, err := env.db.Exec(`PRAGMA query_only = ON`); err != nil {
		t.Fatal(err)
	}
	check(http.StatusServiceUnavailable, down)
	if _, err := env.db.Exec(`PRAGMA query_only = OFF`); err != nil {
		t.Fatal(err)
	}
	check(http.StatusOK, "ok\ndatabase: takes writes\ncallbacks waiting: 2\n")

	env.db.Close()
	check(http.StatusServiceUnavailable, down)
}

// Within a second the last answer is given again without a write.
func TestHealthzCached(t *testing.T) {
	env := newTestEnv(t)
	b := env.browser()
	if res := b.get("/healthz"); res.StatusCode != http.StatusOK {
		t.Fatal(res.StatusCode)
	}
	env.db.Exec(`UPDATE settings SET value = 'x' WHERE key = 'health.heartbeat'`)
	b.get("/healthz")
	var again string
	env.db.QueryRow(`SELECT value FROM settings WHERE key = 'health.heartbeat'`).Scan(&again)
	if again != "x" {
		t.Fatalf("a second check within %s wrote again", healthTTL)
	}
}

// healthTTL is how long the core keeps a health check's answer.
const healthTTL = time.Second

// When the session store cannot be read, neither the user's language nor
// the team's is known: the sentence follows the browser, Chinese when it
// names no language Paydesk speaks.
func TestSessionStoreDownSpeaksTheBrowsersLanguage(t *testing.T) {
	env := newTestEnv(t)
	b, _ := env.signedIn(store.RoleViewer)
	env.db.Close()
	for _, c := range []struct{ accept, want string }{
		{"en-US", "The console cannot reach its session store."},
		{"zh-CN,zh;q=0.9", "控制台暂时无法读取登录会话"},
		{"", "控制台暂时无法读取登录会话"},
	} {
		b.header.Set("Accept-Language", c.accept)
		if res := b.get("/payments"); res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.body, c.want) {
			t.Errorf("Accept-Language %q: %d %q", c.accept, res.StatusCode, res.body)
		}
	}
}
