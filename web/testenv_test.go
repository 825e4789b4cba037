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
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/store"
)

// testEnv is a console on a real SQLite file behind a real HTTP server.
type testEnv struct {
	t    *testing.T
	db   *store.DB
	desk *desk.Desk
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

// testConfig is a test console's configuration: the HTTP side's, and the
// core's.
type testConfig struct {
	Config
	Core desk.Config
}

// testMasterKey is the test consoles' master key.
var testMasterKey = bytes.Repeat([]byte{42}, 32)

// startCore makes the core on db with the clock now and runs its loops
// until the test ends.
func startCore(t testing.TB, cfg desk.Config, db *store.DB, log *slog.Logger, now func() time.Time) *desk.Desk {
	t.Helper()
	d, err := desk.New(cfg, db, log, now)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the core's loops: %v", err)
		}
	})
	return d
}

// coreConfig is the core's configuration, with the zone loc and the test
// master key where the test left them empty.
func (c *testConfig) coreConfig(loc *time.Location) desk.Config {
	core := c.Core
	if core.Location == nil {
		core.Location = loc
	}
	if core.MasterKey == nil {
		core.MasterKey = testMasterKey
	}
	return core
}

// testPassword is every test user's password.
const testPassword = "test-password-123"

// newTestEnv starts a console; edit adjusts its Config before start.
func newTestEnv(t *testing.T, edit ...func(*testConfig)) *testEnv {
	t.Helper()
	ctx := context.Background()
	env := &testEnv{t: t, logs: &bytes.Buffer{}}
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "paydesk.db"), env.now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	env.db = db
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	var cfg testConfig
	for _, f := range edit {
		f(&cfg)
	}
	log := slog.New(slog.NewTextHandler(env.logs, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// The listener exists before the server so that PublicURL can name it.
	env.ts = httptest.NewUnstartedServer(nil)
	if cfg.Core.PublicURL == "" {
		cfg.Core.PublicURL = "http://" + env.ts.Listener.Addr().String()
	}
	env.desk = startCore(t, cfg.coreConfig(loc), db, log, env.now)
	srv, err := New(cfg.Config, env.desk, db, log)
	if err != nil {
		t.Fatal(err)
	}
	watchKeys(t, srv)
	env.srv = srv
	env.ts.Config.Handler = srv.Handler(testStatic())
	env.ts.Start()
	// Registered after startCore's, so it runs before it: requests end
	// before the core's loops stop.
	t.Cleanup(func() {
		env.ts.Close()
	})
	return env
}

// watchKeys fails t when the console printed a key its catalogue does not
// hold: a sentence the catalogue test cannot find in the code (kept in a
// table, or passed through a variable) would reach readers untranslated.
func watchKeys(t testing.TB, srv *Server) {
	var mu sync.Mutex
	missing := map[string]bool{}
	srv.cat.OnMissing(func(l i18n.Lang, key string) {
		mu.Lock()
		missing[fmt.Sprintf("%s %q", l, key)] = true
		mu.Unlock()
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for k := range missing {
			t.Errorf("printed without a catalogue entry: %s", k)
		}
	})
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
	hash, err := desk.HashPassword(testPassword)
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

// Its Accept-Language asks for English: most tests are about behaviour
// and read the English sentences; those about the wording in Chinese use
// browserIn.
func (e *testEnv) browser() *browser { return e.browserIn("en") }

// browserIn is a browser whose Accept-Language is acceptLanguage ("" for
// none).
func (e *testEnv) browserIn(acceptLanguage string) *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: e.t, env: e, header: http.Header{}, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	if acceptLanguage != "" {
		b.header.Set("Accept-Language", acceptLanguage)
	}
	return b
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

// testServer makes a console on db with its core running until the test
// ends; a nil now is the real clock. The database must be closed after
// the test's cleanups, not by a defer of the test function.
func testServer(t testing.TB, cfg testConfig, db *store.DB, log *slog.Logger, now func() time.Time) (*Server, error) {
	t.Helper()
	d := startCore(t, cfg.coreConfig(time.UTC), db, log, now)
	return New(cfg.Config, d, db, log)
}

// testSeal seals a secret under masterKey as the core does.
func testSeal(masterKey []byte, context, secret string) []byte {
	s, err := desk.NewSealer(masterKey)
	if err != nil {
		panic(err)
	}
	return s.Seal(secret, context)
}

// testOpen opens what the core sealed under masterKey.
func testOpen(masterKey []byte, context string, sealed []byte) (string, error) {
	s, err := desk.NewSealer(masterKey)
	if err != nil {
		return "", err
	}
	return s.Open(sealed, context)
}

// gatewayKeyContext is what a gateway account's sealed merchant key is
// bound to: its id.
func gatewayKeyContext(id int64) string { return fmt.Sprintf("gateway:%d", id) }
