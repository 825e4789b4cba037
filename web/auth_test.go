package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"paydesk/store"
)

func TestSignInAndOut(t *testing.T) {
	env := newTestEnv(t)
	b, name := env.signedIn(store.RoleViewer)
	if res := b.get("/"); res.StatusCode != 200 || !strings.Contains(res.body, name) {
		t.Fatalf("start page: %d", res.StatusCode)
	}
	if res := b.postForm("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if res := b.get("/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("after logout: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestWrongPasswordSaysTheSameForUnknownUsers(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	known := b.postForm("/login", url.Values{"username": {name}, "password": {"wrong-password-1"}})
	unknown := b.postForm("/login", url.Values{"username": {"nobody-here"}, "password": {"wrong-password-1"}})
	if known.StatusCode != http.StatusUnprocessableEntity || unknown.StatusCode != known.StatusCode {
		t.Fatalf("statuses %d and %d", known.StatusCode, unknown.StatusCode)
	}
	if !strings.Contains(known.body, "Wrong username or password.") || !strings.Contains(unknown.body, "Wrong username or password.") {
		t.Fatal("the two failures do not say the same sentence")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	env := newTestEnv(t)
	b, _ := env.signedIn(store.RoleViewer)
	req, _ := http.NewRequest("POST", env.ts.URL+"/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if res := b.do(req); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin logout: %d", res.StatusCode)
	}
	if res := b.get("/"); res.StatusCode != 200 {
		t.Fatalf("still signed in after refused logout: %d", res.StatusCode)
	}
}
