package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"paydesk/store"
)

// pathParam matches a chi path parameter, with or without a pattern.
var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// concretePath turns a route pattern into a path that reaches its handler:
// parameters become a value that names nothing (the access check runs
// before any lookup), a trailing wildcard becomes a word.
func concretePath(pattern string) string {
	p := pathParam.ReplaceAllString(pattern, "999999")
	if strings.HasSuffix(p, "*") {
		p = strings.TrimSuffix(p, "*") + "x"
	}
	return p
}

// TestEveryRouteChecksItsRole walks every route in s.routes(), also those
// added later, as a signed-out visitor and as every role: a role below the
// route's level gets 403 (signed out: a redirect to the sign-in page); a role
// at or above it reaches the handler, which may answer anything but 403, a
// redirect to sign-in, or a 500.
func TestEveryRouteChecksItsRole(t *testing.T) {
	env := newTestEnv(t)
	type visitor struct {
		name  string
		level access
		b     *browser
		user  string
	}
	visitors := []*visitor{{name: "signed out", level: public, b: env.browser()}}
	for _, role := range store.Roles() {
		b, name := env.signedIn(role)
		visitors = append(visitors, &visitor{name: role, level: roleAccess(role), b: b, user: name})
	}
	// Some routes end the session (sign out, sign out everywhere, password
	// change): sign in again when that happened.
	stillIn := func(v *visitor) {
		if v.level == public {
			return
		}
		if res := v.b.get("/account"); res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login") {
			v.b = env.browser()
			if res := v.b.postForm("/login", map[string][]string{"username": {v.user}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in again as %s: %d", v.user, res.StatusCode)
			}
		}
	}
	routes := env.srv.routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes", len(routes))
	}
	seen := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + rt.pattern
		if seen[key] {
			t.Errorf("%s is in the routing table twice", key)
		}
		seen[key] = true
		path := concretePath(rt.pattern)
		for _, v := range visitors {
			t.Run(rt.method+" "+rt.pattern+" as "+v.name, func(t *testing.T) {
				var res response
				if rt.method == http.MethodGet {
					res = v.b.get(path)
				} else {
					req, _ := http.NewRequest(rt.method, env.ts.URL+path, strings.NewReader(""))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Origin", env.ts.URL)
					req.Header.Set("Sec-Fetch-Site", "same-origin")
					res = v.b.do(req)
				}
				toLogin := (res.StatusCode == http.StatusSeeOther || res.StatusCode == http.StatusFound) &&
					strings.HasPrefix(res.Header.Get("Location"), "/login")
				allowed := v.level >= rt.least
				switch {
				case !allowed && v.level == public:
					if !toLogin {
						t.Errorf("signed out, needs %s: got %d %s, want a redirect to /login", rt.least, res.StatusCode, res.Header.Get("Location"))
					}
				case !allowed:
					if res.StatusCode != http.StatusForbidden {
						t.Errorf("%s, needs %s: got %d, want 403", v.name, rt.least, res.StatusCode)
					}
				default:
					// Signing out, and the code step without a password before it, lead to the sign-in page.
					if res.StatusCode == http.StatusForbidden || (toLogin && rt.pattern != "/logout" && rt.pattern != "/account/logout-everywhere" && rt.pattern != "/login/two-factor") {
						t.Errorf("%s may use it (needs %s) but got %d %s", v.name, rt.least, res.StatusCode, res.Header.Get("Location"))
					}
					if res.StatusCode >= 500 {
						t.Errorf("%s: an empty request gave %d: %.200s", v.name, res.StatusCode, res.body)
					}
				}
			})
			stillIn(v)
		}
	}
}

// TestRoleOrder pins what each stored role may reach.
func TestRoleOrder(t *testing.T) {
	tests := []struct {
		role string
		want access
	}{
		{store.RoleViewer, viewer},
		{store.RoleOperator, operator},
		{store.RoleApprover, approver},
		{store.RoleAdmin, admin},
		{"root", public},
		{"", public},
	}
	for _, tt := range tests {
		if got := roleAccess(tt.role); got != tt.want {
			t.Errorf("roleAccess(%q) = %s, want %s", tt.role, got, tt.want)
		}
	}
}
