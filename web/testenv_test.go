package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"paydesk/store"
)

// testEnv is a console on a real SQLite file behind a real HTTP server.
type testEnv struct {
	t    *testing.T
	db   *store.DB
	srv  *Server
	ts   *httptest.Server
	logs *bytes.Buffer
	seq  atomic.Int64
	// skew is added to the real time on the console's clock: advance moves
	// it forward, so tests can pass timeouts without waiting.
	skew atomic.Int64
	// frozen, when set, is the real time (unix nanoseconds) the console's
	// clock stays at (plus the skew): see freeze.
	frozen atomic.Int64
	sandboxFields
}

// now is the console's clock in tests: real time plus the skew.
func (e *testEnv) now() time.Time {
	if f := e.frozen.Load(); f != 0 {
		return time.Unix(0, f).Add(time.Duration(e.skew.Load()))
	}
	return time.Now().Add(time.Duration(e.skew.Load()))
}

// freeze stops the console's clock where it is; advance still moves it.
// For tests whose outcome must not depend on how long the machine takes.
func (e *testEnv) freeze() { e.frozen.Store(time.Now().UnixNano()) }

// advance moves the console's clock forward by d.
func (e *testEnv) advance(d time.Duration) { e.skew.Add(int64(d)) }

// testPassword is every test user's password.
const testPassword = "test-password-123"

// newTestEnv starts a console; edit adjusts its Config before start.
func newTestEnv(t *testing.T, edit ...func(*Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Location: loc, MasterKey: bytes.Repeat([]byte{42}, 32)}
	for _, f := range edit {
		f(&cfg)
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	env := &testEnv{t: t, db: db, logs: logs}
	// The listener exists before the server so that PublicURL can name it.
	env.ts = httptest.NewUnstartedServer(nil)
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + env.ts.Listener.Addr().String()
	}
	srv, err := New(cfg, db, log, env.now)
	if err != nil {
		t.Fatal(err)
	}
	env.srv = srv
	env.ts.Config.Handler = srv.Handler(testStatic())
	env.ts.Start()
	t.Cleanup(func() {
		env.ts.Close()
		srv.Close(context.Background())
	})
	return env
}

func testStatic() fstest.MapFS {
	return fstest.MapFS{
		"app.css":     {Data: []byte("body{}")},
		"htmx.min.js": {Data: []byte("/* htmx */")},
		"app.js":      {Data: []byte("/* app */")},
	}
}

// addUser creates a user with role and testPassword, and returns its name.
func (e *testEnv) addUser(role string) string {
	e.t.Helper()
	name := fmt.Sprintf("%s%d", role, e.seq.Add(1))
	hash, err := HashPassword(testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.CreateUser(context.Background(), name, role, hash, false); err != nil {
		e.t.Fatal(err)
	}
	return name
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t   *testing.T
	env *testEnv
	c   *http.Client
	// header is added to every request (X-Forwarded-For, say).
	header http.Header
}

func (e *testEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, env: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// signedIn returns a browser signed in as a new user with role.
func (e *testEnv) signedIn(role string) (*browser, string) {
	e.t.Helper()
	name := e.addUser(role)
	b := e.browser()
	res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: status %d: %s", name, res.StatusCode, res.body)
	}
	return b, name
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	for k, v := range b.header {
		req.Header[k] = v
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res, string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.env.ts.URL+path, nil)
	return b.do(req)
}

// postForm posts a form as a same-origin browser would.
func (b *browser) postForm(path string, v url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.env.ts.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.env.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}
