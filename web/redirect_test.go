package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"paydesk/store"
)

var formNext = regexp.MustCompile(`name="next" value="([^"]*)"`)

// Every hostile next is refused through the real sign-in: the browser
// lands on the start page, never on another host or a bare fragment.
func TestSignInNextStaysOnTheConsole(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	tests := []struct{ next, want string }{
		{"/payments?status=paid", "/payments?status=paid"},
		{"/orders/pay/3", "/orders/pay/3"},
		{"/payouts/batches/1", "/payouts/batches/1"},
		{"/orders?q=%E6%94%AF%E4%BB%98", "/orders?q=%E6%94%AF%E4%BB%98"},

		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"https://evil.example", "/"},
		{"http:evil.example", "/"},
		{"https:/evil.example", "/"},
		{"evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/%0d%0aSet-Cookie:%20x=1", "/"},
		{"/%0A/evil.example", "/"},
		{"/payments?x=%0D%0ALocation:%20//evil.example", "/"},
		{"/\x00/evil.example", "/"},
		{"/%00", "/"},
		{"/\x7f", "/"},
		{"/%C2%85/evil.example", "/"},
		{"/%ff", "/"},
		{"/%zz", "/"},
		{"javascript:alert(1)", "/"},
		{"/javascript:alert(1)", "/javascript:alert(1)"},
		{" /payments", "/"},
		{"\\\\evil.example", "/"},
		{"/" + strings.Repeat("a", 5000), "/"},
		{"/payments/2/status", "/"},
		{"/pay/abcdef/status", "/"},
		{"/orders/pay/3/timeline", "/"},
		{"/orders/trans/3/timeline?x=1", "/"},
		{"/payouts/4/timeline", "/"},
		{"/payouts/batches/1/progress", "/"},
		{"", "/"},
	}
	for _, tt := range tests {
		b := env.browser()
		res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}, "next": {tt.next}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in with next=%.60q: %d", tt.next, res.StatusCode)
		}
		if got := res.Header.Get("Location"); got != tt.want {
			t.Errorf("next=%.60q: Location %q, want %q", tt.next, got, tt.want)
		}
		// The sign-in page's form carries the same next.
		page := env.browser().get("/login?next=" + url.QueryEscape(tt.next))
		if m := formNext.FindStringSubmatch(page.body); m == nil || html.UnescapeString(m[1]) != tt.want {
			t.Errorf("next=%.60q: the sign-in form carries %q, want %q", tt.next, m, tt.want)
		}
	}
}

// An htmx poll that meets an ended session sends the browser to sign in
// and then back to the page it was on, never to the fragment's address.
func TestEndedSessionPollReturnsToThePage(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.IdleTimeout = time.Minute })
	b, _ := env.signedIn(store.RoleViewer)
	env.advance(2 * time.Minute)
	poll := func(path, current string) response {
		req, _ := http.NewRequest("GET", env.ts.URL+path, nil)
		req.Header.Set("HX-Request", "true")
		if current != "" {
			req.Header.Set("HX-Current-URL", current)
		}
		return b.do(req)
	}
	tests := []struct{ path, current, want string }{
		{"/payments/2/status", env.ts.URL + "/payments/2?tab=timeline", "/login?next=" + url.QueryEscape("/payments/2?tab=timeline")},
		{"/orders/pay/3/timeline", env.ts.URL + "/orders/pay/3", "/login?next=" + url.QueryEscape("/orders/pay/3")},
		{"/payouts/batches/1/progress", env.ts.URL + "/payouts/batches/1", "/login?next=" + url.QueryEscape("/payouts/batches/1")},
		{"/payouts/4/timeline", "", "/login"},
		{"/payments/2/status", "https://evil.example/payments/2", "/login"},
		{"/payments/2/status", "javascript:alert(1)", "/login"},
		{"/payments/2/status", env.ts.URL + "/%09/evil.example", "/login"},
		{"/payments/2/status", env.ts.URL + "/payments/2/status", "/login"},
		{"/payments/2/status", "http://user@" + strings.TrimPrefix(env.ts.URL, "http://") + "/payments/2", "/login"},
	}
	for _, tt := range tests {
		res := poll(tt.path, tt.current)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("poll %s: %d", tt.path, res.StatusCode)
		}
		if got := res.Header.Get("HX-Redirect"); got != tt.want {
			t.Errorf("poll %s from %q: HX-Redirect %q, want %q", tt.path, tt.current, got, tt.want)
		}
	}
	// Opened as a page, a fragment's address is not kept either.
	if res := env.browser().get("/payments/2/status"); res.Header.Get("Location") != "/login" {
		t.Errorf("fragment opened signed out: Location %q", res.Header.Get("Location"))
	}
	if res := env.browser().get("/payments?status=paid"); res.Header.Get("Location") != "/login?next="+url.QueryEscape("/payments?status=paid") {
		t.Errorf("page opened signed out: Location %q", res.Header.Get("Location"))
	}
}

// Every fragment route is a GET route of the console.
func TestFragmentRoutesExist(t *testing.T) {
	env := newTestEnv(t)
	gets := map[string]bool{}
	for _, rt := range env.srv.routes() {
		if rt.method == http.MethodGet {
			gets[rt.pattern] = true
		}
	}
	for _, p := range fragmentRoutes() {
		if !gets[p] {
			t.Errorf("fragment route %s is not a GET route", p)
		}
	}
}
