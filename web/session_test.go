package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// sessionCookie returns the browser's session cookie value for the console.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.env.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "paydesk_session" {
			return c.Value
		}
	}
	return ""
}

// withCookie is a fresh browser that presents token as its session.
func (e *testEnv) withCookie(token string) *browser {
	b := e.browser()
	u, _ := url.Parse(e.ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "paydesk_session", Value: token, Path: "/"}})
	return b
}

// signedOutTo reports whether res sends the visitor to the sign-in page.
func signedOutTo(res response) bool {
	return res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login")
}

func TestSignInRenewsTheSessionToken(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	// A first sign-in and sign-out leave the browser with an anonymous
	// session, as someone planting a token would.
	b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	b.postForm("/logout", nil)
	before := b.sessionCookie()
	if before == "" {
		t.Fatal("no anonymous session cookie after sign-out")
	}
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	after := b.sessionCookie()
	if after == "" || after == before {
		t.Fatalf("the session token did not change at sign-in (%q → %q)", before, after)
	}
	if res := b.get("/account"); res.StatusCode != 200 {
		t.Fatalf("signed-in browser: %d", res.StatusCode)
	}
	if res := env.withCookie(before).get("/account"); !signedOutTo(res) {
		t.Fatalf("the pre-login token authenticates: %d", res.StatusCode)
	}
	// Sign-out renews the token too, and the signed-in one dies.
	b.postForm("/logout", nil)
	if b.sessionCookie() == after {
		t.Fatal("the session token did not change at sign-out")
	}
	if res := env.withCookie(after).get("/account"); !signedOutTo(res) {
		t.Fatalf("the token of a signed-out session authenticates: %d", res.StatusCode)
	}
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		env := newTestEnv(t, func(c *testConfig) { c.SecureCookies = secure })
		name := env.addUser(store.RoleViewer)
		b := env.browser()
		res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
		var c *http.Cookie
		for _, x := range res.Cookies() {
			if x.Name == "paydesk_session" {
				c = x
			}
		}
		if c == nil {
			t.Fatal("no session cookie set at sign-in")
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != secure || c.Path != "/" {
			t.Errorf("secure-cookies=%v: cookie %s", secure, c)
		}
	}
}

func TestIdleTimeoutOnTheConsoleClock(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.IdleTimeout = 30 * time.Minute })
	b, _ := env.signedIn(store.RoleViewer)
	env.advance(29 * time.Minute)
	if res := b.get("/account"); res.StatusCode != 200 {
		t.Fatalf("after 29 idle minutes: %d", res.StatusCode)
	}
	// The request just made counts as activity.
	env.advance(29 * time.Minute)
	if res := b.get("/account"); res.StatusCode != 200 {
		t.Fatalf("after another 29 minutes: %d", res.StatusCode)
	}
	env.advance(31 * time.Minute)
	if res := b.get("/account"); !signedOutTo(res) {
		t.Fatalf("after 31 idle minutes: %d, want a redirect to /login", res.StatusCode)
	}
	if res := b.get("/login"); !strings.Contains(res.body, "without activity") {
		t.Fatalf("the sign-in page does not say why: %.300s", res.body)
	}
}

func TestIdleTimeoutInTheSessionStore(t *testing.T) {
	// scs expires the stored session on the real clock as well.
	env := newTestEnv(t, func(c *testConfig) { c.IdleTimeout = 600 * time.Millisecond })
	b, _ := env.signedIn(store.RoleViewer)
	if res := b.get("/account"); res.StatusCode != 200 {
		t.Fatalf("right after sign-in: %d", res.StatusCode)
	}
	time.Sleep(1200 * time.Millisecond)
	if res := b.get("/account"); !signedOutTo(res) {
		t.Fatalf("after the idle timeout passed: %d", res.StatusCode)
	}
}

func TestAbsoluteLifetime(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.IdleTimeout = time.Hour; c.Lifetime = 12 * time.Hour })
	b, _ := env.signedIn(store.RoleViewer)
	// Busy all day: a request every 50 minutes.
	for range 14 {
		env.advance(50 * time.Minute)
		if res := b.get("/account"); res.StatusCode != 200 {
			t.Fatalf("at %v: %d", time.Duration(env.skew.Load()), res.StatusCode)
		}
	}
	env.advance(50 * time.Minute) // 12 h 30 min after sign-in
	if res := b.get("/account"); !signedOutTo(res) {
		t.Fatalf("past the lifetime: %d", res.StatusCode)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleOperator)
	signIn := func() *browser {
		b := env.browser()
		if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d", res.StatusCode)
		}
		return b
	}
	laptop, phone := signIn(), signIn()
	other, _ := env.signedIn(store.RoleViewer)
	if res := laptop.get("/account"); !strings.Contains(res.body, "Sign out everywhere") {
		t.Fatal("the account page has no sign-out-everywhere button")
	}
	res := laptop.postForm("/account/logout-everywhere", nil)
	if !signedOutTo(res) {
		t.Fatalf("sign out everywhere: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	for label, b := range map[string]*browser{"laptop": laptop, "phone": phone} {
		if res := b.get("/account"); !signedOutTo(res) {
			t.Errorf("%s still signed in: %d", label, res.StatusCode)
		}
	}
	if res := other.get("/account"); res.StatusCode != 200 {
		t.Errorf("another user's session ended too: %d", res.StatusCode)
	}
	if res := signIn().get("/account"); res.StatusCode != 200 {
		t.Errorf("cannot sign in again: %d", res.StatusCode)
	}
	if es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "auth.logout_everywhere", Actor: name}); len(es) != 1 {
		t.Errorf("%d audit rows for sign-out everywhere", len(es))
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	signIn := func(pw string) *browser {
		b := env.browser()
		if res := b.postForm("/login", url.Values{"username": {name}, "password": {pw}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in with %q: %d", pw, res.StatusCode)
		}
		return b
	}
	here, elsewhere := signIn(testPassword), signIn(testPassword)
	before := here.sessionCookie()
	tests := []struct {
		form url.Values
		want string
	}{
		{url.Values{"current": {"wrong"}, "new": {"another-password-9"}, "confirm": {"another-password-9"}}, "current password is not right"},
		{url.Values{"current": {testPassword}, "new": {"short"}, "confirm": {"short"}}, "at least 10 characters"},
		{url.Values{"current": {testPassword}, "new": {"another-password-9"}, "confirm": {"another-password-8"}}, "differ"},
		{url.Values{"current": {testPassword}, "new": {testPassword}, "confirm": {testPassword}}, "different from the current"},
		{url.Values{"current": {testPassword}, "new": {"\xff\xfe-bytes-not-text"}, "confirm": {"\xff\xfe-bytes-not-text"}}, "not text"},
	}
	for _, tt := range tests {
		if res := here.postForm("/account/password", tt.form); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, tt.want) {
			t.Errorf("%v: %d, want 422 saying %q", tt.form, res.StatusCode, tt.want)
		}
	}
	res := here.postForm("/account/password", url.Values{"current": {testPassword}, "new": {"another-password-9"}, "confirm": {"another-password-9"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change password: %d %s", res.StatusCode, res.body)
	}
	if res := here.get("/account"); res.StatusCode != 200 {
		t.Fatalf("the session that changed the password ended: %d", res.StatusCode)
	}
	if here.sessionCookie() == before {
		t.Error("the session token did not change with the password")
	}
	if res := elsewhere.get("/account"); !signedOutTo(res) {
		t.Fatalf("the other session survived the password change: %d", res.StatusCode)
	}
	if res := env.browser().postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("the old password still works: %d", res.StatusCode)
	}
	signIn("another-password-9")
}

func TestThrottleOnTheConsoleClock(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	wrong := url.Values{"username": {name}, "password": {"wrong-password-1"}}
	for i := range throttleFree {
		if res := b.postForm("/login", wrong); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure %d: %d", i+1, res.StatusCode)
		}
	}
	// The next failure starts the waiting.
	b.postForm("/login", wrong)
	res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.body, "Try again in 2 s") {
		t.Fatalf("right password while throttled: %d %.300s", res.StatusCode, res.body)
	}
	env.advance(1500 * time.Millisecond)
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); !strings.Contains(res.body, "Try again in 1 s") {
		t.Fatalf("half-way: %d %.300s", res.StatusCode, res.body)
	}
	env.advance(time.Second)
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d", res.StatusCode)
	}
	// Each further failure doubles the wait.
	b2 := env.browser()
	b2.postForm("/login", wrong) // failure 7 on the address (the username was forgiven)
	if res := b2.postForm("/login", wrong); !strings.Contains(res.body, "Try again in 4 s") {
		t.Fatalf("address throttled: %d %.300s", res.StatusCode, res.body)
	}
	if es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "auth.login_failed"}); len(es) < throttleFree+2 {
		t.Fatalf("%d failed sign-ins audited", len(es))
	}
}

func TestThrottlePerUsernameAcrossAddresses(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true })
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	post := func(addr, pw string) response {
		req, _ := http.NewRequest("POST", env.ts.URL+"/login", strings.NewReader(url.Values{"username": {name}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", addr)
		return b.do(req)
	}
	for i := range throttleFree + 1 {
		post("203.0.113."+string(rune('1'+i)), "wrong-password-1")
	}
	if res := post("198.51.100.7", testPassword); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("username guessed from many addresses: %d", res.StatusCode)
	}
	// Another username from a fresh address is not held up.
	other := env.addUser(store.RoleViewer)
	req, _ := http.NewRequest("POST", env.ts.URL+"/login", strings.NewReader(url.Values{"username": {other}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.8")
	if res := b.do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("other user: %d", res.StatusCode)
	}
}

func TestDisabledUserIsSignedOut(t *testing.T) {
	env := newTestEnv(t)
	b, name := env.signedIn(store.RoleOperator)
	u, _ := env.db.UserByName(context.Background(), name)
	if err := env.db.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	if res := b.get("/account"); !signedOutTo(res) {
		t.Fatalf("disabled user still signed in: %d", res.StatusCode)
	}
	res := env.browser().postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Wrong username or password.") {
		t.Fatalf("disabled user signs in: %d", res.StatusCode)
	}
}

func TestMustChangePasswordFirst(t *testing.T) {
	env := newTestEnv(t)
	hash, _ := desk.HashPassword(testPassword)
	if _, err := env.db.CreateUser(context.Background(), "newbie", store.RoleOperator, hash, true); err != nil {
		t.Fatal(err)
	}
	b := env.browser()
	res := b.postForm("/login", url.Values{"username": {"newbie"}, "password": {testPassword}, "next": {"/payments"}})
	if res.Header.Get("Location") != "/account/password" {
		t.Fatalf("sign-in with a generated password goes to %q", res.Header.Get("Location"))
	}
	if res := b.get("/payments"); res.Header.Get("Location") != "/account/password" {
		t.Fatalf("other pages before the change: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.get("/account/password"); !strings.Contains(res.body, `data-testid="must-change"`) {
		t.Fatal("the password page does not say why")
	}
	b.postForm("/account/password", url.Values{"current": {testPassword}, "new": {"my-own-password-1"}, "confirm": {"my-own-password-1"}})
	if res := b.get("/payments"); res.StatusCode != 200 {
		t.Fatalf("after the change: %d", res.StatusCode)
	}
}

// The sessions table holds the SHA-256 of each token, never the token: a
// copy of the database signs nobody in.
func TestSessionTokensAreStoredHashed(t *testing.T) {
	env := newTestEnv(t)
	b, _ := env.signedIn(store.RoleAdmin)
	token := b.sessionCookie()
	if token == "" {
		t.Fatal("no session cookie")
	}
	var plain, hashed int
	sum := sha256.Sum256([]byte(token))
	env.db.QueryRow(`SELECT count(*) FROM sessions WHERE token = ?`, token).Scan(&plain)
	env.db.QueryRow(`SELECT count(*) FROM sessions WHERE token = ?`, hex.EncodeToString(sum[:])).Scan(&hashed)
	if plain != 0 || hashed != 1 {
		t.Fatalf("rows under the token: %d, under its SHA-256: %d", plain, hashed)
	}
	rows, err := env.db.Query(`SELECT token FROM sessions`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for rows.Next() {
		var k string
		rows.Scan(&k)
		keys = append(keys, k)
	}
	rows.Close()
	for _, k := range keys {
		if res := env.withCookie(k).get("/account"); !signedOutTo(res) {
			t.Fatalf("a session key copied from the table signs in: %d", res.StatusCode)
		}
	}
	if res := b.get("/account"); res.StatusCode != http.StatusOK {
		t.Fatalf("the real cookie no longer works: %d", res.StatusCode)
	}
	// Sign-out deletes the row.
	b.postForm("/logout", nil)
	env.db.QueryRow(`SELECT count(*) FROM sessions WHERE token = ?`, hex.EncodeToString(sum[:])).Scan(&hashed)
	if hashed != 0 {
		t.Fatal("the signed-out session's row is still stored")
	}
}

// A page view does not write the session (a write waits behind the
// callback writer): the last request's time is rewritten only once it is
// older than a sixtieth of the idle timeout, and the idle timeout still
// holds, on the console's clock and in the store.
func TestPageViewsDoNotWriteTheSession(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.IdleTimeout = 30 * time.Minute })
	b, _ := env.signedIn(store.RoleViewer)
	stored := func() string {
		var data []byte
		var expiry string
		if err := env.db.QueryRow(`SELECT data, expiry FROM sessions`).Scan(&data, &expiry); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(data) + " " + expiry
	}
	before := stored()
	for range 3 {
		time.Sleep(5 * time.Millisecond)
		if res := b.get("/account"); res.StatusCode != 200 {
			t.Fatalf("account page: %d", res.StatusCode)
		}
	}
	if after := stored(); after != before {
		t.Errorf("page views rewrote the session:\n%s\n%s", before, after)
	}
	env.advance(31 * time.Second)
	if res := b.get("/account"); res.StatusCode != 200 {
		t.Fatalf("account page: %d", res.StatusCode)
	}
	if after := stored(); after == before {
		t.Error("the last request's time was not rewritten after 31 s")
	}
}
